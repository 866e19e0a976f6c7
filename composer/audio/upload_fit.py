"""Fit audio under the upload limit: first a lower bitrate, then a shorter preview. Never a 413.

Blocking (encodes audio): run it in the executor.
"""

from __future__ import annotations

import numpy as np

from composer.audio.encode import encode_audio
from composer.audio.render import SAMPLE_RATE

# Lower bitrates to try, per format; WAV has none, so it goes straight to MP3 previews.
BITRATE_LADDER = {"mp3": ("128", "96", "64", "32"), "ogg": ("128", "96", "64"), "wav": ()}
PREVIEW_FORMAT = {"mp3": "mp3", "ogg": "ogg", "wav": "mp3"}
SAFETY_BYTES = 512  # multipart framing and rounding
FADE_S = 1.0


def _preview(audio: np.ndarray, seconds: float) -> np.ndarray:
    """The first `seconds` of (frames, channels) audio, faded out over the last second."""
    frames = min(len(audio), max(1, int(seconds * SAMPLE_RATE)))
    clip = np.array(audio[:frames], dtype=np.float32)
    fade = min(frames, int(FADE_S * SAMPLE_RATE))
    clip[frames - fade:] *= np.linspace(1.0, 0.0, fade, dtype=np.float32)[:, None]
    return clip


def fit_audio(data: bytes, audio: np.ndarray, fmt: str, limit_bytes: int) -> tuple[bytes, str, str | None]:
    """Return (bytes, format, note): the audio as sent, and a line saying what was given up, if anything."""
    budget = limit_bytes - SAFETY_BYTES
    if len(data) <= budget:
        return data, fmt, None
    for quality in BITRATE_LADDER[fmt]:
        smaller = encode_audio(audio, fmt, quality)
        if len(smaller) <= budget:
            return smaller, fmt, f"audio sent at {quality} kbps to fit Discord's upload limit"
    preview_fmt = PREVIEW_FORMAT[fmt]
    quality = BITRATE_LADDER[preview_fmt][-1]
    full_s = len(audio) / SAMPLE_RATE
    bytes_per_s = len(encode_audio(audio, preview_fmt, quality)) / max(full_s, 0.1)
    seconds = min(full_s, budget / bytes_per_s * 0.95)
    while seconds >= 1.0:
        encoded = encode_audio(_preview(audio, seconds), preview_fmt, quality)
        if len(encoded) <= budget:
            return encoded, preview_fmt, (f"audio is a {round(seconds)} s preview of {round(full_s)} s to fit "
                                          f"Discord's upload limit; the MIDI file has the whole piece")
        seconds *= 0.8
    return b"", preview_fmt, "audio left out: it cannot fit Discord's upload limit; the MIDI file has the whole piece"
