"""`python -m evaluation.model_over_real`: the model writing melodies over real tunes' own headers and
chord labels, judged against those same tunes.

This separates what the model gets wrong from what Muse's plans ask of it: with real tunes'
meters, densities and chords, any remaining tell (in `evaluation.realism`'s figures and two-sample
test) is the model's own; the gap to `python -m evaluation.model` is the plans'. `--chords cycle`
keeps the real headers but feeds a fixed four-chord cycle (I V vi IV, minor: i V VI iv), one chord a
bar, as a plan's progression would: how much the chords alone move the melodies away from real ones.
"""

from __future__ import annotations

import argparse
import json
import random
from pathlib import Path

import numpy as np

def _windows_per_piece(tok, pieces, max_len: int) -> list[int]:
    """How many token windows each piece was cut into (`training.dataset.build` writes them in piece
    order; the count depends on token lengths only, so placeholder chords give the same count)."""
    from composer.model.tokenizer import Tune

    counts = []
    for p in pieces:
        notes = [tuple(n) for n in p["notes"]]
        tune = Tune(p["style"], p["mode"], p["meter"], p["bar_quarters"], notes, [])
        tune.chords = [None] * (2 * tune.bars)
        counts.append(len(tok.encode(tune, max_len)))
    return counts


CYCLE = {"major": ((0, "maj"), (7, "maj"), (9, "min"), (5, "maj")),
         "minor": ((0, "min"), (7, "maj"), (8, "maj"), (5, "min"))}


def _cycled(tok, prefix: list[int], mode: str, bar: int) -> list[int]:
    """A bar prefix with both half-bar chords replaced by the cycle's chord for this bar."""
    from composer.model.tokenizer import chord_token

    chord = tok.ids[chord_token(CYCLE[mode][bar % 4])]
    return prefix[:2] + [chord, chord]


def _specs(tok, windows, pieces, count: int, seed: int, max_len: int = 1024, chords: str = "real",
           temperature: float = 1.0, top_p: float = 0.95):
    """One sampling spec per real tune that fits one window: its header and bar prefixes."""
    from composer.model.sample import BarSpec, MelodySpec

    rng = random.Random(seed)
    specs, chosen, start = [], [], 0
    for piece, n in zip(pieces, _windows_per_piece(tok, pieces, max_len)):
        window, start = windows[start], start + n
        if n > 1:
            continue  # a tune split over several windows
        names = [tok.tokens[t] for t in window]
        prefixes = [[int(t) for t in window[i:i + 4]] for i, name in enumerate(names) if name == "BAR"]
        if chords == "cycle":
            prefixes = [_cycled(tok, prefix, piece["mode"], k) for k, prefix in enumerate(prefixes)]
        bars = [BarSpec(prefix, final=k == len(prefixes) - 1) for k, prefix in enumerate(prefixes)]
        specs.append(MelodySpec([int(t) for t in window[:5]], bars, round(piece["bar_quarters"] * 12),
                                list(range(48, 92)), temperature, top_p, rng.randrange(10 ** 6)))
        chosen.append(piece)
        if len(specs) >= count:
            break
    return specs, chosen


def main(argv: list[str] | None = None) -> int:
    from composer.melody.model import DEFAULT_CHECKPOINT, ModelEngine
    from composer.model.sample import generate
    from evaluation.model import real_piece
    from evaluation.realism import FIGURES, melody_figures, two_sample_test
    from training.dataset import load_pieces, load_split

    parser = argparse.ArgumentParser(prog="python -m evaluation.model_over_real")
    parser.add_argument("--checkpoint", type=Path, default=DEFAULT_CHECKPOINT)
    parser.add_argument("--data", type=Path, default=Path("data/tokens"), help="token arrays from `muse data`")
    parser.add_argument("--split", default="val", choices=("val", "test"))
    parser.add_argument("--pieces", type=int, default=120)
    parser.add_argument("--chords", default="real", choices=("real", "cycle"),
                        help="the real tunes' chord labels, or a plan-like four-chord cycle")
    parser.add_argument("--temperature", type=float, default=1.0)
    parser.add_argument("--top-p", type=float, default=0.95)
    args = parser.parse_args(argv)
    engine = ModelEngine(args.checkpoint)
    specs, real = _specs(engine.tokenizer, load_split(args.data, args.split), load_pieces(args.data, args.split),
                         args.pieces, seed=0, chords=args.chords, temperature=args.temperature,
                         top_p=args.top_p)
    written = []
    for start in range(0, len(specs), 8):
        written += generate(engine.fast, engine.tokenizer, specs[start:start + 8])
    real_pieces = [real_piece(p) for p in real]
    model_pieces = [{**p, "notes": engine.tokenizer.decode(seq, p["bar_quarters"])} for p, seq in zip(real_pieces, written)]
    report = {}
    for name, pieces in (("real", real_pieces), ("model", model_pieces)):
        figures = [melody_figures(p["notes"], p["bar_quarters"]) for p in pieces]
        report[name] = {f: float(np.nanmedian([row[f] for row in figures])) for f in FIGURES}
    test = two_sample_test(real_pieces, model_pieces)
    report["c2st"] = {"accuracy_mean": test["accuracy_mean"], "top_features": test["top_features"][:5],
                      "pieces": test["pieces"]}
    print(json.dumps(report, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
