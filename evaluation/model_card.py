"""The model evaluation as Markdown, and the checkpoint's model card, written from the figures alone."""

from __future__ import annotations

import json
from pathlib import Path

from evaluation.realism import report_markdown

ENGINES = ("model", "random", "ngram", "rules")
ENGINE_NAMES = {"model": "trained model", "random": "random weights, same sampler",
                "ngram": "4-gram, same sampler", "rules": "rules engine"}
CONTROL_ROWS = ("pieces", "melody_key_ok", "melody_key_ok_kk", "key_ok", "meter_ok", "tempo_ok", "bars_ok",
                "copy_run_p95", "copy_le_12", "in_key", "chord_tone_strong", "tonic_ending",
                "compression_in_real_range", "overlap_interval", "overlap_note_length", "mgeval_interval",
                "mgeval_note_length", "compose_s_per_piece")


def _cell(value) -> str:
    if value is None:
        return "—"
    return f"{value:.3f}" if isinstance(value, float) else str(value)


def markdown(report: dict) -> str:
    engines = [e for e in ENGINES if e in report]
    lines: list[str] = []
    if "nll" in report:
        n = report["nll"]
        lines += ["### Held-out NLL (nats/token, deduplicated family split)", "",
                  "| model | NLL |", "|---|---:|",
                  f"| trained transformer | {n['model_nll']:.3f} |",
                  f"| {n['ngram_order']}-gram (interpolated absolute discounting) | {n['ngram_nll']:.3f} |",
                  f"| same transformer, random weights | {n['random_nll']:.3f} |", "",
                  f"The transformer is {100 * n['improvement']:.1f}% below the n-gram over {n['test_tokens']} "
                  "test tokens.", ""]
    lines += [f"### Controls and copying ({report.get('pieces', '?')} requests over every theme)", "",
              "| figure | " + " | ".join(ENGINE_NAMES[e] for e in engines) + " |",
              "|---|" + "---:|" * len(engines)]
    for row in CONTROL_ROWS:
        lines.append(f"| {row} | " + " | ".join(_cell(report[e].get(row)) for e in engines) + " |")
    lines += ["", "`melody_key_ok`: the key the melody's own notes suggest (Temperley profiles and its last note, "
              "as training tunes were keyed) is the requested key; `_kk`: Krumhansl–Kessler profiles alone. "
              "`copy_run_p95`: 95th percentile of the longest run of (interval, duration) shared with any "
              "training tune, in notes. Controls are read back from the written MIDI.", ""]
    tests = {ENGINE_NAMES[e]: report[e]["c2st"] for e in engines if "c2st" in report[e]}
    tests.update({f"{ENGINE_NAMES[e]}, real tunes matched for meter and density": report[e]["c2st_matched"]
                  for e in engines if "c2st_matched" in report[e]})
    if "real_vs_real" in report:
        tests["real vs real (control)"] = report["real_vs_real"]
    if "iqr" in report:
        iqr = {f: {**row, "generated": {ENGINE_NAMES[e]: row["generated"][e] for e in engines
                                        if e in row["generated"]}} for f, row in report["iqr"].items()}
    else:
        iqr = None
    lines.append(report_markdown(iqr, tests))
    if report.get("per_theme"):
        lines += _per_theme(report["per_theme"])
    return "\n".join(lines)


def _per_theme(rows: dict) -> list[str]:
    names = list(next(iter(rows.values())))
    out = ["### Trained model per theme (medians)", "", "| theme | " + " | ".join(names) + " |",
           "|---|" + "---:|" * len(names)]
    for theme, row in rows.items():
        out.append(f"| {theme} | " + " | ".join(_cell(row[n]) for n in names) + " |")
    return out + [""]


def model_card(report: dict, checkpoint: Path, data: Path, log: Path | None = None) -> str:
    """The checkpoint's README: what it is, what it learned from, how it was trained, how it measures."""
    meta = json.loads((checkpoint / "config.json").read_text())
    model, training = meta["model"], meta["training"]
    stats = _json(data / "stats.json")
    corpus = _json(data / "corpus_report.json")
    params = _parameters(model)
    lines = [
        "# Muse melody model", "",
        "Written by `python -m evaluation.model --card` from the figures below; do not edit by hand.", "",
        f"A GPT-2 decoder ({model['n_layer']} layers × {model['n_embd']} wide, {model['n_head']} heads, "
        f"context {model['n_positions']}, vocabulary {model['vocab_size']}, {params / 1e6:.2f} M parameters) that "
        "writes a melody line conditioned on style, mode, meter, density and a chord per half-bar. Built with "
        "`transformers` from `config.json`; sampled by `composer/model/sample.py`, which masks only what the "
        "request fixes (see `composer/model/README.md`).", "",
        "## Data", "",
        "Melodies from the music21 corpus (BSD-licensed), read by `muse data`: every ABC tune with its repeats "
        "written out, and the chorale sopranos; near-duplicates removed and the split drawn by tune family "
        "(`training/families.py`); every tune transposed to a C tonic.", "",
        f"Pieces: train {stats.get('train_pieces', '?')}, validation {stats.get('val_pieces', '?')}, "
        f"test {stats.get('test_pieces', '?')}; tokens: train {stats.get('train_tokens', '?')}, "
        f"validation {stats.get('val_tokens', '?')}, test {stats.get('test_tokens', '?')}.", "",
    ]
    if corpus:
        lines += _corpus_table(corpus)
    lines += [
        "## Training", "",
        f"Best validation checkpoint: step {training.get('step')} ({training.get('tokens_seen')} training tokens "
        f"seen), validation loss {training.get('val_loss')} nats/token, train loss {training.get('train_loss')}, "
        f"{training.get('elapsed_s', 0) / 60:.0f} minutes of training on {_hardware(training)}.",
        f"Train config: `{json.dumps(training.get('train_config', {}))}`.", "",
    ]
    if log is not None and log.exists():
        lines += ["The curve is in `training_log.csv` and `training_curve.png` beside this card.", ""]
    lines += _size_choice(checkpoint)
    lines += ["## Measured (`python -m evaluation.model`)", "", markdown(report), ""]
    return "\n".join(lines)


def _corpus_table(corpus: dict) -> list[str]:
    rows = corpus.get("collections", {})
    reasons = sorted({k for counts in rows.values() for k in counts if k.startswith("skipped")})
    head = ["collection", "parsed", *[r.removeprefix("skipped: ") for r in reasons], "near-duplicates",
            "in corpus"]
    out = ["| " + " | ".join(head) + " |", "|---|" + "---:|" * (len(head) - 1)]
    for name, counts in rows.items():
        cells = [counts.get("kept", 0), *[counts.get(r, 0) for r in reasons],
                 counts.get("near_duplicates_dropped", 0), counts.get("in_corpus", 0)]
        out.append(f"| {name} | " + " | ".join(str(c) for c in cells) + " |")
    families = corpus.get("families", {})
    out += ["", f"Families: {families.get('families', '?')} ({families.get('tunes_in_shared_families', '?')} tunes "
            f"share a family with another); splits {json.dumps(corpus.get('splits', {}))}. "
            f"Parsing took {corpus.get('parse_s', '?')} s on this machine.", ""]
    out += [f"- Left out: {names} — {why}." for names, why in corpus.get("left_out", {}).items()]
    return out + [""]


def _size_choice(checkpoint: Path) -> list[str]:
    """The measurement the size was chosen by (`python -m training.size_probe`), when it is there."""
    import csv

    table = checkpoint / "size_probe.csv"
    if not table.exists():
        return []
    rows = list(csv.DictReader(table.open()))
    out = ["Size, chosen by measurement (`python -m training.size_probe`): training tokens per second on this CPU",
           "", "| layers × width | parameters | tokens/s |", "|---|---:|---:|"]
    out += [f"| {r['layers']} × {r['width']} | {int(r['parameters']) / 1e6:.2f} M | {r['tokens_per_s']} |" for r in rows]
    runs = _json(checkpoint / "size_probe.runs.json").get("validation_at_a_shared_step", {})
    if runs:
        out += ["", "Trained side by side on the same batches, validation loss at the first shared step: "
                + ", ".join(f"{name} {entry['val_loss']} after {entry['tokens_seen']} tokens"
                            for name, entry in runs.items())
                + f"; the lowest was {min(runs, key=lambda name: runs[name]['val_loss'])}, and that run trained on."]
    return out + [""]


def _machine() -> str:
    """This machine's cores and CPU (evaluation may not import bench.common.machine)."""
    import os

    cpu = "a CPU"
    try:
        cpu = next(line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                   if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return f"{os.cpu_count()} cores of {cpu}"


def _hardware(training: dict) -> str:
    """This machine (the card is written where the model was trained) and the precision used."""
    threads = training.get("train_config", {}).get("threads", "?")
    return f"{_machine()} ({threads} torch threads, bf16 autocast where native)"


def _json(path: Path) -> dict:
    return json.loads(path.read_text()) if path.exists() else {}


def _parameters(model: dict) -> int:
    d, layers, vocab, ctx = model["n_embd"], model["n_layer"], model["vocab_size"], model["n_positions"]
    return vocab * d + ctx * d + layers * (12 * d * d + 13 * d) + 2 * d


DOCS_START = "### Quality (`python -m evaluation.model"
DOCS_END = "### What the whole-corpus model costs"


def docs_section(report: dict, machine: str, day: str) -> str:
    """The melody-quality section of docs/benchmarks.md, from a saved report."""
    return "\n".join([
        f"{DOCS_START} --pieces {report.get('pieces', 200)}`; raw figures in `docs/model_eval.json`; this section "
        "written by `python -m evaluation.model_card --docs docs/benchmarks.md`)", "",
        f"Machine: {machine}. Date: {day}. Real tunes: the {report.get('real_split', 'test')} tunes of the "
        "deduplicated family split. The same figures for the model before the whole corpus (old sampler with its "
        "masks) are in `docs/melody_eval_before.md`.", "", markdown(report), "", ""])


def main(argv: list[str] | None = None) -> int:
    import argparse
    from datetime import date

    parser = argparse.ArgumentParser(prog="python -m evaluation.model_card")
    parser.add_argument("--report", type=Path, default=Path("docs/model_eval.json"))
    parser.add_argument("--docs", type=Path, required=True, help="the benchmarks page whose quality section to rewrite")
    args = parser.parse_args(argv)
    report = json.loads(args.report.read_text())
    day = date.fromtimestamp(args.report.stat().st_mtime).isoformat()
    text = args.docs.read_text()
    start, end = text.index(DOCS_START), text.index(DOCS_END)
    args.docs.write_text(text[:start] + docs_section(report, _machine(), day) + text[end:])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
