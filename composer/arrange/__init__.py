"""Theme × voice → a multi-track score: lead, harmony, bass, pad and drums, with a real ending."""

from __future__ import annotations

import random
from dataclasses import replace

from composer.arrange.accompaniment import harmony_part, pad_part
from composer.arrange.bass import bass_part
from composer.arrange.drums import drum_part
from composer.arrange.humanize import humanize, swing
from composer.plan import Plan
from composer.music.score import DRUM_CHANNEL, Note, Score, Track, remove_overlaps, transpose

SECTION_DYNAMICS = {"intro": 0.8, "verse": 0.9, "chorus": 1.0, "bridge": 0.88, "ending": 0.95}
GM_NAMES = {
    0: "grand piano", 4: "electric piano", 11: "vibraphone", 24: "nylon guitar", 25: "steel guitar",
    26: "jazz guitar", 29: "overdriven guitar", 30: "distortion guitar", 32: "acoustic bass",
    33: "finger bass", 34: "picked bass", 35: "fretless bass", 38: "synth bass", 48: "strings",
    52: "choir", 53: "voice oohs", 56: "trumpet", 60: "french horn", 61: "brass section",
    71: "clarinet", 73: "flute", 80: "square lead", 81: "saw lead", 88: "new age pad",
    89: "warm pad", 46: "harp", 12: "marimba", 19: "church organ", 16: "organ", 8: "celesta",
    10: "music box", 9: "glockenspiel", 42: "cello", 40: "violin", 68: "oboe", 70: "bassoon",
    57: "trombone", 65: "alto sax", 66: "tenor sax", 95: "sweep pad", 91: "choir pad",
    92: "bowed pad", 99: "atmosphere", 43: "contrabass", 49: "slow strings", 58: "tuba", 90: "polysynth", 62: "synth brass", 50: "synth strings", 87: "bass & lead",
}


# General MIDI drum kits in bank 128 (GS numbering, as FluidR3 and most GM soundfonts have them)
DRUM_KITS = {0: "drum kit", 8: "room kit", 16: "power kit", 24: "electronic kit", 25: "TR-808 kit",
             32: "jazz kit", 40: "brush kit", 48: "orchestral percussion"}


def instrument_name(program: int) -> str:
    return GM_NAMES.get(program, f"GM program {program + 1}")


def _dynamics(plan: Plan, notes: list[Note]) -> list[Note]:
    out = []
    for n in notes:
        section = plan.section_at(min(int(n.start // plan.bar_quarters), plan.bars - 1))
        scale = SECTION_DYNAMICS.get(section.name, 1.0)
        out.append(replace(n, velocity=max(1, min(127, round(n.velocity * scale)))))
    return out


def arrange(plan: Plan, melody: list[Note], seed: int, band: list[Track] | None = None) -> Score:
    """The whole score: the lead around `melody`, and the band (`arrange_band`, or the one given,
    which a caller arranged and started rendering while the melody was being written)."""
    lead = _lead_track(plan, melody, plan.theme.spec["dynamics"]["velocity"],
                       plan.voice.spec.get("arrangement", {}).get("drum_led", False))
    swing_amount, human = _feel(plan)
    lead.notes = _performed(plan, lead, swing_amount, human, random.Random(seed * 104729 + 7))
    return band_score(plan, [lead] + (band if band is not None else arrange_band(plan, seed)))


def arrange_band(plan: Plan, seed: int) -> list[Track]:
    """Harmony, bass, pad and drums, as played. They depend on the plan alone, not on the melody
    (each part has its own random stream), so a piece's band can be arranged and rendered while
    the model writes its melody."""
    rng = random.Random(seed * 104729 + 3)
    shape = plan.voice.spec.get("arrangement", {})
    swing_amount, human = _feel(plan)
    tracks = _band_tracks(plan, shape)
    drums = _drum_track(plan, shape, rng)
    if drums is not None:
        tracks.append(drums)
    for track in tracks:
        track.notes = _performed(plan, track, swing_amount, human, rng)
    return tracks


def band_score(plan: Plan, tracks: list[Track]) -> Score:
    """A score of `tracks` in the plan's tempo, meter, key and form."""
    sounding_key = plan.key.transposed(plan.request.pitch)
    return Score(
        tempo=plan.tempo,
        numerator=plan.meter.numerator,
        denominator=plan.meter.denominator,
        key_name=sounding_key.name,
        key_sharps=sounding_key.sharps,
        total_quarters=plan.total_quarters,
        tracks=tracks,
        title=_title(plan.request.prompt),
        chords=_chord_changes(plan, sounding_key),
        sections=[(s.start_bar * plan.bar_quarters, s.name) for s in plan.sections],
    )


def _feel(plan: Plan) -> tuple[float, float]:
    """(swing, humanise) amounts from the theme's feel."""
    feel = plan.theme.spec["feel"]
    return feel.get("swing", 0.33 if feel["groove"] in ("swing", "shuffle") else 0.0), feel.get("humanize", 0.4)


def _program(theme: dict, shape: dict, role: str) -> int | None:
    """The voice recolours a role unless the theme keeps that instrument as its signature."""
    own = theme["instruments"].get(role)
    return own if role in set(theme["instruments"].get("keep", [])) else shape.get(f"{role}_program", own)


def _band_tracks(plan: Plan, shape: dict) -> list[Track]:
    """Harmony, bass and, unless the drums lead, a pad."""
    theme = plan.theme.spec
    velocity = theme["dynamics"]["velocity"]
    drum_led = shape.get("drum_led", False)
    harmony_level = shape.get("harmony", 1.0)
    style = shape.get("accompaniment") or ("pad" if drum_led else theme["accompaniment"]["style"])
    harmony_program, bass_program, pad_program = (_program(theme, shape, role) for role in ("harmony", "bass", "pad"))
    tracks = [
        Track("harmony", harmony_program, 1,
              harmony_part(plan, style, theme["accompaniment"].get("octave", 4), round(velocity * 0.72 * harmony_level)),
              instrument=instrument_name(harmony_program), volume=90, pan=48, reverb_send=60),
        Track("bass", bass_program, 2,
              bass_part(plan, theme["bass"]["style"], theme["bass"].get("octave", 2), round(velocity * 0.85)),
              instrument=instrument_name(bass_program), volume=100, pan=64, reverb_send=20),
    ]
    if pad_program is not None and not drum_led:
        tracks.append(Track("pad", pad_program, 3, pad_part(plan, round(velocity * 0.45 * harmony_level)),
                            instrument=instrument_name(pad_program), volume=70, pan=80, reverb_send=80))
    return tracks


def _lead_track(plan: Plan, melody: list[Note], velocity: int, drum_led: bool) -> Track:
    """The melody, named `vocals` when the voice sings it."""
    lead_notes = [replace(n, velocity=min(127, round(velocity * 1.05))) for n in melody]
    if drum_led:  # the melodic line answers the drums sparsely: keep notes on the beats only
        pulse = plan.meter.pulse_quarters
        lead_notes = [n for n in lead_notes if abs(n.start / pulse - round(n.start / pulse)) < 1e-6]
    own = plan.voice.spec.get("soundfont")  # a pack voice's own SF2/SF3 plays its lead (catalog/packs.py)
    return Track("vocals" if plan.voice.sings else "lead", plan.lead_program, 0, lead_notes, bus="lead",
                 instrument=plan.lead_name, volume=110, pan=64, reverb_send=50,
                 soundfont=(own["file"], own["bank"], own["preset"]) if own else None)


def _drum_track(plan: Plan, shape: dict, rng: random.Random) -> Track | None:
    """The theme's drums, scaled (or brought in) by the voice; None when they end up silent."""
    theme = plan.theme.spec
    drums_cfg = theme["drums"]
    drum_led = shape.get("drum_led", False)
    drum_level = drums_cfg.get("level", 1.0) * shape.get("drums", 1.0)
    # some voices bring drums even to themes that have none of their own (metal, drums)
    drum_level = max(drum_level, shape.get("drums_floor", 0.0))
    if drum_level > 0:
        kit = shape.get("drum_kit", drums_cfg.get("kit", 0))
        return Track("drums", kit, DRUM_CHANNEL,
                     drum_part(plan, theme["dynamics"]["velocity"], min(1.3, drum_level), drums_cfg.get("fills", True),
                               rng, led=drum_led),
                     instrument=DRUM_KITS.get(kit, "drum kit"), volume=100 if not drum_led else 115, pan=64,
                     reverb_send=30)
    return None


def _performed(plan: Plan, track: Track, swing_amount: float, human: float, rng: random.Random) -> list[Note]:
    """A track's notes as played: section dynamics, swing, humanised timing, the request's pitch shift,
    nothing ringing past the last bar line, no overlaps."""
    notes = _dynamics(plan, track.notes)
    notes = swing(notes, swing_amount)
    notes = humanize(notes, human, rng, keep_grid=track.is_drums)
    if not track.is_drums and plan.request.pitch:
        notes = transpose(notes, plan.request.pitch)
    end = plan.total_quarters  # nothing may ring past the last bar line
    notes = [replace(n, duration=min(n.duration, end - n.start)) for n in notes if n.start < end - 0.01]
    return remove_overlaps(notes)


def _chord_changes(plan: Plan, sounding_key) -> list[tuple[float, str]]:
    """Chord names at each change, as they sound (after `pitch`), for the MIDI file and analysis."""
    changes: list[tuple[float, str]] = []
    for slot in range(plan.bars * plan.slots_per_bar):
        start = slot * plan.slot_quarters
        chord = plan.chord_at(start)
        name = replace(chord, root=(chord.root + plan.request.pitch) % 12).name(sounding_key)
        if not changes or changes[-1][1] != name:
            changes.append((start, name))
    return changes


def _title(prompt: str) -> str:
    words = prompt.split()
    title = " ".join(words[:8])
    if len(title) > 60:
        title = title[:57].rstrip() + "…"
    return title[:1].upper() + title[1:] if title else "Muse"
