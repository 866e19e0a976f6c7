"""Score → Standard MIDI File bytes. Same score, same bytes: nothing here depends on time or order of dicts."""

from __future__ import annotations

import io
import unicodedata

import mido

from composer.music.score import Score, Track

TICKS_PER_QUARTER = 480
CHORD_PREFIX = "chord:"


def _key_signature(score: Score) -> str:
    tonic, mode = score.key_name.split()
    return tonic + ("m" if mode == "minor" else "")


def _text(value: str, fallback: str = "") -> str:
    """MIDI text is latin-1: accents survive, emoji and other scripts are dropped, never a crash."""
    text = unicodedata.normalize("NFC", value).encode("latin-1", "ignore").decode("latin-1").strip()
    return text or fallback


def _ticks(quarters: float) -> int:
    return max(0, round(quarters * TICKS_PER_QUARTER))


def _track(track: Track, end_tick: int, lyrics: list[tuple[float, str]]) -> mido.MidiTrack:
    events: list[tuple[int, int, mido.Message | mido.MetaMessage]] = []
    ch = track.channel
    for n in track.notes:
        on, off = _ticks(n.start), max(_ticks(n.start) + 1, _ticks(n.end))
        events.append((on, 2, mido.Message("note_on", channel=ch, note=n.pitch, velocity=n.velocity)))
        events.append((off, 0, mido.Message("note_off", channel=ch, note=n.pitch, velocity=0)))
    for start, syllable in lyrics:
        events.append((_ticks(start), 1, mido.MetaMessage("lyrics", text=_text(syllable))))
    events.sort(key=lambda e: (e[0], e[1], getattr(e[2], "note", 0)))
    mt = mido.MidiTrack()
    mt.append(mido.MetaMessage("track_name", name=_text(track.name), time=0))
    mt.append(mido.MetaMessage("instrument_name", name=_text(track.instrument or track.name), time=0))
    if not track.is_drums or track.program:  # on channel 10 a program change picks the drum kit
        mt.append(mido.Message("program_change", channel=ch, program=track.program, time=0))
    mt.append(mido.Message("control_change", channel=ch, control=7, value=track.volume, time=0))
    mt.append(mido.Message("control_change", channel=ch, control=10, value=track.pan, time=0))
    mt.append(mido.Message("control_change", channel=ch, control=91, value=track.reverb_send, time=0))
    now = 0
    for tick, _, msg in events:
        mt.append(msg.copy(time=tick - now))
        now = tick
    mt.append(mido.MetaMessage("end_of_track", time=max(0, end_tick - now)))
    return mt


def to_midi(score: Score) -> mido.MidiFile:
    mid = mido.MidiFile(type=1, ticks_per_beat=TICKS_PER_QUARTER)
    end_tick = _ticks(score.total_quarters)
    conductor = mido.MidiTrack()
    conductor.append(mido.MetaMessage("track_name", name=_text(score.title, "Muse"), time=0))
    conductor.append(mido.MetaMessage("set_tempo", tempo=mido.bpm2tempo(score.tempo), time=0))
    conductor.append(mido.MetaMessage("time_signature", numerator=score.numerator,
                                      denominator=score.denominator, time=0))
    conductor.append(mido.MetaMessage("key_signature", key=_key_signature(score), time=0))
    # Section markers and chord symbols: DAWs show them, and analysis reads the chords back.
    labels = [(_ticks(q), 0, mido.MetaMessage("marker", text=_text(name))) for q, name in score.sections]
    labels += [(_ticks(q), 1, mido.MetaMessage("text", text=f"{CHORD_PREFIX}{name}")) for q, name in score.chords]
    now = 0
    for tick, _, msg in sorted(labels, key=lambda e: (e[0], e[1])):
        conductor.append(msg.copy(time=tick - now))
        now = tick
    conductor.append(mido.MetaMessage("end_of_track", time=max(0, end_tick - now)))
    mid.tracks.append(conductor)
    for track in score.tracks:
        lyrics = score.lyrics if track.name == "vocals" else []
        mid.tracks.append(_track(track, end_tick, lyrics))
    return mid


def midi_bytes(score: Score) -> bytes:
    buffer = io.BytesIO()
    to_midi(score).save(file=buffer)
    return buffer.getvalue()
