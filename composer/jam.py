"""Daily jam prompts: an evocative title, a theme and two or three constraints Muse can honour.

Every constraint is one of the request's own options (voice, key, meter, tempo, length), so the
prompt's `options` compose Muse's example piece through `understand` exactly as the members read
it. Everything is drawn from one seed: the same seed gives the same prompt, on any machine.
"""

from __future__ import annotations

import math
import random
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any

from composer.catalog import Catalog, Theme
from composer.options import bounds, key_names

EXAMPLE_LENGTH_S = 30  # Muse's example piece: long enough to hear the idea, cheap to compose daily
MAX_DRAWS = 64  # redraws with derived seeds before falling back to any title not used lately

# Title words avoid what `understand` reads as a cue (tempo, mode, instruments, singing, numbers),
# so the title never argues with the options.
ADJECTIVES = (
    "Neon", "Velvet", "Midnight", "Paper", "Golden", "Hollow", "Electric", "Silver", "Crimson",
    "Distant", "Frozen", "Secret", "Wandering", "Sleepless", "Glass", "Amber", "Copper", "Hidden",
    "Painted", "Borrowed", "Sunlit", "Rusty", "Faded", "Emerald", "Starlit", "Lost", "Tangled",
    "Lunar", "Restless", "Forgotten", "Marble", "Cobalt", "Salted", "Northern", "Winding",
    "Burning", "Floating", "Scarlet", "Twilight", "Open",
)
NOUNS = (
    "Rain", "Harbor", "Lantern", "Orbit", "Meadow", "Tide", "Comet", "Garden", "Skyline",
    "Lighthouse", "Compass", "Signal", "Horizon", "Mirage", "Postcard", "Carousel", "Glacier",
    "Alley", "Satellite", "Orchard", "Desert", "Station", "Window", "River", "Kite", "Island",
    "Circuit", "Forest", "Balcony", "Rooftop", "Voyage", "Ferry", "Ember", "Planet", "Canyon",
    "Letter", "Map", "Tunnel", "Fountain", "Aurora",
)
METER_PHRASES = {
    "2/4": "in 2/4 march time", "3/4": "in 3/4 waltz time", "6/8": "in a lilting 6/8",
    "5/4": "in 5/4 (five beats to the bar)", "7/8": "in 7/8 (seven quick beats to the bar)",
    "12/8": "in a rolling 12/8",
}
LENGTH_PHRASES = {15: "a 15-second sting", 20: "a 20-second miniature"}
CONSTRAINTS = ("voice", "key", "meter", "tempo", "length")  # also the order they are written in
WEIGHTS = {"voice": 4, "key": 4, "meter": 2, "tempo": 4, "length": 1}  # odd meters and stings are spice


@dataclass(frozen=True)
class JamPrompt:
    title: str  # "Neon Rain"
    text: str  # "Neon Rain — retro theme, synth voice, A minor, about 100 BPM"
    theme: str  # the theme's name, a built-in or a member's custom theme in the catalog
    options: dict  # request options for Muse's example piece: understand(text, options, catalog)


def draw_jam_prompt(catalog: Catalog, seed: int, *, theme_pool: Sequence[str] = (),
                    recent_titles: Collection[str] = ()) -> JamPrompt:
    """The day's prompt for `seed`; a title among `recent_titles` is drawn again with a derived
    seed, so a server never sees the same title twice within the window its caller passes."""
    themes = _themes(catalog, theme_pool)
    recent = {t.casefold() for t in recent_titles}
    for attempt in range(MAX_DRAWS):
        rng = random.Random(f"muse-jam:{seed}:{attempt}")
        title = _title(rng)
        if title.casefold() not in recent:
            return _prompt(catalog, rng, title, rng.choice(themes), seed)
    # only reached when almost every title was used lately: take any unused one
    rng = random.Random(f"muse-jam:{seed}:fallback")
    unused = [t for t in (f"{a} {n}" for a in ADJECTIVES for n in NOUNS) if t.casefold() not in recent]
    return _prompt(catalog, rng, rng.choice(unused or [_title(rng)]), rng.choice(themes), seed)


def _themes(catalog: Catalog, theme_pool: Sequence[str]) -> list[Theme]:
    """The pool's themes the catalog knows (a member may have deleted one); all themes otherwise,
    so the day's jam is still posted."""
    names = dict.fromkeys(n.strip().lower() for n in theme_pool)
    pool = [catalog.themes[n] for n in names if n in catalog.themes]
    return pool or [catalog.themes[n] for n in sorted(catalog.themes)]


def _title(rng: random.Random) -> str:
    return f"{rng.choice(ADJECTIVES)} {rng.choice(NOUNS)}"


def _prompt(catalog: Catalog, rng: random.Random, title: str, theme: Theme, seed: int) -> JamPrompt:
    kinds = sorted(_weighted_sample(rng, WEIGHTS, rng.choice((2, 3, 3))), key=CONSTRAINTS.index)
    options: dict[str, Any] = {"theme": theme.name, "length": EXAMPLE_LENGTH_S,
                               "seed": seed % (bounds("seed")[1] + 1)}
    phrases = [f"{theme.name} theme"]
    for kind in kinds:
        value, phrase = _DRAW[kind](catalog, theme, rng)
        options[kind] = value
        phrases.append(phrase)
    voice = catalog.voices.get(options.get("voice") or theme.spec.get("default_voice", ""))
    if voice is not None and voice.sings:
        options["lyrics"] = title.lower()  # a singer sings the title, not the prompt's wording
    return JamPrompt(title=title, text=f"{title} — {', '.join(phrases)}", theme=theme.name, options=options)


def _weighted_sample(rng: random.Random, weights: dict[str, int], k: int) -> list[str]:
    """k distinct names, each more likely the heavier it is (Efraimidis-Spirakis keys)."""
    return sorted(weights, key=lambda name: -rng.random() ** (1 / weights[name]))[:k]


def _voice(catalog: Catalog, theme: Theme, rng: random.Random) -> tuple[str, str]:
    """Any voice but the theme's usual one, so the constraint changes something."""
    names = sorted(n for n in catalog.voices if n != theme.spec.get("default_voice")) or sorted(catalog.voices)
    name = rng.choice(names)
    return name, f"{name} voice"


def _key(catalog: Catalog, theme: Theme, rng: random.Random) -> tuple[str, str]:
    """Any tonic, in a mode the theme plays (a sad theme stays minor)."""
    modes = set(theme.spec["modes"])
    name = rng.choice([k for k in key_names() if k.split()[-1] in modes])
    return name, name


def _meter(catalog: Catalog, theme: Theme, rng: random.Random) -> tuple[str, str]:
    """A meter other than the theme's first, so the constraint changes something."""
    meter = rng.choice([m for m in METER_PHRASES if m != theme.spec["meters"][0]])
    return meter, METER_PHRASES[meter]


def _tempo(catalog: Catalog, theme: Theme, rng: random.Random) -> tuple[int, str]:
    """Around the theme's own range (15 % either side), in steps of 5 BPM."""
    low, high = bounds("tempo")
    lo = max(low, 5 * math.ceil(theme.spec["tempo"]["min"] * 0.85 / 5))
    hi = min(high, 5 * math.floor(theme.spec["tempo"]["max"] * 1.15 / 5))
    bpm = rng.randrange(lo, max(lo, hi) + 1, 5)
    return bpm, f"about {bpm} BPM"


def _length(catalog: Catalog, theme: Theme, rng: random.Random) -> tuple[int, str]:
    seconds = rng.choice(sorted(LENGTH_PHRASES))
    return seconds, LENGTH_PHRASES[seconds]


_DRAW = {"voice": _voice, "key": _key, "meter": _meter, "tempo": _tempo, "length": _length}
