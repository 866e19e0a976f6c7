"""WORLD vocoder: re-pitch and re-time spoken syllables onto their notes.

Speech (with vowels already held by the voice) is analysed once (F0, spectral envelope,
aperiodicity per 5 ms frame). Then the words are laid out the way singers time them: each vowel
lands on its beat and carries the note, its middle slowed where the note is longer than the held
vowel. A phrase's first onset consonants keep their spoken length and start at most LEAD_S before
the beat; what is longer runs on into the start of the note, and the vowel follows it (all of it
does where there is no room, as for a line that starts the piece). Inside a phrase, what lies
between two vowels in the speech (the coda, the pause between the words, the next onset) keeps
its spoken length, so the words are parted as the voice parted them. Before a breath or a rest,
the coda keeps its spoken length at the end of the note and the voice is released. ("Spoken" here
is the voice's own output, whose codas and word pauses are already drawn out for singing:
composer/sing/speech.py.) F0 is the note's pitch with a short glide from the previous note and a
delayed, moderate vibrato; the female singer's envelope is stretched up the frequency axis.
`pulses` then synthesises the whole line the way WORLD does, batched over pulses.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

from composer.sing import pulses
from composer.sing.setting import SungLine
from composer.sing.singers import Singer
from composer.sing.speech import Speech

FRAME_MS = 5.0
GLIDE_S = 0.03  # portamento into a note from the one before
VIBRATO_DELAY_S = 0.22
VIBRATO_RAMP_S = 0.25
ATTACK_S = 0.008
RELEASE_S = 0.025
MAX_HELD_S = 1.0  # a longer note is released after this long and the band carries it: a vowel held
# for seconds blurs the words around it (the recogniser in evaluation/judges.py lost more of them)
BREAK_S = 0.12  # a rest this long between two syllables parts them: the first is released
MIN_VOWEL_SHARE = 0.5  # the consonants between two vowels are sped up where they would leave the
# first vowel less than this share of the time to the next beat (or less than its spoken length)
MAX_ONSET_S = 0.2  # a phrase's first onset consonants, longer than this, are sped up to fit
LEAD_S = 0.03  # ... and start at most this long before the beat, the rest sung into the note: a
# syllable is heard to begin where its first consonant does (the h of "happy" sung in full before
# the beat was heard 45 ms early)
LEAD_SHARE = 0.45  # ... and at most this share of the time since the previous syllable began
CODA_SHARE = 0.35  # a coda keeps its spoken length up to this share of the syllable
HOLD_HEAD, HOLD_TAIL = 0.4, 0.3  # a held vowel's natural start and end; the middle is slowed
QUIET_DB = 50.0  # coda frames this far under the vowel's peak count as silence (at 30 dB, weak
# codas such as the f of "half" or the t of "past" were cut as silence and fewer words heard)
SILENT_POWER = 1e-14
VOWEL_MAX_AP = 0.5  # a sung vowel is voiced even where the spoken one trailed off into breath
SYNTH_BINS = 257  # WORLD synthesis with a 512-point FFT: envelopes are smooth, and cost scales with size


def _pyworld():
    with warnings.catch_warnings():  # pyworld imports pkg_resources, which warns about itself
        warnings.simplefilter("ignore")
        import pyworld
    return pyworld


@dataclass
class World:
    f0: np.ndarray  # Hz per frame, 0 unvoiced
    sp: np.ndarray  # (frames, bins) power spectral envelope
    ap: np.ndarray  # (frames, bins) aperiodicity
    sample_rate: int
    level_db: np.ndarray  # frame loudness: dB of the envelope's total power

    @property
    def frames(self) -> int:
        return len(self.f0)


def analyse(speech: Speech) -> World:
    pw = _pyworld()
    x = speech.audio.astype(np.float64)
    fs = speech.sample_rate
    f0, t = pw.dio(x, fs, f0_floor=60.0, f0_ceil=400.0, frame_period=FRAME_MS)
    f0 = pw.stonemask(x, f0, t, fs)
    sp = pw.cheaptrick(x, f0, t, fs)
    ap = pw.d4c(x, f0, t, fs)
    return World(f0, sp, ap, fs, 10 * np.log10(sp.sum(axis=1) + 1e-20))


def midi_hz(pitch: float | np.ndarray) -> float | np.ndarray:
    return 440.0 * 2.0 ** ((pitch - 69.0) / 12.0)


def _stretch(first: int, count: int, out: int) -> np.ndarray:
    """Source frame indexes for a vowel of `count` frames sung over `out` frames: its start and
    end at natural speed (consonant transitions, diphthong glides), its middle slowed to fill."""
    if out <= count:
        return first + np.floor(np.linspace(0, count, out, endpoint=False)).astype(int)
    head, tail = int(count * HOLD_HEAD), int(count * HOLD_TAIL)
    where = np.interp(np.arange(out), [0, head, out - tail, out], [0, head, count - tail, count])
    return first + np.minimum(count - 1, np.floor(where)).astype(int)


def _resample(first: int, count: int, out: int) -> np.ndarray:
    if out <= 0:
        return np.zeros(0, dtype=int)
    if count <= 0:
        return np.full(out, first, dtype=int)
    return first + np.floor(np.linspace(0, count, out, endpoint=False)).astype(int)


def _warp(matrix: np.ndarray, ratio: float, bins: int) -> np.ndarray:
    """Stretch each frame's spectrum up the frequency axis by `ratio` (formants move up) and
    resample it to `bins` bins over the same 0..Nyquist range."""
    source = np.arange(bins) * ((matrix.shape[1] - 1) / (bins - 1)) / ratio
    low = np.floor(source).astype(int)
    frac = source - low
    high = np.minimum(low + 1, bins - 1)
    return np.ascontiguousarray(matrix[:, low] * (1 - frac) + matrix[:, high] * frac)


@dataclass
class Event:
    """One sung syllable laid out in seconds."""

    start_s: float
    end_s: float
    notes: list[tuple[float, float, int]]  # (start s, end s, pitch) of each note it spans
    part_index: int  # which spoken syllable
    velocity: int
    breath: bool = False  # the last syllable before a breath


def layout(line: SungLine, seconds_per_quarter: float) -> list[Event]:
    """Sung syllables in seconds; `start_s` is the beat the vowel lands on, `part_index` where the
    syllable is in `line.spoken_syllables()` (what the voice speaks)."""
    spoken_index = {id(syllable): k for k, syllable in enumerate(line.spoken_syllables())}
    events: list[Event] = []
    for k, sung in enumerate(line.syllables):
        start = sung.start * seconds_per_quarter
        end = sung.end * seconds_per_quarter
        if k + 1 < len(line.syllables):
            following = line.syllables[k + 1].start * seconds_per_quarter
            if sung.phrase_end and following - end < BREAK_S:
                end -= min(0.2, 0.25 * (end - start))  # breathe before the next phrase
            end = min(end, following)
        end = min(end, start + MAX_HELD_S)
        notes = [(n.start * seconds_per_quarter, n.end * seconds_per_quarter, n.pitch) for n in sung.notes]
        velocity = round(sum(n.velocity for n in sung.notes) / len(sung.notes))
        events.append(Event(start, max(start + 0.03, end), notes, spoken_index[id(sung.syllable)], velocity,
                            sung.phrase_end))
    return events


def hold_lengths(events: list[Event], parts: int, cap_s: float) -> list[float]:
    """How long the voice should hold each spoken syllable's vowel: most of its typical sung
    length, up to `cap_s` (longer notes slow the held vowel's middle)."""
    lengths: list[list[float]] = [[] for _ in range(parts)]
    for event in events:
        lengths[event.part_index].append(event.end_s - event.start_s)
    return [min(cap_s, 0.75 * float(np.median(x))) if x else 0.0 for x in lengths]


def _part_frames(event: Event, speech: Speech, world: World) -> tuple[int, int, int, int]:
    """(start, vowel start, vowel end, end) analysis frames of the event's spoken syllable."""
    hop = FRAME_MS / 1000.0
    part = speech.parts[event.part_index]
    to_frame = lambda sample: min(world.frames - 1, int(round(sample / speech.sample_rate / hop)))  # noqa: E731
    a, v0, v1, b = (to_frame(x) for x in (part.start, part.vowel_start, part.vowel_end, part.end))
    return a, v0, max(v1, v0 + 1), b


def _without_fade(frames: tuple[int, int, int, int], world: World) -> tuple[int, int, int, int]:
    """`_part_frames` with a coda's fade into silence dropped (for a syllable sung before a rest)."""
    a, v0, v1, b = frames
    loud = world.level_db[v1:b] > world.level_db[v0:v1].max() - QUIET_DB
    while b > v1 and not loud[-1]:
        b, loud = b - 1, loud[:-1]
    return a, v0, v1, max(b, v1)


def _pitch_curve(event: Event, times: np.ndarray, singer: Singer, previous_pitch: float | None,
                 sung_from: float | None = None) -> np.ndarray:
    """Semitones per frame: each note's pitch, a glide into the first from the previous note
    (starting with the consonants, so the vowel arrives in tune), and a delayed vibrato."""
    semis = np.zeros(len(times))
    prev = previous_pitch
    for k, (n_start, n_end, pitch) in enumerate(event.notes):
        mask = times >= n_start - 1e-9 if k else np.ones(len(times), dtype=bool)
        glide_from = (times[0] if sung_from is None else sung_from) if k == 0 else n_start
        curve = np.full(len(times), float(pitch))
        if prev is not None and prev != pitch:
            glide = np.clip((times - glide_from) / GLIDE_S, 0.0, 1.0)
            glide = glide * glide * (3 - 2 * glide)
            curve = prev + (pitch - prev) * glide
        if n_end - n_start > VIBRATO_DELAY_S + 0.1:
            since = np.maximum(0.0, times - max(n_start, event.start_s) - VIBRATO_DELAY_S)
            depth = np.clip(since / VIBRATO_RAMP_S, 0.0, 1.0) * singer.vibrato_cents / 100.0
            curve = curve + depth * np.sin(2 * np.pi * singer.vibrato_hz * since)
        semis = np.where(mask, curve, semis)
        prev = pitch
    return semis


@dataclass(frozen=True)
class Lead:
    """A syllable's onset consonants: sung `before_s` ahead of the beat and `inside_s` after it."""

    before_s: float
    inside_s: float = 0.0


def _leads(events: list[Event], spoken: list[tuple[int, int, int, int]]) -> list[Lead]:
    """Where each syllable's onset consonants go, at their spoken length (up to MAX_ONSET_S): up
    to LEAD_S before the beat, within reach of the previous syllable (which then ends earlier); the
    rest goes into the start of the note, up to a third of it, so no consonant is dropped."""
    hop = FRAME_MS / 1000.0
    leads = []
    for k, (event, (a, v0, _, _)) in enumerate(zip(events, spoken)):
        wanted = min((v0 - a) * hop, MAX_ONSET_S)
        room = event.start_s - (events[k - 1].start_s if k else 0.0)
        before = min(wanted, LEAD_S, LEAD_SHARE * room)
        inside = min(wanted - before, (event.end_s - event.start_s) / 3)
        leads.append(Lead(before, max(0.0, inside)))
    return leads


def _source_parameters(speech: Speech, world: World, singer: Singer) -> tuple[np.ndarray, np.ndarray]:
    """Spoken frames ready to sing: formants moved for the singer, vowels kept voiced, breath added."""
    sp = np.maximum(_warp(world.sp, singer.formant_ratio, SYNTH_BINS), SILENT_POWER)
    ap = _warp(world.ap, singer.formant_ratio, SYNTH_BINS)
    if singer.breathiness:
        ap = ap + singer.breathiness * (1.0 - ap) * np.linspace(0.2, 1.0, ap.shape[1])
    ap = np.clip(ap, 0.001, 0.999)
    hop_samples = speech.sample_rate * FRAME_MS / 1000.0
    vowel = np.zeros(world.frames, dtype=bool)
    for part in speech.parts:
        vowel[int(part.vowel_start / hop_samples):int(np.ceil(part.vowel_end / hop_samples))] = True
    breathy = vowel & (world.f0 == 0)
    ap[breathy] = np.minimum(ap[breathy], VOWEL_MAX_AP)
    return sp, ap


def _joined(events: list[Event]) -> list[bool]:
    """Whether each syllable flows into the next: the next spoken syllable follows, with no breath
    and no rest of BREAK_S or more between them."""
    return [k + 1 < len(events) and not event.breath and events[k + 1].part_index == event.part_index + 1
            and events[k + 1].start_s - event.end_s < BREAK_S for k, event in enumerate(events)]


class SungFrames:
    """The sung line as WORLD frames: F0, the analysis frame each one sings, and its gain."""

    def __init__(self, frames: int):
        self.f0 = np.zeros(frames)
        self.source = np.full(frames, -1)
        self.gain = np.zeros(frames)

    def write(self, first: int, f0: np.ndarray, index: np.ndarray, gain: np.ndarray) -> None:
        skip = max(0, -first)
        first = max(0, first)
        count = max(0, min(len(index) - skip, len(self.f0) - first))
        self.f0[first:first + count] = f0[skip:skip + count]
        self.source[first:first + count] = index[skip:skip + count]
        self.gain[first:first + count] = gain[skip:skip + count]


def _voiced_f0(event: Event, first: int, index: np.ndarray, in_vowel: np.ndarray, world: World, singer: Singer,
               previous_pitch: float | None, sung_from: int | None = None) -> np.ndarray:
    """F0 per frame from output frame `first`: the note's pitch curve where the speech is voiced or
    a vowel is sung, 0 elsewhere. The glide from the previous note starts where the syllable's
    first sound does (`sung_from`, when its onset was written before `first`)."""
    hop = FRAME_MS / 1000.0
    semis = _pitch_curve(event, first * hop + np.arange(len(index)) * hop, singer, previous_pitch,
                         None if sung_from is None else sung_from * hop)
    voiced = (world.f0[index] > 0) | in_vowel
    return np.where(voiced, midi_hz(semis), 0.0)


def _level(event: Event) -> float:
    return 0.6 + 0.4 * event.velocity / 110.0


def sing_events(events: list[Event], speech: Speech, world: World, singer: Singer,
                length_s: float) -> np.ndarray:
    """Mono float32 audio at the speech sample rate, `length_s` long.

    A run of syllables sung in one breath is one time-warp of the spoken words: each vowel starts
    on its beat and is slowed to fill its note, and what lies between two vowels in the speech
    (the coda, the pause between words, the next onset) keeps its spoken length, sped up only
    where it would leave the vowel too little of the note. Cutting each syllable out on its own
    and parting words by silence lost more words (evaluation/singing.py: 71.8% / 71.3% of the
    words recognised on the dry vocal, male / female, against 81.0% / 79.3% sung this way)."""
    track = lay_out_frames(events, speech, world, singer, int(length_s / (FRAME_MS / 1000.0)) + 1)
    sp, ap = _source_parameters(speech, world, singer)
    audio = pulses.synthesize(track.f0, track.source, track.gain, sp, ap, world.sample_rate, FRAME_MS, seed=len(events))
    return np.nan_to_num(audio).astype(np.float32)


def _into_next(part: tuple[int, int, int, int], following: tuple[int, int, int, int],
               span: int) -> tuple[int, np.ndarray, np.ndarray]:
    """A syllable joined to the next over `span` output frames from its vowel to the next beat:
    (its vowel's length in output frames; its coda and the pause after it; the next onset), the last
    two as analysis frames at their spoken pace, sped up only where the vowel would otherwise get
    less than MIN_VOWEL_SHARE of the span."""
    _, v0, v1, _ = part
    natural = following[1] - v1  # coda, pause, next onset
    vowel = max(1, span - natural, min(v1 - v0, int(MIN_VOWEL_SHARE * span)))
    between = _resample(v1, natural, max(0, span - vowel))
    split = int(np.searchsorted(between, following[0]))
    return vowel, between[:split], between[split:]


def lay_out_frames(events: list[Event], speech: Speech, world: World, singer: Singer, frames: int) -> SungFrames:
    """Which analysis frame is sung at each output frame, at what F0 and gain (see `sing_events`)."""
    hop = FRAME_MS / 1000.0
    frame = lambda seconds: int(round(seconds / hop))  # noqa: E731
    track = SungFrames(frames)
    whole = [_part_frames(event, speech, world) for event in events]
    spoken = [_without_fade(part, world) for part in whole]
    leads = _leads(events, spoken)
    joined = _joined(events)
    previous_pitch: float | None = None
    last_end = -1.0
    opening = True  # the first syllable of a run: its onset consonants are laid out here
    onset_from = 0  # inside a run: where this syllable's onset, and its glide, began (output frame)
    for k, event in enumerate(events):
        a, v0, v1, _ = whole[k]
        beat = frame(event.start_s)
        if opening:
            before, inside = frame(leads[k].before_s), frame(leads[k].inside_s)
            onset = _resample(a, v0 - a, before + inside)
            start, vowel_from = beat - before, beat + inside
            legato = event.start_s - leads[k].before_s - last_end < BREAK_S
            glide_from = previous_pitch if legato else None
        else:  # the onset was sung as the end of the previous syllable
            onset, start, vowel_from, glide_from = np.zeros(0, dtype=int), beat, beat, previous_pitch
        if joined[k]:
            vowel, tail, next_onset = _into_next(whole[k], whole[k + 1], frame(events[k + 1].start_s) - vowel_from)
        else:
            end = frame(event.end_s)
            if k + 1 < len(events):  # make way for the next syllable's consonants
                end = min(end, frame(events[k + 1].start_s - leads[k + 1].before_s))
            coda_frames = spoken[k][3] - v1
            coda = min(coda_frames, int(max(2, end - beat) * CODA_SHARE))
            vowel, tail = max(1, end - vowel_from - coda), _resample(v1, coda_frames, coda)
            next_onset = np.zeros(0, dtype=int)
        index = np.clip(np.concatenate([onset, _stretch(v0, v1 - v0, vowel), tail]), 0, world.frames - 1)
        in_vowel = np.zeros(len(index), dtype=bool)
        in_vowel[len(onset):len(onset) + vowel] = True
        gain = np.full(len(index), _level(event))
        if opening:
            attack = min(len(gain), max(1, int(ATTACK_S / hop)))
            gain[:attack] *= np.linspace(0.3, 1.0, attack)
        if not joined[k]:
            release = min(len(gain), max(1, int(RELEASE_S / hop)))
            gain[len(gain) - release:] *= np.linspace(1.0, 0.0, release)
        f0 = _voiced_f0(event, start, index, in_vowel, world, singer, glide_from, None if opening else onset_from)
        track.write(start, f0, index, gain)
        previous_pitch = float(event.notes[-1][2])
        onset_from = start + len(index)
        if len(next_onset):  # sung at the next syllable's pitch, gliding from this note
            following = events[k + 1]
            next_onset = np.clip(next_onset, 0, world.frames - 1)
            consonants = np.zeros(len(next_onset), dtype=bool)
            f0 = _voiced_f0(following, onset_from, next_onset, consonants, world, singer, previous_pitch)
            track.write(onset_from, f0, next_onset, np.full(len(next_onset), _level(following)))
        last_end = event.end_s
        opening = not joined[k]
    return track
