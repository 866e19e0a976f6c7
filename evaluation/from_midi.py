"""How well `/theme from-midi` reads a MIDI file: meter, key and mode, tempo, on 50 real pieces.

Run `python -m evaluation.from_midi` for the Markdown table and the misses (`--limit N` takes an
even spread of N pieces; `--notes-only` also scores the files with their time signature, key
signature and tempo removed, which measures the estimators from the notes alone).

The pieces come from the music21 corpus (it ships with music21), chosen once by hand to span
2/4 3/4 4/4 2/2 3/8 6/8 9/8 12/8, both modes and modal tunes: the 19 Bach chorales whose
Riemenschneider analysis is in the corpus, 16 of O'Neill's Irish tunes (1850; three state a
tempo) and 15 German songs of the Essen folk song collection. music21 writes each to MIDI bytes
(one time signature, the source's key signature and its tempo if it states one, as a notation
program exports it); they are cached under `$MUSE_DATA_DIR/cache/from-midi-eval` (or the temp
folder), never in the repository. The key estimator's settings were chosen on other pieces.

The truth is what each source states, not an estimate, wherever it states it:
  meter  the source's time signature (MusicXML time, ABC `M:`; `C` is 4/4, `C|` 2/2);
  key    chorales: the key the expert Roman-numeral analysis (rntxt) opens in, moved to this
         edition's pitch (two corpus editions are transposed from the analysed one; the
         analysis' chords are matched against the notes). The key signature is not the truth:
         chorales in "Dorian" notation carry one flat fewer than their key, and a signature has
         no mode. O'Neill: the ABC `K:` field, which states tonic and mode (m, dor, phr → minor;
         major, mix, lyd → major). Essen: `K:` states the tonic only (every song is written with
         the major signature of its tonic and the other accidentals spelled out), so the mode is
         music21's `analyze('key')` (Aarden-Essen profiles, made on this collection) among the
         keys on the stated tonic;
  tempo  a metronome mark in the source (ABC `Q:`), where there is one;
  style  the label training gives the collection (`training.corpus.style_of`: chorale, irish, folk).
"""

from __future__ import annotations

import argparse
import copy
import io
import json
import os
import re
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import mido
import numpy as np

from composer.catalog.from_midi import theme_from_midi
from composer.errors import MuseError
from composer.music.theory import Key
from training.corpus import style_of

CACHE_VERSION = "4"
# (corpus path, Riemenschneider analysis number); (O'Neill file, tune number); (Essen file, song number)
CHORALES = [("bach/bwv269", 1), ("bach/bwv347", 2), ("bach/bwv153.1", 3), ("bach/bwv86.6", 4),
            ("bach/bwv267", 5), ("bach/bwv281", 6), ("bach/bwv17.7", 7), ("bach/bwv40.8", 8),
            ("bach/bwv38.6", 10), ("bach/bwv41.6", 11), ("bach/bwv65.2", 12), ("bach/bwv33.6", 13),
            ("bach/bwv184.5", 14), ("bach/bwv277", 15), ("bach/bwv311", 16), ("bach/bwv145.5", 17),
            ("bach/bwv318", 18), ("bach/bwv351", 19), ("bach/bwv302", 20)]
ONEILLS = [("0001-0050", 1), ("0001-0050", 12), ("0001-0050", 28), ("0001-0050", 37), ("0001-0050", 42),
           ("0001-0050", 46), ("0051-0100", 59), ("0051-0100", 83), ("0101-0200", 119), ("0301-0350", 310),
           ("0401-0486", 415), ("0501-0550", 542), ("0501-0550", 548), ("0951-0981", 980),
           ("1276-1375", 1290), ("1276-1375", 1326)]
ESSEN = [("erk10", 1), ("erk10", 47), ("erk10", 70), ("erk10", 116), ("erk10", 162), ("boehme10", 24),
         ("boehme10", 70), ("boehme10", 116), ("altdeu20", 70), ("altdeu20", 93), ("kinder0", 24),
         ("kinder0", 47), ("fink0", 24), ("fink0", 70), ("fink0", 162)]
_MINOR_MODES = ("minor", "dorian", "phrygian", "aeolian", "locrian")


@dataclass(frozen=True)
class Source:
    id: str
    path: str
    number: int | None = None
    analysis: int | None = None  # Riemenschneider number of the chorale's rntxt analysis


SOURCES = ([Source(f"chorale-{p.split('/')[1]}", p, None, r) for p, r in CHORALES]
           + [Source(f"oneills-{n}", f"oneills1850/{f}", n) for f, n in ONEILLS]
           + [Source(f"essen-{f}-{n}", f"essenFolksong/{f}", n) for f, n in ESSEN])


def subset(count: int) -> list[Source]:
    """An even spread of `count` sources over the three collections (all of them for 50 or more)."""
    if count >= len(SOURCES):
        return list(SOURCES)
    step = len(SOURCES) / count
    return [SOURCES[int(i * step)] for i in range(count)]


def cache_dir() -> Path:
    base = os.environ.get("MUSE_DATA_DIR")
    root = Path(base) / "cache" if base else Path(tempfile.gettempdir())
    return root / "from-midi-eval" / f"v{CACHE_VERSION}"


# ---- truth and export (music21) ------------------------------------------------------------

def _chorale_key(number: int, score: Any) -> Key:
    """The key the analysis opens in, moved to the pitch of this edition: some corpus editions are
    transposed from the one analysed, so the analysis' chords are matched against the notes."""
    from music21 import converter, corpus

    path = Path(corpus.getWork(f"bach/choraleAnalyses/riemenschneider{number:03d}.rntxt"))
    match = re.search(r"^m\d+\s+(?:b[\d.]+\s+)?([A-Ga-g])([#b-]*):", path.read_text(), re.M)
    assert match, f"no opening key in {path.name}"
    letter, accidental = match.groups()
    key = Key.parse(f"{letter.upper()}{accidental.replace('-', 'b')} {'major' if letter.isupper() else 'minor'}")
    notes, chords = _pitch_classes_by_bar(score.flatten().notes), _pitch_classes_by_bar(
        converter.parse(path).recurse().getElementsByClass("RomanNumeral"))
    bars = sorted(set(notes) & set(chords))
    fits = [sum(float(notes[b] @ np.roll(chords[b], shift)) for b in bars) for shift in range(12)]
    return key.transposed(int(np.argmax(fits)))


def _pitch_classes_by_bar(elements: Any) -> dict[int, np.ndarray]:
    """Each bar's pitch classes, weighted by duration and scaled to sum 1."""
    bars: dict[int, np.ndarray] = {}
    for element in elements:
        for pitch in element.pitches:
            row = bars.setdefault(element.measureNumber, np.zeros(12))
            row[pitch.pitchClass] += element.duration.quarterLength or 1.0
    return {bar: row / row.sum() for bar, row in bars.items() if row.sum() > 0}


def _key_of(m21key: Any) -> Key:
    mode = "minor" if m21key.mode in _MINOR_MODES else "major"
    return Key(m21key.tonic.pitchClass, mode)


def _truth_key(source: Source, score: Any) -> Key:
    if source.analysis is not None:
        return _chorale_key(source.analysis, score)
    stated = next(iter(score.recurse().getElementsByClass("Key")))
    if source.path.startswith("oneills"):
        return _key_of(stated)
    analysed = score.analyze("key")  # Essen: the stated tonic, in the mode the notes favour
    candidates = [analysed, *analysed.alternateInterpretations]
    return _key_of(next(k for k in candidates if k.tonic.pitchClass == stated.tonic.pitchClass))


def _main_meter(score: Any) -> Any:
    """The time signature most measures are in (ABC pickups add short ones music21 invents)."""
    from collections import Counter

    signatures = list(score.recurse().getElementsByClass("TimeSignature"))
    counts = Counter(ts.ratioString for ts in signatures)
    ratio = counts.most_common(1)[0][0]
    return next(ts for ts in signatures if ts.ratioString == ratio)


def _clean_score(score: Any, meter: Any, tempo: Any) -> Any:
    """The notes of every part with one time signature, the source's key signature and tempo."""
    from music21 import stream

    out = stream.Score()
    for index, part in enumerate(score.parts):
        clean = stream.Part()
        instrument = part.getInstrument(returnDefault=False)
        if instrument is not None:
            clean.insert(0, copy.deepcopy(instrument))
        clean.insert(0, copy.deepcopy(meter))
        signature = next(iter(part.recurse().getElementsByClass("KeySignature")), None)
        if signature is not None:
            clean.insert(0, copy.deepcopy(signature))
        if tempo is not None and index == 0:
            clean.insert(0, copy.deepcopy(tempo))
        for element in part.stripTies().flatten().notes:
            if element.duration.quarterLength > 0:  # grace notes are ornaments, not notes
                clean.insert(element.offset, copy.deepcopy(element))
        out.insert(0, clean)
    return out


def export(source: Source) -> tuple[bytes, dict[str, Any]]:
    """The piece as MIDI bytes (music21 writes them) and what its source states."""
    from music21 import corpus, midi

    score = corpus.parse(source.path, number=source.number) if source.number else corpus.parse(source.path)
    meter = _main_meter(score)
    marks = list(score.recurse().getElementsByClass("MetronomeMark"))
    tempo = marks[0] if marks else None
    key = _truth_key(source, score)
    data = midi.translate.streamToMidiFile(_clean_score(score, meter, tempo)).writestr()
    title = score.metadata.title if score.metadata and score.metadata.title else ""
    truth = {"meter": meter.ratioString, "key": key.name, "title": str(title)[:40],
             "style": style_of(source.path.split("/")[0]),
             "tempo": round(tempo.getQuarterBPM(), 1) if tempo is not None else None}
    return data, truth


def load(source: Source) -> tuple[bytes, dict[str, Any]]:
    """`export`, cached."""
    folder = cache_dir()
    midi_path, truth_path = folder / f"{source.id}.mid", folder / f"{source.id}.json"
    if midi_path.exists() and truth_path.exists():
        return midi_path.read_bytes(), json.loads(truth_path.read_text())
    data, truth = export(source)
    folder.mkdir(parents=True, exist_ok=True)
    for path, content in ((midi_path, data), (truth_path, json.dumps(truth).encode())):
        partial = path.with_name(f"{path.name}.{os.getpid()}.part")  # another run may read it meanwhile
        partial.write_bytes(content)
        os.replace(partial, path)
    return data, truth


# ---- scoring --------------------------------------------------------------------------------

def notes_only(data: bytes) -> bytes:
    """The same file without its time signature, key signature and tempo events."""
    mid = mido.MidiFile(file=io.BytesIO(data))
    for track in mid.tracks:
        kept, carry = [], 0
        for msg in track:
            if msg.is_meta and msg.type in ("time_signature", "key_signature", "set_tempo"):
                carry += msg.time
                continue
            kept.append(msg.copy(time=msg.time + carry))
            carry = 0
        track[:] = kept
    out = io.BytesIO()
    mid.save(file=out)
    return out.getvalue()


def _same_key(a: str, b: str) -> bool:
    return Key.parse(a) == Key.parse(b)


def score_piece(source: Source, data: bytes, truth: dict[str, Any]) -> dict[str, Any]:
    started = time.perf_counter()
    try:
        spec = theme_from_midi(data, "eval")
    except MuseError as exc:
        return {"id": source.id, "truth": truth, "error": str(exc), "meter_ok": False, "key_ok": False,
                "style_ok": False, "tempo_ok": False if truth["tempo"] else None,
                "seconds": time.perf_counter() - started}
    meter, key, tempo = spec["meters"][0], spec["keys"][0], spec["tempo"]
    tempo_ok = None
    if truth["tempo"] is not None:
        tempo_ok = abs(tempo["default"] - truth["tempo"]) <= 1 and tempo["min"] <= truth["tempo"] <= tempo["max"]
    return {"id": source.id, "truth": truth, "meter": meter, "key": key, "tempo": tempo["default"],
            "meter_ok": meter == truth["meter"], "key_ok": _same_key(key, truth["key"]), "tempo_ok": tempo_ok,
            "style": spec["melody"]["style"], "style_ok": spec["melody"]["style"] == truth["style"],
            "verse": spec["progressions"]["verse"][0]["chords"],
            "seconds": time.perf_counter() - started}


def evaluate(sources: list[Source], strip: bool = False) -> list[dict[str, Any]]:
    """One row per piece; with `strip`, the files lose their time, key and tempo events first."""
    rows = []
    for source in sources:
        data, truth = load(source)
        if strip:
            data, truth = notes_only(data), {**truth, "tempo": None}
        rows.append(score_piece(source, data, truth))
    return rows


def summary(rows: list[dict[str, Any]]) -> dict[str, Any]:
    def share(field: str) -> tuple[int, int]:
        values = [r[field] for r in rows if r[field] is not None]
        return sum(values), len(values)

    return {"pieces": len(rows), "meter": share("meter_ok"), "key": share("key_ok"), "tempo": share("tempo_ok"),
            "style": share("style_ok"), "ms": 1000 * float(np.median([r["seconds"] for r in rows]))}


def _pct(pair: tuple[int, int]) -> str:
    hits, total = pair
    return f"{100 * hits / total:.0f}% ({hits}/{total})" if total else "n/a (0 stated)"


def markdown(results: dict[str, list[dict[str, Any]]]) -> str:
    lines = ["| files | pieces | meter | key + mode | tempo (where stated) | melody style | ms per file |",
             "|---|---|---|---|---|---|---|"]
    for label, rows in results.items():
        s = summary(rows)
        lines.append(f"| {label} | {s['pieces']} | {_pct(s['meter'])} | {_pct(s['key'])} | {_pct(s['tempo'])} "
                     f"| {_pct(s['style'])} | {s['ms']:.0f} |")
    for label, rows in results.items():
        misses = [r for r in rows if not (r["meter_ok"] and r["key_ok"] and r["tempo_ok"] is not False)]
        lines += ["", f"Misses ({label}): {len(misses)}", ""]
        for r in misses:
            t = r["truth"]
            got = r.get("error") or f"{r['meter']}, {r['key']}, {r['tempo']} BPM"
            stated = f"{t['meter']}, {t['key']}" + (f", {t['tempo']:g} BPM" if t["tempo"] else "")
            title = f" ({t['title']})" if t["title"] else ""
            lines.append(f"- {r['id']}{title}: stated {stated}; inferred {got}")
        styles = [f"{r['id']} {r['truth']['style']}→{r.get('style')}" for r in rows if not r["style_ok"]]
        lines += ["", f"Melody style misses ({label}): {', '.join(styles) or 'none'}"]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m evaluation.from_midi", description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=len(SOURCES), help="how many pieces (an even spread)")
    parser.add_argument("--notes-only", action="store_true", help="also score the files without meta events")
    args = parser.parse_args(argv)
    sources = subset(args.limit)
    results = {"as exported": evaluate(sources)}
    if args.notes_only:
        results["notes only"] = evaluate(sources, strip=True)
    print(markdown(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
