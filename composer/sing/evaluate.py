"""Measure the singing: pitch accuracy, syllable timing and completeness, and male/female register
and brightness, on the vocal stem of real pieces.

    python -m composer.sing.evaluate            # 20 prompts × both voices, Markdown table
    python -m composer.sing.evaluate --prompts 3
"""

from __future__ import annotations

import argparse
import time
from dataclasses import dataclass

import numpy as np
from scipy.signal import resample_poly

from composer.render import SAMPLE_RATE
from composer.sing.vocoder import Event, _pyworld

ANALYSIS_RATE = 16000
FRAME_MS = 5.0
SKIP_NOTE_START_S = 0.06
CENTS_TOLERANCE = 50.0
ONSET_TOLERANCE_S = 0.04

PROMPTS = [
    "happy birthday dear friend", "a sad song about rain", "dancing all night long", "sunny morning by the sea",
    "we will march together", "lullaby for my little star", "epic battle in the mountains",
    "jazz cafe at midnight", "romantic walk in paris", "holiday lights and snow", "rock and roll tonight",
    "space travel to the moon", "chill summer afternoon", "retro arcade adventure", "horror in the old house",
    "nature walk through the forest", "relax and breathe slowly", "happy 90th birthday grandma",
    "the quick brown fox jumps over the lazy dog", "thank you for the music",
]


@dataclass
class PieceScore:
    voiced_frames: int
    in_tune_frames: int
    onset_errors_s: list[float]
    syllables_expected: int
    syllables_heard: int
    in_order: bool
    median_f0_hz: float
    centroid_hz: float

    @property
    def pitch_accuracy(self) -> float:
        return self.in_tune_frames / max(1, self.voiced_frames)


def _mono(stem: np.ndarray) -> np.ndarray:
    return stem.mean(axis=1) if stem.ndim == 2 else stem


def track_f0(audio: np.ndarray, rate: int = SAMPLE_RATE, method: str = "harvest") -> np.ndarray:
    """F0 per 5 ms frame with WORLD's harvest (robust, slow) or dio + stonemask (fast, stricter
    about what it calls voiced); both are independent of how the voice was synthesised."""
    pw = _pyworld()
    x = resample_poly(audio.astype(np.float64), ANALYSIS_RATE, rate)
    if method == "dio":
        f0, t = pw.dio(x, ANALYSIS_RATE, f0_floor=60.0, f0_ceil=1100.0, frame_period=FRAME_MS)
        return pw.stonemask(x, f0, t, ANALYSIS_RATE)
    f0, _ = pw.harvest(x, ANALYSIS_RATE, f0_floor=60.0, f0_ceil=1100.0, frame_period=FRAME_MS)
    return f0


def spectral_centroid(audio: np.ndarray, rate: int = SAMPLE_RATE) -> float:
    """Energy-weighted mean frequency over the frames where the voice sounds."""
    size = 2048
    frames = len(audio) // size
    if frames == 0:
        return 0.0
    blocks = audio[: frames * size].reshape(frames, size) * np.hanning(size)
    power = np.abs(np.fft.rfft(blocks, axis=1)) ** 2
    energy = power.sum(axis=1)
    active = energy > 0.01 * energy.max()
    freqs = np.fft.rfftfreq(size, 1.0 / rate)
    return float((power[active] @ freqs).sum() / max(1e-12, power[active].sum()))


def _onsets(audio: np.ndarray, events: list[Event], rate: int) -> list[float]:
    """Per syllable: where the energy rises fastest within ±80 ms of its note onset, minus the onset."""
    hop = int(0.005 * rate)
    frames = len(audio) // hop
    energy = np.sqrt(np.mean(audio[: frames * hop].reshape(frames, hop) ** 2, axis=1))
    log_e = np.log(energy + 1e-5)
    rise = np.diff(log_e, prepend=log_e[0])
    errors = []
    for event in events:
        centre = int(event.start_s / 0.005)
        low, high = max(1, centre - 16), min(frames - 1, centre + 16)
        if high <= low:
            continue
        best = low + int(np.argmax(rise[low:high]))
        errors.append(abs(best - centre) * 0.005)
    return errors


def score_vocal(stem: np.ndarray, dry: np.ndarray, events: list[Event], spoken_order: list[int],
                lyric_syllables: int, method: str = "harvest") -> PieceScore:
    """Score one sung piece: `stem` is the vocals stem (with reverb), `dry` the voice before effects."""
    mono = _mono(stem)
    f0 = track_f0(mono, method=method)
    times = np.arange(len(f0)) * FRAME_MS / 1000.0
    target = np.zeros(len(f0))
    for event in events:
        for n_start, n_end, pitch in event.notes:
            begin = max(n_start, event.start_s) + SKIP_NOTE_START_S
            end = min(n_end, event.end_s)
            mask = (times >= begin) & (times < end)
            target[mask] = 440.0 * 2 ** ((pitch - 69) / 12)
    judged = (target > 0) & (f0 > 0)
    cents = np.abs(1200 * np.log2(np.where(judged, f0, 1.0) / np.where(judged, target, 1.0)))
    heard = 0  # a syllable is heard when the stem is voiced somewhere inside it
    for event in events:
        span = (times >= event.start_s) & (times < event.end_s)
        heard += bool(np.any(f0[span] > 0))
    order = all(b == (a + 1) % lyric_syllables or (b == 0 and a == lyric_syllables - 1)
                for a, b in zip(spoken_order, spoken_order[1:]))
    voiced = f0[f0 > 0]
    return PieceScore(
        voiced_frames=int(judged.sum()),
        in_tune_frames=int((cents[judged] <= CENTS_TOLERANCE).sum()),
        onset_errors_s=_onsets(dry, events, SAMPLE_RATE),
        syllables_expected=len(events),
        syllables_heard=heard,
        in_order=order,
        median_f0_hz=float(np.median(voiced)) if voiced.size else 0.0,
        centroid_hz=spectral_centroid(mono),
    )


def evaluate(prompt: str, voice: str, seed: int, length_s: float = 30.0):
    """Compose and render one sung piece; returns (PieceScore, seconds spent singing)."""
    from composer.catalog import default_catalog
    from composer.pipeline import Composer, mix_settings
    from composer.sing.mixdown import render_song
    from composer.understand import understand

    catalog = default_catalog()
    request = understand(prompt, {"voice": voice, "seed": seed, "length": length_s}, catalog)
    (composition,) = Composer(catalog).compose_scores([request])
    line = composition.sung
    started = time.perf_counter()
    song = render_song(composition.score, line, voice, mix_settings(composition.plan))
    elapsed = time.perf_counter() - started
    spoken = []
    seen: dict[int, int] = {}
    for sung in line.syllables:
        seen.setdefault(id(sung.syllable), len(seen))
        spoken.append(seen[id(sung.syllable)])
    return score_vocal(song.vocals, song.vocal.audio, song.vocal.events, spoken, max(1, len(seen))), elapsed


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--prompts", type=int, default=len(PROMPTS))
    args = parser.parse_args(argv)
    rows = []
    for voice in ("male", "female"):
        scores = [evaluate(p, voice, seed=100 + i)[0] for i, p in enumerate(PROMPTS[: args.prompts])]
        voiced = sum(s.voiced_frames for s in scores)
        in_tune = sum(s.in_tune_frames for s in scores)
        errors = np.array([e for s in scores for e in s.onset_errors_s])
        worst = min(s.pitch_accuracy for s in scores)
        rows.append((voice, len(scores), in_tune / max(1, voiced), worst,
                     float(np.mean(errors <= ONSET_TOLERANCE_S)), float(np.median(errors)),
                     sum(s.syllables_heard for s in scores), sum(s.syllables_expected for s in scores),
                     all(s.in_order for s in scores),
                     float(np.median([s.median_f0_hz for s in scores])),
                     float(np.median([s.centroid_hz for s in scores]))))
    print("| voice | pieces | F0 within 50 cents (all voiced frames) | worst piece | onsets within 40 ms "
          "| median onset error | syllables heard / sung | in order | median F0 | spectral centroid |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for voice, n, acc, worst, onset_ok, onset_med, heard, expected, order, f0, centroid in rows:
        print(f"| {voice} | {n} | {acc:.1%} | {worst:.1%} | {onset_ok:.1%} | {onset_med * 1000:.0f} ms "
              f"| {heard} / {expected} | {'yes' if order else 'no'} | {f0:.0f} Hz | {centroid:.0f} Hz |")


if __name__ == "__main__":
    main()
