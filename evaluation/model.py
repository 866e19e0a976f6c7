"""`python -m evaluation.model`: how good is the melody model, measured, next to the rules engine.

Reports held-out NLL against a smoothed n-gram, histogram overlaps with real held-out melodies,
scale/chord/repetition metrics, a no-copying check against the training tunes, and control accuracy
over generated pieces (key, meter, tempo, bar count read back from the written MIDI).
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
            self.levels[n] = {tuple(s[i:i + n]) for s in self.sigs for i in range(len(s) - n + 1)}
        return self.levels[n]

    def longest(self, notes) -> int:
        sig = _signature(notes)
        best = 0
        n = 1
        while n <= len(sig):
            grams = {tuple(sig[i:i + n]) for i in range(len(sig) - n + 1)}
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
    ngram = NGram(order, len(tok)).fit(load_split(data, "train"))
    ngram_nll, _ = ngram.nll([w[:config.n_positions] for w in test])
    return {"test_tokens": count, "model_nll": model_nll, "ngram_order": order, "ngram_nll": ngram_nll,
            "improvement": 1 - model_nll / ngram_nll}


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
                   "length": rng.choice([20, 30, 45, 60]), "seed": 1000 + i, "voice": "piano"}
        out.append(understand(f"a {theme.name} tune", options, catalog))
    return catalog, out


def _rel(notes: list[Note], tonic: int) -> list[tuple[float, float, int]]:
    return [(n.start, n.duration, n.pitch - tonic) for n in notes]


def generation_report(engine: str, reqs, real_pieces, copy_index: CopyIndex | None, batch: int = 8,
                      checkpoint: Path | None = None) -> dict:
    comps, elapsed = _compose_all(engine, reqs, batch, checkpoint)
    rows = [_piece_metrics(c, copy_index) for c in comps]
    pieces = [_rel(c.score.melody.notes, c.plan.key.tonic) for c in comps]
    summary = {k: float(np.mean([r[k] for r in rows])) for k in rows[0] if k != "copy_run"}
    if copy_index:
        runs = np.array([r["copy_run"] for r in rows])
        summary["copy_run_p95"] = float(np.percentile(runs, 95))
        summary["copy_le_12"] = float(np.mean(runs <= 12))
    summary.update(_compression_against_real(rows, real_pieces))
    summary.update(_distribution_overlaps(pieces, real_pieces))
    summary["pieces"] = len(rows)
    summary["compose_s_per_piece"] = elapsed / len(rows)
    return summary


def _compose_all(engine: str, reqs, batch: int, checkpoint: Path | None) -> tuple[list, float]:
    """Every request composed (scores only) with `engine`, in batches; and the seconds that took."""
    from dataclasses import replace

    from composer.pipeline import Composer

    engines = {}
    if engine == "model" and checkpoint is not None:
        from composer.melody.model import ModelEngine

        engines["model"] = ModelEngine(checkpoint)
    composer = Composer(engines=engines)
    reqs = [replace(r, engine=engine) for r in reqs]
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
        "melody_key_ok": estimate_key(melody)[0] == plan.key,
        "meter_ok": info.meter == (plan.meter.numerator, plan.meter.denominator),
        "tempo_ok": info.tempo_bpm is not None and round(info.tempo_bpm) == req.tempo,
        "bars_ok": abs(max(n.end for n in melody) - plan.total_quarters) <= GRID_TOLERANCE_Q
                   and min(n.start for n in melody) >= intro_end - GRID_TOLERANCE_Q
                   and abs(info.length_q - plan.total_quarters) < plan.bar_quarters,
        "copy_run": copy_index.longest(_rel(melody, plan.key.tonic)) if copy_index else None,
    }


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
    from training.dataset import load_pieces
    parser = argparse.ArgumentParser(prog="python -m evaluation.model")
    parser.add_argument("--checkpoint", type=Path, default=DEFAULT_CHECKPOINT)
    parser.add_argument("--data", type=Path, default=Path("data/tokens"),
                        help="token arrays from `muse data` (default data/tokens: where it writes without MUSE_DATA_DIR)")
    parser.add_argument("--pieces", type=int, default=200)
    parser.add_argument("--out", type=Path, help="write the JSON report here")
    parser.add_argument("--skip-nll", action="store_true")
    parser.add_argument("--card", type=Path, help="write the model card (README.md) here")
    args = parser.parse_args(argv)
    import torch

    torch.set_num_threads(1)
    report: dict = {"checkpoint": str(args.checkpoint)}
    if not args.skip_nll:
        report["nll"] = nll_report(args.checkpoint, args.data)
        print(json.dumps(report["nll"]), flush=True)
    real = [p["notes"] for p in load_pieces(args.data, "test")]
    copy_index = CopyIndex([p["notes"] for p in load_pieces(args.data, "train")])
    _, reqs = requests(args.pieces)
    for engine in ("model", "rules"):
        report[engine] = generation_report(engine, reqs, real, copy_index, checkpoint=args.checkpoint)
        print(json.dumps({engine: report[engine]}), flush=True)
    if args.out:
        args.out.write_text(json.dumps(report, indent=1))
    print(markdown(report))
    if args.card:
        args.card.write_text(model_card(report, args.checkpoint, args.data))
    return 0


def markdown(report: dict) -> str:
    lines = []
    if "nll" in report:
        n = report["nll"]
        lines += ["| held-out NLL (nats/token) | value |", "|---|---|",
                  f"| transformer | {n['model_nll']:.3f} |", f"| {n['ngram_order']}-gram (abs. discounting) | "
                  f"{n['ngram_nll']:.3f} |", f"| improvement | {100 * n['improvement']:.1f}% |",
                  f"| test tokens | {n['test_tokens']} |", ""]
    keys = ["pieces", "scale_consistency", "in_key", "chord_tone_strong", "tonic_ending", "compression",
            "compression_in_real_range", "overlap_pitch_class", "overlap_interval", "overlap_note_length",
            "mgeval_pitch_class", "mgeval_interval", "mgeval_note_length", "copy_run_p95", "copy_le_12",
            "key_ok", "melody_key_ok", "meter_ok", "tempo_ok", "bars_ok", "compose_s_per_piece"]
    lines += ["| metric | model | rules |", "|---|---|---|"]
    for k in keys:
        vals = [report.get(e, {}).get(k) for e in ("model", "rules")]
        lines.append(f"| {k} | " + " | ".join("—" if v is None else f"{v:.3f}" if isinstance(v, float)
                                              else str(v) for v in vals) + " |")
    rng = report.get("model", {}).get("compression_real_p5_p95")
    if rng:
        lines.append(f"\nReal test melodies' compression ratio, 5th–95th percentile: {rng[0]:.2f}–{rng[1]:.2f}.")
    return "\n".join(lines)


def model_card(report: dict, checkpoint: Path, data: Path) -> str:
    """The checkpoint's README: what it is, what it was trained on, how it measures."""
    meta = json.loads((checkpoint / "config.json").read_text())
    model, training = meta["model"], meta["training"]
    stats_path = data / "stats.json"
    stats = json.loads(stats_path.read_text()) if stats_path.exists() else {}
    history = training.get("history") or []
    return "\n".join([
        "# Muse melody model",
        "",
        f"A GPT-2 decoder ({model['n_layer']} layers × {model['n_embd']} wide, {model['n_head']} heads, "
        f"context {model['n_positions']}, vocabulary {model['vocab_size']}) that writes a melody line "
        "conditioned on style, mode, meter, density and a chord per half-bar. Built with `transformers` "
        "from `config.json`; sampled by `composer/model/sample.py` with the plan's constraints "
        "(see `composer/model/README.md`).",
        "",
        "## Data",
        "",
        "Melodies extracted from the music21 corpus (BSD-licensed; Essen folk songs, O'Neill's 1850, Aird's Airs, "
        "Ryan's Mammoth, Bach chorales, …) by `muse data`, transposed to a C tonic, split by work "
        "(CRC32 of the work id: 90/5/5).",
        f"Pieces: train {stats.get('train_pieces', '?')}, validation {stats.get('val_pieces', '?')}, "
        f"test {stats.get('test_pieces', '?')}; tokens: train {stats.get('train_tokens', '?')}, "
        f"validation {stats.get('val_tokens', '?')}, test {stats.get('test_tokens', '?')}.",
        "",
        "## Training",
        "",
        f"Checkpoint from step {training.get('step')} ({training.get('tokens_seen')} training tokens seen), "
        f"validation loss {training.get('val_loss')} nats/token, train loss {training.get('train_loss')}. "
        "AdamW, cosine schedule, fp32 on a shared 2-core CPU, one torch thread (bf16 autocast is emulated on "
        "this CPU and ran ~10× slower, so `muse train` only enables it where bf16 is native or on CUDA).",
        f"Train config: `{json.dumps(training.get('train_config', {}))}`.",
        *([""] + [f"- step {h['step']}: val {h['val_loss']}" for h in history] if history else []),
        "",
        "## Measured (python -m evaluation.model)",
        "",
        markdown(report),
        "",
        "Metrics: `overlap_*` = overlap of pooled histograms (sum of minima) against held-out test melodies; "
        "`mgeval_*` = MGEval overlapping area of per-piece feature distances (generated→real vs real→real); "
        "`copy_run_p95` = 95th percentile of the longest (interval, duration) run shared with any training tune, "
        "in notes; control metrics read the written MIDI back.",
        "",
    ])


if __name__ == "__main__":
    raise SystemExit(main())
