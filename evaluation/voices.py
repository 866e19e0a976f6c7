"""Voice timbres, measured: the spectral centroid of the rendered audio for each voice.

Run `python -m evaluation.voices` for the table.
"""

from __future__ import annotations

import sys

import numpy as np

from composer.audio.mix import lead_chain
from composer.pipeline import Composer, mix_settings
from composer.audio.render import SAMPLE_RATE, borrow_synth
from composer.understanding.understand import understand


def spectral_centroid_hz(audio: np.ndarray, rate: int = SAMPLE_RATE) -> float:
    """Energy-weighted mean frequency of the mono mix over the whole piece."""
    mono = audio.mean(axis=1) if audio.ndim == 2 else audio
    frame = 4096
    frames = mono[: len(mono) // frame * frame].reshape(-1, frame) * np.hanning(frame)
    spectrum = np.abs(np.fft.rfft(frames, axis=1)).sum(axis=0)
    freqs = np.fft.rfftfreq(frame, 1 / rate)
    return float((spectrum * freqs).sum() / max(spectrum.sum(), 1e-12))


def voice_centroids(composer: Composer, voices: list[str], theme: str = "happy", seed: int = 3,
                    length_s: float = 12.0) -> dict[str, tuple[float, float]]:
    """voice → (centroid of the whole mix, centroid of the lead line alone), in Hz."""
    out = {}
    for voice in voices:
        request = understand("a tune", {"theme": theme, "voice": voice, "seed": seed, "length": length_s,
                                        "engine": "rules"}, composer.catalog)
        (composition,) = composer.compose_scores([request])
        score = composition.score
        with borrow_synth() as synth:
            lead = synth.render_tracks(score, [score.melody], score.duration_s + 1.0)
        lead = lead_chain(mix_settings(composition.plan))(lead.T.copy(), SAMPLE_RATE).T
        out[voice] = (spectral_centroid_hz(composer.render(composition)), spectral_centroid_hz(lead))
    return out


def main() -> int:
    composer = Composer()
    voices = sorted(composer.catalog.voices)
    for theme in ("happy", "sad", "rock"):
        centroids = voice_centroids(composer, voices, theme=theme, length_s=20)
        print(f"{theme} (mix / lead alone): " + ", ".join(f"{v} {m:.0f} / {l:.0f} Hz" for v, (m, l) in centroids.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
