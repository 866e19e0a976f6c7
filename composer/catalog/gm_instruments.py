"""The 128 General MIDI instrument names, so a theme may say "electric piano 1" instead of 4.

Program numbers are 0-based (as MIDI files store them and as theme specs write them). Names are
matched without case or punctuation; "pad 2 (warm)" is also "warm pad", and a name ending in 1
is also itself without the 1 ("electric piano" is electric piano 1).
"""

from __future__ import annotations

import difflib
import re
from functools import lru_cache

GM_INSTRUMENTS = (
    # piano, chromatic percussion
    "acoustic grand piano", "bright acoustic piano", "electric grand piano", "honky-tonk piano",
    "electric piano 1", "electric piano 2", "harpsichord", "clavinet",
    "celesta", "glockenspiel", "music box", "vibraphone", "marimba", "xylophone", "tubular bells", "dulcimer",
    # organ, guitar
    "drawbar organ", "percussive organ", "rock organ", "church organ", "reed organ", "accordion", "harmonica",
    "tango accordion",
    "acoustic guitar (nylon)", "acoustic guitar (steel)", "electric guitar (jazz)", "electric guitar (clean)",
    "electric guitar (muted)", "overdriven guitar", "distortion guitar", "guitar harmonics",
    # bass, strings
    "acoustic bass", "electric bass (finger)", "electric bass (pick)", "fretless bass", "slap bass 1",
    "slap bass 2", "synth bass 1", "synth bass 2",
    "violin", "viola", "cello", "contrabass", "tremolo strings", "pizzicato strings", "orchestral harp", "timpani",
    # ensemble, brass
    "string ensemble 1", "string ensemble 2", "synth strings 1", "synth strings 2", "choir aahs", "voice oohs",
    "synth voice", "orchestra hit",
    "trumpet", "trombone", "tuba", "muted trumpet", "french horn", "brass section", "synth brass 1", "synth brass 2",
    # reed, pipe
    "soprano sax", "alto sax", "tenor sax", "baritone sax", "oboe", "english horn", "bassoon", "clarinet",
    "piccolo", "flute", "recorder", "pan flute", "blown bottle", "shakuhachi", "whistle", "ocarina",
    # synth lead, synth pad
    "lead 1 (square)", "lead 2 (sawtooth)", "lead 3 (calliope)", "lead 4 (chiff)", "lead 5 (charang)",
    "lead 6 (voice)", "lead 7 (fifths)", "lead 8 (bass + lead)",
    "pad 1 (new age)", "pad 2 (warm)", "pad 3 (polysynth)", "pad 4 (choir)", "pad 5 (bowed)", "pad 6 (metallic)",
    "pad 7 (halo)", "pad 8 (sweep)",
    # synth effects, ethnic
    "fx 1 (rain)", "fx 2 (soundtrack)", "fx 3 (crystal)", "fx 4 (atmosphere)", "fx 5 (brightness)",
    "fx 6 (goblins)", "fx 7 (echoes)", "fx 8 (sci-fi)",
    "sitar", "banjo", "shamisen", "koto", "kalimba", "bagpipe", "fiddle", "shanai",
    # percussive, sound effects
    "tinkle bell", "agogo", "steel drums", "woodblock", "taiko drum", "melodic tom", "synth drum", "reverse cymbal",
    "guitar fret noise", "breath noise", "seashore", "bird tweet", "telephone ring", "helicopter", "applause",
    "gunshot",
)
assert len(GM_INSTRUMENTS) == 128

_FAMILY_ALIAS = re.compile(r"^(lead|pad|fx) \d \((.+)\)$")  # "pad 2 (warm)" → "warm pad"


def normalise(name: str) -> str:
    """Lower case, punctuation as spaces, one space between words: how names are compared."""
    return " ".join(re.sub(r"[^a-z0-9]+", " ", name.lower()).split())


@lru_cache(maxsize=1)
def _lookup() -> dict[str, int]:
    table: dict[str, int] = {}
    for program, name in enumerate(GM_INSTRUMENTS):
        aliases = [name]
        family = _FAMILY_ALIAS.match(name)
        if family:
            aliases.append(f"{family.group(2)} {family.group(1)}")
        if name.endswith(" 1"):
            aliases.append(name[:-2])
        for alias in aliases:
            table.setdefault(normalise(alias), program)
    return table


def gm_instrument_names() -> list[str]:
    """The 128 General MIDI names, index = program number (for autocomplete and help)."""
    return list(GM_INSTRUMENTS)


def gm_program(name: str) -> int | None:
    """The 0-based program of a General MIDI name, or None when no instrument has it."""
    return _lookup().get(normalise(name))


def close_names(name: str, limit: int = 3) -> list[str]:
    """Up to `limit` real GM names that look like a mistyped one."""
    found = difflib.get_close_matches(normalise(name), list(_lookup()), n=limit * 2, cutoff=0.6)
    return list(dict.fromkeys(GM_INSTRUMENTS[_lookup()[alias]] for alias in found))[:limit]
