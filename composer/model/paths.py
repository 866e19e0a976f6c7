"""Where the model's data lives: generated data under MUSE_DATA_DIR, shipped weights in the package."""

from __future__ import annotations

import os
from pathlib import Path

CHECKPOINT_DIR = Path(__file__).resolve().parent.parent / "checkpoints"


def data_dir() -> Path:
    return Path(os.environ.get("MUSE_DATA_DIR", "data"))


def corpus_dir() -> Path:
    return data_dir() / "corpus"


def runs_dir() -> Path:
    return data_dir() / "runs"
