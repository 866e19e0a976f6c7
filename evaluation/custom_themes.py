"""Understanding with members' custom themes: are they found when named, and do the built-ins stay found?

Twenty custom themes (written here, each on top of a built-in's music) join the catalog the way a
member's visible themes do (`Catalog.with_themes`). Two figures:

- named: plain-word requests that name a custom theme ("in my neon rain theme", "use the sea shanty
  theme", "something like tavern music"; 3-4 per theme, none copied from the theme's own phrases)
  resolve to it — aim ≥ 95 %;
- built-in: per-field accuracy on the public prompts (evaluation/understanding.py) with the twenty
  present — aim: no field lower than without them.

Run `python -m evaluation.custom_themes`; tests/composer/test_custom_themes_understanding.py checks the aims.
"""

from __future__ import annotations

import json
import sys
from typing import Any

# name: (built-in it builds on, mood, description, its own example phrases, requests that name it)
CUSTOM_THEMES: dict[str, tuple[str, str, str, list[str], list[str]]] = {
    "neon-rain": (
        "retro", "moody",
        "Synthwave for wet neon streets at night: analog synth bass, gated drums, glowing pads.",
        ["synthwave night drive", "cyberpunk city lights", "outrun sunset", "eighties analog synths"],
        ["in my neon rain theme", "use neon rain for a late night drive", "neon-rain please, slow and moody",
         "something in the neon rain style"],
    ),
    "sea-shanty": (
        "march", "rousing",
        "A sailors' work song: stomping beat, fiddle and accordion, voices hauling ropes.",
        ["sailors hauling on the rope", "a song for the capstan", "heave ho on the deck", "whalers' chorus"],
        ["use the sea shanty theme", "a sea shanty about my cat", "sea shanties for the crew",
         "give me my sea-shanty theme at 100 bpm"],
    ),
    "tavern": (
        "happy", "merry",
        "A medieval inn by the fire: lute, recorder and hand drum, ale and laughter.",
        ["lute by the hearth", "minstrels at the inn", "mugs of ale raised high", "a bard plays for coins"],
        ["something like tavern music", "tavern theme for our game night", "a cheerful tavern tune",
         "in the tavern style with a flute"],
    ),
    "lofi-study": (
        "chill", "mellow",
        "Dusty beats to study to: soft keys, vinyl crackle, a lazy boom-bap groove.",
        ["beats for homework", "vinyl crackle and soft keys", "late night revision", "mellow boom bap"],
        ["my lofi study theme", "lofi-study for exam week", "use lofi study, nice and quiet",
         "put on the lofi study one"],
    ),
    "desert-caravan": (
        "adventure", "mysterious",
        "Camels crossing the dunes: hand drums, oud-like plucks, a wide horizon.",
        ["camels crossing the dunes", "an oasis at dusk", "a bazaar in the old city", "sandstorm rising"],
        ["desert caravan theme please", "use desert caravan for the trailer", "in my desert-caravan style",
         "a desert caravan march at dawn"],
    ),
    "rainy-cafe": (
        "jazz", "cosy",
        "A corner cafe while it rains: brushed drums, soft piano, a double bass and steam.",
        ["coffee and rain on the window", "a quiet corner table", "espresso and a good book",
         "brushes on a snare in a small cafe"],
        ["rainy cafe theme", "in my rainy cafe mood for sunday morning", "use rainy-cafe with piano",
         "something for the rainy cafe playlist"],
    ),
    "haunted-manor": (
        "horror", "eerie",
        "A crumbling mansion after midnight: creaking organ, music box, whispers on the stairs.",
        ["creaking floorboards", "a ghost in the portrait gallery", "candles blown out by nobody",
         "the old music box plays itself"],
        ["haunted manor theme for halloween", "use my haunted-manor theme", "in the haunted manor style",
         "haunted manor, slow and creepy"],
    ),
    "spring-garden": (
        "nature", "fresh",
        "Morning in a blooming garden: flutes, plucked strings, bees and birdsong.",
        ["tulips opening", "bees in the lavender", "dew on the roses", "planting seeds in april"],
        ["spring garden theme", "use spring garden for my mum's video", "in my spring-garden mood",
         "a spring garden waltz"],
    ),
    "arcade-boss": (
        "retro", "intense",
        "The final level of an old arcade game: fast chiptune leads, pounding bass, no continues.",
        ["final level on a cabinet", "insert coin to continue", "the last life left", "8-bit showdown"],
        ["arcade boss theme", "my arcade-boss theme but faster", "use arcade boss for the speedrun",
         "the arcade boss fight music"],
    ),
    "cathedral-hymn": (
        "epic", "reverent",
        "Stone arches and candlelight: a pipe organ and choir singing a slow hymn.",
        ["a pipe organ under stone arches", "choir in the nave", "candles at evensong",
         "bells before the service"],
        ["cathedral hymn theme", "in my cathedral-hymn style for the wedding", "use cathedral hymn",
         "a cathedral hymn in D major"],
    ),
    "wild-west": (
        "adventure", "dusty",
        "A lone rider and a campfire: twangy guitar, harmonica, hooves on the trail.",
        ["a lone rider at sundown", "tumbleweed in main street", "campfire and coffee on the range",
         "spurs jingling at the saloon door"],
        ["wild west theme", "use my wild-west theme for the showdown", "something wild west with harmonica",
         "in the wild west style"],
    ),
    "bossa-beach": (
        "relax", "breezy",
        "Bossa nova by the sea: nylon guitar, a soft samba rhythm, a warm breeze.",
        ["nylon guitar and a soft samba rhythm", "an afternoon in ipanema", "a whispered portuguese song",
         "a slow sway by the sea"],
        ["bossa beach theme", "use bossa beach for the holiday video", "my bossa-beach style, relaxed",
         "a bossa beach tune for two"],
    ),
    "tango-night": (
        "romantic", "passionate",
        "A milonga after midnight: bandoneon, violin and a dramatic tango rhythm.",
        ["bandoneon in a smoky hall", "dancers cheek to cheek", "a red rose between the teeth",
         "buenos aires after midnight"],
        ["tango night theme", "in my tango-night style", "use tango night for our first dance",
         "tango night, dramatic and slow"],
    ),
    "celtic-reel": (
        "happy", "lively",
        "A fast fiddle reel at a session: whistle, bodhran and stamping feet.",
        ["fiddles at the pub session", "a jig for the ceilidh", "tin whistle and bodhran",
         "dancing on the green hills"],
        ["celtic reel theme", "use my celtic-reel theme", "a celtic reel for the party",
         "in the celtic reel style with fiddle"],
    ),
    "samurai-dawn": (
        "epic", "stoic",
        "A samurai at first light: koto, shakuhachi and taiko drums in a misty valley.",
        ["koto and shakuhachi", "taiko drums in the mist", "cherry blossoms on the blade",
         "a temple on the mountain"],
        ["samurai dawn theme", "use samurai dawn for the duel scene", "my samurai-dawn theme please",
         "samurai dawn, slow and proud"],
    ),
    "polar-night": (
        "space", "icy",
        "The arctic winter night: glassy pads, slow bells, the northern lights overhead.",
        ["northern lights over the ice", "a frozen fjord", "snow falling on the tundra",
         "a polar bear under the stars"],
        ["polar night theme", "use polar-night for my timelapse", "in my polar night style",
         "polar night but a bit hopeful"],
    ),
    "funky-kitchen": (
        "dance", "groovy",
        "Cooking with the radio on: slap bass, clavinet, horns and a tight funk groove.",
        ["slap bass and clavinet", "dancing while the pasta boils", "horn stabs and wah guitar",
         "a groove for saturday chores"],
        ["funky kitchen theme", "use my funky-kitchen theme", "something funky kitchen for cooking",
         "funky kitchen with lots of bass"],
    ),
    "carnival-parade": (
        "march", "festive",
        "A street carnival: samba drums, whistles, brass and dancers in feathers.",
        ["samba drums in the street", "feathers and sequins", "whistles and confetti",
         "floats rolling down the avenue"],
        ["carnival parade theme", "use carnival parade for the festival", "my carnival-parade style",
         "a carnival parade in rio"],
    ),
    "spy-chase": (
        "rock", "tense",
        "A sixties spy on the run: surf guitar, bongos, brass hits and a sports car.",
        ["a secret agent in a tuxedo", "surf guitar and bongos", "a car chase along the cliffs",
         "the briefcase with the plans"],
        ["spy chase theme", "use spy chase for my trailer", "in my spy-chase style", "spy chase on a rooftop"],
    ),
    "winter-cabin": (
        "lullaby", "cosy",
        "A log cabin in deep snow: crackling fire, soft guitar, cocoa and blankets.",
        ["crackling fire and cocoa", "snowed in under blankets", "pine logs on the hearth",
         "frost on the window panes"],
        ["winter cabin theme", "use my winter-cabin theme for bedtime", "in the winter cabin mood",
         "winter cabin with a soft guitar"],
    ),
}

NAMED_AIM = 0.95


def custom_specs(catalog) -> list[dict[str, Any]]:
    """The twenty custom themes as a member would save them: a built-in's music, their own words."""
    specs = []
    for name, (base, mood, description, examples, _) in CUSTOM_THEMES.items():
        spec = json.loads(json.dumps(catalog.theme(base).spec))
        spec.update(name=name, mood=mood, description=description, examples=examples)
        specs.append(spec)
    return specs


def named_requests() -> list[tuple[str, str]]:
    """(request, the custom theme it names)."""
    return [(prompt, name) for name, (*_, requests) in CUSTOM_THEMES.items() for prompt in requests]


def score_named(catalog) -> tuple[float, list[str]]:
    """Share of naming requests that resolve to the named theme, and the misses."""
    from composer.understanding.understand import understand

    misses = []
    cases = named_requests()
    for prompt, name in cases:
        got = understand(prompt, {}, catalog).theme
        if got != name:
            misses.append(f"{prompt!r}: theme {got!r}, expected {name!r}")
    return 1 - len(misses) / len(cases), misses


def public_accuracy(catalog) -> tuple[dict[str, float], list[str]]:
    from evaluation.understanding import read_cases, score

    hits, misses = score(read_cases(), catalog)
    return {field: sum(oks) / len(oks) for field, oks in hits.items()}, misses


def main(argv: list[str]) -> int:
    from composer.catalog import default_catalog

    builtin = default_catalog()
    extended = builtin.with_themes(custom_specs(builtin))
    named, named_misses = score_named(extended)
    before, _ = public_accuracy(builtin)
    after, after_misses = public_accuracy(extended)
    print(f"named custom themes: {named:.1%} of {len(named_requests())} requests "
          f"({len(CUSTOM_THEMES)} themes; aim ≥ {NAMED_AIM:.0%})")
    print("| public field | built-ins only | with 20 custom themes |\n|---|---|---|")
    for field in before:
        print(f"| {field} | {before[field]:.1%} | {after[field]:.1%} |")
    for miss in named_misses:
        print("named miss:", miss)
    for miss in after_misses:
        print("public miss (with custom themes):", miss)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
