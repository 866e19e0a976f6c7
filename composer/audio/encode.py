"""Master audio → MP3 / OGG / WAV files, and the bitrate ladder that keeps a file under a size limit."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from pedalboard.io import AudioFile

from composer.errors import RenderError
from composer.audio.render import SAMPLE_RATE

AUDIO_FORMATS = ("mp3", "ogg", "wav")
# pedalboard's `quality`: LAME VBR preset V2 (about 190 kbps, the fastest near-transparent setting), Vorbis kbps.
DEFAULT_QUALITY = {"mp3": "V2", "ogg": "160"}


def write_audio(audio: np.ndarray, path: Path, fmt: str, quality: str | None = None) -> Path:
    if fmt not in AUDIO_FORMATS:
        raise RenderError(f"audio format must be one of {', '.join(AUDIO_FORMATS)}, got {fmt!r}")
    tmp = path.with_name(f".{path.name}.tmp.{fmt}")
    kwargs = {}
    if fmt in DEFAULT_QUALITY:
        kwargs["quality"] = quality or DEFAULT_QUALITY[fmt]
    try:
        with AudioFile(str(tmp), "w", samplerate=SAMPLE_RATE, num_channels=2,
                       **({"bit_depth": 16} if fmt == "wav" else kwargs)) as f:
            f.write(np.ascontiguousarray(audio.T, dtype=np.float32))
        tmp.replace(path)
    except Exception as exc:
        tmp.unlink(missing_ok=True)
        raise RenderError(f"could not write {fmt} audio: {exc}") from exc
    return path


def read_audio(path: Path) -> tuple[np.ndarray, int]:
    """Decode any supported file to (frames, channels) float32 — used by tests and remix."""
    with AudioFile(str(path)) as f:
        data = f.read(f.frames)
        return data.T, int(f.samplerate)
