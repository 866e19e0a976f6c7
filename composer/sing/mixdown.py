"""The sung piece: band (without the vocals track) + the vocal on top, and the two stems.

The vocal gets its own gentle compression and a short, light reverb (a long tail smears the
consonants) and sits 5 dB over the band; the band is dipped 4 dB around 2.5 kHz, where
consonants carry, and ducks 5 dB while the voice sings, so the words survive the mix.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace

import numpy as np
from pedalboard import Compressor, HighpassFilter, Pedalboard, PeakFilter, Reverb
from scipy.ndimage import maximum_filter1d, uniform_filter1d

from composer.audio.mix import MixSettings, mix_buses, normalise_with_stems
from composer.audio.render import SAMPLE_RATE, render_buses
from composer.music.score import Score
from composer.sing.setting import SungLine
from composer.sing.vocalist import Vocal, get_vocalist

VOCAL_OVER_BAND_DB = 5.0
DUCK_DB = 5.0
BAND_ROOM = Pedalboard([PeakFilter(cutoff_frequency_hz=2500, gain_db=-4.0, q=0.7)])  # the dip where diction lives


@dataclass
class SungMix:
    master: np.ndarray  # (frames, 2) float32, normalised like every master
    vocals: np.ndarray  # (frames, 2) stem, same gain as in the master
    accompaniment: np.ndarray  # (frames, 2) stem, ducked as in the master
    vocal: Vocal  # the dry vocal and where each syllable was sung
    sing_s: float = 0.0  # of the whole render: singing the line and mixing the voice in


def _fit(audio: np.ndarray, frames: int) -> np.ndarray:
    if len(audio) >= frames:
        return audio[:frames]
    pad = np.zeros((frames - len(audio), *audio.shape[1:]), dtype=audio.dtype)
    return np.concatenate([audio, pad])


BLOCK_S = 0.005  # envelopes are computed on 5 ms blocks: plenty for ducking and level matching


def _block_rms(audio: np.ndarray) -> np.ndarray:
    size = int(BLOCK_S * SAMPLE_RATE)
    blocks = len(audio) // size
    squares = (audio[: blocks * size] ** 2).reshape(blocks, size, -1).mean(axis=(1, 2))
    return np.sqrt(squares)


def _to_samples(envelope: np.ndarray, frames: int) -> np.ndarray:
    size = int(BLOCK_S * SAMPLE_RATE)
    centres = (np.arange(len(envelope)) + 0.5) * size
    return np.interp(np.arange(frames), centres, envelope).astype(np.float32)


def singing_blocks(vocal: np.ndarray) -> np.ndarray:
    """1.0 for 5 ms blocks where the voice sings (with 30 ms hold), else 0.0."""
    level = _block_rms(vocal)
    active = (level > 0.05 * (level.max() + 1e-9)).astype(np.float32)
    return maximum_filter1d(active, size=7)


def duck_gain(vocal: np.ndarray, depth_db: float = DUCK_DB) -> np.ndarray:
    """Per-sample gain for the band: -depth_db while the voice sings, eased in and out over ~120 ms."""
    smooth = uniform_filter1d(uniform_filter1d(singing_blocks(vocal), 24), 24)
    return _to_samples(10 ** (-depth_db * smooth / 20), len(vocal))


def vocal_chain(reverb: float) -> Pedalboard:
    room = max(0.2, min(0.8, reverb + 0.1))
    return Pedalboard([
        Reverb(room_size=0.3 + 0.3 * room, damping=0.7, wet_level=0.08 + 0.1 * room, dry_level=0.9, width=0.7),
    ])


DRY_CHAIN = Pedalboard([HighpassFilter(cutoff_frequency_hz=90),
                        Compressor(threshold_db=-22, ratio=3.0, attack_ms=5, release_ms=120)])


def mix_song(accompaniment: np.ndarray, vocal: np.ndarray, reverb: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(master, vocals stem, accompaniment stem); stems carry the master's gain so they sum to it."""
    frames = len(accompaniment)
    dry = DRY_CHAIN(_fit(vocal, frames)[None, :].astype(np.float32), SAMPLE_RATE)[0]
    wet = vocal_chain(reverb)(np.stack([dry, dry]), SAMPLE_RATE).T
    # level: the voice sits VOCAL_OVER_BAND_DB above the band, measured where the voice sings
    singing = singing_blocks(dry) > 0
    band_rms = _block_rms(accompaniment)
    voice_rms = _block_rms(wet)
    n = min(len(singing), len(band_rms), len(voice_rms))
    if singing[:n].any():
        band_level = np.sqrt(np.mean(band_rms[:n][singing[:n]] ** 2))
        voice_level = np.sqrt(np.mean(voice_rms[:n][singing[:n]] ** 2))
        if voice_level > 0 and band_level > 0:
            wet = wet * np.float32(band_level * 10 ** (VOCAL_OVER_BAND_DB / 20) / voice_level)
    room = BAND_ROOM(np.ascontiguousarray(accompaniment.T, dtype=np.float32), SAMPLE_RATE).T
    band = room * duck_gain(dry)[:, None]
    raw = band + wet
    master, stems = normalise_with_stems(raw, {"vocals": wet, "band": band})
    return master.astype(np.float32), stems["vocals"], stems["band"]


def render_song(score: Score, line: SungLine, voice: str, settings: MixSettings) -> SungMix:
    """Render the band without the vocals track, sing the line, mix both."""
    band_score = replace(score, tracks=[t for t in score.tracks if t.name != "vocals"])
    buses = render_buses(band_score, separate_lead=settings.lead_needs_own_bus)
    accompaniment = mix_buses(buses, settings, score.duration_s)
    started = time.perf_counter()
    vocal = get_vocalist().sing(line, score, voice)
    master, vocals, band = mix_song(accompaniment, vocal.audio, settings.reverb)
    return SungMix(master, vocals, band, vocal, sing_s=time.perf_counter() - started)
