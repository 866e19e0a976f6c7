"""Real FluidSynth with the real GM soundfont: audible, not clipping, at about -14 LUFS."""

import numpy as np
import pytest

from composer.audio.loudness import integrated_lufs
from composer.audio.mix import TARGET_LUFS
from composer.audio.render import SAMPLE_RATE


def test_sine_loudness_matches_the_bs1770_reference():
    # ITU-R BS.1770: a 997 Hz sine at -20 dBFS in both channels reads -20 LUFS.
    t = np.arange(SAMPLE_RATE * 5) / SAMPLE_RATE
    tone = (10 ** (-20 / 20)) * np.sin(2 * np.pi * 997 * t)
    stereo = np.stack([tone, tone], axis=1)
    assert integrated_lufs(stereo, SAMPLE_RATE) == pytest.approx(-20.0, abs=0.1)


def test_silence_has_no_loudness():
    assert integrated_lufs(np.zeros((SAMPLE_RATE, 2)), SAMPLE_RATE) == float("-inf")


@pytest.mark.parametrize("voice", ["piano", "metal", "synth"])
def test_render_is_audible_unclipped_and_normalised(composer, make_request, voice):
    (composition,) = composer.compose_scores([make_request("happy birthday", voice=voice, length=12)])
    audio = composer.render(composition)
    assert audio.ndim == 2 and audio.shape[1] == 2 and audio.dtype == np.float32
    peak_db = 20 * np.log10(np.max(np.abs(audio)))
    assert peak_db < -1.0
    assert integrated_lufs(audio, SAMPLE_RATE) == pytest.approx(TARGET_LUFS, abs=1.5)
    assert abs(len(audio) / SAMPLE_RATE - composition.score.duration_s) <= 1.5


def test_fast_k_weighting_matches_the_bs1770_reference_filters():
    from scipy.signal import lfilter

    from composer.audio.loudness import _biquad_high_pass, _biquad_high_shelf, k_weighted

    impulse = np.zeros((SAMPLE_RATE, 1), dtype=np.float32)
    impulse[0] = 1.0
    (b1, a1), (b2, a2) = _biquad_high_shelf(SAMPLE_RATE), _biquad_high_pass(SAMPLE_RATE)
    reference = np.abs(np.fft.rfft(lfilter(b2, a2, lfilter(b1, a1, impulse[:, 0]))))
    fast = np.abs(np.fft.rfft(k_weighted(impulse, SAMPLE_RATE)[:, 0]))
    audible = slice(20, 20000)  # 1 Hz bins
    assert np.abs(20 * np.log10(fast[audible] / reference[audible])).max() < 0.06


def test_loudness_through_the_fast_filters_matches_the_reference_filters(composer, make_request):
    (composition,) = composer.compose_scores([make_request("a rock song", voice="metal", length=8)])
    audio = composer.render(composition)
    rng = np.random.default_rng(3)
    rumble = np.cumsum(rng.standard_normal((SAMPLE_RATE * 3, 2)), axis=0).astype(np.float32) * 1e-3  # bass-heavy
    for signal in (audio, rumble):
        fast, reference = integrated_lufs(signal, SAMPLE_RATE), integrated_lufs(signal, SAMPLE_RATE, reference=True)
        assert fast == pytest.approx(reference, abs=0.05)


def _band_digest() -> str:
    """A fresh synth's render of a short score with notes off FluidSynth's 64-frame blocks."""
    import hashlib

    from composer.audio.render import Synth
    from composer.music.score import Note, Score, Track

    notes = [Note(0.13 * k, 0.4, 60 + (k * 5) % 12, 70 + k) for k in range(12)]
    drums = [Note(0.5 * k + 0.01, 0.25, 38 if k % 2 else 36, 100) for k in range(6)]
    score = Score(tempo=111, numerator=4, denominator=4, key_name="C major", key_sharps=0, total_quarters=4.0,
                  tracks=[Track("lead", 0, 0, notes), Track("drums", 0, 9, drums)])
    audio = Synth().render_tracks(score, score.tracks, score.duration_s)
    assert audio.dtype == np.float32 and np.abs(audio).max() > 0.01
    return hashlib.sha256(audio.tobytes()).hexdigest()


@pytest.mark.slow
def test_another_process_renders_the_same_score_the_same():
    """FluidSynth's 16-bit output added dither that differed between processes, so the same piece
    came out differently in each (and the singing evaluation's full-mix figure moved between runs);
    the float output has none."""
    import subprocess
    import sys
    from pathlib import Path

    code = "from tests.composer.test_render import _band_digest; print(_band_digest())"
    root = Path(__file__).resolve().parents[2]
    there = subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True, text=True, check=True)
    assert there.stdout.strip().splitlines()[-1] == _band_digest()


def _short_score(program: int, base: int, held_quarters: float):
    from composer.music.score import Note, Score, Track

    notes = [Note(0.13 * k, 0.4 + k % 3, base + (k * 5) % 12, 70 + k) for k in range(12)]
    pad = Note(0.0, held_quarters, base - 12, 90)
    return Score(tempo=111, numerator=4, denominator=4, key_name="C major", key_sharps=0, total_quarters=4.0,
                 tracks=[Track("lead", program, 0, notes), Track("pad", 48, 1, [pad])])


def test_a_note_held_past_the_end_does_not_ring_into_the_next_render():
    """The pad of the first score is still sounding when its render stops; the next render on the
    same synth must start from silence, as on a fresh synth. Before, it rang on at 0.05 of full
    scale here; what is left is well under 0.01 (the reused voices' own state)."""
    from composer.audio.render import Synth

    first, second = _short_score(0, 60, held_quarters=8.0), _short_score(48, 55, held_quarters=2.0)
    fresh = Synth().render_tracks(second, second.tracks, second.duration_s)
    synth = Synth()
    synth.render_tracks(first, first.tracks, first.duration_s)
    after = synth.render_tracks(second, second.tracks, second.duration_s)
    assert np.abs(fresh).max() > 0.05
    assert np.abs(after - fresh).max() < 0.01
