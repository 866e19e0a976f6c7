"""Which voice the words ask for: "voiced by a guy", "baritone", "on piano", "power chords", "koto".

Phrases come from each voice file's `examples` (and, for the ethnic voice, its lead instruments'
names) plus the built-in vocabulary below. Each match has a strength: a named singer (3) beats a
clear instrument request (2) beats a bare mention (1); ties go to the earliest mention. Negated
mentions ("no drums", "without piano") and accompaniment ("with soft drums") never choose.

A singer is named by a rule, not by listed phrases: a singing verb and "by", an optional determiner,
up to three describing words, then a word for a woman or a man ("sang by a lady", "vocals by my
dad", "crooned by a tall, dark gentleman"); or that word before a singing word ("a fella singing",
"a lass who sings", "a guy's voice").
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Iterable

from composer.catalog import Voice

_WOMAN = (r"(?:woman|women|lady|ladies|girl|female|gal|lass|lassie|maiden|mom|mum|mama|mommy|mother|grandmother|"
          r"sister|daughter|granddaughter|niece|wife|bride|girlfriend|grandma|granny|nana|aunt|auntie|queen|princess|"
          r"diva|madam)")
_MAN = (r"(?:man|men|guy|boy|male|gentleman|gentlemen|gent|lad|fellow|fella|bloke|chap|dude|dad|daddy|papa|father|"
        r"grandfather|brother|son|grandson|nephew|husband|groom|boyfriend|grandpa|gramps|uncle|king|prince|sir)")
# "sung by", "sang by", "voiced by", "vocals by" …, then "a"/"my"/"the" …, then up to three describing
# words ("an old", "a tall, dark"), never a linking word, so "sung by a lady for my son" names only the lady
_SUNG_BY = (r"(?:sung|sang|sing|singing|voiced|vocals?|vocali[sz]ed|crooned|belted(?:\s+out)?)\s+by\s+"
            r"(?:(?:a|an|the|my|our|your|his|her|their|one|some|this|that)\s+)?"
            r"(?:(?!(?:and|or|but|for|with|to|of|in|on|at|about|from)\b)\w+,?[\s-]+){0,3}")
_SINGS = r"(?:(?:who|that)\s+)?(?:sings|sang|singing|vocals?|vocalist|singer|voice)"
_OWN = r"s?(?:'|’)s?"  # "lady's", "ladies'", "lads'"

# voice → [(pattern, strength)]
BUILTIN: dict[str, list[tuple[str, float]]] = {
    "female": [
        (rf"{_SUNG_BY}{_WOMAN}s?", 3),
        (rf"(?:female|feminine|{_WOMAN}{_OWN})\s+(?:vocals?|voice|singer|vocalist|lead)", 3),
        (rf"{_WOMAN}\s+{_SINGS}", 3),
        (r"(?:she|her)\s+(?:sings|singing)|her\s+voice|soprano|mezzo(?:-soprano)?|contralto|\balto\b|songstress|chanteuse|diva", 3),
        (r"female|feminine", 2),
    ],
    "male": [
        (rf"{_SUNG_BY}{_MAN}s?", 3),
        (rf"(?:male|masculine|{_MAN}{_OWN})\s+(?:vocals?|voice|singer|vocalist|lead)", 3),
        (rf"{_MAN}\s+{_SINGS}", 3),
        (r"(?:he|his)\s+(?:sings|singing)|his\s+voice|baritone|tenor|bass\s+singer|basso|crooner|crooning", 3),
        (r"male|masculine", 2),
    ],
    "metal": [
        (r"shred(?:s|ding|der)?|heavy\s+metal|(?:thrash|death|black|nu|power|doom|speed)\s+metal|metal(?:core|head)?|"
         r"djent|headbang(?:ing|er)?|(?:distorted|distortion|screaming|chugging|crunchy)\s+guitars?|power\s+chords|"
         r"electric\s+guitar\s+solo|guitar\s+solo|wailing\s+guitars?", 2),
        (r"electric\s+guitars?", 1),
    ],
    "synth": [
        (r"on\s+(?:a\s+|the\s+)?synth(?:esizer)?s?|synth\s+(?:lead|solo|only)|chiptune|8[\s-]?bit|16[\s-]?bit|"
         r"synthwave|vaporwave|moog|square[\s-]waves?|arpeggiator", 2),
        (r"synth(?:esizer|esiser|s)?|electronic|electro|analog(?:ue)?\s+synth", 1),
    ],
    "piano": [
        (r"on\s+(?:the\s+|a\s+)?(?:piano|keys|keyboard)|(?:solo|grand|upright|concert|honky[\s-]tonk)\s+piano|"
         r"piano\s+(?:solo|only|piece|ballad|sonata|etude|étude|nocturne|prelude)|pianist|ivories", 2),
        (r"piano|keyboard|rhodes", 1),
    ],
    "drums": [
        (r"drum\s+(?:solo|groove|beat|line|circle|break|loop|kit\s+solo|and\s+bass\s+only)|drums?\s+only|"
         r"(?:only|just)\s+(?:drums?|percussion|a\s+beat)|percussion\s+(?:only|solo|ensemble)|drumline|drummer|"
         r"beat\s+only|on\s+(?:the\s+)?drums", 2),
        (r"drums?|percussion|bongos|congas|taiko", 1),
    ],
    "ethnic": [
        (r"sitar|koto|shamisen|shakuhachi|pan\s?(?:flute|pipes?)|panpipes?|erhu|guzheng|pipa|bagpipes?|didgeridoo|"
         r"bouzouki|balalaika|kalimba|mbira|duduk|oud|tin\s+whistle|uilleann|bodhr[aá]n|santoor|sarod|tabla|"
         r"world\s+music|folk\s+instruments?|traditional\s+instruments?|ethnic", 2),
        (r"fiddle|whistle|flute|mandolin|banjo", 1),
    ],
}
_NEGATION = re.compile(r"\b(?:no|without|not|minus|except|skip|lose|zero|nor)\s+(?:\w+\s+)?$", re.I)
_ACCOMPANIMENT = re.compile(r"\b(?:with|and|plus|over|under|behind|backed\s+by)\s+(?:\w+\s+){0,2}$", re.I)
_GENERIC_SINGING = re.compile(r"\b(?:vocals?|sung|singer|vocalist|a\s?cappella|with\s+lyrics|sing[\s-]?along|"
                              r"sing\s+(?:me|us|her|him|them|it|to|for|about|the\s+words)\b)|^\W*sing\b", re.I)


@dataclass(frozen=True)
class VoiceCue:
    voice: str
    strength: float
    span: tuple[int, int]


@lru_cache(maxsize=64)
def _patterns(voice_name: str, examples: tuple[str, ...]) -> tuple[tuple[re.Pattern[str], float], ...]:
    compiled = [(re.compile(rf"\b(?:{p})\b", re.I), s) for p, s in BUILTIN.get(voice_name, [])]
    for strength, phrases in ((2.0, [e for e in examples if " " in e.strip()]),
                              (1.0, [e for e in examples if " " not in e.strip() and len(e) > 2])):
        if phrases:  # a phrase ("drum solo") asks clearly; one word ("drums") is a bare mention
            alternation = "|".join(re.escape(e).replace(r"\ ", r"\s+") for e in sorted(phrases, key=len, reverse=True))
            compiled.append((re.compile(rf"\b(?:{alternation})\b", re.I), strength))
    compiled.append((re.compile(rf"\b{re.escape(voice_name)}\b", re.I), 1.0))
    return tuple(compiled)


def _phrases(voice: Voice) -> tuple[str, ...]:
    names = [i["name"] for i in voice.spec.get("lead", {}).get("instruments", []) if voice.name == "ethnic"]
    return tuple(dict.fromkeys([*voice.spec.get("examples", []), *names]))


@lru_cache(maxsize=16)
def _all_patterns(voices: tuple[tuple[str, tuple[str, ...]], ...]
                  ) -> tuple[re.Pattern[str], tuple[tuple[str, re.Pattern[str], float], ...]]:
    """Every voice's patterns, plus one alternation of them all that rules out most prompts in one search."""
    patterns = tuple((name, pattern, strength) for name, phrases in voices
                     for pattern, strength in _patterns(name, phrases))
    anything = re.compile("|".join(f"(?:{pattern.pattern})" for _, pattern, _ in patterns) or "(?!)", re.I)
    return anything, patterns


def read_voices(text: str, voices: Iterable[Voice]) -> list[VoiceCue]:
    """Every voice cue in the text, strongest first, then earliest."""
    anything, patterns = _all_patterns(tuple((voice.name, _phrases(voice)) for voice in voices))
    if anything.search(text) is None:
        return []
    found: list[VoiceCue] = []
    for name, pattern, strength in patterns:
        for match in pattern.finditer(text):
            before = text[max(0, match.start() - 40):match.start()]
            if _NEGATION.search(before):
                continue
            if strength < 2 and _ACCOMPANIMENT.search(before):
                continue  # "rock with loud drums": the drums accompany, they don't lead
            found.append(VoiceCue(name, strength, match.span()))
    found.sort(key=lambda c: (-c.strength, c.span[0]))
    return found


def asks_for_singing(text: str) -> tuple[int, int] | None:
    """'with vocals', 'a singer', 'sung': someone should sing, without saying who."""
    for match in _GENERIC_SINGING.finditer(text):
        if not _NEGATION.search(text[max(0, match.start() - 40):match.start()]):
            return match.span()
    return None
