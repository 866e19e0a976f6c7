"""The melody transformer: a small GPT-2 built from a config (no download), and its checkpoint folder.

A checkpoint folder holds `model.safetensors`, `config.json` (model arguments + training record)
and `tokenizer.json`, so loading needs no outside flags.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

from composer.errors import MuseError
from composer.model.tokenizer import Tokenizer


class CheckpointError(MuseError):
    """The model checkpoint is missing or unreadable."""


@dataclass
class ModelConfig:
    vocab_size: int = 198  # tokenizer size
    n_positions: int = 512  # longest sequence the model attends over
    n_embd: int = 256  # width of the residual stream
    n_layer: int = 4  # transformer blocks
    n_head: int = 4  # attention heads per block
    dropout: float = 0.1  # residual, embedding and attention dropout while training


def build(config: ModelConfig):
    """A fresh GPT-2 language model with `config`'s shape."""
    from transformers import GPT2Config, GPT2LMHeadModel

    gpt = GPT2Config(vocab_size=config.vocab_size, n_positions=config.n_positions, n_embd=config.n_embd,
                     n_layer=config.n_layer, n_head=config.n_head, resid_pdrop=config.dropout,
                     embd_pdrop=config.dropout, attn_pdrop=config.dropout, bos_token_id=1, eos_token_id=2,
                     pad_token_id=0, tie_word_embeddings=True)
    return GPT2LMHeadModel(gpt)


def save_checkpoint(model, config: ModelConfig, tokenizer: Tokenizer, folder: Path, record: dict) -> None:
    from safetensors.torch import save_file

    folder.mkdir(parents=True, exist_ok=True)
    state = {k: v.detach().to("cpu").contiguous() for k, v in model.state_dict().items()
             if k != "lm_head.weight"}  # tied to the token embedding
    save_file(state, str(folder / "model.safetensors"))
    (folder / "config.json").write_text(json.dumps({"model": asdict(config), "training": record}, indent=1))
    tokenizer.save(folder / "tokenizer.json")


def read_checkpoint(folder: Path) -> tuple[dict, ModelConfig, Tokenizer, dict]:
    """(weights as NumPy arrays, ModelConfig, Tokenizer, config record) without torch or
    `transformers`: the melody engine on a CPU needs neither."""
    from safetensors.numpy import load_file

    try:
        meta = json.loads((folder / "config.json").read_text())
        tokenizer = Tokenizer.load(folder / "tokenizer.json")
        state = load_file(str(folder / "model.safetensors"))
    except (OSError, ValueError, KeyError) as exc:
        raise CheckpointError(f"cannot load the melody model from {folder}: {exc}") from exc
    return state, ModelConfig(**meta["model"]), tokenizer, meta


def load_checkpoint(folder: Path):
    """(model in eval mode, ModelConfig, Tokenizer, config record) from a checkpoint folder."""
    state, config, tokenizer, meta = read_checkpoint(folder)
    model = build(config)
    missing, unexpected = model.load_state_dict(torch_state(state), strict=False)
    if unexpected or [k for k in missing if k != "lm_head.weight"]:
        raise CheckpointError(f"{folder}: weights do not match the config ({missing[:3]}, {unexpected[:3]})")
    model.tie_weights()
    model.eval()
    return model, config, tokenizer, meta


def torch_state(state: dict) -> dict:
    """A NumPy state dict as torch tensors, for a model being trained or evaluated."""
    import torch

    return {name: torch.from_numpy(value.copy()) for name, value in state.items()}
