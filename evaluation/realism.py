"""How much generated melodies look like real tunes, judged from outside the model.

A pure library over plain data: a melody is a list of ``(onset_quarters, duration_quarters,
midi_pitch)`` notes, sorted by onset and monophonic, plus the bar length in quarter notes. Rests
are the gaps between one note's end and the next note's onset. Nothing here imports the model or
training code, so the same yardstick measures any melody source (the model, a baseline, a corpus).

Two views:

* ``melody_figures`` / ``iqr_table``: a few interpretable per-piece figures, and whether each
  generated set's median falls inside the real pieces' interquartile range.
* ``two_sample_test``: a classifier two-sample test (C2ST). If a classifier cannot tell windows of
  generated tunes from windows of real ones better than chance, they look alike on these
  features; ``real_vs_real`` is the control (two halves of the real set, ≈ 0.5).

A piece is a ``Piece`` or a plain dict ``{"notes": [...], "bar_quarters": float,
"tonic": int | None, "beat_quarters": float}`` (``tonic`` and ``beat_quarters`` optional).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

Note = tuple[float, float, int]

MIN_GAP_QUARTERS = 1.0 / 24.0  # shorter gaps are articulation, not rests
SHORT_QUARTERS = 0.25  # sixteenths and shorter
EPS = 1e-6
ONBEAT_TOLERANCE = 1e-3
FIGURE_WINDOW_BARS, FIGURE_HOP_BARS = 8, 4
MIN_WINDOW_NOTES = 4
INTERVAL_CLIP = 12
DURATION_EDGES = (0.25, 0.5, 0.75, 1.0, 1.5, 2.0)  # upper bin edges in quarters; last bin is "> 2"

FIGURES = ("repeated_share", "step_share", "range_per_window", "contour_changes", "rest_share",
           "short_share")
FIGURE_DOCS = {
    "repeated_share": "share of successive intervals that are 0 (the same pitch again)",
    "step_share": "share of successive intervals of 1 or 2 semitones (stepwise motion)",
    "range_per_window": "mean pitch range in semitones over 8-bar windows (hop 4 bars)",
    "contour_changes": "share of turning notes (up→down or down→up), repeated notes ignored",
    "rest_share": "rests (gaps ≥ 1/24 quarter) as a share of the time from first onset to last end",
    "short_share": "share of notes lasting a sixteenth or less",
}


@dataclass(frozen=True)
class Piece:
    """One melody: notes as (onset, duration, pitch), bar length, optional tonic pitch class and beat.

    ``tonic`` (0–11) anchors the scale-degree histogram; when None the final note's pitch class is
    taken, which is right for most folk and popular tunes. ``beat_quarters`` says what counts as
    on the beat (1.0 for x/4 meters, 1.5 for 6/8).
    """

    notes: tuple[Note, ...]
    bar_quarters: float
    tonic: int | None = None
    beat_quarters: float = 1.0


def as_piece(piece: Piece | Mapping) -> Piece:
    """Accept a Piece or a plain dict, so callers can pass JSON straight in; notes end up sorted."""
    if isinstance(piece, Piece):
        return piece
    notes = tuple(sorted((float(o), float(d), int(p)) for o, d, p in piece["notes"]))
    tonic = piece.get("tonic")
    return Piece(notes, float(piece["bar_quarters"]), None if tonic is None else int(tonic) % 12,
                 float(piece.get("beat_quarters", 1.0)))


def _columns(notes: Sequence[Note]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Onsets, durations and pitches as arrays, so the figures are vector arithmetic."""
    arr = np.asarray(notes, dtype=float).reshape(-1, 3)
    return arr[:, 0], arr[:, 1], arr[:, 2].astype(int)


# ---- figures shared by the per-piece table and the per-window features -------------------------

def _share(mask: np.ndarray) -> float:
    """Mean of a boolean mask, NaN when empty: an undefined figure must not read as zero."""
    return float(mask.mean()) if mask.size else math.nan


def _repeated_share(pitches: np.ndarray) -> float:
    return _share(np.diff(pitches) == 0)


def _step_share(pitches: np.ndarray) -> float:
    return _share(np.isin(np.abs(np.diff(pitches)), (1, 2)))


def _contour_changes(pitches: np.ndarray) -> float:
    """Turning points among notes that move on both sides; repeats are merged first so 60-62-62-60
    turns once (repeated notes do not decide a direction)."""
    moves = np.sign(np.diff(pitches))
    moves = moves[moves != 0]
    return _share(moves[1:] != moves[:-1])


def _rest_share(onsets: np.ndarray, durations: np.ndarray) -> float:
    """Silence between notes over the span from first onset to last end; tiny gaps are legato slop."""
    if onsets.size == 0:
        return math.nan
    span = float(np.max(onsets + durations) - onsets[0])
    if span <= 0:
        return math.nan
    gaps = onsets[1:] - (onsets[:-1] + durations[:-1])
    return float(gaps[gaps >= MIN_GAP_QUARTERS].sum() / span)


def _short_share(durations: np.ndarray) -> float:
    return _share(durations <= SHORT_QUARTERS + EPS)


def _pitch_range(pitches: np.ndarray) -> float:
    return float(pitches.max() - pitches.min()) if pitches.size else math.nan


def _window_starts(n_bars: int, window: int, hop: int) -> list[int]:
    """Bar indices where windows start; the last window is aligned to the end so no bar is skipped,
    and a piece shorter than one window is one window."""
    if n_bars <= window:
        return [0]
    starts = list(range(0, n_bars - window + 1, hop))
    if starts[-1] + window < n_bars:
        starts.append(n_bars - window)
    return starts


def _range_per_window(onsets: np.ndarray, pitches: np.ndarray, bar_quarters: float) -> float:
    """Mean range over sliding 8-bar windows: the whole-piece range would punish long tunes."""
    if onsets.size == 0:
        return math.nan
    bars = np.floor(onsets / bar_quarters + EPS).astype(int)
    n_bars = int(bars.max()) + 1
    ranges = []
    for start in _window_starts(n_bars, FIGURE_WINDOW_BARS, FIGURE_HOP_BARS):
        inside = pitches[(bars >= start) & (bars < start + FIGURE_WINDOW_BARS)]
        if inside.size:
            ranges.append(_pitch_range(inside))
    return float(np.mean(ranges))


def melody_figures(notes: Sequence[Note], bar_quarters: float) -> dict[str, float]:
    """The per-piece figures named in ``FIGURES`` (see ``FIGURE_DOCS``); NaN where undefined
    (e.g. ``contour_changes`` of a melody that never moves)."""
    onsets, durations, pitches = _columns(notes)
    return {
        "repeated_share": _repeated_share(pitches),
        "step_share": _step_share(pitches),
        "range_per_window": _range_per_window(onsets, pitches, bar_quarters),
        "contour_changes": _contour_changes(pitches),
        "rest_share": _rest_share(onsets, durations),
        "short_share": _short_share(durations),
    }


def _piece_figures(piece: Piece | Mapping) -> dict[str, float]:
    piece = as_piece(piece)
    return melody_figures(piece.notes, piece.bar_quarters)


def _finite(values: Iterable[float]) -> np.ndarray:
    arr = np.asarray(list(values), dtype=float)
    return arr[np.isfinite(arr)]


def iqr_table(real_pieces: Sequence[Piece | Mapping],
              generated_by_name: Mapping[str, Sequence[Piece | Mapping]]) -> dict:
    """Per figure: the real pieces' quartiles and, per generated set, its median and whether that
    median lies inside the real IQR. A median outside the IQR is a plain, explainable tell.

    Returns ``{figure: {"q25", "median", "q75", "n", "generated": {name: {"median", "n",
    "inside"}}}}``; NaN figures (undefined for a piece) are left out of its statistics.
    """
    real = [_piece_figures(p) for p in real_pieces]
    generated = {name: [_piece_figures(p) for p in pieces] for name, pieces in generated_by_name.items()}
    table = {}
    for fig in FIGURES:
        values = _finite(r[fig] for r in real)
        q25, med, q75 = (np.percentile(values, (25, 50, 75)) if values.size else (math.nan,) * 3)
        row = {"q25": float(q25), "median": float(med), "q75": float(q75), "n": int(values.size),
               "generated": {}}
        for name, figs in generated.items():
            gen = _finite(g[fig] for g in figs)
            gmed = float(np.median(gen)) if gen.size else math.nan
            row["generated"][name] = {"median": gmed, "n": int(gen.size),
                                      "inside": bool(q25 <= gmed <= q75)}
        table[fig] = row
    return table


# ---- classifier two-sample test -----------------------------------------------------------------

FEATURE_NAMES: tuple[str, ...] = (
    *(f"interval_{i:+d}" for i in range(-INTERVAL_CLIP, INTERVAL_CLIP + 1)),
    *(f"duration_<={e:g}" for e in DURATION_EDGES), f"duration_>{DURATION_EDGES[-1]:g}",
    "contour_changes", "repeated_share", "step_share", "range", "rest_share", "onbeat_share",
    *(f"degree_{d}" for d in range(12)),
    "notes_per_bar",
)


def _normalised(counts: np.ndarray) -> np.ndarray:
    total = counts.sum()
    return counts / total if total else counts.astype(float)


def _onbeat_share(onsets: np.ndarray, bar_quarters: float, beat_quarters: float) -> float:
    """Onsets on a beat of their bar, over all onsets: syncopation and busy off-beats show here."""
    in_bar = np.mod(onsets + EPS, bar_quarters) - EPS
    off = np.mod(in_bar + ONBEAT_TOLERANCE, beat_quarters)
    return _share(off <= 2 * ONBEAT_TOLERANCE)


def window_features(notes: Sequence[Note], bar_quarters: float, window_bars: int, tonic: int,
                    beat_quarters: float = 1.0) -> np.ndarray:
    """One row per window of notes in one piece (``FEATURE_NAMES`` columns); the notes are one
    window's. Shape-only features, no absolute pitch, so register alone gives nothing away."""
    onsets, durations, pitches = _columns(notes)
    intervals = np.clip(np.diff(pitches), -INTERVAL_CLIP, INTERVAL_CLIP) + INTERVAL_CLIP
    duration_bins = np.searchsorted(np.asarray(DURATION_EDGES) + EPS, durations, side="left")
    contour = _contour_changes(pitches)
    return np.concatenate([
        _normalised(np.bincount(intervals, minlength=2 * INTERVAL_CLIP + 1)),
        _normalised(np.bincount(duration_bins, minlength=len(DURATION_EDGES) + 1)),
        [0.0 if math.isnan(contour) else contour,  # no turn seen in a window that never moves
         _repeated_share(pitches), _step_share(pitches), _pitch_range(pitches),
         np.nan_to_num(_rest_share(onsets, durations)),
         _onbeat_share(onsets, bar_quarters, beat_quarters)],
        _normalised(np.bincount((pitches - tonic) % 12, minlength=12)),
        [len(notes) / window_bars],
    ])


def piece_windows(piece: Piece | Mapping, window_bars: int = 4) -> np.ndarray:
    """Feature rows for a piece's non-overlapping windows of ``window_bars`` bars (notes belong to the
    window of their onset); windows with fewer than 4 notes say too little and are dropped."""
    piece = as_piece(piece)
    if not piece.notes:
        return np.empty((0, len(FEATURE_NAMES)))
    tonic = piece.tonic if piece.tonic is not None else piece.notes[-1][2] % 12
    span = window_bars * piece.bar_quarters
    by_window: dict[int, list[Note]] = {}
    for note in piece.notes:
        by_window.setdefault(int(math.floor(note[0] / span + EPS)), []).append(note)
    rows = [window_features(notes, piece.bar_quarters, window_bars, tonic, piece.beat_quarters)
            for _, notes in sorted(by_window.items()) if len(notes) >= MIN_WINDOW_NOTES]
    return np.vstack(rows) if rows else np.empty((0, len(FEATURE_NAMES)))


@dataclass(frozen=True)
class WindowSet:
    """The C2ST's data: one row per window, label 0 = real / 1 = other, group = piece index."""

    features: np.ndarray
    labels: np.ndarray
    groups: np.ndarray


def _balanced_pieces(windows: list[np.ndarray], target: int, rng: np.random.Generator) -> list[int]:
    """A random subset of pieces whose window count comes closest to ``target``: subsampling whole
    pieces (not windows) keeps each kept piece intact for the grouped folds."""
    order = rng.permutation(len(windows))
    totals = np.cumsum([len(windows[i]) for i in order])
    k = int(np.searchsorted(totals, target, side="left"))
    if k >= len(order):
        return sorted(order.tolist())
    if k > 0 and target - totals[k - 1] < totals[k] - target:
        k -= 1
    return sorted(order[:k + 1].tolist())


def window_dataset(real_pieces: Sequence[Piece | Mapping], other_pieces: Sequence[Piece | Mapping],
                   seed: int = 0, window_bars: int = 4) -> WindowSet:
    """Windows of both samples, the larger class subsampled by piece so chance stays at 0.5."""
    rng = np.random.default_rng(seed)
    classes = []
    for pieces in (real_pieces, other_pieces):
        windows = [piece_windows(p, window_bars) for p in pieces]
        classes.append([w for w in windows if len(w)])
    sizes = [sum(len(w) for w in c) for c in classes]
    big = int(sizes[1] > sizes[0])
    keep = _balanced_pieces(classes[big], sizes[1 - big], rng)
    classes[big] = [classes[big][i] for i in keep]
    features, labels, groups = [], [], []
    group = 0
    for label, windows in enumerate(classes):
        for w in windows:
            features.append(w)
            labels.append(np.full(len(w), label))
            groups.append(np.full(len(w), group))
            group += 1
    if not features:
        raise ValueError("no window has enough notes in either sample")
    return WindowSet(np.vstack(features), np.concatenate(labels), np.concatenate(groups))


def fold_assignment(data: WindowSet, folds: int = 5, seed: int = 0) -> np.ndarray:
    """Test-fold index of every window, grouped by piece: a piece's windows never sit on both sides
    of a split, or the classifier would recognise the tune rather than its kind."""
    from sklearn.model_selection import StratifiedGroupKFold

    for label in (0, 1):
        pieces = np.unique(data.groups[data.labels == label]).size
        if pieces < folds:
            raise ValueError(f"class {label} has {pieces} pieces with windows, fewer than {folds} folds")
    fold_of = np.full(len(data.labels), -1)
    splitter = StratifiedGroupKFold(n_splits=folds, shuffle=True, random_state=seed)
    for k, (_, test) in enumerate(splitter.split(data.features, data.labels, data.groups)):
        fold_of[test] = k
    return fold_of


def _classifier(seed: int):
    """Gradient-boosted trees rather than a logistic regression: they catch interactions (short
    notes *and* large leaps), need no scaling, and are quick on a few thousand windows."""
    from sklearn.ensemble import HistGradientBoostingClassifier

    return HistGradientBoostingClassifier(max_iter=100, learning_rate=0.1, max_leaf_nodes=15,
                                          random_state=seed)


def _top_features(data: WindowSet, top: int) -> list[dict]:
    """Features whose class means differ most in units of the pooled standard deviation: a cheap,
    signed answer to "what gives the other sample away" (positive = higher in the other sample)."""
    real, other = data.features[data.labels == 0], data.features[data.labels == 1]
    sd = data.features.std(axis=0)
    diff = other.mean(axis=0) - real.mean(axis=0)
    effect = np.divide(diff, sd, out=np.zeros_like(diff), where=sd > 0)
    order = np.argsort(-np.abs(effect), kind="stable")[:top]
    return [{"feature": FEATURE_NAMES[i], "real_mean": float(real[:, i].mean()),
             "other_mean": float(other[:, i].mean()), "effect": float(effect[i])} for i in order]


def two_sample_test(real_pieces: Sequence[Piece | Mapping], other_pieces: Sequence[Piece | Mapping],
                    seed: int = 0, folds: int = 5, window_bars: int = 4, top: int = 8) -> dict:
    """Classifier two-sample test: cross-validated accuracy of telling real windows from the
    other sample's, grouped by piece. ≈ 0.5 means indistinguishable on these features; near 1.0
    means trivially told apart, and ``top_features`` says by what."""
    data = window_dataset(real_pieces, other_pieces, seed, window_bars)
    fold_of = fold_assignment(data, folds, seed)
    accuracies = []
    for k in range(folds):
        test = fold_of == k
        model = _classifier(seed).fit(data.features[~test], data.labels[~test])
        accuracies.append(float((model.predict(data.features[test]) == data.labels[test]).mean()))
    count = {name: (data.labels == label) for label, name in enumerate(("real", "other"))}
    return {
        "accuracy_mean": float(np.mean(accuracies)),
        "accuracy_per_fold": accuracies,
        "windows": {name: int(mask.sum()) for name, mask in count.items()},
        "pieces": {name: int(np.unique(data.groups[mask]).size) for name, mask in count.items()},
        "top_features": _top_features(data, top),
        "classifier": "HistGradientBoostingClassifier",
        "folds": folds, "window_bars": window_bars, "seed": seed,
    }


def real_vs_real(real_pieces: Sequence[Piece | Mapping], seed: int = 0, folds: int = 5,
                 window_bars: int = 4, top: int = 8) -> dict:
    """The control: two random halves of the real set (split by piece) through the same test.
    Its accuracy is the noise floor a generated set's accuracy should be read against."""
    order = np.random.default_rng(seed).permutation(len(real_pieces))
    half = len(order) // 2
    first = [real_pieces[i] for i in order[:half]]
    second = [real_pieces[i] for i in order[half:]]
    return two_sample_test(first, second, seed=seed, folds=folds, window_bars=window_bars, top=top)


DENSITY_BINS = (0.75, 1.25, 1.75, 2.5)  # notes per quarter: the bins a request's density is asked in


def notes_per_quarter(piece: Piece | Mapping) -> float:
    piece = as_piece(piece)
    if not piece.notes:
        return 0.0
    span = piece.notes[-1][0] + piece.notes[-1][1] - piece.notes[0][0]
    return len(piece.notes) / max(span, EPS)


def _stratum(piece: Piece | Mapping) -> tuple[str, float, float, int]:
    """(mode, bar length, beat, density bin); the mode only when a dict piece names it."""
    mode = str(piece.get("mode", "")) if isinstance(piece, Mapping) else ""
    piece = as_piece(piece)
    density = int(np.searchsorted(DENSITY_BINS, notes_per_quarter(piece), side="right"))
    return mode, piece.bar_quarters, piece.beat_quarters, density


def matched_sample(real_pieces: Sequence[Piece | Mapping], other_pieces: Sequence[Piece | Mapping],
                   seed: int = 0) -> list[Piece | Mapping]:
    """One real piece per other piece, drawn without replacement from the same mode, meter and density
    bin (else the nearest bin in that meter, else in that mode, else anywhere): a two-sample test on
    this sample asks whether the melodies are real-like *for what was asked of them*, not whether
    the requests ask for busier or sparser tunes than the corpus holds."""
    rng = np.random.default_rng(seed)
    pool: dict[tuple[float, float, int], list[int]] = {}
    for i in rng.permutation(len(real_pieces)):
        pool.setdefault(_stratum(real_pieces[int(i)]), []).append(int(i))
    chosen = []
    for piece in other_pieces:
        mode, bar_q, beat_q, density = _stratum(piece)
        candidates = sorted((k for k in pool if pool[k]),
                            key=lambda k: (k[0] != mode, k[1:3] != (bar_q, beat_q), k[2] != beat_q,
                                           abs(k[3] - density)))
        if not candidates:
            break
        chosen.append(real_pieces[pool[candidates[0]].pop()])
    return chosen


# ---- report -------------------------------------------------------------------------------------

def _num(value: float, digits: int = 3) -> str:
    return "–" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{value:.{digits}f}"


def _iqr_markdown(iqr: Mapping) -> list[str]:
    names = list(next(iter(iqr.values()))["generated"]) if iqr else []
    lines = ["| figure | real q25 | real median | real q75 | " + " | ".join(names) + " |",
             "|---|---:|---:|---:|" + "---:|" * len(names)]
    for fig, row in iqr.items():
        cells = [f"{_num(g['median'])} {'✓' if g['inside'] else '✗'}"
                 for g in (row["generated"][n] for n in names)]
        lines.append(f"| {fig} | {_num(row['q25'])} | {_num(row['median'])} | {_num(row['q75'])} | "
                     + " | ".join(cells) + " |")
    lines.append("")
    lines.append("✓ = the set's median lies inside the real interquartile range. "
                 + " ".join(f"{f}: {FIGURE_DOCS[f]}." for f in iqr if f in FIGURE_DOCS))
    return lines


def _c2st_markdown(tests: Mapping[str, Mapping], top: int) -> list[str]:
    lines = ["| comparison | accuracy | per fold | windows (real/other) | pieces (real/other) | "
             "gives it away (effect, + = higher in other) |",
             "|---|---:|---|---|---|---|"]
    for name, res in tests.items():
        folds = ", ".join(_num(a, 2) for a in res["accuracy_per_fold"])
        tells = ", ".join(f"{t['feature']} ({t['effect']:+.2f})" for t in res["top_features"][:top])
        lines.append(f"| {name} | {_num(res['accuracy_mean'])} | {folds} | "
                     f"{res['windows']['real']}/{res['windows']['other']} | "
                     f"{res['pieces']['real']}/{res['pieces']['other']} | {tells} |")
    lines.append("")
    lines.append("Accuracy ≈ 0.5: the classifier cannot tell the samples apart; read it against the "
                 "real-vs-real control.")
    return lines


def report_markdown(iqr: Mapping | None = None, tests: Mapping[str, Mapping] | None = None,
                    top: int = 5) -> str:
    """Markdown tables of an ``iqr_table`` result and of named ``two_sample_test`` results
    (e.g. ``{"model": ..., "real vs real": ...}``), for a report or a pull request."""
    lines: list[str] = []
    if iqr:
        lines += ["### Melody figures against the real IQR", "", *_iqr_markdown(iqr), ""]
    if tests:
        lines += ["### Classifier two-sample test", "", *_c2st_markdown(tests, top), ""]
    return "\n".join(lines)
