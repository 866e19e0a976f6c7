import gzip
import json
import random
from pathlib import Path

from composer.model.chords import fit_diatonic
from composer.model.tokenizer import Tokenizer
from training.assemble import assemble
from training.corpus import (Work, compact_path, extract, load_works, parse_file, prepare, report, shard_records,
                             version_dir, works_from, write_compact)
from training.dataset import build, load_pieces, load_split, to_tune

from tests.composer.model.abc_text import TWO_TUNES, abc_file, abc_tune, random_bars

ABC = TWO_TUNES + """
X:3
T:Changes Meter
M:4/4
L:1/8
K:C
C2 D2 E2 F2 | G2 A2 B2 c2 |
M:3/4
d2 e2 f2 | g6 |]
"""


def _write(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(text)
    return path


def test_an_abc_file_gives_a_record_per_tune_with_pickup_meter_and_key(tmp_path):
    records = parse_file("airdsAirs", _write(tmp_path, "tiny.abc", ABC))
    assert [r["id"] for r in records] == ["airdsAirs/tiny.abc#1", "airdsAirs/tiny.abc#2", "airdsAirs/tiny.abc#3"]
    air, minor, skipped = records
    assert (air["meter"], air["bar_quarters"], air["style"], air["split"]) == ("3/4", 3.0, "scottish", "")
    assert (air["key_tonic"], air["key_mode"], air["title"]) == (7, "major", "Test Air")
    assert tuple(air["notes"][0]) == (2.0, 1.0, 62)  # the pickup D sits on beat 3 of bar 0
    assert air["notes"][1][0] == 3.0  # bar 1 starts on a bar line
    assert (minor["key_tonic"], minor["key_mode"]) == (9, "minor")
    assert skipped == {"id": "airdsAirs/tiny.abc#3", "skip": "meter change"}


def test_an_unreadable_file_is_one_skipped_record(tmp_path):
    assert parse_file("oneills1850", tmp_path / "gone.abc") == [
        {"id": "oneills1850/gone.abc", "skip": "error: FileNotFoundError"}]


def test_a_score_gives_its_top_line_and_the_other_parts_as_harmony():
    from music21 import chord, meter, note, stream

    soprano, alto = stream.Part(), stream.Part()
    soprano.partName, alto.partName = "Soprano", "Alto"
    soprano.append(meter.TimeSignature("4/4"))
    alto.append(meter.TimeSignature("4/4"))
    for p in (72, 74, 76, 77, 79, 77, 76, 74, 72):
        soprano.append(note.Note(p, quarterLength=1.0))
    for _ in range(3):
        alto.append(chord.Chord([60, 64, 67], quarterLength=3.0))
    score = stream.Score([soprano, alto])
    score.makeMeasures(inPlace=True)
    work = extract(score, "bach/bwv1.mxl", "bach")
    assert (work.meter, work.bar_quarters, work.style, work.split) == ("4/4", 4.0, "chorale", "")
    assert work.notes[:3] == [(0.0, 1.0, 72), (1.0, 1.0, 74), (2.0, 1.0, 76)]
    assert (work.key_tonic, work.key_mode) == (0, "major")
    assert work.harmony[0][0] == work.harmony[0][4] == work.harmony[0][7] == 1.0 and work.harmony[0][2] == 0.0


def test_monophonic_half_bars_get_diatonic_triads():
    weights = [0.0] * 12
    weights[7], weights[11], weights[2] = 1.0, 1.0, 0.5  # G B D in C major
    assert fit_diatonic(weights, "major", None) == (7, "maj")
    assert fit_diatonic([0.0] * 12, "major", (5, "maj")) == (5, "maj")  # a rest keeps the chord


def _source(tmp_path: Path) -> Path:
    """A folder laid out like music21's corpus: three small files in two collections."""
    source = tmp_path / "src"
    _write(source / "oneills1850", "tiny.abc", ABC)
    rng = random.Random(5)
    _write(source / "oneills1850", "more.abc", abc_file(rng, 4))
    _write(source / "essenFolksong", "han.abc", abc_file(rng, 3))
    return source


def test_prepare_writes_one_shard_per_file_and_resumes(tmp_path):
    source, root = _source(tmp_path), tmp_path / "corpus"
    collections = ("essenFolksong", "oneills1850")
    assert prepare(root, collections, workers=1, limit=1, source=source) == {
        "files": 3, "cached_files": 0, "parsed_files": 1}
    shards = version_dir(root) / "shards"
    assert [p.relative_to(shards).as_posix() for p in shards.rglob("*.json.gz")] == ["essenFolksong/han.abc.json.gz"]
    (shards / "oneills1850").mkdir()
    (shards / "oneills1850" / "more.abc.json.gz.123.part").write_bytes(b"\x1f\x8b torn")  # a killed write
    assert len(list(shard_records(root))) == 3
    assert prepare(root, collections, workers=1, source=source) == {"files": 3, "cached_files": 1, "parsed_files": 2}
    assert prepare(root, collections, workers=1, source=source) == {"files": 3, "cached_files": 3, "parsed_files": 0}
    (shards / "essenFolksong" / "han.abc.json.gz").unlink()  # a lost shard is parsed again
    assert prepare(root, collections, workers=1, source=source)["parsed_files"] == 1
    assert report(shard_records(root)) == {"essenFolksong": {"kept": 3}, "oneills1850": {"kept": 6, "skipped: meter change": 1}}
    works = works_from(shard_records(root))
    assert len(works) == 9 and all(w.split == "" and isinstance(w.notes[0], tuple) for w in works)


def test_assemble_drops_near_duplicates_splits_by_family_and_feeds_the_dataset(tmp_path):
    source, root = _source(tmp_path), tmp_path / "corpus"
    bars = random_bars(random.Random(6), 24)
    copy = [list(bar) for bar in bars]
    copy[5][0] = (copy[5][0][0] + 1, copy[5][0][1])  # one note changed
    # The copy, a step higher, sits in a collection parsed earlier (O'Neill's before Ryan's): it is kept.
    _write(source / "ryansMammoth", "air.abc", abc_tune(1, bars, title="The Air"))
    _write(source / "oneills1850", "air.abc", abc_tune(1, copy, key="D", shift=1, title="The Air Again"))
    collections = ("essenFolksong", "oneills1850", "ryansMammoth")
    prepare(root, collections, workers=1, source=source)
    result = assemble(root)
    assert result["collections"]["ryansMammoth"] == {"kept": 1, "near_duplicates_dropped": 1, "in_corpus": 0}
    assert result["collections"]["oneills1850"]["in_corpus"] == 7
    assert result["families"]["near_duplicates_dropped"] == 1
    works = load_works(root)
    ids = {w.id for w in works}
    assert "oneills1850/air.abc#0" in ids and "ryansMammoth/air.abc#0" not in ids and len(works) == 10
    assert all(w.split in ("train", "val", "test") for w in works)
    assert sum(result["splits"].values()) == 10
    assert [w.id for w in load_works(root, "train")] == [w.id for w in works if w.split == "train"]
    tune = to_tune(works[0])
    assert tune.notes and all(len(c) == 2 for c in tune.chords if c)
    counts = build(root, tmp_path / "tokens", Tokenizer(), 512)
    assert sum(counts[f"{s}_pieces"] for s in ("train", "val", "test")) + counts["dropped"] == 10
    for split in ("train", "val", "test"):
        assert len(load_split(tmp_path / "tokens", split)) == counts[f"{split}_windows"]
        assert {p["id"] for p in load_pieces(tmp_path / "tokens", split)} <= {w.id for w in works if w.split == split}


def test_work_records_round_trip(tmp_path):
    work = Work("a/b.abc#1", "a", "folk", "train", "2/4", 2.0, 0, "major", [(0.0, 1.0, 60)] * 8,
                harmony=[[0.5] * 12], signature_key="C major", title="T", extra={"x": 1})
    other = Work("a/b.abc#2", "a", "folk", "val", "3/4", 3.0, 9, "minor", [(1.0, 0.5, 57)] * 8)
    path = write_compact(tmp_path, [work, other])
    assert path == compact_path(tmp_path) and json.loads(gzip.decompress(path.read_bytes()))["version"] >= 2
    assert load_works(tmp_path) == [work, other]
    assert load_works(tmp_path, "val") == [other]
    assert not list(path.parent.glob("*.part"))


def test_evaluation_helpers_measure_what_they_claim():
    import numpy as np

    from evaluation.model import CopyIndex, mgeval_overlap, overlap

    assert overlap(np.array([0.5, 0.5]), np.array([0.5, 0.5])) == 1.0
    assert overlap(np.array([1.0, 0.0]), np.array([0.0, 1.0])) == 0.0
    rng = np.random.default_rng(0)
    same = [rng.dirichlet(np.ones(12)) for _ in range(40)]
    other = [rng.dirichlet(np.ones(12)) for _ in range(40)]
    peaked = [rng.dirichlet(np.ones(12) * 0.05) for _ in range(40)]
    assert mgeval_overlap(same, other) > 0.8 > 0.4 > mgeval_overlap(peaked, other)
    train = [[(float(i), 1.0, 60 + (i * 5) % 12) for i in range(30)]]
    index = CopyIndex(train)
    copied = [(on + 100, d, p + 2) for on, d, p in train[0][3:18]]  # 15 notes, transposed
    assert index.longest(copied) == 15
    fresh = [(float(i), 0.5, 60 + i % 3) for i in range(20)]
    assert index.longest(fresh) <= 2
