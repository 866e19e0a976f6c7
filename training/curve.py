"""The training run's log as files to commit beside the checkpoint: `training_log.csv` and
`training_curve.png` (train and validation loss against tokens seen)."""

from __future__ import annotations

import csv
import json
from pathlib import Path

COLUMNS = ("step", "tokens_seen", "elapsed_s", "lr", "train_loss", "val_loss")


def read_log(log: Path) -> list[dict]:
    """Validation entries in step order; a resumed run's repeated steps keep their last entry."""
    by_step: dict[int, dict] = {}
    for line in log.read_text().splitlines():
        try:
            entry = json.loads(line)
        except json.JSONDecodeError:
            continue  # a torn last line from a killed run
        by_step[entry["step"]] = entry
    return [by_step[s] for s in sorted(by_step)]


def write(log: Path, folder: Path, title: str = "Muse melody model") -> tuple[Path, Path]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    entries = read_log(log)
    table = folder / "training_log.csv"
    with table.open("w", newline="") as sink:
        writer = csv.DictWriter(sink, fieldnames=COLUMNS, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(entries)
    tokens = [e["tokens_seen"] / 1e6 for e in entries]
    fig, ax = plt.subplots(figsize=(6.4, 3.6), dpi=100)
    ax.plot(tokens, [e["train_loss"] for e in entries], label="train (one batch)", alpha=0.6)
    ax.plot(tokens, [e["val_loss"] for e in entries], label="validation", linewidth=2)
    ax.set_xlabel("training tokens seen (millions)")
    ax.set_ylabel("loss (nats/token)")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    picture = folder / "training_curve.png"
    fig.savefig(picture, metadata={"Software": None})
    plt.close(fig)
    return table, picture


def main(argv: list[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(prog="python -m training.curve")
    parser.add_argument("log", type=Path, help="the run's log.jsonl")
    parser.add_argument("folder", type=Path, help="where to write training_log.csv and training_curve.png")
    args = parser.parse_args(argv)
    for path in write(args.log, args.folder):
        print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
