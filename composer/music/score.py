"""Notes and tracks in quarter-note time: what the arranger builds and the MIDI writer, renderer,
picture and analysis read."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

DRUM_CHANNEL = 9  # MIDI channel 10


@dataclass(frozen=True)
class Note:
    start: float  # quarters from the start of the piece
    duration: float  # quarters
    pitch: int
    velocity: int

    @property
    def end(self) -> float:
        return self.start + self.duration


@dataclass
class Track:
    name: str  # "lead", "vocals", "harmony", "bass", "pad", "drums"
    program: int
    channel: int
    notes: list[Note] = field(default_factory=list)
    bus: str = "band"  # render group; effects apply per bus
    instrument: str = ""  # human name for descriptions
    volume: int = 100  # CC7
    pan: int = 64  # CC10
    reverb_send: int = 40  # CC91
    # a pack voice's own soundfont for this track: (SF2/SF3 path, bank, preset); None → the GM soundfont
    soundfont: tuple[str, int, int] | None = None

    @property
    def is_drums(self) -> bool:
        return self.channel == DRUM_CHANNEL


class Timed:
    """Seconds from quarter notes, for anything with a `tempo` (BPM) and a `total_quarters`."""

    tempo: int
    total_quarters: float

    @property
    def seconds_per_quarter(self) -> float:
        return 60.0 / self.tempo

    @property
    def duration_s(self) -> float:
        return self.total_quarters * self.seconds_per_quarter


@dataclass
class Score(Timed):
    """The arranged piece. Tracks keep their role names; the lead is `lead` or `vocals`."""

    tempo: int
    numerator: int
    denominator: int
    key_name: str  # "F major"
    key_sharps: int
    total_quarters: float
    tracks: list[Track]
    title: str = "Muse"
    lyrics: list[tuple[float, str]] = field(default_factory=list)  # (start quarter, syllable)
    chords: list[tuple[float, str]] = field(default_factory=list)  # (start quarter, chord name)
    sections: list[tuple[float, str]] = field(default_factory=list)  # (start quarter, section name)

    def track(self, name: str) -> Track | None:
        return next((t for t in self.tracks if t.name == name), None)

    @property
    def melody(self) -> Track:
        return self.track("vocals") or self.track("lead") or self.tracks[0]


def transpose(notes: list[Note], semitones: int) -> list[Note]:
    return [replace(n, pitch=min(127, max(0, n.pitch + semitones))) for n in notes]


def remove_overlaps(notes: list[Note]) -> list[Note]:
    """Cut each note where the next note of the same pitch starts, so no two sound at once."""
    by_pitch: dict[int, list[Note]] = {}
    for note in sorted(notes, key=lambda n: (n.pitch, n.start)):
        by_pitch.setdefault(note.pitch, []).append(note)
    out: list[Note] = []
    for same in by_pitch.values():
        for current, following in zip(same, same[1:] + [None]):
            if following is not None and current.end > following.start:
                if following.start - current.start < 1e-3:
                    continue  # same onset twice: keep only the later copy
                current = replace(current, duration=following.start - current.start)
            out.append(current)
    return sorted(out, key=lambda n: (n.start, n.pitch))
