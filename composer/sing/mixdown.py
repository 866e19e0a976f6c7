"""The sung piece: band (without the vocals track) + the vocal on top, and the two stems.

The vocal gets its own gentle compression and reverb and sits a little louder than the band;
the band ducks about 3 dB while the voice sings, so words stay clear without pumping.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
from pedalboard import Compressor, HighpassFilter, Pedalboard, Reverb
from scipy.ndimage import maximum_filter1d, uniform_filter1d

from composer.loudness import integrated_lufs
from composer.mix import PEAK_CEILING_DB, MixSettings, limit, mix_buses, normalise
from composer.render import SAMPLE_RATE, render_buses
from composer.score import Score
from composer.sing.setting import SungLine
from composer.sing.vocalist import Vocal, get_vocalist

VOCAL_OVER_BAND_DB = 2.0
DUCK_DB = 3.0


@dataclass
class SungMix:
    master: np.ndarray  # (frames, 2) float32, normalised like every master
    vocals: np.ndarray  # (frames, 2) stem, same gain as in the master
    accompaniment: np.ndarray  # (frames, 2) stem, ducked as in the master
    vocal: Vocal  # the dry vocal and where each syllable was sung


def _fit(audio: np.ndarray, frames: int) -> np.ndarray:
    if len(audio) >= frames:
        return audio[:frames]
    pad = np.zeros((frames - len(audio), *audio.shape[1:]), dtype=audio.dtype)
    return np.concatenate([audio, pad])


def duck_gain(vocal: np.ndarray, depth_db: float = DUCK_DB) -> np.ndarray:
    """Per-sample gain for the band: -depth_db while the voice sings, eased in and out."""
    level = np.abs(vocal)
    hold = maximum_filter1d(level, size=int(0.03 * SAMPLE_RATE))
    active = (hold > 0.05 * (hold.max() + 1e-9)).astype(np.float32)
    smooth = uniform_filter1d(uniform_filter1d(active, int(0.12 * SAMPLE_RATE)), int(0.12 * SAMPLE_RATE))
    return (10 ** (-depth_db * smooth / 20)).astype(np.float32)


def vocal_chain(reverb: float) -> Pedalboard:
    room = max(0.2, min(0.8, reverb + 0.1))
    return Pedalboard([
        HighpassFilter(cutoff_frequency_hz=90),
        Compressor(threshold_db=-22, ratio=3.0, attack_ms=5, release_ms=120),
        Reverb(room_size=0.35 + 0.4 * room, damping=0.6, wet_level=0.12 + 0.18 * room, dry_level=0.85, width=0.7),
    ])


def mix_song(accompaniment: np.ndarray, vocal: np.ndarray, reverb: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(master, vocals stem, accompaniment stem); stems carry the master's gain so they sum to it."""
    frames = len(accompaniment)
    dry = _fit(vocal, frames)
    wet = vocal_chain(reverb)(np.stack([dry, dry]).astype(np.float32), SAMPLE_RATE).T
    band_lufs = integrated_lufs(accompaniment, SAMPLE_RATE)
    voice_lufs = integrated_lufs(wet, SAMPLE_RATE)
    if np.isfinite(band_lufs) and np.isfinite(voice_lufs):
        wet = wet * np.float32(10 ** ((band_lufs + VOCAL_OVER_BAND_DB - voice_lufs) / 20))
    band = accompaniment * duck_gain(dry)[:, None]
    raw = band + wet
    master = normalise(raw)
    gain = np.float32(np.sum(master * raw) / max(1e-12, float(np.sum(raw * raw))))  # what normalise applied
    ceiling = 10 ** (PEAK_CEILING_DB / 20) * 0.98
    vocals, band = limit(wet * gain, ceiling), limit(band * gain, ceiling)
    return master.astype(np.float32), vocals.astype(np.float32), band.astype(np.float32)


def render_song(score: Score, line: SungLine, voice: str, settings: MixSettings) -> SungMix:
    """Render the band without the vocals track, sing the line, mix both."""
    band_score = replace(score, tracks=[t for t in score.tracks if t.name != "vocals"])
    buses = render_buses(band_score, separate_lead=settings.lead_needs_own_bus)
    accompaniment = mix_buses(buses, settings, score.duration_s)
    vocal = get_vocalist().sing(line, score, voice)
    master, vocals, band = mix_song(accompaniment, vocal.audio, settings.reverb)
    return SungMix(master, vocals, band, vocal)
