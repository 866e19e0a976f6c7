"""The vocalist: a text-set line → a dry vocal track (mono float32 at the render sample rate).

Each distinct syllable is spoken once, its vowel held about as long as it is sung (a repeated
chorus costs nothing extra), analysed once, and sung as many times as the setting asks.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import numpy as np
from scipy.signal import resample_poly

from composer.audio.render import SAMPLE_RATE
from composer.music.score import Score
from composer.sing.setting import SungLine
from composer.sing.singers import singer_for
from composer.sing.speech import Speaker, get_speaker
from composer.sing.syllables import Syllable
from composer.sing.vocoder import Event, analyse, hold_lengths, layout, sing_events
from composer.singleton import ProcessSingleton

TARGET_RMS = 0.1  # while singing; the mix sets the final level
HOLD_CAP_S = 0.25  # the voice holds a vowel up to this long; the vocoder slows it beyond


def voice_holds(syllables: list[Syllable], events: list[Event]) -> list[float]:
    """How long the voice holds each spoken syllable's vowel when it sings these events: the one
    rule the vocalist, the spoken-held evaluation and `bench sing` share."""
    return hold_lengths(events, len(syllables), HOLD_CAP_S)


@dataclass
class Vocal:
    audio: np.ndarray  # mono float32 at SAMPLE_RATE
    events: list[Event]  # what was sung where (seconds), for evaluation


class Vocalist:
    def __init__(self, speaker: Speaker | None = None):
        self.speaker = speaker or get_speaker()
        self._lock = threading.Lock()

    def sing(self, line: SungLine, score: Score, voice: str) -> Vocal:
        length_s = score.duration_s + 1.0
        if not line.syllables:
            return Vocal(np.zeros(int(length_s * SAMPLE_RATE), dtype=np.float32), [])
        distinct = line.spoken_syllables()
        events = layout(line, score.seconds_per_quarter)
        with self._lock:
            speech = self.speaker.speak(distinct, voice_holds(distinct, events))
        world = analyse(speech)
        audio = sing_events(events, speech, world, singer_for(voice), length_s)
        audio = resample_poly(audio, SAMPLE_RATE, speech.sample_rate).astype(np.float32)
        audio = audio[: int(length_s * SAMPLE_RATE)]
        active = np.abs(audio) > 1e-4
        rms = float(np.sqrt(np.mean(audio[active] ** 2))) if active.any() else 0.0
        if rms > 0:
            audio *= TARGET_RMS / rms
        return Vocal(audio, events)


_vocalist = ProcessSingleton(Vocalist)


def get_vocalist() -> Vocalist:
    return _vocalist.get()
