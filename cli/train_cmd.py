"""`muse data` (parse the music21 corpus into token windows) and `muse train` (train the melody model)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path


def register(sub: argparse._SubParsersAction) -> None:
    data = sub.add_parser("data", help="extract melodies from the music21 corpus and tokenize them (resumable)")
    data.add_argument("--corpus", type=Path, help="where parsed works are cached (default: $MUSE_DATA_DIR/corpus)")
    data.add_argument("--out", type=Path, help="token arrays folder (default: $MUSE_DATA_DIR/tokens)")
    data.add_argument("--collections", help="comma-separated music21 corpus collections (default: all useful)")
    data.add_argument("--limit", type=int, help="stop after this many newly parsed works")
    data.add_argument("--tokenize-only", action="store_true", help="skip parsing; tokenize what is cached")
    data.add_argument("--max-len", type=int, default=512, help="longest token window")
    data.set_defaults(run=run_data)

    train = sub.add_parser("train", help="train the melody model (resumes from the run's last checkpoint)")
    train.add_argument("--data", type=Path, help="token arrays from `muse data` (default: $MUSE_DATA_DIR/tokens)")
    train.add_argument("--run", dest="run_dir", type=Path, help="run folder for checkpoints and log (default: $MUSE_DATA_DIR/runs/main)")
    train.add_argument("--export", type=Path, help="also write the best checkpoint here (e.g. composer/checkpoints/melody)")
    train.add_argument("--minutes", type=float, default=60.0, help="wall-clock budget for this session")
    train.add_argument("--steps", type=int, default=2200, help="length of the learning-rate schedule")
    train.add_argument("--batch-size", type=int, default=8)
    train.add_argument("--lr", type=float, default=2e-3, help="peak learning rate (decays to a tenth)")
    train.add_argument("--threads", type=int, default=1, help="torch CPU threads")
    train.add_argument("--layers", type=int, default=4)
    train.add_argument("--width", type=int, default=192)
    train.add_argument("--heads", type=int, default=4)
    train.add_argument("--eval-every", type=int, default=100)
    train.add_argument("--no-progress", action="store_true", help="no progress bar (log lines only)")
    train.set_defaults(run=run_train)


def run_data(args: argparse.Namespace) -> int:
    from training.corpus import COLLECTIONS, prepare
    from training.dataset import build
    from composer.model.tokenizer import Tokenizer
    from storage.paths import data_dir

    corpus = args.corpus or data_dir() / "corpus"
    out = args.out or data_dir() / "tokens"
    collections = tuple(args.collections.split(",")) if args.collections else COLLECTIONS
    if not args.tokenize_only:
        print(json.dumps({"parsed": prepare(corpus, collections, args.limit)}))
    print(json.dumps({"tokens": build(corpus, out, Tokenizer(), args.max_len)}))
    return 0


def run_train(args: argparse.Namespace) -> int:
    from composer.model.model import ModelConfig
    from storage.paths import data_dir
    from training.train import TrainConfig, train

    cfg = TrainConfig(batch_size=args.batch_size, learning_rate=args.lr, min_learning_rate=args.lr / 10,
                      max_steps=args.steps, eval_every=args.eval_every, max_minutes=args.minutes,
                      threads=args.threads)
    model_cfg = ModelConfig(n_embd=args.width, n_layer=args.layers, n_head=args.heads)
    state = train(args.data or data_dir() / "tokens", args.run_dir or data_dir() / "runs" / "main", model_cfg, cfg,
                  export=args.export, progress=not args.no_progress)
    last = state["history"][-1] if state["history"] else {}
    print(json.dumps({"step": state["step"], "best_val_loss": state["best_val"], "last": last}))
    return 0
