"""`/theme from-midi`: a theme inferred from a MIDI file a member uploads.

What the file states is taken as stated: its tempo, time signature, programs and drums (channel
10). What it does not state is estimated from the notes: key and mode (`key_estimate`, with the
key signature and the last notes as cues), the meter when there is no time signature, a chord per
bar as roman numerals, the lead's density, range and leaps, the swing, the bass and accompaniment
styles, the melody style. The rest comes from `base` (the built-in "happy" theme unless given).
"""

from __future__ import annotations

import copy
import io
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

import mido
import numpy as np

from composer.catalog.customise import theme_name
from composer.catalog.gm_instruments import GM_INSTRUMENTS
from composer.catalog.key_estimate import bar_chords, key_of_notes, progressions
from composer.catalog.schema import SCHEMA_VERSION, validate_theme
from composer.errors import InvalidRequest
from composer.music.theory import Key, Meter
from composer.options import METERS

MAX_BYTES = 2 * 1024 * 1024
DRUM_CHANNEL = 9
LEAD_NAMES = ("lead", "melody", "vocals", "voice", "soprano")
GM_DRUM_NAMES = {35: "kick", 36: "kick", 37: "rim", 38: "snare", 40: "snare", 39: "clap", 42: "hat",
                 44: "pedalhat", 46: "openhat", 49: "crash", 57: "crash", 51: "ride", 53: "ride", 59: "ride",
                 41: "tom_low", 43: "tom_low", 45: "tom_low", 47: "tom_mid", 48: "tom_mid", 50: "tom_high",
                 54: "tambourine", 69: "shaker", 70: "shaker", 56: "cowbell"}
# for a file without a time signature: (bar, beat) in 16ths, and a lean towards the common meters
GUESSED_METERS = {"4/4": (16, 4, 0.05), "3/4": (12, 4, 0.0), "2/4": (8, 4, -0.1), "6/8": (12, 6, 0.0)}


@dataclass
class _Part:
    name: str
    channel: int
    program: int | None
    notes: np.ndarray  # rows: start, length (quarters), pitch, velocity; sorted by start

    @property
    def mean_pitch(self) -> float:
        return float(self.notes[:, 2].mean())

    @property
    def polyphony(self) -> float:
        """How many of its notes sound, on average, when one of them starts."""
        starts, ends = np.sort(self.notes[:, 0]), np.sort(self.notes[:, 0] + self.notes[:, 1])
        return float((np.searchsorted(starts, starts, "right") - np.searchsorted(ends, starts, "right")).mean())


@dataclass
class _Midi:
    parts: list[_Part]
    tempi: list[float]  # every tempo it states, the first first
    meter: str | None
    signature: Key | None
    lyrics: bool
    reverb: float | None


def _fail(problem: str) -> InvalidRequest:
    return InvalidRequest(" ".join(problem.split())[:200])


def _read(data: bytes) -> _Midi:
    if len(data) > MAX_BYTES:
        raise _fail(f"the MIDI file is too big ({len(data) / 2**20:.1f} MiB); it may be at most 2 MiB")
    if not data.startswith(b"MThd"):
        raise _fail("that file is not a MIDI file (a .mid file starts with MThd)")
    try:
        mid = mido.MidiFile(file=io.BytesIO(data))
    except EOFError:
        raise _fail("the MIDI file is damaged: it ends too soon (cut short?)") from None
    except Exception as exc:  # mido raises OSError, ValueError, KeyError… for a broken file
        raise _fail(f"the MIDI file is damaged: {str(exc) or type(exc).__name__}") from None
    if mid.ticks_per_beat <= 0:
        raise _fail("the MIDI file is damaged: its header gives no ticks per beat")
    tpq = float(mid.ticks_per_beat)
    programs: dict[int, int] = {}
    metas: dict[str, list[tuple[int, Any]]] = defaultdict(list)
    notes: dict[tuple[int, int], list[tuple[float, float, int, int]]] = defaultdict(list)
    names: dict[int, str] = {}
    for index, track in enumerate(mid.tracks):
        tick, sounding = 0, {}
        for msg in track:
            tick += msg.time
            if msg.type == "track_name":
                names.setdefault(index, msg.name)
            elif msg.is_meta:
                metas[msg.type].append((tick, msg))
            elif msg.type == "program_change":
                programs.setdefault(msg.channel, msg.program)
            elif msg.type == "control_change" and msg.control == 91:
                metas["reverb"].append((tick, msg.value))
            elif msg.type in ("note_on", "note_off"):
                key = (msg.channel, msg.note)
                if key in sounding:  # its note off, or the same key struck again
                    start, velocity = sounding.pop(key)
                    notes[(index, msg.channel)].append((start / tpq, (tick - start) / tpq, msg.note, velocity))
                if msg.type == "note_on" and msg.velocity > 0:
                    sounding[key] = (tick, msg.velocity)
        for (channel, pitch), (start, velocity) in sounding.items():
            notes[(index, channel)].append((start / tpq, (tick - start) / tpq, pitch, velocity))
    parts = [_Part(names.get(i, ""), ch, programs.get(ch), np.array(sorted(n), dtype=float))
             for (i, ch), n in sorted(notes.items())]
    if not any(p.channel != DRUM_CHANNEL for p in parts):
        raise _fail("the MIDI file has no notes" + (" other than drums" if parts else ""))
    first = {kind: min(events, key=lambda e: e[0])[1] for kind, events in metas.items()}
    meter, signature = first.get("time_signature"), first.get("key_signature")
    tempi = [mido.tempo2bpm(m.tempo) for _, m in sorted(metas["set_tempo"], key=lambda e: e[0]) if m.tempo > 0]
    return _Midi(parts, tempi,
                 f"{meter.numerator}/{meter.denominator}" if meter else None,
                 Key.parse(signature.key) if signature else None, "lyrics" in first,
                 float(np.mean([v for _, v in metas["reverb"]])) / 127 if metas["reverb"] else None)


# ---- meter -----------------------------------------------------------------------------------

def _meter(midi: _Midi, starts: np.ndarray, accents: np.ndarray) -> tuple[str, float]:
    """The meter Muse plays for this file and the factor that turns the file's quarters into it:
    the time signature as stated; else, a beat one note value longer or shorter (4/2 → 4/4 with
    the half note becoming the quarter); else, without one, the bar and beat at which the accents
    repeat best (autocorrelation on a grid of 16ths). Duple and triple, simple and compound come
    out well; 2/4 and 4/4 are told apart by little more than the lean towards 4/4."""
    if midi.meter in METERS:
        return midi.meter, 1.0
    if midi.meter is not None:
        numerator, denominator = (int(v) for v in midi.meter.split("/"))
        for den in (denominator * 2, denominator // 2):
            if f"{numerator}/{den}" in METERS:
                return f"{numerator}/{den}", denominator / den
    early = starts < 4096  # the first thousand bars or so tell
    grid = np.zeros(int(np.round(starts[early].max(initial=0) * 4)) + 32)
    np.add.at(grid, np.round(starts[early] * 4).astype(int), accents[early])

    def repeats(lag: int) -> float:
        return float((grid[:-lag] * grid[lag:]).sum() / (grid * grid).sum())

    return max(GUESSED_METERS, key=lambda m: sum(repeats(lag) for lag in GUESSED_METERS[m][:2])
               + GUESSED_METERS[m][2]), 1.0


def _phase(starts: np.ndarray, accents: np.ndarray, meter: Meter) -> float:
    """Where the bars start, in quarters (an eighth at a time): where the most accent falls on
    downbeats, the file's own bar lines winning ties. A pickup puts notes before the first bar."""
    bar = meter.bar_quarters
    phases = np.arange(0, bar, 0.5)
    on_downbeat = [accents[np.isclose((starts - p + 0.05) % bar, 0.05, atol=0.05)].sum() for p in phases]
    return float(phases[int(np.argmax(np.array(on_downbeat) * (1 + 0.1 * (phases == 0))))])


# ---- band, groove and melody -----------------------------------------------------------------

def _roles(parts: list[_Part]) -> tuple[_Part, _Part | None, _Part | None, _Part | None]:
    """lead (a track named so, else the highest melodic one), bass (the lowest other, below the
    lead), harmony (the busiest of the rest) and pad (the longest-held of the rest)."""
    pitched = [p for p in parts if p.channel != DRUM_CHANNEL]
    named = [p for p in pitched if p.name.strip().lower() in LEAD_NAMES]
    melodic = [p for p in pitched if p.polyphony < 1.5] or pitched
    lead = named[0] if named else max(melodic, key=lambda p: p.mean_pitch)
    rest = [p for p in pitched if p is not lead]
    low = min(rest, key=lambda p: p.mean_pitch, default=None)
    bass = low if low is not None and low.mean_pitch < lead.mean_pitch - 5 else None
    rest = sorted((p for p in rest if p is not bass), key=lambda p: -len(p.notes))
    pad = max(rest[1:], key=lambda p: p.notes[:, 1].mean(), default=None)
    return lead, bass, next((p for p in rest if p is not pad), None), pad


def _drums(parts: list[_Part], meter: Meter, phase: float) -> dict[str, str]:
    """One step string (16ths) per drum: a step is played when the drum hits it in at least half
    the bars with drums (Muse adds its own fills and crashes), accented (X) or ghosted (o) by its
    velocity against the drum's own."""
    steps = round(meter.bar_quarters / 0.25)
    hits: dict[str, np.ndarray] = defaultdict(lambda: np.zeros((steps, 2)))
    bars = set()
    for start, _, pitch, velocity in (n for p in parts if p.channel == DRUM_CHANNEL for n in p.notes):
        step = int(round((start - phase) / 0.25))
        bars.add(step // steps)
        if int(pitch) in GM_DRUM_NAMES:
            hits[GM_DRUM_NAMES[int(pitch)]][step % steps] += (1, velocity)
    pattern = {}
    for name, table in hits.items():
        mean = table[:, 1].sum() / max(table[:, 0].sum(), 1)
        marks = ["." if n < 0.5 * len(bars) else "X" if v / n > 1.15 * mean else "o" if v / n < 0.6 * mean else "x"
                 for n, v in table]
        if set(marks) != {"."}:
            pattern[name] = "".join(marks)
    return pattern


def _swing(starts: np.ndarray, meter: Meter) -> float:
    """How late the off-beat eighths come, as a share of an eighth (0.33 ≈ triplet swing); 0 for
    straight eighths, in compound meters and when there are too few off-beats to tell."""
    place = starts % 1.0
    offbeats = place[(place > 0.42) & (place < 0.72)]  # a 16th at 0.75 is no swing
    if meter.compound or len(offbeats) < max(8, 0.1 * len(starts)):
        return 0.0
    amount = float(np.median(offbeats) - 0.5) / 0.5
    return round(min(amount, 0.5), 2) if amount >= 0.08 else 0.0


def _bass_style(bass: _Part, meter: Meter, bars: int) -> str:
    steps, per_bar = np.abs(np.diff(bass.notes[:, 2])), len(bass.notes) / max(bars, 1)
    if per_bar <= 1.3 or len(steps) == 0:
        return "root"
    if np.mean(steps == 12) >= 0.4:
        return "octave"
    if per_bar >= 0.8 * meter.pulses and np.mean(steps <= 2) >= 0.5:
        return "walking"
    return "arpeggio" if per_bar > 2 * meter.pulses else "root-fifth"


def _accompaniment_style(part: _Part, meter: Meter) -> str:
    if part.polyphony < 1.8:
        return "arpeggio"
    if part.notes[:, 1].mean() >= 0.75 * meter.bar_quarters:
        return "pad"
    offbeat = np.isclose(part.notes[:, 0] % meter.pulse_quarters, meter.pulse_quarters / 2, atol=0.05)
    return "offbeat" if offbeat.mean() >= 0.5 else "waltz" if meter.pulses == 3 and not meter.compound else "block"


def _melody_style(midi: _Midi, lead: _Part, key: Key, swing: float) -> str:
    """The corpus style (the tokenizer's STYLES) whose tunes this file's looks most like: Bach's
    chorales move in single lines of quarters; songs have words; O'Neill's dance tunes run in
    eighths over a wide range (Essen's folk songs keep within about an octave); Scottish airs are
    full of dotted pairs; several parts and a wide lead are classical; a major key with a flat
    seventh is modal, as early music is."""
    notes = lead.notes
    pitched = [p for p in midi.parts if p.channel != DRUM_CHANNEL]
    per_quarter = len(notes) / max(np.ptp(notes[:, 0]) + notes[-1, 1], 1.0)
    span = float(np.percentile(notes[:, 2], 95) - np.percentile(notes[:, 2], 5))
    ratios = notes[:-1, 1] / np.maximum(notes[1:, 1], 1e-6)
    dotted = np.mean(np.isclose(ratios, 3.0, atol=0.2) | np.isclose(ratios, 1 / 3, atol=0.05)) if len(ratios) else 0.0
    if len(pitched) == len(midi.parts) >= 3 and all(p.polyphony < 1.2 for p in pitched) and per_quarter <= 1.3:
        return "chorale"
    if midi.lyrics:
        return "song"
    if swing > 0 or (span >= 12 and np.mean(notes[:, 1] <= 0.5 + 1e-6) >= 0.5):
        return "irish"
    if dotted >= 0.2:
        return "scottish"
    if len(pitched) >= 3 and span >= 19:
        return "classical"
    flat_seventh = float(np.mean(notes[:, 2] % 12 == (key.tonic + 10) % 12))
    return "early" if key.mode == "major" and flat_seventh >= 0.05 else "folk"


def _melody(lead: _Part, meter: Meter) -> dict[str, Any]:
    """Density (notes per beat), range (the middle 90% of its notes, at least an octave), leaps."""
    notes = lead.notes
    span = max(notes[-1, 0] + notes[-1, 1] - notes[0, 0], meter.pulse_quarters)
    low, high = (int(v) for v in np.percentile(notes[:, 2], [5, 95]))
    if high - low < 12:
        low -= (12 - (high - low)) // 2
        high = low + 12
    leaps = np.abs(np.diff(notes[:, 2]))
    return {"density": round(float(np.clip(len(notes) * meter.pulse_quarters / span, 0.1, 2.0)), 2),
            "range": [max(0, low), min(127, high)],
            "leap": round(float(np.clip(np.mean(leaps > 2) if len(leaps) else 0.3, 0.05, 0.9)), 2)}


def _voice(program: int | None, lyrics: bool) -> str | None:
    """The voice whose lead instrument the file's lead plays (else one of the same GM family, not
    the drum-led one); singers only when the file has words."""
    from composer.catalog import default_catalog

    voices = [v for v in default_catalog().voices.values() if lyrics or not v.sings]
    programs = {v.name: [i["program"] for i in v.spec["lead"]["instruments"]] for v in voices}
    exact = [name for name, ps in programs.items() if program in ps]
    family = [name for name, ps in programs.items() if program is not None and name != "drums"
              and any(p // 8 == program // 8 for p in ps)]
    return (exact + family + [None])[0]


# ---- the theme -------------------------------------------------------------------------------

def _band(spec: dict[str, Any], midi: _Midi, meter: Meter, roles: tuple, bars: int) -> None:
    """Instruments (kept against the voice's own colours), bass and accompaniment, voice, reverb."""
    lead, bass, harmony, pad = roles
    inferred = {role: part.program for role, part in (("harmony", harmony), ("bass", bass), ("pad", pad))
                if part is not None and part.program is not None}
    if inferred:
        spec["instruments"] = {**spec["instruments"], **inferred, "keep": list(inferred)}
    if harmony is not None and pad is None:
        spec["instruments"].pop("pad", None)  # the file has its own accompaniment and no pad
    if bass is not None:
        low = float(np.percentile(bass.notes[:, 2], 10))  # Muse's bass roots lie in (octave + 1) * 12 + 0…11
        spec["bass"] = {"style": _bass_style(bass, meter, bars), "octave": int(np.clip(low // 12 - 1, 1, 3))}
    if harmony is not None:
        spec["accompaniment"] = {"style": _accompaniment_style(harmony, meter),
                                 "octave": int(np.clip(round((harmony.mean_pitch - 4) / 12) - 1, 3, 5))}
    spec["default_voice"] = _voice(lead.program, midi.lyrics) or spec.get("default_voice", "piano")
    if midi.reverb is not None:
        spec["effects"] = {**spec.get("effects", {}), "reverb": round(min(1.0, midi.reverb), 2)}


def _describe(spec: dict[str, Any], lead: _Part, drums: bool) -> None:
    tempo, key, meter, style = spec["tempo"]["default"], spec["keys"][0], spec["meters"][0], spec["melody"]["style"]
    fast, minor = tempo >= 116, spec["modes"][0] == "minor"
    spec["mood"] = ("restless" if fast else "wistful") if minor else ("lively" if fast else "calm")
    instrument = GM_INSTRUMENTS[int(lead.program or 0)]
    spec["description"] = (f"Inferred from a MIDI file: {meter} in {key} at about {tempo} BPM, a {instrument} tune "
                           f"in {style} style over {' '.join(spec['progressions']['verse'][0]['chords'])}"
                           f"{', with its drum groove' if drums else ''}.")[:300]
    spec["examples"] = ["music like my MIDI file", f"a {meter} tune in {key}", f"a {spec['mood']} {style} tune"]


def theme_from_midi(data: bytes, name: str, base: dict[str, Any] | None = None) -> dict[str, Any]:
    """A validated theme spec named `name`, inferred from the MIDI file `data`; what the file does
    not tell comes from `base` (default: the built-in "happy" theme). A file that is not MIDI, is
    damaged, over 2 MiB or has no notes raises InvalidRequest with one line saying so."""
    from composer.catalog import default_catalog

    midi = _read(data)
    every = np.concatenate([p.notes for p in midi.parts])
    meter_name, scale = _meter(midi, every[:, 0], np.minimum(every[:, 1], 2.0))
    for part in midi.parts:  # in the quarters of the meter Muse plays
        part.notes[:, :2] *= scale
    meter, every = Meter.parse(meter_name), every * [scale, scale, 1, 1]
    phase = _phase(every[:, 0], np.minimum(every[:, 1], 2.0), meter)
    roles = _roles(midi.parts)
    lead = roles[0]
    pitched = np.concatenate([p.notes for p in midi.parts if p.channel != DRUM_CHANNEL])
    key = key_of_notes(pitched, int(lead.notes[-1, 2]), midi.signature)
    chords = bar_chords(pitched, key, meter.bar_quarters, meter.pulse_quarters, phase)
    tempi = [bpm * scale for bpm in midi.tempi or [120.0]]  # a file without a tempo plays at 120
    bpm = min(300, max(30, round(tempi[0])))
    low, high = max(min(tempi), bpm / 2), min(max(tempi), bpm * 2)  # its tempo changes, within reason
    swing, drums = _swing(every[:, 0], meter), _drums(midi.parts, meter, phase)
    spec = copy.deepcopy(base if base is not None else default_catalog().theme("happy").spec)
    spec.pop("harmonic_rhythm", None)
    kit = next((p.program for p in midi.parts if p.channel == DRUM_CHANNEL and p.program is not None), None)
    spec.update({
        "schema": SCHEMA_VERSION, "name": theme_name(name), "meters": [meter_name], "modes": [key.mode],
        "keys": [key.name], "progressions": progressions(chords, key),
        "tempo": {"min": max(30, round(min(low, bpm * 0.88))), "max": min(300, round(max(high, bpm * 1.12))),
                  "default": bpm},
        "feel": {**spec["feel"], "groove": "shuffle" if swing >= 0.42 else "swing" if swing else "straight",
                 "swing": swing},
        "drums": ({"patterns": {meter_name: drums}, "fills": spec["drums"].get("fills", True), "level": 0.9,
                   **({"kit": kit} if kit is not None else {})} if drums
                  else {"patterns": {}, "fills": False, "level": 0.0}),
        "dynamics": {"velocity": int(np.clip(np.median(lead.notes[:, 3]), 20, 127)),
                     "range": int(np.clip(round(2 * lead.notes[:, 3].std()), 0, 40))},
        "melody": {**spec["melody"], **_melody(lead, meter), "style": _melody_style(midi, lead, key, swing)},
    })
    _band(spec, midi, meter, roles, len(chords))
    _describe(spec, lead, bool(drums))
    return validate_theme(spec, source=f"theme {spec['name']!r} from a MIDI file")
