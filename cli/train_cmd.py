"""`muse data` (parse the music21 corpus into token windows) and `muse train` (train the melody model)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path


def register(sub: argparse._SubParsersAction) -> None:
    data = sub.add_parser("data", help="extract melodies from the music21 corpus and tokenize them (resumable)")
    data.add_argument("--source", type=Path, help="a folder of collections laid out like music21's corpus "
                      "(default: music21's own)")
    data.add_argument("--workers", type=int, default=2, help="parsing processes")
    data.add_argument("--corpus", type=Path, help="where parsed works are cached (default: $MUSE_DATA_DIR/corpus)")
    data.add_argument("--out", type=Path, help="token arrays folder (default: $MUSE_DATA_DIR/tokens)")
    data.add_argument("--collections", help="comma-separated music21 corpus collections (default: all useful)")
    data.add_argument("--limit", type=int, help="parse at most this many more source files")
    data.add_argument("--tokenize-only", action="store_true", help="skip parsing; tokenize what is cached")
    data.add_argument("--max-len", type=int, default=1024, help="longest token window")
    data.set_defaults(run=run_data)

    train = sub.add_parser("train", help="train the melody model (resumes from the run's last checkpoint)")
    train.add_argument("--data", type=Path, help="token arrays from `muse data` (default: $MUSE_DATA_DIR/tokens)")
    train.add_argument("--run", dest="run_dir", type=Path, help="run folder for checkpoints and log (default: $MUSE_DATA_DIR/runs/main)")
    train.add_argument("--init", type=Path, help="start a new run from an exported checkpoint's weights "
                       "(e.g. composer/checkpoints/melody); its shape replaces --layers/--width/--heads/--context")
    train.add_argument("--export", type=Path, help="also write the best checkpoint here (e.g. composer/checkpoints/melody)")
    train.add_argument("--minutes", type=float, default=60.0, help="wall-clock budget for this session")
    train.add_argument("--steps", type=int, default=2200, help="length of the learning-rate schedule")
    train.add_argument("--batch-size", type=int, default=8)
    train.add_argument("--lr", type=float, default=2e-3, help="peak learning rate (decays to a tenth)")
    train.add_argument("--threads", type=int, default=1, help="torch CPU threads")
    train.add_argument("--layers", type=int, default=4)
    train.add_argument("--width", type=int, default=192)
    train.add_argument("--heads", type=int, default=4)
    train.add_argument("--context", type=int, default=1024, help="longest token window the model reads")
    train.add_argument("--precision", choices=("auto", "bf16", "fp32"), default="auto",
                       help="auto: bf16 autocast where the CPU or GPU runs it natively")
    train.add_argument("--eval-every", type=int, default=100)
    train.add_argument("--checkpoint-every", type=float, default=180.0, help="seconds between resumable checkpoints")
    train.add_argument("--no-progress", action="store_true", help="no progress bar (log lines only)")
    train.set_defaults(run=run_train)


def run_data(args: argparse.Namespace) -> int:
    import time

    from composer.model.tokenizer import Tokenizer
    from storage.paths import data_dir
    from training.assemble import assemble
    from training.corpus import COLLECTIONS, prepare
    from training.dataset import build

    corpus = args.corpus or data_dir() / "corpus"
    out = args.out or data_dir() / "tokens"
    collections = tuple(args.collections.split(",")) if args.collections else COLLECTIONS
    started = time.monotonic()
    if not args.tokenize_only:
        print(json.dumps({"parsed": prepare(corpus, collections, workers=args.workers, limit=args.limit,
                                                  source=args.source)}), flush=True)
    parse_s = round(time.monotonic() - started, 1)
    report = {**assemble(corpus), "parse_s": parse_s}
    print(json.dumps({"corpus": report}), flush=True)
    print(json.dumps({"tokens": build(corpus, out, Tokenizer(), args.max_len)}))
    (out / "corpus_report.json").write_text(json.dumps(report, indent=1))
    return 0


def run_train(args: argparse.Namespace) -> int:
    from composer.model.model import ModelConfig
    from storage.paths import data_dir
    from training.train import TrainConfig, train

    cfg = TrainConfig(batch_size=args.batch_size, learning_rate=args.lr, min_learning_rate=args.lr / 10,
                      checkpoint_every_s=args.checkpoint_every,
                      max_steps=args.steps, eval_every=args.eval_every, max_minutes=args.minutes,
                      threads=args.threads, bf16={"auto": None, "bf16": True, "fp32": False}[args.precision])
    model_cfg = ModelConfig(n_embd=args.width, n_layer=args.layers, n_head=args.heads, n_positions=args.context)
    state = train(args.data or data_dir() / "tokens", args.run_dir or data_dir() / "runs" / "main", model_cfg, cfg,
                  export=args.export, progress=not args.no_progress, init=args.init)
    last = state["history"][-1] if state["history"] else {}
    print(json.dumps({"step": state["step"], "best_val_loss": state["best_val"], "last": last}))
    return 0
