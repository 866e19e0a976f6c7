"""Train the melody model: random token windows, AdamW with a cosine schedule, bf16 autocast on CPU,
periodic resumable checkpoints (`last.pt`), the best validation checkpoint exported as safetensors."""

from __future__ import annotations

import json
import logging
import math
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from training.dataset import load_split
from composer.model.model import ModelConfig, build, read_checkpoint, save_checkpoint, torch_state
from composer.model.tokenizer import Tokenizer

log = logging.getLogger(__name__)


@dataclass
class TrainConfig:
    batch_size: int = 16  # windows per step
    learning_rate: float = 1e-3  # peak, after warm-up
    min_learning_rate: float = 1e-4  # floor of the cosine decay
    warmup_steps: int = 100
    max_steps: int = 4000  # the schedule's length; training may stop earlier (max_minutes)
    weight_decay: float = 0.05
    eval_every: int = 100  # steps between validation passes
    checkpoint_every_s: float = 180.0  # seconds between resumable checkpoints
    max_minutes: float = 60.0  # wall-clock budget for this run
    threads: int = 1  # torch CPU threads (the machine is shared)
    bf16: bool | None = None  # autocast; None = only where bf16 is native (see bf16_is_fast)
    seed: int = 0


def _lr(step: int, cfg: TrainConfig) -> float:
    if step < cfg.warmup_steps:
        return cfg.learning_rate * (step + 1) / cfg.warmup_steps
    progress = min(1.0, (step - cfg.warmup_steps) / max(1, cfg.max_steps - cfg.warmup_steps))
    return cfg.min_learning_rate + 0.5 * (cfg.learning_rate - cfg.min_learning_rate) * (1 + math.cos(math.pi * progress))


def _batch(windows: list[np.ndarray], order: np.ndarray, rng: np.random.Generator, size: int, block: int,
           pad: int):
    """`size` windows of similar length (neighbours in `order`, windows sorted by length): little padding,
    and every window still starts at its header."""
    import torch

    start = int(rng.integers(0, max(1, len(order) - size + 1)))
    picks = [windows[i] for i in order[start:start + size]]
    length = min(block, max(len(w) for w in picks))
    x = torch.full((len(picks), length), pad, dtype=torch.long)
    for row, w in enumerate(picks):
        w = w[:length]
        x[row, :len(w)] = torch.from_numpy(w)
    labels = x.clone()
    labels[x == pad] = -100
    return x, labels


def evaluate_loss(model, windows: list[np.ndarray], block: int, pad: int, device: str, batch_size: int = 32,
                  limit: int | None = None) -> tuple[float, int]:
    """Mean next-token NLL (nats) over windows, and the token count it averaged."""
    import torch
    import torch.nn.functional as F

    model.eval()
    total, count = 0.0, 0
    chosen = windows[:limit] if limit else windows
    with torch.inference_mode(), _autocast(device):
        for i in range(0, len(chosen), batch_size):
            group = chosen[i:i + batch_size]
            length = min(block, max(len(w) for w in group))
            x = torch.full((len(group), length), pad, dtype=torch.long)
            for row, w in enumerate(group):
                x[row, :min(len(w), length)] = torch.from_numpy(w[:length])
            x = x.to(device)
            logits = model(input_ids=x, attention_mask=(x != pad).long()).logits.float()
            target = x[:, 1:]
            nll = F.cross_entropy(logits[:, :-1].reshape(-1, logits.size(-1)), target.reshape(-1),
                                  ignore_index=pad, reduction="sum")
            total += float(nll)
            count += int((target != pad).sum())
    model.train()
    return total / max(1, count), count


def bf16_is_fast(device: str) -> bool:
    """bf16 autocast pays off on CUDA and on CPUs with native bf16; elsewhere it is emulated and ~10× slower."""
    if device.startswith("cuda"):
        return True
    try:
        flags = Path("/proc/cpuinfo").read_text()
    except OSError:
        return False
    return "avx512_bf16" in flags or "amx_bf16" in flags


def _autocast(device: str, enabled: bool | None = None):
    import torch

    enabled = bf16_is_fast(device) if enabled is None else enabled
    return torch.autocast(device_type="cuda" if device.startswith("cuda") else "cpu", dtype=torch.bfloat16,
                          enabled=enabled)


def train(data: Path, run: Path, model_cfg: ModelConfig, cfg: TrainConfig, export: Path | None = None,
          progress: bool = True, init: Path | None = None) -> dict:
    """Train (resuming from `run/last.pt`, in the shape it was saved with, when present; otherwise
    starting from the weights of the exported checkpoint `init` when given, whose shape then wins
    over `model_cfg`); returns the final record. `init` lets a later session go on from the
    committed model, whose run folder (optimizer state included) lived in an earlier session's data
    directory."""
    import torch

    torch.set_num_threads(cfg.threads)
    device = "cuda" if torch.cuda.is_available() else "cpu"
    tokenizer = Tokenizer()
    model_cfg.vocab_size = len(tokenizer)
    train_windows, val_windows, by_length = _windows(data)
    run.mkdir(parents=True, exist_ok=True)
    last = run / "last.pt"
    saved = torch.load(last, map_location=device, weights_only=False) if last.exists() else None  # read once
    weights = None
    if saved is not None:
        model_cfg = ModelConfig(**saved["model_cfg"])  # a resumed run keeps its own shape
    elif init is not None:
        weights, model_cfg, _, _ = read_checkpoint(init)
    model, optimizer = _model_and_optimizer(model_cfg, cfg, device)
    state = _resume(saved, model, optimizer)
    if weights is not None:
        _load_weights(model, weights, init, device)
    rng = np.random.default_rng(cfg.seed + state["step"])
    started = time.monotonic()
    last_save = segment_start = started
    bar = _progress_bar(cfg, state) if progress else None
    logfile = _open_log(run / "log.jsonl", state)
    model.train()
    while state["step"] < cfg.max_steps and time.monotonic() - started < cfg.max_minutes * 60:
        step = state["step"]
        x, labels = _batch(train_windows, by_length, rng, cfg.batch_size, model_cfg.n_positions, tokenizer.pad)
        loss = _optimize(model, optimizer, x.to(device), labels.to(device), _lr(step, cfg), tokenizer.pad, device,
                         cfg.bf16)
        state["step"] = step + 1
        state["tokens_seen"] += int((labels != -100).sum())
        if bar:
            bar.update(1)
            bar.set_postfix(loss=f"{loss.item():.3f}")
        if state["step"] % cfg.eval_every == 0 or state["step"] == cfg.max_steps:
            val, _ = evaluate_loss(model, val_windows, model_cfg.n_positions, tokenizer.pad, device, limit=150)
            entry = _log_validation(logfile, state, loss.item(), val, _lr(step, cfg),
                                    state["train_s"] + time.monotonic() - segment_start)
            if val < state["best_val"]:
                state["best_val"] = val
                record = {**entry, "data": str(data), "train_config": asdict(cfg), "history": state["history"]}
                _save_best(model, model_cfg, tokenizer, record, run, export)
        if time.monotonic() - last_save > cfg.checkpoint_every_s:
            segment_start = _save_last(run, model, optimizer, state, model_cfg, cfg, segment_start)
            last_save = time.monotonic()
    _save_last(run, model, optimizer, state, model_cfg, cfg, segment_start)
    if bar:
        bar.close()
    logfile.close()
    return state


def _windows(data: Path) -> tuple[list[np.ndarray], list[np.ndarray], np.ndarray]:
    """Training and validation windows, and the training windows' indexes sorted by length."""
    train_windows = load_split(data, "train")
    val_windows = load_split(data, "val")
    return train_windows, val_windows, np.argsort([len(w) for w in train_windows], kind="stable")


def _model_and_optimizer(model_cfg: ModelConfig, cfg: TrainConfig, device: str):
    """A freshly initialised model (seeded by `cfg.seed`) and its AdamW optimizer."""
    import torch

    torch.manual_seed(cfg.seed)
    model = build(model_cfg).to(device)
    optimizer = torch.optim.AdamW(model.parameters(), lr=cfg.learning_rate, weight_decay=cfg.weight_decay,
                                  betas=(0.9, 0.95))
    return model, optimizer


def _load_weights(model, weights: dict, init: Path, device: str) -> None:
    """An exported checkpoint's weights (the optimizer starts fresh: its state was not exported)."""
    model.load_state_dict({k: v.to(device) for k, v in torch_state(weights).items()}, strict=False)
    model.tie_weights()
    log.info("weights from %s", init)


def _resume(saved: dict | None, model, optimizer) -> dict:
    """The run's state, with model and optimizer restored from the loaded `last.pt` when there is one."""
    state = {"step": 0, "best_val": float("inf"), "history": [], "tokens_seen": 0, "train_s": 0.0}
    if saved is not None:
        model.load_state_dict(saved["model"])
        optimizer.load_state_dict(saved["optimizer"])
        state = saved["state"]
        log.info("resumed at step %d", state["step"])
    return state


def _open_log(path: Path, state: dict):
    """`log.jsonl` for appending. On a resume it is first cut back to the checkpoint's history: entries
    logged after the last checkpoint, before a kill, would otherwise appear twice."""
    if state["step"] > 0:
        partial = path.with_name(path.name + ".tmp")
        partial.write_text("".join(json.dumps(entry) + "\n" for entry in state["history"]))
        partial.replace(path)
    return path.open("a")


def _progress_bar(cfg: TrainConfig, state: dict):
    from tqdm import tqdm

    return tqdm(total=cfg.max_steps, initial=state["step"], unit="step", dynamic_ncols=True)


def _optimize(model, optimizer, x, labels, lr: float, pad: int, device: str, bf16: bool | None):
    """One AdamW step at learning rate `lr` on a batch, gradients clipped to norm 1; returns the loss."""
    import torch

    for group in optimizer.param_groups:
        group["lr"] = lr
    with _autocast(device, bf16):
        loss = model(input_ids=x, attention_mask=(x != pad).long(), labels=labels).loss
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    optimizer.step()
    return loss


def _log_validation(logfile, state: dict, train_loss: float, val: float, lr: float, elapsed_s: float) -> dict:
    """Add a validation pass to the run's history and its `log.jsonl`; returns the entry."""
    entry = {"step": state["step"], "train_loss": round(train_loss, 4), "val_loss": round(val, 4),
             "lr": lr, "tokens_seen": state["tokens_seen"], "elapsed_s": round(elapsed_s, 1)}
    state["history"].append(entry)
    logfile.write(json.dumps(entry) + "\n")
    logfile.flush()
    log.info("step %d train %.3f val %.3f", state["step"], train_loss, val)
    return entry


def _save_best(model, model_cfg: ModelConfig, tokenizer: Tokenizer, record: dict, run: Path,
               export: Path | None) -> None:
    """The best checkpoint so far, as `run/best` and (when asked) at `export`."""
    save_checkpoint(model, model_cfg, tokenizer, run / "best", record)
    if export is not None:
        save_checkpoint(model, model_cfg, tokenizer, export, record)


def _save_last(run: Path, model, optimizer, state: dict, model_cfg: ModelConfig, cfg: TrainConfig,
               segment_start: float) -> float:
    """The resumable checkpoint `run/last.pt`, written atomically, with the time trained so far added to
    `state`; returns when the next timed segment starts."""
    import torch

    state["train_s"] += time.monotonic() - segment_start
    segment_start = time.monotonic()
    torch.save({"model": model.state_dict(), "optimizer": optimizer.state_dict(), "state": state,
                "model_cfg": asdict(model_cfg), "train_cfg": asdict(cfg)}, run / "last.tmp")
    (run / "last.tmp").replace(run / "last.pt")
    return segment_start
