"""Master audio → MP3 / OGG / WAV bytes, in memory (the caller decides where they go)."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
from pedalboard.io import AudioFile

from composer.audio.render import SAMPLE_RATE
from composer.errors import RenderError
from composer.options import AUDIO_FORMATS

# pedalboard's `quality`: LAME VBR preset V2 (about 190 kbps, the fastest near-transparent setting), Vorbis kbps.
DEFAULT_QUALITY = {"mp3": "V2", "ogg": "160"}


def encode_audio(audio: np.ndarray, fmt: str, quality: str | None = None) -> bytes:
    """(frames, channels) float32 audio as a file's bytes in `fmt`."""
    if fmt not in AUDIO_FORMATS:
        raise RenderError(f"audio format must be one of {', '.join(AUDIO_FORMATS)}, got {fmt!r}")
    options = {"bit_depth": 16} if fmt == "wav" else {"quality": quality or DEFAULT_QUALITY[fmt]}
    buffer = io.BytesIO()
    try:
        with AudioFile(buffer, "w", samplerate=SAMPLE_RATE, num_channels=2, format=fmt, **options) as f:
            f.write(np.ascontiguousarray(audio.T, dtype=np.float32))
    except Exception as exc:
        raise RenderError(f"could not encode {fmt} audio: {exc}") from exc
    return buffer.getvalue()


def read_audio(source: Path | bytes) -> tuple[np.ndarray, int]:
    """Decode a file or its bytes to (frames, channels) float32 — used by tests and evaluation."""
    with AudioFile(io.BytesIO(source) if isinstance(source, bytes) else str(source)) as f:
        data = f.read(f.frames)
        return data.T, int(f.samplerate)
