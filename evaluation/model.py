"""`python -m evaluation.model`: how good is the melody model, measured against checks that can fail.

Four engines write the same 200 requests: the trained model, the same sampler over random weights,
the same sampler over the n-gram, and the rules engine. Each is measured on held-out NLL (the
models), the melody's own key, the controls read back from the written MIDI, the longest run shared
with a training tune, the realism figures against the real test tunes' interquartile ranges and a
classifier two-sample test against real tunes (with the real-vs-real control), per theme where the
themes differ.
"""

from __future__ import annotations

import argparse
import json
import random
import time
from pathlib import Path

import numpy as np

from evaluation.analysis import GRID_TOLERANCE_Q, compression_ratio, estimate_key, load_midi, scale_consistency
from composer.model.tokenizer import DURATIONS, TICKS_PER_QUARTER
from composer.music.score import Note

INTERVAL_CLIP = 12


def _hist_pitch(pieces: list[list[tuple[float, float, int]]]) -> np.ndarray:
    h = np.zeros(12)
    for notes in pieces:
        for _, _, p in notes:
            h[p % 12] += 1
    return h / max(1, h.sum())


def _hist_interval(pieces) -> np.ndarray:
    h = np.zeros(2 * INTERVAL_CLIP + 1)
    for notes in pieces:
        for a, b in zip(notes, notes[1:]):
            h[int(np.clip(b[2] - a[2], -INTERVAL_CLIP, INTERVAL_CLIP)) + INTERVAL_CLIP] += 1
    return h / max(1, h.sum())


def _hist_length(pieces) -> np.ndarray:
    h = np.zeros(len(DURATIONS))
    ticks = np.array(DURATIONS)
    for notes in pieces:
        for _, d, _ in notes:
            h[int(np.abs(ticks - d * TICKS_PER_QUARTER).argmin())] += 1
    return h / max(1, h.sum())


def overlap(a: np.ndarray, b: np.ndarray) -> float:
    """Overlapping area of two normalised histograms (1 = identical)."""
    return float(np.minimum(a, b).sum())


def mgeval_overlap(generated: list[np.ndarray], real: list[np.ndarray], seed: int = 0) -> float:
    """MGEval's overlapping area: the KDE of generated-to-real distances against the KDE of
    real-to-real distances, per-piece feature vectors (1 = indistinguishable)."""
    from scipy.stats import gaussian_kde

    def distances(a, b, same):
        return np.array([np.linalg.norm(x - y) for i, x in enumerate(a) for j, y in enumerate(b)
                         if not (same and j <= i)])

    rng = np.random.default_rng(seed)
    real = [real[i] for i in rng.permutation(len(real))[:120]]
    generated = [generated[i] for i in rng.permutation(len(generated))[:120]]
    intra, inter = distances(real, real, True), distances(generated, real, False)
    if intra.std() == 0 or inter.std() == 0:
        return float(np.allclose(intra.mean(), inter.mean()))
    grid = np.linspace(0, max(intra.max(), inter.max()) * 1.1, 512)
    a, b = gaussian_kde(intra)(grid), gaussian_kde(inter)(grid)
    return float(np.trapezoid(np.minimum(a, b), grid))


def _signature(notes) -> list[tuple[int, float]]:
    """Transposition-free note identity: (interval from the previous note, duration)."""
    return [(b[2] - a[2], round(b[1], 3)) for a, b in zip(notes, notes[1:])]


class CopyIndex:
    """Longest run of notes a melody shares with any training tune (by interval and duration)."""

    def __init__(self, pieces: list[list[tuple[float, float, int]]]):
        self.sigs = [_signature(p) for p in pieces]
        self.levels: dict[int, set] = {}

    def _level(self, n: int) -> set:
        if n not in self.levels:
            self.levels[n] = {hash(tuple(s[i:i + n])) for s in self.sigs for i in range(len(s) - n + 1)}
        return self.levels[n]

    def longest(self, notes) -> int:
        sig = _signature(notes)
        best = 0
        n = 1
        while n <= len(sig):
            grams = {hash(tuple(sig[i:i + n])) for i in range(len(sig) - n + 1)}  # hashes: 10k tunes fit
            if grams & self._level(n):
                best = n
                n += 1
            else:
                break
        return best + 1 if best else 1  # n shared intervals = n + 1 shared notes


def nll_report(checkpoint: Path, data: Path, order: int = 4, limit: int | None = None) -> dict:
    from training.dataset import load_split
    from composer.model.model import load_checkpoint
    from evaluation.ngram import NGram
    from training.train import evaluate_loss

    model, config, tok, _ = load_checkpoint(checkpoint)
    test = load_split(data, "test")[:limit]
    model_nll, count = evaluate_loss(model, test, config.n_positions, tok.pad, "cpu")
    random_nll, _ = evaluate_loss(random_weights(config), test, config.n_positions, tok.pad, "cpu")
    ngram = NGram(order, len(tok)).fit(load_split(data, "train"))
    ngram_nll, _ = ngram.nll([w[:config.n_positions] for w in test])
    return {"test_tokens": count, "model_nll": model_nll, "random_nll": random_nll, "ngram_order": order,
            "ngram_nll": ngram_nll, "improvement": 1 - model_nll / ngram_nll}


def random_weights(config, seed: int = 0):
    """A model of the checkpoint's shape with its initial random weights."""
    import torch

    from composer.model.model import build

    torch.manual_seed(seed)
    return build(config).eval()


def engines_under_test(checkpoint: Path, data: Path, names: list[str], order: int = 4,
                       temperature_scale: float | None = None, top_p: float | None = None) -> dict:
    """The named engines: the trained model, the same sampler driven by random weights ("random") and
    by the n-gram ("ngram"), and the rules engine. Only those asked for are built (the n-gram's fit
    takes a minute)."""
    from composer.melody.model import ModelEngine
    from composer.model.fast import FastGPT
    from evaluation.ngram import NGram, NGramStepper
    from training.dataset import load_split

    engines: dict = {"rules": "rules"} if "rules" in names else {}
    for name in (n for n in names if n != "rules"):
        engine = ModelEngine(checkpoint)
        if name == "random":
            engine.fast = FastGPT.from_model(random_weights(engine.config))
        elif name == "ngram":
            ngram = NGram(order, len(engine.tokenizer)).fit(load_split(data, "train"))
            engine.fast = NGramStepper(ngram, engine.config.n_positions)
        if temperature_scale is not None:
            engine.temperature_scale = temperature_scale
        if top_p is not None:
            engine.top_p = top_p
        engines[name] = engine
    return engines


def requests(count: int, seed: int = 0):
    """Requests spread over every theme, with each theme's meters and modes, varied keys, tempos, lengths."""
    from composer.catalog import default_catalog
    from composer.understanding.understand import understand

    catalog = default_catalog()
    rng = random.Random(seed)
    names = sorted(catalog.themes)
    keys = ["C", "G", "D", "A", "E", "F", "Bb", "Eb"]
    out = []
    for i in range(count):
        theme = catalog.themes[names[i % len(names)]]
        spec = theme.spec
        meter = rng.choice(spec.get("meters") or ["4/4"])
        mode = rng.choice(spec.get("modes") or ["major"])
        tempo = rng.randint(spec["tempo"]["min"], spec["tempo"]["max"])
        options = {"theme": theme.name, "meter": meter, "key": f"{rng.choice(keys)} {mode}", "tempo": tempo,
                   "length": rng.choice([20, 30, 45, 60]), "seed": 1000 * (seed + 1) + i, "voice": "piano"}
        out.append(understand(f"a {theme.name} tune", options, catalog))
    return catalog, out


def _unhumanised(notes: list[tuple[float, float, int]]) -> list[tuple[float, float, int]]:
    """Onsets and ends back on the 1/12-quarter grid the engines write on (the arranger humanises
    timing by a few hundredths of a quarter, which would otherwise read as off-beat notes)."""
    out = []
    for on, d, p in notes:
        start, end = round(on * TICKS_PER_QUARTER), round((on + d) * TICKS_PER_QUARTER)
        out.append((start / TICKS_PER_QUARTER, max(1, end - start) / TICKS_PER_QUARTER, p))
    return out


def _rel(notes: list[Note], tonic: int) -> list[tuple[float, float, int]]:
    return [(n.start, n.duration, n.pitch - tonic) for n in notes]


def generation_report(engine, reqs, real_pieces, copy_index: CopyIndex | None, batch: int = 8) -> tuple[dict, list]:
    """Summary figures for one engine (a name or an engine object), and its pieces for the realism tests."""
    comps, elapsed = _compose_all(engine, reqs, batch)
    rows = [_piece_metrics(c, copy_index) for c in comps]
    pieces = [_rel(c.score.melody.notes, c.plan.key.tonic) for c in comps]
    realism = [{"notes": _unhumanised(p), "bar_quarters": c.plan.bar_quarters, "tonic": 0,
                "beat_quarters": c.plan.meter.pulse_quarters, "theme": c.plan.theme.name, "mode": c.plan.key.mode,
                "melody_key_ok": r["melody_key_ok"]} for p, c, r in zip(pieces, comps, rows)]
    summary = {k: float(np.mean([r[k] for r in rows])) for k in rows[0] if k != "copy_run"}
    if copy_index:
        runs = np.array([r["copy_run"] for r in rows])
        summary["copy_run_p95"] = float(np.percentile(runs, 95))
        summary["copy_le_12"] = float(np.mean(runs <= 12))
    summary.update(_compression_against_real(rows, real_pieces))
    summary.update(_distribution_overlaps(pieces, real_pieces))
    summary["pieces"] = len(rows)
    summary["compose_s_per_piece"] = elapsed / len(rows)
    return summary, realism


def _compose_all(engine, reqs, batch: int) -> tuple[list, float]:
    """Every request composed (scores only) with `engine`, in batches; and the seconds that took."""
    from dataclasses import replace

    from composer.pipeline import Composer

    if isinstance(engine, str):
        composer, name = Composer(), engine
    else:
        composer, name = Composer(engines={"model": engine}), "model"
    reqs = [replace(r, engine=name) for r in reqs]
    started = time.perf_counter()
    comps = []
    for i in range(0, len(reqs), batch):
        comps += composer.compose_scores(reqs[i:i + batch])
    return comps, time.perf_counter() - started


def _piece_metrics(c, copy_index: CopyIndex | None) -> dict:
    """One composed piece measured: scale and chord fit, repetition, the controls read back from its MIDI,
    and the longest run it shares with a training tune."""
    plan, req = c.plan, c.request
    melody = c.score.melody.notes
    info = load_midi(c.midi)
    pulse = plan.meter.pulse_quarters
    # the arranger humanises timing: a note within GRID_TOLERANCE_Q of a pulse is on it
    strong = [(n, round(n.start / pulse) * pulse) for n in melody
              if abs(n.start - round(n.start / pulse) * pulse) <= GRID_TOLERANCE_Q]
    intro_end = sum(s.bars for s in plan.sections if s.name == "intro") * plan.bar_quarters
    return {
        "scale_consistency": scale_consistency(melody),
        "in_key": float(np.mean([n.pitch % 12 in set(plan.key.scale) for n in melody])),
        "chord_tone_strong": float(np.mean([n.pitch % 12 in plan.chord_at(t).pitch_classes
                                            for n, t in strong])) if strong else 0.0,
        "compression": compression_ratio(melody),
        "tonic_ending": melody[-1].pitch % 12 == plan.key.tonic,
        "key_ok": info.key_signature is not None and _same_key(info.key_signature, plan.key),
        "melody_key_ok": _melody_key(melody) == plan.key,
        "melody_key_ok_kk": estimate_key(melody)[0] == plan.key,
        "meter_ok": info.meter == (plan.meter.numerator, plan.meter.denominator),
        "tempo_ok": info.tempo_bpm is not None and round(info.tempo_bpm) == req.tempo,
        "bars_ok": max(n.end for n in melody) <= plan.total_quarters + GRID_TOLERANCE_Q
                   and max(n.start for n in melody) >= plan.total_quarters - 2 * plan.bar_quarters
                   and min(n.start for n in melody) >= intro_end - GRID_TOLERANCE_Q
                   and abs(info.length_q - plan.total_quarters) < plan.bar_quarters,
        "copy_run": copy_index.longest(_unhumanised(_rel(melody, plan.key.tonic))) if copy_index else None,
    }


def _melody_key(melody: list[Note]):
    """The key the melody itself suggests, found as training tunes' keys were (`training.corpus.melody_key`)."""
    from training.corpus import melody_key

    return melody_key([(n.start, n.duration, n.pitch) for n in melody], None)


def _compression_against_real(rows: list[dict], real_pieces) -> dict:
    """The real melodies' 5th–95th percentile compression ratio, and the share of pieces inside it."""
    real_comp = [compression_ratio([Note(on, d, p, 90) for on, d, p in notes]) for notes in real_pieces]
    low, high = float(np.percentile(real_comp, 5)), float(np.percentile(real_comp, 95))
    return {"compression_real_p5_p95": [low, high],
            "compression_in_real_range": float(np.mean([low <= r["compression"] <= high for r in rows]))}


def _distribution_overlaps(pieces, real_pieces) -> dict:
    """Pitch-class, interval and note-length histograms against the real melodies: pooled overlap, then
    MGEval's per-piece overlapping area."""
    out = {"overlap_pitch_class": overlap(_hist_pitch(pieces), _hist_pitch(real_pieces)),
           "overlap_interval": overlap(_hist_interval(pieces), _hist_interval(real_pieces)),
           "overlap_note_length": overlap(_hist_length(pieces), _hist_length(real_pieces))}
    for name, hist in (("pitch_class", _hist_pitch), ("interval", _hist_interval), ("note_length", _hist_length)):
        out[f"mgeval_{name}"] = mgeval_overlap([hist([p]) for p in pieces], [hist([p]) for p in real_pieces])
    return out


def _same_key(stated: str, key) -> bool:
    from composer.music.theory import Key

    try:
        parsed = Key.parse(stated[:-1] + " minor" if stated.endswith("m") else stated)
    except ValueError:
        return False
    return parsed == key


def main(argv: list[str] | None = None) -> int:
    from composer.melody.model import DEFAULT_CHECKPOINT
    from evaluation.model_card import markdown, model_card
    from evaluation.realism import iqr_table, matched_sample, real_vs_real, two_sample_test
    from training.dataset import load_pieces

    parser = argparse.ArgumentParser(prog="python -m evaluation.model")
    parser.add_argument("--checkpoint", type=Path, default=DEFAULT_CHECKPOINT)
    parser.add_argument("--data", type=Path, default=Path("data/tokens"),
                        help="token arrays from `muse data` (default data/tokens: where it writes without MUSE_DATA_DIR)")
    parser.add_argument("--pieces", type=int, default=200)
    parser.add_argument("--engines", default="model,random,ngram,rules")
    parser.add_argument("--out", type=Path, help="write the JSON report here")
    parser.add_argument("--skip-nll", action="store_true")
    parser.add_argument("--card", type=Path, help="write the model card (README.md) here")
    parser.add_argument("--log", type=Path, help="the training run's log.jsonl, for the card's curve")
    parser.add_argument("--real-split", default="test", choices=("test", "val"),
                        help="real tunes to compare with (tune design choices on val, report on test)")
    parser.add_argument("--temperature-scale", type=float, help="multiply every theme's sampling temperature")
    parser.add_argument("--top-p", type=float, help="top-p for themes that set none")
    parser.add_argument("--request-seed", type=int, default=0,
                        help="which requests (design choices are tuned on another seed than the one reported)")
    args = parser.parse_args(argv)
    import torch

    torch.set_num_threads(1)
    report: dict = {"checkpoint": str(args.checkpoint), "pieces": args.pieces}
    if not args.skip_nll:
        report["nll"] = nll_report(args.checkpoint, args.data)
        print(json.dumps(report["nll"]), flush=True)
    real = [real_piece(p) for p in load_pieces(args.data, args.real_split)]
    report["real_split"] = args.real_split
    copy_index = CopyIndex([p["notes"] for p in load_pieces(args.data, "train")])
    _, reqs = requests(args.pieces, args.request_seed)
    names = args.engines.split(",")
    engines = engines_under_test(args.checkpoint, args.data, names, temperature_scale=args.temperature_scale,
                                 top_p=args.top_p)
    generated = {}
    for name in names:
        report[name], generated[name] = generation_report(engines[name], reqs, [p["notes"] for p in real], copy_index)
        report[name]["c2st"] = two_sample_test(real, generated[name])
        report[name]["c2st_matched"] = two_sample_test(matched_sample(real, generated[name]), generated[name])
        print(json.dumps({name: report[name]}), flush=True)
    report["real_vs_real"] = real_vs_real(real)
    report["iqr"] = iqr_table(real, generated)
    report["per_theme"] = per_theme(generated.get("model", []))
    if args.out:
        args.out.write_text(json.dumps(report, indent=1, default=float))
    print(markdown(report))
    if args.card:
        args.card.write_text(model_card(report, args.checkpoint, args.data, args.log))
    return 0


def real_piece(piece: dict) -> dict:
    """A tune from the token folder's `*.pieces.json` in the form `evaluation.realism` reads."""
    compound = piece["meter"] in ("6/8", "9/8", "12/8")
    return {"notes": [tuple(n) for n in piece["notes"]], "bar_quarters": piece["bar_quarters"], "tonic": 0,
            "beat_quarters": 1.5 if compound else 1.0, "mode": piece["mode"]}


def per_theme(pieces: list[dict]) -> dict[str, dict[str, float]]:
    """Per theme: melody-key match and the realism figures' medians (where themes differ)."""
    from evaluation.realism import FIGURES, melody_figures

    out: dict[str, dict[str, float]] = {}
    themes = sorted({p["theme"] for p in pieces})
    for theme in themes:
        chosen = [p for p in pieces if p["theme"] == theme]
        figures = [melody_figures(p["notes"], p["bar_quarters"]) for p in chosen]
        row = {"pieces": len(chosen), "melody_key_ok": float(np.mean([p["melody_key_ok"] for p in chosen]))}
        for name in FIGURES:
            values = [f[name] for f in figures if not np.isnan(f[name])]
            row[name] = float(np.median(values)) if values else float("nan")
        out[theme] = row
    return out


if __name__ == "__main__":
    raise SystemExit(main())
