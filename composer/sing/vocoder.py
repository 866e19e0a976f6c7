"""WORLD vocoder: re-pitch and re-time spoken syllables onto their notes.

Speech (with vowels already held by the voice) is analysed once (F0, spectral envelope,
aperiodicity per 5 ms frame). For every sung syllable we lay out new frames the way singers
time words: the onset consonants at their spoken length just *before* the beat, so the vowel
lands on it (where there is no room before the beat, as for a line that starts the piece, they
take their time from the start of their own note instead of being cut); the vowel carries the
note, its middle slowed where the note is longer than the held vowel; the coda at its spoken
length at the end. Syllables inside a word are joined, words are parted by a short gap, phrases
by a breath. F0 is the note's pitch with a short glide from the previous note and a delayed,
moderate vibrato; the female singer's envelope is stretched up the frequency axis. `pulses` then
synthesises the whole line the way WORLD does, batched over pulses.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, replace

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
WORD_GAP_S = 0.03  # words are parted by a short gap; syllables inside a word are joined
MAX_LEAD_S = 0.2  # onset consonants sung before the beat, at most this long
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


def midi_hz(pitch: float) -> float:
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
    word_end: bool = True


def layout(line: SungLine, seconds_per_quarter: float, spoken_index: dict[int, int]) -> list[Event]:
    """Sung syllables in seconds; `start_s` is the beat the vowel lands on."""
    events: list[Event] = []
    for k, sung in enumerate(line.syllables):
        start = sung.start * seconds_per_quarter
        end = sung.end * seconds_per_quarter
        if k + 1 < len(line.syllables):
            following = line.syllables[k + 1].start * seconds_per_quarter
            if sung.phrase_end and following - end < 0.12:
                end -= min(0.2, 0.25 * (end - start))  # breathe before the next phrase
            end = min(end, following)
        end = min(end, start + MAX_HELD_S)
        notes = [(n.start * seconds_per_quarter, n.end * seconds_per_quarter, n.pitch) for n in sung.notes]
        velocity = round(sum(n.velocity for n in sung.notes) / len(sung.notes))
        events.append(Event(start, max(start + 0.03, end), notes, spoken_index[id(sung.syllable)], velocity,
                            sung.syllable.word_end))
    return events


def hold_lengths(events: list[Event], parts: int, cap_s: float) -> list[float]:
    """How long the voice should hold each spoken syllable's vowel: most of its typical sung
    length, up to `cap_s` (longer notes slow the held vowel's middle)."""
    lengths: list[list[float]] = [[] for _ in range(parts)]
    for event in events:
        lengths[event.part_index].append(event.end_s - event.start_s)
    return [min(cap_s, 0.75 * float(np.median(x))) if x else 0.0 for x in lengths]


def _spoken_frames(event: Event, speech: Speech, world: World) -> tuple[int, int, int, int]:
    """(start, vowel start, vowel end, end) analysis frames of the event's spoken syllable; a
    coda's fade into silence is dropped."""
    hop = FRAME_MS / 1000.0
    part = speech.parts[event.part_index]
    to_frame = lambda sample: min(world.frames - 1, int(round(sample / speech.sample_rate / hop)))  # noqa: E731
    a, v0, v1, b = (to_frame(x) for x in (part.start, part.vowel_start, part.vowel_end, part.end))
    v1 = max(v1, v0 + 1)
    loud = world.level_db[v1:b] > world.level_db[v0:v1].max() - QUIET_DB
    while b > v1 and not loud[-1]:
        b, loud = b - 1, loud[:-1]
    return a, v0, v1, max(b, v1)


def _pitch_curve(event: Event, times: np.ndarray, singer: Singer, previous_pitch: float | None) -> np.ndarray:
    """Semitones per frame: each note's pitch, a glide into the first from the previous note
    (starting with the consonants, so the vowel arrives in tune), and a delayed vibrato."""
    semis = np.zeros(len(times))
    prev = previous_pitch
    for k, (n_start, n_end, pitch) in enumerate(event.notes):
        mask = times >= n_start - 1e-9 if k else np.ones(len(times), dtype=bool)
        glide_from = times[0] if k == 0 else n_start
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


def _event_frames(event: Event, lead: Lead, spoken: tuple[int, int, int, int], world: World,
                  singer: Singer, previous_pitch: float | None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(f0, frame indexes into the analysis, gain) for one event, from `event.start_s - lead.before_s`."""
    hop = FRAME_MS / 1000.0
    a, v0, v1, b = spoken
    before = int(round(lead.before_s / hop))
    onset = before + int(round(lead.inside_s / hop))
    sung = max(2, int(round((event.end_s - event.start_s) / hop)))
    coda = min(b - v1, int(sung * CODA_SHARE))
    vowel = max(1, before + sung - onset - coda)
    index = np.concatenate([_resample(a, v0 - a, onset), _stretch(v0, v1 - v0, vowel), _resample(v1, b - v1, coda)])
    index = np.clip(index, 0, world.frames - 1)
    times = event.start_s - before * hop + np.arange(len(index)) * hop
    in_vowel = np.zeros(len(index), dtype=bool)
    in_vowel[onset:onset + vowel] = True
    semis = _pitch_curve(event, times, singer, previous_pitch)
    voiced = (world.f0[index] > 0) | in_vowel
    f0 = np.where(voiced, 440.0 * 2.0 ** ((semis - 69.0) / 12.0), 0.0)

    gain = np.ones(len(index))
    attack, release = max(1, int(ATTACK_S / hop)), max(1, int(RELEASE_S / hop))
    gain[:attack] = np.linspace(0.3, 1.0, attack)[: len(gain)]
    gain[-release:] *= np.linspace(1.0, 0.0, release)[-len(gain):] if len(gain) >= release else 1.0
    gain *= (0.6 + 0.4 * event.velocity / 110.0)
    return f0, index, gain


@dataclass(frozen=True)
class Lead:
    """A syllable's onset consonants: sung `before_s` ahead of the beat and `inside_s` after it."""

    before_s: float
    inside_s: float = 0.0


def _leads(events: list[Event], spoken: list[tuple[int, int, int, int]]) -> list[Lead]:
    """Where each syllable's onset consonants go: their spoken length (up to MAX_LEAD_S) before
    the beat, within reach of the previous syllable (which then ends earlier); what finds no room
    there goes into the start of the note, up to a third of it, so no consonant is dropped."""
    hop = FRAME_MS / 1000.0
    leads = []
    for k, (event, (a, v0, _, _)) in enumerate(zip(events, spoken)):
        wanted = min((v0 - a) * hop, MAX_LEAD_S)
        room = event.start_s - (events[k - 1].start_s if k else 0.0)
        before = min(wanted, LEAD_SHARE * room)
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


def sing_events(events: list[Event], speech: Speech, world: World, singer: Singer,
                length_s: float) -> np.ndarray:
    """Mono float32 audio at the speech sample rate, `length_s` long."""
    hop = FRAME_MS / 1000.0
    n_frames = int(length_s / hop) + 1
    f0 = np.zeros(n_frames)
    source = np.full(n_frames, -1)
    gain = np.zeros(n_frames)
    spoken = [_spoken_frames(event, speech, world) for event in events]
    leads = _leads(events, spoken)
    previous_pitch: float | None = None
    last_end = -1.0
    for k, event in enumerate(events):
        if k + 1 < len(events):  # make way for the next syllable's consonants, and part the words
            gap = WORD_GAP_S if event.word_end else 0.0
            end = max(event.start_s + 2 * hop, min(event.end_s, events[k + 1].start_s - leads[k + 1].before_s - gap))
            event = replace(event, end_s=end)
        legato = event.start_s - leads[k].before_s - last_end < 0.12
        ev_f0, index, ev_gain = _event_frames(event, leads[k], spoken[k], world, singer,
                                              previous_pitch if legato else None)
        first = max(0, int(round((event.start_s - leads[k].before_s) / hop)))
        count = max(0, min(len(index), n_frames - first))
        f0[first:first + count] = ev_f0[:count]
        source[first:first + count] = index[:count]
        gain[first:first + count] = ev_gain[:count]
        previous_pitch = float(event.notes[-1][2])
        last_end = event.end_s
    sp, ap = _source_parameters(speech, world, singer)
    audio = pulses.synthesize(f0, source, gain, sp, ap, world.sample_rate, FRAME_MS, seed=len(events))
    return np.nan_to_num(audio).astype(np.float32)
