"""`python -m training.size_probe`: training speed of candidate model sizes on this machine, the
measurement the model's size was chosen by (with the validation losses of runs trained side by side).

Each size trains for a fixed number of seconds on the real token windows (bf16 autocast where
native, one thread); the table gives parameters and tokens per second. `--runs` adds, per run
folder, the validation loss at the first logged step each run shares with the others.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
import time
from pathlib import Path

SIZES = ((4, 192), (4, 256), (6, 256), (8, 384))


def tokens_per_s(data: Path, layers: int, width: int, seconds: float, bf16: bool | None) -> tuple[int, float]:
    import numpy as np
    import torch

    from composer.model.model import ModelConfig
    from composer.model.tokenizer import Tokenizer
    from training.train import TrainConfig, _batch, _model_and_optimizer, _optimize, _windows

    torch.set_num_threads(1)
    tok = Tokenizer()
    train, _, order = _windows(data)
    config = ModelConfig(vocab_size=len(tok), n_positions=1024, n_embd=width, n_layer=layers, n_head=4)
    model, optimizer = _model_and_optimizer(config, TrainConfig(bf16=bf16), "cpu")
    rng = np.random.default_rng(0)
    tokens, started = 0, time.monotonic()
    while time.monotonic() - started < seconds:
        x, labels = _batch(train, order, rng, 8, config.n_positions, tok.pad)
        _optimize(model, optimizer, x, labels, 1e-3, tok.pad, "cpu", bf16)
        tokens += int((labels != -100).sum())
    return sum(p.numel() for p in model.parameters()), tokens / (time.monotonic() - started)


def _shape(run: Path) -> str:
    """A run named by its model's shape ("4x256"), read from its resumable checkpoint."""
    import torch

    config = torch.load(run / "last.pt", map_location="cpu", weights_only=False)["model_cfg"]
    return f"{config['n_layer']}x{config['n_embd']}"


def shared_validation(runs: list[Path]) -> dict[str, dict]:
    from training.curve import read_log

    logs = {_shape(run): {e["step"]: e for e in read_log(run / "log.jsonl")} for run in runs}
    common = set.intersection(*(set(steps) for steps in logs.values()))
    step = min(common) if common else None
    return {name: steps[step] for name, steps in logs.items()} if step else {}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m training.size_probe")
    parser.add_argument("--data", type=Path, default=Path("data/tokens"), help="token arrays from `muse data`")
    parser.add_argument("--seconds", type=float, default=40.0)
    parser.add_argument("--runs", type=Path, nargs="*", default=[], help="run folders trained side by side")
    parser.add_argument("--out", type=Path, help="write the table as CSV here (and the runs' losses beside it)")
    parser.add_argument("--runs-only", action="store_true", help="only the side-by-side runs' losses")
    args = parser.parse_args(argv)
    rows = []
    for layers, width in () if args.runs_only else SIZES:
        params, rate = tokens_per_s(args.data, layers, width, args.seconds, None)
        rows.append({"layers": layers, "width": width, "parameters": params, "tokens_per_s": round(rate)})
        print(json.dumps(rows[-1]), flush=True)
    if rows:
        sink = args.out.open("w", newline="") if args.out else sys.stdout
        writer = csv.DictWriter(sink, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    if args.runs:
        shared = json.dumps({"validation_at_a_shared_step": shared_validation(args.runs)}, indent=1)
        print(shared)
        if args.out:
            args.out.with_suffix(".runs.json").write_text(shared + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
