"""Melodies straight from ABC tokens: each ABC file is tokenized once by music21's ABCHandler and
every tune is read from its tokens, without building a music21 Stream per tune.

Building Streams cost about 4.8 s per tune; reading the tokens costs about 2 ms, which is what
makes the whole corpus (about 13,000 ABC tunes) fit in minutes. Repeats are written out
(`|: A :|`, first and second endings) so the model sees sections return as they are played.
"""

from __future__ import annotations

import math
import re

from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import lru_cache

from composer.music.theory import Key

MIN_NOTES = 8
INLINE_FIELD = re.compile(r"^\[([A-Za-z]):([^\]]*)\]$")
MAX_BAD_BARS = 1  # bars whose length fits neither the meter nor a split bar (transcription slips)


class Skip(Exception):
    """A tune that cannot give a melody; the message says why (counted in the data report)."""


@dataclass
class Segment:
    """The notes between two bar lines, with the repeat marks around them."""

    events: list[tuple[float, int | None, str | None]] = field(default_factory=list)  # (quarters, midi or None, tie)
    start_repeat: bool = False
    end_repeat: bool = False
    ending: int | None = None


@dataclass
class AbcTune:
    number: str
    title: str
    meter: str
    bar_quarters: float
    signature: Key | None
    notes: list[tuple[float, float, int]]  # (onset, duration, midi), bar lines at k * bar_quarters


@lru_cache(maxsize=512)
def _midi(name: str) -> int:
    from music21 import pitch

    return int(pitch.Pitch(name).midi)


def _signature(token) -> Key | None:
    from music21 import key as m21key

    try:
        obj = token.getKeySignatureObject()
    except Exception:  # noqa: BLE001 — odd K: fields ("K: none", "K: HP")
        return None
    if isinstance(obj, m21key.Key):
        mode = obj.mode if obj.mode in ("major", "minor") else None
        if mode:
            return Key(obj.tonic.pitchClass, mode)
        obj = obj.asKey("major")  # a church mode: read by its signature
        return Key(obj.tonic.pitchClass, "major")
    if obj is not None:
        return Key(obj.asKey("major").tonic.pitchClass, "major")
    return None


def _note_event(token) -> tuple[float, int | None, str | None] | None:
    from music21 import abcFormat

    if token.inGrace:
        return None
    length = float(token.quarterLength)
    if token.activeTuplet is not None:
        length *= float(token.activeTuplet.tupletMultiplier())
    if length <= 0:
        return None
    if isinstance(token, abcFormat.ABCChord):
        names = [t.pitchName for t in token.subTokens if isinstance(t, abcFormat.ABCNote) and t.pitchName]
        pitch = max((_midi(n) for n in names), default=None)
        if pitch is None:
            return None
    else:
        pitch = None if token.isRest or not token.pitchName else _midi(token.pitchName)
    return length, pitch, token.tie


def _inline_field(token):
    """An inline field (`[M:2/4]`, `[V:2]`, `[K:D]`) as metadata: music21 tokenizes it as a chord
    of no notes and applies nothing of it."""
    from music21 import abcFormat

    match = INLINE_FIELD.match(token.src)
    if match is None:
        return None
    meta = abcFormat.ABCMetadata(f"{match[1]}:{match[2]}")
    meta.preParse()
    if match[1] in "KL":
        raise Skip("inline key or length change")  # music21 read the notes after it in the old key / length
    return meta


def _segments(handler) -> tuple[list[Segment], str, float, Key | None, str]:
    """Bar segments, meter, bar length, stated key and title of one tune's tokens."""
    from music21 import abcFormat

    segments = [Segment()]
    meter, bar_q, signature, title = "", 0.0, None, ""
    pending_ending: int | None = None
    for token in handler.tokens:
        if isinstance(token, abcFormat.ABCChord):
            token = _inline_field(token) or token
        if isinstance(token, abcFormat.ABCMetadata):
            if token.isMeter():
                ts = token.getTimeSignatureObject()
                if ts is None:
                    continue
                if meter and ts.ratioString != meter:
                    raise Skip("meter change")
                meter, bar_q = ts.ratioString, float(ts.barDuration.quarterLength)
            elif token.isKey() and signature is None:
                signature = _signature(token)
            elif token.isTitle() and not title:
                title = token.data.strip()
            elif token.isVoice() and any(s.events for s in segments):
                raise Skip("several voices")
        elif isinstance(token, abcFormat.ABCBar):
            current = segments[-1]
            if token.isRepeat() and token.repeatForm in ("end", "start-end"):
                current.end_repeat = True
            bracket = token.isRepeatBracket()
            if bracket:
                pending_ending = bracket
            if current.events or len(segments) == 1:
                segments.append(Segment())
            new = segments[-1]
            if token.isRepeat() and token.repeatForm in ("start", "start-end"):
                new.start_repeat = True
            if pending_ending is not None and not new.events:
                new.ending, pending_ending = pending_ending, None
        elif isinstance(token, abcFormat.ABCNote):
            event = _note_event(token)
            if event is not None:
                segments[-1].events.append(event)
    if not meter:
        raise Skip("no meter")
    _carry_first_endings(segments)
    return [s for s in segments if s.events], meter, bar_q, signature, title


def _carry_first_endings(segments: list[Segment]) -> None:
    """A first ending lasts until its closing repeat sign."""
    for i, seg in enumerate(segments):
        if seg.ending == 1 and not seg.end_repeat:
            for nxt in segments[i + 1:]:
                if nxt.ending is not None:
                    break
                nxt.ending = 1
                if nxt.end_repeat:
                    break


def expand_repeats(segments: list[Segment]) -> list[Segment]:
    """The segments in playing order: each `|: … :|` twice, the first ending skipped the second time."""
    out: list[Segment] = []
    start, i, second, jumped = 0, 0, False, set()
    while i < len(segments):
        seg = segments[i]
        if seg.start_repeat and not second:
            start = i
        if second and seg.ending == 1:
            i += 1
            continue
        out.append(seg)
        if seg.end_repeat and i not in jumped:
            jumped.add(i)
            second, i = True, start
            continue
        if seg.end_repeat or (second and seg.ending == 2):
            second, start = False, i + 1
        i += 1
    return out


def _on_grid(time: float, bar_q: float) -> bool:
    return abs(time / bar_q - round(time / bar_q)) < 1e-3


def _lay_out(segments: list[Segment], bar_q: float) -> list[tuple[float, float, int]]:
    """Onsets with the pickup before bar 1 and tied notes merged. A bar line off the meter's grid
    is fine when the next bar completes it (a bar split by a repeat); otherwise the next bar starts
    on the grid again, and a tune with more than MAX_BAD_BARS such bars is skipped."""
    if not segments:
        raise Skip("no notes")
    lengths = [sum(length for length, _, _ in seg.events) for seg in segments]
    time = bar_q - lengths[0] if 0 < lengths[0] < bar_q - 1e-6 else 0.0
    notes: list[tuple[float, float, int]] = []
    bad, tie_open = 0, False
    for i, seg in enumerate(segments):
        for length, pitch, tie in seg.events:
            if pitch is not None and tie_open and notes and notes[-1][2] == pitch:
                on, d, p = notes[-1]
                notes[-1] = (on, d + length, p)
            elif pitch is not None:
                notes.append((time, length, pitch))
            tie_open = pitch is not None and tie in ("start", "continue")
            time += length
        last = i == len(segments) - 1
        if last or _on_grid(time, bar_q) or _on_grid(time + lengths[i + 1], bar_q):
            continue
        bad += 1
        time = math.ceil(time / bar_q) * bar_q
    if bad > MAX_BAD_BARS:
        raise Skip("irregular bars")
    return [(round(on, 4), round(d, 4), p) for on, d, p in notes]


def read_tune(handler, number: str) -> AbcTune:
    segments, meter, bar_q, signature, title = _segments(handler)
    notes = _lay_out(expand_repeats(segments), bar_q)
    if len(notes) < MIN_NOTES:
        raise Skip("too short")
    return AbcTune(number, title, meter, bar_q, signature, notes)


def read_file(text: str) -> Iterator[tuple[str, AbcTune | None, str]]:
    """(tune number, tune or None, why skipped) for every tune in one ABC file, tokenized once."""
    from music21 import abcFormat

    handler = abcFormat.ABCHandler()
    handler.process(text)
    tunes = handler.splitByReferenceNumber() if handler.definesReferenceNumbers() else {0: handler}
    for number, tune_handler in tunes.items():
        try:
            yield str(number), read_tune(tune_handler, str(number)), ""
        except Skip as why:
            yield str(number), None, str(why)
        except Exception as exc:  # noqa: BLE001 — music21 raises anything on odd tunes
            yield str(number), None, f"error: {type(exc).__name__}"
