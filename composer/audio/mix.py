"""Buses → one master: per-bus effects (voice colour), reverb from the theme, loudness to -14 LUFS,
peaks held under -1 dBFS."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from pedalboard import Chorus, Compressor, Delay, Distortion, Gain, HighpassFilter, Pedalboard, Reverb

from composer.audio.loudness import k_weighted, weighted_lufs
from composer.audio.render import SAMPLE_RATE
from composer.audio.running import running_mean, running_min

TARGET_LUFS = -14.0
PEAK_CEILING_DB = -1.0
FADE_OUT_S = 0.4


@dataclass(frozen=True)
class MixSettings:
    lead_effects: dict[str, Any]
    reverb: float
    tempo: int

    @property
    def lead_needs_own_bus(self) -> bool:
        return any(self.lead_effects.get(k, 0) > 0 for k in ("distortion_db", "chorus", "delay"))


def lead_chain(settings: MixSettings) -> Pedalboard:
    fx = settings.lead_effects
    chain = []
    if fx.get("distortion_db", 0) > 0:
        chain += [HighpassFilter(cutoff_frequency_hz=90), Distortion(drive_db=fx["distortion_db"]),
                  Gain(gain_db=-fx["distortion_db"] * 0.5)]
    if fx.get("chorus", 0) > 0:
        chain.append(Chorus(rate_hz=0.8, depth=0.25 * fx["chorus"], mix=0.5 * fx["chorus"]))
    if fx.get("delay", 0) > 0:
        chain.append(Delay(delay_seconds=0.75 * 60 / settings.tempo, feedback=0.3, mix=0.35 * fx["delay"]))
    return Pedalboard(chain)


def mix(buses: dict[str, np.ndarray], settings: MixSettings, duration_s: float,
        gains_db: dict[str, float] | None = None) -> np.ndarray:
    """Sum the buses (float32 stereo), colour, reverberate, normalise; returns (frames, 2) float32."""
    return normalise(mix_buses(buses, settings, duration_s, gains_db))


def mix_buses(buses: dict[str, np.ndarray], settings: MixSettings, duration_s: float,
              gains_db: dict[str, float] | None = None) -> np.ndarray:
    """`mix` before loudness normalisation (a sung piece adds its vocal first)."""
    gains_db = gains_db or {}
    length = max(len(b) for b in buses.values())
    master = np.zeros((length, 2), dtype=np.float32)
    for name, audio in buses.items():
        if name == "lead" and settings.lead_needs_own_bus:
            audio = lead_chain(settings)(audio.T.copy(), SAMPLE_RATE).T
        gain = 10 ** (gains_db.get(name, 0.0) / 20)
        master[: len(audio)] += audio[:length] * gain
    room = max(0.05, min(1.0, settings.reverb))
    master_chain = Pedalboard([
        Reverb(room_size=0.3 + 0.6 * room, damping=0.5, wet_level=0.08 + 0.25 * room, dry_level=0.9, width=1.0),
        Compressor(threshold_db=-18, ratio=2.5, attack_ms=10, release_ms=150),
    ])
    master = master_chain(master.T.copy(), SAMPLE_RATE).T
    end = min(len(master), int((duration_s + 1.0) * SAMPLE_RATE))
    master = master[:end]
    fade = min(len(master), int(FADE_OUT_S * SAMPLE_RATE))
    if fade:
        master[-fade:] *= np.linspace(1.0, 0.0, fade, dtype=np.float32)[:, None]
    return master


def mix_with_stems(buses: dict[str, np.ndarray], settings: MixSettings,
                   duration_s: float) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """The master plus two stems for `--stems` on an instrumental piece: "vocals" is the lead bus
    (the melody instrument, which sings the tune) and "accompaniment" the rest. Each stem has its
    own reverb and compression and carries the master's gain, so the two add up to the master up
    to the compressor working on their sum."""
    raw = mix_buses(buses, settings, duration_s)
    parts = {"vocals": {k: v for k, v in buses.items() if k == "lead"},
             "accompaniment": {k: v for k, v in buses.items() if k != "lead"}}
    stems = {name: _fit_length(mix_buses(part, settings, duration_s), len(raw)) if part else np.zeros_like(raw)
             for name, part in parts.items()}
    return normalise_with_stems(raw, stems)


def normalise_with_stems(raw: np.ndarray, stems: dict[str, np.ndarray]) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """`normalise` the master, and give each stem the same gain (peaks limited alike), so the
    stems still add up to the master."""
    master = normalise(raw)
    gain = np.float32(np.sum(master * raw) / max(1e-12, float(np.sum(raw * raw))))  # what normalise applied
    ceiling = 10 ** (PEAK_CEILING_DB / 20) * 0.98
    return master, {name: limit(audio * gain, ceiling).astype(np.float32) for name, audio in stems.items()}


def _fit_length(audio: np.ndarray, frames: int) -> np.ndarray:
    if len(audio) >= frames:
        return audio[:frames]
    return np.concatenate([audio, np.zeros((frames - len(audio), audio.shape[1]), dtype=audio.dtype)])


def limit(audio: np.ndarray, ceiling: float, lookahead_s: float = 0.003) -> np.ndarray:
    """Brick-wall peak limiter: a gain curve that is never above what each sample needs,
    smoothed over a few milliseconds so it does not click. Returns `audio` itself when no peak
    is over the ceiling."""
    region, gain = _limiter_gain(audio, ceiling, lookahead_s)
    if region is None:
        return audio
    out = audio.copy()
    out[region] *= gain[:, None]
    return out


def _limiter_gain(audio: np.ndarray, ceiling: float, lookahead_s: float) -> tuple[np.ndarray | None, np.ndarray]:
    """Where the limiter turns the gain down (sample indices) and the gain there. The gain curve is
    1 except within a window and a half of a peak over the ceiling, so only those stretches are
    computed: a 30-second piece has a few peaks, and the whole-signal curve cost a twelfth of its render."""
    peaks = np.abs(audio).max(axis=1) if audio.shape[1] != 2 else np.maximum(np.abs(audio[:, 0]), np.abs(audio[:, 1]))
    over = np.flatnonzero(peaks > ceiling)
    if over.size == 0:
        return None, np.ones(0, dtype=np.float32)
    window = max(1, int(lookahead_s * SAMPLE_RATE))
    # stretches around the peaks, padded by more than the curve reaches (a window for the minimum,
    # half a window for the mean): where stretches meet in `region`, each side sees only 1s
    region = _stretches(over, 3 * window + 2, len(peaks))
    needed = np.minimum(np.float32(1.0), np.float32(ceiling) / np.maximum(peaks[region], np.float32(1e-9)))
    gain = running_mean(running_min(needed, 2 * window + 1), window)
    return region, np.minimum(gain, needed)


def _stretches(indices: np.ndarray, radius: int, size: int) -> np.ndarray:
    """Every index within `radius` of one of the sorted `indices`, in order, each once."""
    starts, ends = np.maximum(indices - radius, 0), np.minimum(indices + radius + 1, size)
    breaks = np.flatnonzero(starts[1:] > ends[:-1]) + 1  # ends rise with the sorted indices
    first, last = starts[np.r_[0, breaks]], ends[np.r_[breaks - 1, len(ends) - 1]]
    lengths = last - first
    before = np.concatenate([[0], np.cumsum(lengths)[:-1]])
    return np.repeat(first - before, lengths) + np.arange(int(lengths.sum()))


def normalise(audio: np.ndarray) -> np.ndarray:
    """Gain to -14 LUFS, then limit peaks under -1 dBFS; twice, since limiting lowers loudness a little.

    The signal is K-weighted once: the weighting is linear, so the limited signal's weighted copy is
    the scaled one plus the weighted change, which is zero outside the limited stretches and the
    filters' short ring after them."""
    ceiling = 10 ** (PEAK_CEILING_DB / 20) * 0.98
    audio = audio.astype(np.float32)
    weighted = k_weighted(audio, SAMPLE_RATE)
    for attempt in range(2):
        loudness = weighted_lufs(weighted, SAMPLE_RATE)
        if not np.isfinite(loudness):
            return audio
        gain = np.float32(10 ** ((TARGET_LUFS - loudness) / 20))
        scaled = audio * gain
        region, curve = _limiter_gain(scaled, ceiling, 0.003)
        if region is None:  # nothing was limited: the loudness is on target already
            return scaled
        audio = scaled.copy()
        audio[region] *= curve[:, None]
        if attempt == 0:
            weighted = weighted * gain
            _add_weighted_change(weighted, audio - scaled, region)
    return audio


FILTER_RING_S = 0.1  # the K-weighting's impulse response is under 1e-7 of its peak after this


def _add_weighted_change(weighted: np.ndarray, change: np.ndarray, region: np.ndarray) -> None:
    """weighted += K(change), where `change` is zero outside `region`: the filters run only over
    the changed stretches and their ring (zeros between stretches let each ring die out first)."""
    ring = _stretches(region, int(FILTER_RING_S * SAMPLE_RATE), len(change))
    # a stretch of the ring starts at least a ring's length before its first change: the filters
    # start from rest there, as they would running over the zeros before it
    weighted[ring] += k_weighted(change[ring], SAMPLE_RATE).astype(weighted.dtype)
