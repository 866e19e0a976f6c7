"""Extract melodies (and harmony where the score has it) from music21's bundled corpus.

Parsing all ~15,000 works takes about half an hour on one core, so each source file gets its own
JSONL shard, written work by work: a restart skips every work already in its shard.
"""

from __future__ import annotations

import json
import logging
import re
import signal
import time
import zlib
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path

log = logging.getLogger(__name__)

# Collections in the order they are worth parsing: folk melodies first, then harmonised music.
COLLECTIONS = (
    "essenFolksong", "oneills1850", "airdsAirs", "nottingham-dataset", "ryansMammoth", "bach",
    "miscFolk", "leadSheet", "monteverdi", "palestrina", "trecento", "haydn", "mozart", "beethoven",
    "schumann_robert", "schumann_clara", "josquin", "handel", "corelli", "schubert", "joplin",
)
STYLES = {  # collection → style label the model is conditioned on
    "essenFolksong": "folk", "oneills1850": "irish", "ryansMammoth": "irish", "airdsAirs": "scottish",
    "nottingham-dataset": "irish", "miscFolk": "folk", "bach": "chorale", "leadSheet": "song",
    "monteverdi": "early", "palestrina": "early", "trecento": "early", "josquin": "early",
}
PARSE_TIMEOUT_S = 60
SPLIT_BUCKETS = 100  # by hash of work id: 0-89 train, 90-94 validation, 95-99 test


def style_of(collection: str) -> str:
    return STYLES.get(collection, "classical")


def split_of(work_id: str) -> str:
    bucket = zlib.crc32(work_id.encode()) % SPLIT_BUCKETS
    return "train" if bucket < 90 else "val" if bucket < 95 else "test"


@dataclass
class Work:
    id: str  # "collection/file#tune"
    collection: str
    style: str
    split: str
    meter: str  # "6/8"
    bar_quarters: float
    key_tonic: int  # pitch class, 0 = C
    key_mode: str  # "major" | "minor"
    notes: list[tuple[float, float, int]]  # (onset, duration, midi pitch); bar lines at k*bar_quarters
    harmony: list[list[float]] | None = None  # per quarter beat: 12 pitch-class weights of the other parts
    signature_key: str | None = None  # key the score states, for reference
    title: str = ""
    extra: dict[str, object] = field(default_factory=dict)


class _Timeout(Exception):
    pass


def _alarm(_signum: int, _frame: object) -> None:
    raise _Timeout


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


def extract(score, work_id: str, collection: str, title: str = "") -> Work | None:
    """One Work from a parsed music21 score, or None when it has no usable melody."""
    from music21 import key as m21key
    from music21 import meter as m21meter

    parts = list(score.parts) or [score]
    sopranos = [p for p in parts if "sopran" in (p.partName or "").lower()]
    first = sopranos[0] if sopranos else parts[0]  # chorales often open with a doubling instrument
    others = [p for p in parts if p is not first]
    signatures = list(score.recurse().getElementsByClass(m21meter.TimeSignature))
    if not signatures:
        return None
    ts = signatures[0]
    if len({s.ratioString for s in signatures}) > 1:
        return None  # meter changes: the bar grid would lie
    bar_quarters = float(ts.barDuration.quarterLength)
    measures = list(first.getElementsByClass("Measure"))
    shift = float(measures[0].paddingLeft) if measures else 0.0
    notes = _melody(first, shift)
    if len(notes) < 8:
        return None
    found = first.flatten().notes.stream().analyze("key")
    stated = [k for k in score.recurse().getElementsByClass(m21key.KeySignature)]
    signature_key = None
    if stated:
        k = stated[0]
        signature_key = str(k) if isinstance(k, m21key.Key) else f"{k.sharps} sharps"
    harmony = None
    if others:
        total = max(on + d for on, d, _ in notes)
        harmony = _harmony(others, shift, total)
    return Work(
        id=work_id, collection=collection, style=style_of(collection), split=split_of(work_id),
        meter=ts.ratioString, bar_quarters=bar_quarters, key_tonic=found.tonic.pitchClass,
        key_mode="minor" if found.mode == "minor" else "major", notes=notes, harmony=harmony,
        signature_key=signature_key, title=title,
    )


def _abc_tunes(path: Path) -> Iterator[tuple[str, str]]:
    """(tune number, ABC text) for every tune in a (possibly multi-tune) ABC file."""
    text = path.read_text(encoding="utf-8", errors="replace")
    chunks = re.split(r"(?m)^(?=X:)", text)
    header = chunks[0] if not chunks[0].lstrip().startswith("X:") else ""
    for i, chunk in enumerate(chunks):
        if not chunk.lstrip().startswith("X:"):
            continue
        yield str(i), header + chunk


def _works_in(path: Path, collection: str) -> Iterator[tuple[str, object]]:
    """(work id, callable returning a parsed score) for each work in one corpus file."""
    from music21 import converter

    rel = f"{collection}/{path.name}"
    if path.suffix == ".abc":
        for number, text in _abc_tunes(path):
            yield f"{rel}#{number}", lambda text=text: converter.parse(text, format="abc")
    elif path.suffix in (".mxl", ".xml", ".krn", ".musicxml", ".mid"):
        yield rel, lambda: converter.parse(str(path))


def corpus_files(collections: tuple[str, ...] = COLLECTIONS) -> list[tuple[str, Path]]:
    from music21 import corpus

    root = Path(corpus.__file__).parent
    files = []
    for collection in collections:
        folder = root / collection
        if folder.is_dir():
            files += [(collection, p) for p in sorted(folder.rglob("*")) if p.is_file()]
    return files


def _done_ids(shard: Path) -> set[str]:
    if not shard.exists():
        return set()
    done = set()
    for line in shard.read_text().splitlines():
        try:
            done.add(json.loads(line)["id"])
        except (json.JSONDecodeError, KeyError):
            continue  # a torn last line from a killed run
    return done


PRIORITY = COLLECTIONS[:6]  # parsed interleaved first, so a usable mix exists early
CHUNK = 10  # works taken from one file before moving to the next


def _round_robin(iterators: list[Iterator]) -> Iterator:
    """CHUNK items from each iterator in turn until all are exhausted."""
    live = list(iterators)
    while live:
        for it in list(live):
            for _ in range(CHUNK):
                try:
                    yield next(it)
                except StopIteration:
                    live.remove(it)
                    break


def _collection_works(collection: str, files: list[Path]) -> Iterator[tuple[str, Path, str, object]]:
    def tagged(path: Path) -> Iterator[tuple[str, Path, str, object]]:
        for work_id, parse in _works_in(path, collection):
            yield collection, path, work_id, parse

    return _round_robin([tagged(path) for path in files])


def _schedule(collections: tuple[str, ...]) -> Iterator[tuple[str, Path, str, object]]:
    by_collection: dict[str, list[Path]] = {}
    for collection, path in corpus_files(collections):
        by_collection.setdefault(collection, []).append(path)
    first = [c for c in collections if c in PRIORITY and c in by_collection]
    rest = [c for c in collections if c not in PRIORITY and c in by_collection]
    yield from _round_robin([_collection_works(c, by_collection[c]) for c in first])
    for c in rest:
        yield from _collection_works(c, by_collection[c])


def prepare(out_dir: Path, collections: tuple[str, ...] = COLLECTIONS, limit: int | None = None) -> dict[str, int]:
    """Parse the corpus into `out_dir/<collection>/<file>.jsonl`; resumable. Returns counts."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # music21 warns about every odd corpus file
        return _prepare(out_dir, collections, limit)


def _prepare(out_dir: Path, collections: tuple[str, ...], limit: int | None) -> dict[str, int]:
    signal.signal(signal.SIGALRM, _alarm)
    counts = {"ok": 0, "skipped": 0, "failed": 0, "cached": 0}
    done: set[str] = set()
    for shard in out_dir.rglob("*.jsonl"):
        done |= _done_ids(shard)
    started = time.monotonic()
    for n, (collection, path, work_id, parse) in enumerate(_schedule(collections)):
        if work_id in done:
            counts["cached"] += 1
            continue
        if limit is not None and counts["ok"] >= limit:
            break
        record: dict[str, object]
        try:
            signal.alarm(PARSE_TIMEOUT_S)
            work = extract(parse(), work_id, collection)
            record = asdict(work) if work else {"id": work_id, "skip": True}
            counts["ok" if work else "skipped"] += 1
        except Exception as exc:  # noqa: BLE001 — music21 raises anything on odd files
            record = {"id": work_id, "error": f"{type(exc).__name__}: {exc}"[:200]}
            counts["failed"] += 1
        finally:
            signal.alarm(0)
        shard = out_dir / collection / f"{path.name}.jsonl"
        shard.parent.mkdir(parents=True, exist_ok=True)
        with shard.open("a") as sink:
            sink.write(json.dumps(record) + "\n")
        if n % 100 == 0:
            log.info("%s %s (%.0f s)", work_id, counts, time.monotonic() - started)
    log.info("done %s (%.0f s)", counts, time.monotonic() - started)
    return counts


def load_works(data_dir: Path, split: str | None = None) -> list[Work]:
    """All extracted works under `data_dir` (optionally one split)."""
    works = []
    for shard in sorted(data_dir.rglob("*.jsonl")):
        for line in shard.read_text().splitlines():
            try:
                record = json.loads(line)
            except json.JSONDecodeError:
                continue
            if "notes" not in record or (split and record["split"] != split):
                continue
            record["notes"] = [tuple(n) for n in record["notes"]]
            works.append(Work(**record))
    return works
