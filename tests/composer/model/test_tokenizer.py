import json

import pytest

from composer.model.tokenizer import DURATIONS, POSITIONS, Tokenizer, Tune, density_bin


@pytest.fixture(scope="module")
def tok():
    return Tokenizer()


def _tune(meter="4/4", bar_q=4.0):
    notes = [(1.0, 0.5, 67), (1.5, 0.5, 69), (2.0, 1.0, 71), (3.0, 1.0, 72),  # pickup-free bar 0
             (4.0, 1.5, 74), (5.5, 0.5, 72), (6.0, 2.0, 71),
             (8.0 + 1 / 3, 1 / 3, 69), (9.0, 3.0, 60)]
    chords = [(0, "maj"), (7, "maj"), (0, "maj"), (5, "maj"), (9, "min"), (0, "maj")]
    return Tune("folk", "major", meter, bar_q, notes, chords)


def test_round_trip_restores_grid_notes(tok):
    tune = _tune()
    (ids,) = tok.encode(tune)
    decoded = tok.decode(ids, tune.bar_quarters)
    assert [(round(on, 6), round(d, 6), p) for on, d, p in decoded] == \
        [(round(on, 6), round(d, 6), p) for on, d, p in tune.notes]


def test_sequence_layout_is_header_then_bars(tok):
    tune = _tune()
    (ids,) = tok.encode(tune)
    names = [tok.tokens[i] for i in ids]
    assert names[:5] == ["BOS", "STYLE_folk", "MODE_major", "METER_4/4", f"DENSITY_{density_bin(9 / 12)}"]
    assert names[-1] == "EOS"
    assert names.count("BAR") == tune.bars == 3
    bar_at = [i for i, n in enumerate(names) if n == "BAR"]
    assert [names[i + 1] for i in bar_at] == ["REM_3", "REM_2", "REM_1"]  # bars remaining, counted down
    assert names[bar_at[1] + 2: bar_at[1] + 4] == ["CHORD_0_maj", "CHORD_5_maj"]  # one chord per half-bar


def test_long_tunes_split_into_bar_aligned_windows(tok):
    notes = [(q * 1.0, 1.0, 60 + q % 12) for q in range(200)]
    tune = Tune("irish", "minor", "4/4", 4.0, notes, [(0, "min")] * 100)
    windows = tok.encode(tune, max_len=64)
    assert len(windows) > 1
    assert all(len(w) <= 64 for w in windows)
    assert all(tok.tokens[w[5]] == "BAR" and w[0] == tok.bos for w in windows)
    assert tok.tokens[windows[-1][-1]] == "EOS"


def test_off_grid_onsets_are_dropped_and_durations_snap(tok):
    tune = Tune("folk", "major", "4/4", 4.0, [(0.0, 0.9, 60), (0.1, 1.0, 62), (1.0, 7.0, 64)], [None, None])
    decoded = tok.decode(tok.encode(tune)[0], 4.0)
    assert [p for _, _, p in decoded] == [60, 64]
    assert decoded[0][1] == 1.0  # 0.9 snaps to a quarter
    assert decoded[1][1] * 12 in DURATIONS and decoded[1][1] == 6.0  # 7 quarters: nearest listed length


def test_config_round_trips_through_json(tok, tmp_path):
    path = tmp_path / "tokenizer.json"
    tok.save(path)
    assert Tokenizer.load(path).tokens == tok.tokens
    config = json.loads(path.read_text())
    config["tokens"] = config["tokens"][:-1]
    path.write_text(json.dumps(config))
    with pytest.raises(ValueError):
        Tokenizer.load(path)


def test_vocabulary_is_unique_and_covers_grid(tok):
    assert len(set(tok.tokens)) == len(tok.tokens)
    assert 0 in POSITIONS and 4 in POSITIONS and 3 in POSITIONS and 5 not in POSITIONS
    assert tok.pad == 0
