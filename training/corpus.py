"""Extract melodies (and harmony where the score has it) from music21's bundled corpus.

ABC collections (about 13,000 tunes) are read from their tokens, one ABC file at a time
(`training.abc_melodies`); the Bach chorales are parsed by music21 as scores, one file each.
Every source file becomes one shard, written whole and renamed into place, so a killed run loses
at most the files in flight and a restart skips every shard already there. Two worker processes
share the files. `compact` then gathers the shards into one versioned file.
"""

from __future__ import annotations

import gzip
import json
import logging
import os
import signal
import time
from collections import Counter
from collections.abc import Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import asdict, dataclass, field
from pathlib import Path

from composer.catalog.key_estimate import MELODY_FINAL, estimate_key
from composer.music.theory import Key

log = logging.getLogger(__name__)

CORPUS_VERSION = 2  # bump when a record's meaning changes: the cache lives in corpus/v<version>
# Collections that hold tunes, in the order they are parsed.
COLLECTIONS = ("essenFolksong", "oneills1850", "airdsAirs", "ryansMammoth", "nottingham-dataset", "miscFolk",
               "bach", "leadSheet")
# Collections left out, and why (reported by `muse data`).
LEFT_OUT = {
    "monteverdi palestrina trecento josquin": "polyphony: the top voice is one line of four, not a tune",
    "haydn mozart beethoven schubert schumann_robert schumann_clara corelli handel": "instrumental "
    "movements: the top line wanders across the ensemble and the meter and key change",
    "joplin": "piano rags: the melody is inside a two-hand texture",
}
STYLES = {  # collection → style label the model is conditioned on
    "essenFolksong": "folk", "oneills1850": "irish", "ryansMammoth": "irish", "airdsAirs": "scottish",
    "nottingham-dataset": "irish", "miscFolk": "folk", "bach": "chorale", "leadSheet": "song",
    "monteverdi": "early", "palestrina": "early", "trecento": "early", "josquin": "early",
}
SCORE_SUFFIXES = (".mxl", ".xml", ".krn", ".musicxml")
PARSE_TIMEOUT_S = 120
WORKERS = 2


def style_of(collection: str) -> str:
    return STYLES.get(collection, "classical")


@dataclass
class Work:
    id: str  # "collection/file#tune"
    collection: str
    style: str
    split: str  # "" until `training.families` assigns train / val / test by tune family
    meter: str  # "6/8"
    bar_quarters: float
    key_tonic: int  # pitch class, 0 = C
    key_mode: str  # "major" | "minor"
    notes: list[tuple[float, float, int]]  # (onset, duration, midi pitch); bar lines at k*bar_quarters
    harmony: list[list[float]] | None = None  # per quarter beat: 12 pitch-class weights of the other parts
    signature_key: str | None = None  # key the score states, for reference
    title: str = ""
    extra: dict[str, object] = field(default_factory=dict)


def melody_key(notes: list[tuple[float, float, int]], signature: Key | None) -> Key:
    """The tune's key: profile correlation of its notes, its last note, its stated signature."""
    weights = [0.0] * 12
    for _, d, p in notes:
        weights[p % 12] += min(d, 4.0)
    return estimate_key(weights, [(notes[-1][2] % 12, MELODY_FINAL)], signature)


# ---- one ABC file ------------------------------------------------------------------------------

def _abc_records(path: Path, collection: str) -> list[dict]:
    from training.abc_melodies import read_file

    rel = f"{collection}/{path.name}"
    records = []
    for number, tune, why in read_file(path.read_text(encoding="utf-8", errors="replace")):
        work_id = f"{rel}#{number}"
        if tune is None:
            records.append({"id": work_id, "skip": why})
            continue
        key = melody_key(tune.notes, tune.signature)
        work = Work(id=work_id, collection=collection, style=style_of(collection), split="", meter=tune.meter,
                    bar_quarters=tune.bar_quarters, key_tonic=key.tonic, key_mode=key.mode, notes=tune.notes,
                    signature_key=str(tune.signature) if tune.signature else None, title=tune.title)
        records.append(asdict(work))
    return records


# ---- one score file (chorales, lead sheets) ------------------------------------------------------

def _melody(part, shift: float) -> list[tuple[float, float, int]]:
    """Top voice of one part: highest pitch at each onset, durations cut at the next onset."""
    from music21 import chord, note

    by_onset: dict[float, tuple[float, int]] = {}
    for element in part.stripTies().flatten().notes:
        dur = float(element.quarterLength)
        if dur <= 0:
            continue  # grace notes
        if isinstance(element, chord.Chord):
            pitch = max(p.midi for p in element.pitches)
        elif isinstance(element, note.Note):
            pitch = element.pitch.midi
        else:
            continue
        onset = round(float(element.offset) + shift, 4)
        if onset not in by_onset or pitch > by_onset[onset][1]:
            by_onset[onset] = (dur, pitch)
    onsets = sorted(by_onset)
    notes = []
    for i, onset in enumerate(onsets):
        dur, pitch = by_onset[onset]
        if i + 1 < len(onsets):
            dur = min(dur, onsets[i + 1] - onset)
        notes.append((onset, round(dur, 4), int(pitch)))
    return notes


def _harmony(parts, shift: float, total_quarters: float) -> list[list[float]]:
    """Duration-weighted pitch classes of the given parts per quarter beat."""
    beats = int(total_quarters) + 1
    grid = [[0.0] * 12 for _ in range(beats)]
    for part in parts:
        for element in part.stripTies().flatten().notes:
            start = float(element.offset) + shift
            end = start + float(element.quarterLength)
            for p in element.pitches:
                beat = int(start)
                while beat < end and beat < beats:
                    overlap = min(end, beat + 1) - max(start, beat)
                    if overlap > 0:
                        grid[beat][p.pitchClass] += overlap
                    beat += 1
    return [[round(w, 3) for w in row] for row in grid]


def _stated_key(score) -> Key | None:
    from music21 import key as m21key

    stated = list(score.recurse().getElementsByClass(m21key.KeySignature))
    if not stated:
        return None
    k = stated[0]
    if isinstance(k, m21key.Key) and k.mode in ("major", "minor"):
        return Key(k.tonic.pitchClass, k.mode)
    return Key(k.asKey("major").tonic.pitchClass, "major")


def extract(score, work_id: str, collection: str, title: str = "") -> Work | None:
    """One Work from a parsed music21 score, or None when it has no usable melody."""
    from music21 import meter as m21meter

    parts = list(score.parts) or [score]
    sopranos = [p for p in parts if "sopran" in (p.partName or "").lower()]
    first = sopranos[0] if sopranos else parts[0]  # chorales often open with a doubling instrument
    others = [p for p in parts if p is not first]
    signatures = list(score.recurse().getElementsByClass(m21meter.TimeSignature))
    if not signatures or len({s.ratioString for s in signatures}) > 1:
        return None  # no meter, or meter changes: the bar grid would lie
    ts = signatures[0]
    measures = list(first.getElementsByClass("Measure"))
    shift = float(measures[0].paddingLeft) if measures else 0.0
    notes = _melody(first, shift)
    if len(notes) < 8:
        return None
    signature = _stated_key(score)
    key = melody_key(notes, signature)
    harmony = _harmony(others, shift, max(on + d for on, d, _ in notes)) if others else None
    return Work(id=work_id, collection=collection, style=style_of(collection), split="", meter=ts.ratioString,
                bar_quarters=float(ts.barDuration.quarterLength), key_tonic=key.tonic, key_mode=key.mode,
                notes=notes, harmony=harmony, signature_key=str(signature) if signature else None, title=title)


class _Timeout(Exception):
    pass


def _alarm(_signum: int, _frame: object) -> None:
    raise _Timeout


def _score_records(path: Path, collection: str) -> list[dict]:
    from music21 import converter

    work_id = f"{collection}/{path.name}"
    signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(PARSE_TIMEOUT_S)
    try:
        work = extract(converter.parse(str(path)), work_id, collection)
    finally:
        signal.alarm(0)
    return [asdict(work) if work else {"id": work_id, "skip": "no single-meter melody"}]


def parse_file(collection: str, path: Path) -> list[dict]:
    """Every record of one source file: a Work as a dict, or {"id", "skip": why}."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # music21 warns about every odd corpus file
        try:
            if path.suffix == ".abc":
                return _abc_records(path, collection)
            return _score_records(path, collection)
        except Exception as exc:  # noqa: BLE001 — music21 raises anything on odd files
            return [{"id": f"{collection}/{path.name}", "skip": f"error: {type(exc).__name__}"}]


# ---- the whole corpus --------------------------------------------------------------------------

def corpus_files(collections: tuple[str, ...] = COLLECTIONS, source: Path | None = None) -> list[tuple[str, Path]]:
    """(collection, file) for every parsable file, from music21's corpus or a folder laid out like it."""
    if source is None:
        from music21 import corpus

        source = Path(corpus.__file__).parent
    root = source
    files = []
    for collection in collections:
        folder = root / collection
        if folder.is_dir():
            files += [(collection, p) for p in sorted(folder.rglob("*"))
                      if p.is_file() and (p.suffix == ".abc" or p.suffix in SCORE_SUFFIXES)]
    return files


def version_dir(root: Path) -> Path:
    return root / f"v{CORPUS_VERSION}"


def _shard_path(root: Path, collection: str, path: Path) -> Path:
    return version_dir(root) / "shards" / collection / f"{path.name}.json.gz"


def _write_atomic(target: Path, payload: bytes) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + f".{os.getpid()}.part")
    partial.write_bytes(payload)
    os.replace(partial, target)  # a shard is there whole or not at all


def prepare(root: Path, collections: tuple[str, ...] = COLLECTIONS, workers: int = WORKERS,
            limit: int | None = None, source: Path | None = None) -> dict[str, int]:
    """Parse every source file that has no shard yet into `root/v<N>/shards`; resumable."""
    files = corpus_files(collections, source)
    todo = [(c, p) for c, p in files if not _shard_path(root, c, p).exists()]
    counts = {"files": len(files), "cached_files": len(files) - len(todo), "parsed_files": 0}
    if limit is not None:
        todo = todo[:limit]
    started = time.monotonic()
    if workers <= 1:
        results: Iterator = ((c, p, parse_file(c, p)) for c, p in todo)
        for collection, path, records in results:
            _store(root, collection, path, records, counts, started)
        return counts
    with ProcessPoolExecutor(max_workers=workers) as pool:
        futures = {pool.submit(parse_file, c, p): (c, p) for c, p in todo}
        for future in as_completed(futures):
            collection, path = futures[future]
            _store(root, collection, path, future.result(), counts, started)
    return counts


def _store(root: Path, collection: str, path: Path, records: list[dict], counts: dict, started: float) -> None:
    _write_atomic(_shard_path(root, collection, path), gzip.compress(json.dumps(records).encode(), 6))
    counts["parsed_files"] += 1
    if counts["parsed_files"] % 25 == 0:
        log.info("%d/%d files parsed (%.0f s)", counts["parsed_files"] + counts["cached_files"], counts["files"],
                 time.monotonic() - started)


def shard_records(root: Path) -> Iterator[dict]:
    for shard in sorted((version_dir(root) / "shards").rglob("*.json.gz")):
        yield from json.loads(gzip.decompress(shard.read_bytes()))


def report(records: Iterable[dict]) -> dict[str, dict[str, int]]:
    """Per collection: tunes kept and tunes skipped by reason."""
    out: dict[str, Counter] = {}
    for record in records:
        collection = record["id"].split("/", 1)[0]
        out.setdefault(collection, Counter())["kept" if "notes" in record else f"skipped: {record['skip']}"] += 1
    return {c: dict(counts) for c, counts in sorted(out.items())}


def works_from(records: Iterable[dict]) -> list[Work]:
    """The kept records as Works."""
    works = []
    for record in records:
        if "notes" in record:
            works.append(Work(**{**record, "notes": [tuple(n) for n in record["notes"]]}))
    return works


def compact_path(root: Path) -> Path:
    return version_dir(root) / "melodies.json.gz"


def write_compact(root: Path, works: list[Work]) -> Path:
    """All kept works (with their splits) in one file, the form training and evaluation read."""
    target = compact_path(root)
    rows = [asdict(w) for w in works]
    _write_atomic(target, gzip.compress(json.dumps({"version": CORPUS_VERSION, "works": rows}).encode(), 6))
    return target


def load_works(root: Path, split: str | None = None) -> list[Work]:
    """The works in the compact file (optionally one split)."""
    payload = json.loads(gzip.decompress(compact_path(root).read_bytes()))
    works = []
    for record in payload["works"]:
        if split and record["split"] != split:
            continue
        record["notes"] = [tuple(n) for n in record["notes"]]
        works.append(Work(**record))
    return works
