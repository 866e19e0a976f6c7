"""evaluation.realism: exact figures on hand-built melodies, and a two-sample test that says
≈ 0.5 for one source and clearly tells two different sources apart."""

from __future__ import annotations

import math

import numpy as np
import pytest

from evaluation.realism import (
    FEATURE_NAMES,
    FIGURES,
    Piece,
    fold_assignment,
    iqr_table,
    melody_figures,
    piece_windows,
    real_vs_real,
    report_markdown,
    two_sample_test,
    window_dataset,
)

C_MAJOR = [60, 62, 64, 65, 67, 69, 71, 72]


def quarters(pitches: list[int]) -> list[tuple[float, float, int]]:
    return [(float(i), 1.0, p) for i, p in enumerate(pitches)]


def random_walk(rng: np.random.Generator, bars: int = 16) -> dict:
    """A 4/4 tune of eighths and quarters moving by small random steps."""
    notes, t, pitch = [], 0.0, int(rng.integers(60, 72))
    while t < bars * 4:
        dur = float(rng.choice([0.5, 1.0]))
        notes.append((t, dur, pitch))
        pitch = int(np.clip(pitch + rng.choice([-4, -2, -1, 0, 1, 2, 3]), 48, 84))
        t += dur
    return {"notes": notes, "bar_quarters": 4.0}


def repeated_notes(rng: np.random.Generator, bars: int = 16) -> dict:
    pitch = int(rng.integers(60, 72))
    return {"notes": [(float(t), 1.0, pitch) for t in range(bars * 4)], "bar_quarters": 4.0}


def test_a_scale_moves_only_by_step():
    figs = melody_figures(quarters(C_MAJOR), 4.0)
    assert figs == {"repeated_share": 0.0, "step_share": 1.0, "range_per_window": 12.0,
                    "contour_changes": 0.0, "rest_share": 0.0, "short_share": 0.0}


def test_repeated_notes_and_undefined_contour():
    figs = melody_figures(quarters([67] * 6), 4.0)
    assert figs["repeated_share"] == 1.0 and figs["step_share"] == 0.0
    assert figs["range_per_window"] == 0.0
    assert math.isnan(figs["contour_changes"])  # never moves: undefined, not zero


def test_contour_changes_ignore_repeats():
    assert melody_figures(quarters([60, 62, 60, 62, 60]), 4.0)["contour_changes"] == 1.0
    # 60-62-62-64-60 moves up, up, down: of the turning candidates 62 and 64, only 64 turns
    assert melody_figures(quarters([60, 62, 62, 64, 60]), 4.0)["contour_changes"] == 0.5


def test_a_one_beat_rest():
    notes = [(0.0, 1.0, 60), (2.0, 1.0, 62)]  # a quarter rest between: 1 of 3 quarters
    assert melody_figures(notes, 4.0)["rest_share"] == pytest.approx(1 / 3)
    legato_slop = [(0.0, 0.99, 60), (1.0, 1.0, 62)]  # a gap under 1/24 quarter is not a rest
    assert melody_figures(legato_slop, 4.0)["rest_share"] == 0.0


def test_short_notes():
    notes = [(0.0, 0.25, 60), (0.25, 0.25, 62), (0.5, 0.5, 64), (1.0, 1.0, 65)]
    assert melody_figures(notes, 4.0)["short_share"] == 0.5


def test_range_per_window_slides_over_eight_bars():
    # 16 bars of 4/4: bars 0-7 on 60, bars 8-15 on 72; windows start at bars 0, 4, 8 -> 0, 12, 0
    notes = [(float(t), 1.0, 60 if t < 32 else 72) for t in range(64)]
    assert melody_figures(notes, 4.0)["range_per_window"] == 4.0
    # shorter than a window: one window, the whole range
    assert melody_figures(quarters([60, 67, 64]), 4.0)["range_per_window"] == 7.0


def test_iqr_table_flags_a_median_outside_the_real_range():
    rng = np.random.default_rng(1)
    real = [random_walk(rng) for _ in range(12)]
    table = iqr_table(real, {"walk": [random_walk(rng) for _ in range(12)],
                             "drone": [repeated_notes(rng) for _ in range(5)]})
    assert set(table) == set(FIGURES)
    row = table["repeated_share"]
    assert row["q25"] <= row["median"] <= row["q75"]
    assert row["generated"]["walk"]["inside"] is True
    assert row["generated"]["drone"] == {"median": 1.0, "n": 5, "inside": False}
    assert table["contour_changes"]["generated"]["drone"]["n"] == 0  # undefined figures left out


def test_windows_drop_sparse_ones_and_use_the_tonic():
    # bars 0-3 hold 8 notes, bars 4-7 hold 2 (dropped)
    notes = [(float(t), 1.0, 62) for t in range(8)] + [(16.0, 1.0, 64), (20.0, 1.0, 62)]
    rows = piece_windows(Piece(tuple(notes), 4.0, tonic=2), window_bars=4)
    assert rows.shape == (1, len(FEATURE_NAMES))
    row = dict(zip(FEATURE_NAMES, rows[0], strict=True))
    assert row["degree_0"] == 1.0 and row["interval_+0"] == 1.0 and row["notes_per_bar"] == 2.0
    assert row["onbeat_share"] == 1.0 and row["duration_<=1"] == 1.0
    # no tonic given: the final note's pitch class (D) again
    assert np.array_equal(piece_windows({"notes": notes, "bar_quarters": 4.0}), rows)


def test_folds_group_windows_by_piece():
    rng = np.random.default_rng(2)
    real = [random_walk(rng) for _ in range(15)]
    other = [random_walk(rng, bars=24) for _ in range(15)]  # more windows: subsampled by piece
    data = window_dataset(real, other, seed=3)
    folds = fold_assignment(data, folds=5, seed=3)
    assert set(folds) == set(range(5))
    for group in np.unique(data.groups):
        assert np.unique(folds[data.groups == group]).size == 1
        assert np.unique(data.labels[data.groups == group]).size == 1
    n_real, n_other = (data.labels == 0).sum(), (data.labels == 1).sum()
    assert abs(n_real - n_other) <= 6  # balanced to within one piece's windows


def test_same_source_is_not_told_apart():
    rng = np.random.default_rng(0)
    real = [random_walk(rng) for _ in range(30)]
    same = [random_walk(rng) for _ in range(30)]
    result = two_sample_test(real, same, seed=0)
    assert result["accuracy_mean"] <= 0.65
    assert len(result["accuracy_per_fold"]) == 5
    assert result["pieces"] == {"real": 30, "other": 30}
    assert result["windows"] == {"real": 120, "other": 120}
    assert real_vs_real(real, seed=0)["accuracy_mean"] <= 0.65


def test_different_sources_are_told_apart():
    rng = np.random.default_rng(0)
    real = [random_walk(rng) for _ in range(20)]
    drone = [repeated_notes(rng) for _ in range(20)]
    result = two_sample_test(real, drone, seed=0)
    assert result["accuracy_mean"] >= 0.9
    tells = {t["feature"]: t["effect"] for t in result["top_features"]}
    assert tells.get("repeated_share", 0) > 0  # the drone repeats more: what gives it away


def test_too_few_pieces_for_the_folds():
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError):
        two_sample_test([random_walk(rng) for _ in range(3)], [random_walk(rng) for _ in range(3)])


def test_report_markdown_has_both_tables():
    rng = np.random.default_rng(4)
    real = [random_walk(rng) for _ in range(10)]
    drone = [repeated_notes(rng) for _ in range(10)]
    text = report_markdown(iqr_table(real, {"drone": drone}),
                           {"drone": two_sample_test(real, drone, folds=3)})
    assert "| repeated_share |" in text and "1.000 ✗" in text
    assert "| drone | " in text and "windows (real/other)" in text


def test_matched_sample_draws_real_pieces_of_the_same_meter_and_density_without_replacement():
    from evaluation.realism import _stratum, matched_sample

    def piece(bar_q, note_q, n=16):
        return {"notes": [(i * note_q, note_q, 60 + i % 5) for i in range(n)], "bar_quarters": bar_q}

    real = [piece(4.0, 0.5) for _ in range(5)] + [piece(3.0, 1.0) for _ in range(5)] + [piece(4.0, 2.0)]
    other = [piece(3.0, 1.0), piece(4.0, 0.5), piece(4.0, 0.5), piece(4.0, 1.5)]
    chosen = matched_sample(real, other, seed=1)
    assert [_stratum(c) for c in chosen[:3]] == [_stratum(o) for o in other[:3]]
    assert _stratum(chosen[3])[1:3] == (4.0, 1.0)  # no real 4/4 piece that dense: the nearest bin in 4/4
    assert len({id(c) for c in chosen}) == len(chosen)  # without replacement


def test_matched_sample_keeps_the_mode_when_pieces_name_it():
    from evaluation.realism import matched_sample

    def piece(mode):
        return {"notes": [(float(i), 1.0, 60 + i % 3) for i in range(12)], "bar_quarters": 4.0, "mode": mode}

    real = [piece("major") for _ in range(6)] + [piece("minor") for _ in range(2)]
    chosen = matched_sample(real, [piece("minor"), piece("minor"), piece("minor")], seed=0)
    assert [c["mode"] for c in chosen] == ["minor", "minor", "major"]  # minor runs out, then the nearest
