"""Singing voices: the `female` and `male` voices sing the request's lyrics on the melody.

Before the melody, `with_syllable_plan(plan)` lays the lyrics' syllables over the phrases, so the
melody engines write one note per syllable. Then two steps, so the symbolic stage stays cheap and
the MIDI carries the words:
- `prepare(plan, score)` (symbolic): lyrics → syllables → text-setting onto the `vocals` track;
  fills `score.lyrics` and moves the line into the singer's range. Returns the `SungLine`.
- `Vocalist.sing(line, score, voice)` (audio): speaks the syllables with the offline Joe voice
  (piper-tts) and re-pitches/stretches each onto its notes with the WORLD vocoder.
"""

from __future__ import annotations

from composer.plan import Plan
from composer.music.score import Score
from composer.sing.lyrics import Lyrics, words_from_text
from composer.sing.phrasing import lyric_syllables, lyrics_text, with_syllable_plan
from composer.sing.setting import SungLine, SungSyllable, set_planned, set_text
from composer.sing.singers import Singer, fit_range, singer_for
from composer.sing.syllables import Syllable, syllabify

__all__ = ["Lyrics", "Singer", "SungLine", "SungSyllable", "Syllable", "Vocalist", "get_vocalist",
           "lyrics_text", "prepare", "syllabify", "with_syllable_plan", "words_from_text"]


def prepare(plan: Plan, score: Score) -> SungLine | None:
    """Set the lyrics onto the vocals track of `score` (in place); None when nothing sings."""
    track = score.track("vocals")
    if not plan.voice.sings or track is None or not track.notes:
        return None
    lyrics, syllables, _ = lyric_syllables(plan)
    track.notes, _ = fit_range(track.notes, singer_for(plan.voice.name))
    if plan.syllables is not None and plan.syllables.lyric_syllables == len(syllables):
        line = set_planned(syllables, track.notes, plan.meter, plan.syllables)
    else:  # a melody written without the words: fit them to whatever notes there are
        starts = [s.start_bar * plan.bar_quarters for s in plan.sections]
        line = set_text(syllables, track.notes, plan.meter, starts)
    line.notes[:0] = lyrics.notes
    line.text = " ".join(lyrics.words)
    score.lyrics = line.lyrics()
    return line


def get_vocalist():
    from composer.sing.vocalist import get_vocalist as _get

    return _get()


def __getattr__(name: str):
    if name == "Vocalist":
        from composer.sing.vocalist import Vocalist

        return Vocalist
    raise AttributeError(name)
