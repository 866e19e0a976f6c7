"""Two runs of the singing evaluation compared piece by piece. Both runs sing the same lines to the
same tunes with the same voices, so the only difference within a piece is the singer. The spread
between tune sets (up to ±4 points) hides a change of one or two points in the totals. Paired
pieces show which way each piece went, which words were gained and lost, and whether more pieces
improved than got worse (a sign test).

    python -m evaluation.singing --line-seeds 5 --seeds 0 --pieces /tmp/before.jsonl   # one commit
    python -m evaluation.singing --line-seeds 5 --seeds 0 --pieces /tmp/after.jsonl    # the other
    python -m evaluation.singing_pairs /tmp/before.jsonl /tmp/after.jsonl
"""

from __future__ import annotations

import argparse
import json
from dataclasses import dataclass
from pathlib import Path

from scipy.stats import binomtest


def piece_record(piece) -> dict:
    """What a comparison needs of one judged piece (`evaluation.singing.SungPiece`)."""
    return {"voice": piece.voice, "label": piece.label, "seed": piece.seed, "sung": piece.dry.sung,
            "recognised": [i for i, _ in piece.dry.pairs], "heard": piece.dry_text}


def write_pieces(pieces, path: Path) -> None:
    path.write_text("".join(json.dumps(piece_record(p)) + "\n" for p in pieces), encoding="utf-8")


def read_pieces(path: Path) -> dict[tuple[str, str, int], dict]:
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return {(row["voice"], row["label"], row["seed"]): row for row in rows}


class NotPaired(ValueError):
    """The two runs did not sing the same pieces."""


@dataclass
class Pairs:
    voice: str
    pieces: int = 0
    words: int = 0
    before: int = 0  # words recognised
    after: int = 0
    better: int = 0  # pieces with more words recognised after
    worse: int = 0
    gained: int = 0  # words lost before and recognised after
    lost: int = 0

    def row(self) -> str:
        p = binomtest(self.better, self.better + self.worse).pvalue if self.better + self.worse else 1.0
        same = self.pieces - self.better - self.worse
        return (f"| {self.voice} | {self.pieces} | {100 * self.before / self.words:.1f}% | "
                f"{100 * self.after / self.words:.1f}% | {self.better} / {self.worse} / {same} | "
                f"{self.gained} / {self.lost} | {p:.3f} |")


HEADER = ["| voice | pieces | words recognised, before | after | pieces better / worse / same | "
          "words gained / lost | sign test p |", "|---|---|---|---|---|---|---|"]


def compare(before: dict[tuple[str, str, int], dict], after: dict[tuple[str, str, int], dict]) -> list[str]:
    """Markdown rows, one per voice. Raises NotPaired unless both runs hold the same pieces with
    the same sung words."""
    if before.keys() != after.keys():
        raise NotPaired(f"{len(before.keys() ^ after.keys())} pieces are in one run only")
    by_voice: dict[str, Pairs] = {}
    for key in sorted(before):
        a, b = before[key], after[key]
        if a["sung"] != b["sung"]:
            raise NotPaired(f"{key[0]}, {key[1]!r}, seed {key[2]}: the runs sang different words")
        pairs = by_voice.setdefault(key[0], Pairs(key[0]))
        was, now = set(a["recognised"]), set(b["recognised"])
        pairs.pieces += 1
        pairs.words += len(a["sung"])
        pairs.before += len(was)
        pairs.after += len(now)
        pairs.better += len(now) > len(was)
        pairs.worse += len(now) < len(was)
        pairs.gained += len(now - was)
        pairs.lost += len(was - now)
    return HEADER + [pairs.row() for pairs in by_voice.values()]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("before", type=Path)
    parser.add_argument("after", type=Path)
    args = parser.parse_args(argv)
    runs = []
    for path in (args.before, args.after):
        try:
            runs.append(read_pieces(path))
        except (OSError, ValueError, KeyError, TypeError) as exc:  # JSONDecodeError is a ValueError
            raise SystemExit(f"cannot read {path}: not a file written by `evaluation.singing --pieces` ({exc})") from None
    try:
        rows = compare(*runs)
    except NotPaired as exc:
        raise SystemExit(f"cannot compare: {exc}") from None
    print("\n".join(rows))


if __name__ == "__main__":
    main()
