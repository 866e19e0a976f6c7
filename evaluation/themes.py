"""How distinct the themes are: style features of composed pieces and a nearest-centroid classifier.

Run `python -m evaluation.themes` for the leave-one-out accuracy and confusion matrix.
"""

from __future__ import annotations

import random
import sys

import numpy as np

from evaluation.analysis import MidiInfo, load_midi
from composer.arrange import arrange
from composer.catalog import Catalog, default_catalog
from composer.melody import get_engine
from composer.formats.midi import midi_bytes
from composer.plan import make_plan
from composer.understanding.understand import understand

FEATURES = ("tempo", "minor", "bar_quarters", "melody_density", "drum_density", "swing",
            "pitch_range", "velocity", "harmony_notes_per_bar")


def style_features(info: MidiInfo) -> tuple[np.ndarray, set[int]]:
    """Numeric style features (roughly unit-scaled) and the set of GM programs that play."""
    bars = max(1.0, info.length_q / info.bar_q)
    melody = info.melody.notes if info.melody else []
    drums = [n for t in info.tracks if t.is_drums for n in t.notes]
    pitched = info.pitched
    offbeats = [n.start % 1.0 for n in pitched + drums if 0.35 < n.start % 1.0 < 0.85]
    swing = float(np.mean(offbeats)) - 0.5 if offbeats else 0.0
    pitches = [n.pitch for n in melody] or [60]
    harmony = [n for t in info.tracks if not t.is_drums and t is not info.melody for n in t.notes]
    values = np.array([
        (info.tempo_bpm or 120) / 40.0,
        3.0 if (info.key_signature or "").endswith("m") else 0.0,
        info.bar_q,
        len(melody) / bars / 2.0,
        len(drums) / bars / 8.0,
        swing * 10.0,
        (max(pitches) - min(pitches)) / 6.0,
        float(np.mean([n.velocity for n in pitched])) / 20.0 if pitched else 0.0,
        len(harmony) / bars / 8.0,
    ])
    programs = {t.program for t in info.tracks if not t.is_drums and t.program is not None}
    return values, programs


def feature_matrix(infos: list[MidiInfo]) -> np.ndarray:
    rows, program_sets = zip(*(style_features(i) for i in infos))
    programs = sorted(set().union(*program_sets))
    one_hot = np.array([[2.0 if p in ps else 0.0 for p in programs] for ps in program_sets])
    return np.hstack([np.array(rows), one_hot])


def loo_nearest_centroid(x: np.ndarray, labels: list[str]) -> tuple[float, dict[str, dict[str, int]]]:
    """Leave-one-out accuracy of a nearest-centroid classifier, and its confusion matrix."""
    names = sorted(set(labels))
    confusion = {a: {b: 0 for b in names} for a in names}
    correct = 0
    y = np.array(labels)
    for i in range(len(labels)):
        keep = np.arange(len(labels)) != i
        centroids = {n: x[keep & (y == n)].mean(axis=0) for n in names if (keep & (y == n)).any()}
        guess = min(centroids, key=lambda n: float(np.linalg.norm(x[i] - centroids[n])))
        confusion[labels[i]][guess] += 1
        correct += guess == labels[i]
    return correct / len(labels), confusion


def compose_theme_pieces(catalog: Catalog, seeds_per_theme: int = 5, length_s: float = 30.0,
                         engine: str = "rules") -> tuple[list[MidiInfo], list[str]]:
    melody_engine = get_engine(engine)
    infos, labels = [], []
    for name, theme in sorted(catalog.themes.items()):
        for seed in range(seeds_per_theme):
            prompt = theme.spec["examples"][seed % len(theme.spec["examples"])]
            request = understand(prompt, {"theme": name, "seed": seed, "length": length_s, "engine": engine}, catalog)
            plan = make_plan(request, catalog.theme(name), catalog.voice(request.voice), random.Random(seed))
            score = arrange(plan, melody_engine.write([plan], [seed])[0], seed)
            infos.append(load_midi(midi_bytes(score)))
            labels.append(name)
    return infos, labels


def main() -> int:
    infos, labels = compose_theme_pieces(default_catalog())
    accuracy, confusion = loo_nearest_centroid(feature_matrix(infos), labels)
    names = sorted(confusion)
    print(f"leave-one-out nearest-centroid accuracy: {accuracy:.3f} over {len(labels)} pieces")
    print("| true \\ guessed | " + " | ".join(n[:5] for n in names) + " |")
    print("|---|" + "---|" * len(names))
    for a in names:
        print(f"| {a} | " + " | ".join(str(confusion[a][b]) if confusion[a][b] else "." for b in names) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
