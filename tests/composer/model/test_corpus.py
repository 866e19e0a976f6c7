from pathlib import Path

from composer.model.chords import fit_diatonic
from training.corpus import Work, _abc_tunes, extract, load_works, prepare, split_of
from training.dataset import build, load_pieces, load_split, to_tune
from composer.model.tokenizer import Tokenizer

ABC = """%%header comment
X:1
T:Test Air
M:3/4
L:1/8
K:G
D2 | G2 B2 d2 | c2 A2 F2 | G4 B2 | A4 D2 | G2 B2 d2 | e2 c2 A2 | G2 F2 A2 | G4 |]

X:2
T:Minor Tune
M:4/4
L:1/8
K:Am
A2 c2 e2 c2 | d2 f2 e2 c2 | B2 d2 c2 A2 | E4 A4 | A2 c2 e2 a2 | g2 e2 d2 B2 | c2 B2 A2 G2 | A8 |]
"""


def _parse(text):
    from music21 import converter

    return converter.parse(text, format="abc")


def test_abc_files_split_into_tunes():
    tunes = list(_abc_tunes(_write(ABC)))
    assert [n for n, _ in tunes] == ["1", "2"]
    assert "Minor Tune" in tunes[1][1] and "Test Air" not in tunes[1][1]


def _write(text, folder=None):
    import tempfile

    folder = Path(folder or tempfile.mkdtemp())
    path = folder / "tiny.abc"
    path.write_text(text)
    return path


def test_extract_keeps_pickup_meter_and_key():
    work = extract(_parse(list(_abc_tunes(_write(ABC)))[0][1]), "x/tiny.abc#1", "airdsAirs")
    assert work.meter == "3/4" and work.bar_quarters == 3.0
    assert (work.key_tonic, work.key_mode) == (7, "major")
    assert work.style == "scottish"
    assert work.notes[0] == (2.0, 1.0, 62)  # the pickup D sits on beat 3 of bar 0
    assert work.notes[1][0] == 3.0  # bar 1 starts on a bar line
    minor = extract(_parse(list(_abc_tunes(_write(ABC)))[1][1]), "x/tiny.abc#2", "oneills1850")
    assert (minor.key_tonic, minor.key_mode) == (9, "minor")


def test_split_is_by_work_and_stable():
    assert split_of("essenFolksong/han1.abc#12") == split_of("essenFolksong/han1.abc#12")
    splits = [split_of(f"c/f.abc#{i}") for i in range(2000)]
    assert 0.85 < splits.count("train") / 2000 < 0.95
    assert splits.count("val") and splits.count("test")


def test_monophonic_half_bars_get_diatonic_triads():
    weights = [0.0] * 12
    weights[7], weights[11], weights[2] = 1.0, 1.0, 0.5  # G B D in C major
    assert fit_diatonic(weights, "major", None) == (7, "maj")
    assert fit_diatonic([0.0] * 12, "major", (5, "maj")) == (5, "maj")  # a rest keeps the chord


def test_prepare_is_resumable_and_feeds_the_dataset(tmp_path, monkeypatch):
    import training.corpus as corpus

    source = tmp_path / "src" / "oneills1850"
    source.mkdir(parents=True)
    _write(ABC, source)
    monkeypatch.setattr(corpus, "corpus_files", lambda collections: [("oneills1850", source / "tiny.abc")])
    out = tmp_path / "corpus"
    first = prepare(out)
    assert first["ok"] == 2
    again = prepare(out)
    assert again == {"ok": 0, "skipped": 0, "failed": 0, "cached": 2}
    works = load_works(out)
    assert {w.id for w in works} == {"oneills1850/tiny.abc#1", "oneills1850/tiny.abc#2"}
    tune = to_tune(works[0])
    assert tune.notes and all(len(c) == 2 for c in tune.chords if c)
    counts = build(out, tmp_path / "tokens", Tokenizer(), 512)
    total = sum(counts[f"{s}_pieces"] for s in ("train", "val", "test"))
    assert total == 2
    windows = [w for s in ("train", "val", "test") for w in load_split(tmp_path / "tokens", s)]
    assert len(windows) == 2
    assert sum(len(load_pieces(tmp_path / "tokens", s)) for s in ("train", "val", "test")) == 2


def test_work_records_round_trip(tmp_path):
    import json
    from dataclasses import asdict

    work = Work("a/b#1", "a", "folk", "train", "2/4", 2.0, 0, "major", [(0.0, 1.0, 60)] * 8)
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "b.jsonl").write_text(json.dumps(asdict(work)) + "\n{torn")
    assert load_works(tmp_path) == [work]


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
