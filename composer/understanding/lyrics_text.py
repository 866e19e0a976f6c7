"""Words to sing: quoted text or `lyrics:` when given, else the prompt minus the instructions.

"celebrate my son's 7th birthday with a song sung by a lady, 90 bpm" sings
"celebrate my son's 7th birthday": the cue spans (tempo, key, voice …), request phrasing
("make me a song", "with a song", "please"), style asides ("make it a waltz", ", jazzy") and
a dedication before a name ("for my sister Jessica …" sings "Jessica …") go; what is left is
what the person wants to hear.
"""

from __future__ import annotations

import re
from functools import lru_cache

_QUOTED = re.compile(r"\"([^\"]{2,})\"|“([^”]{2,})”|„([^“”]{2,})[“”]|«([^»]{2,})»|(?:^|(?<=\s))'([^']{2,}?)'(?=\s|$|[.,!?;:])")
_LYRICS_LABEL = re.compile(r"\b(?:lyrics|words|text)\s*[:=]\s*(.+)$", re.I | re.S)

_REQUEST_START = re.compile(
    r"^(?:(?:hey|hi|ok|okay|yo|muse)\b[\s,!]*)*"
    r"(?:(?:can|could|would|will)\s+you\s+(?:please\s+)?|please\s+|pls\s+|plz\s+|i\s+(?:want|need|would\s+like|'d\s+like|wanna)\s+|"
    r"let'?s\s+|i'?d\s+love\s+)?"
    r"(?:(?:make|write|compose|create|generate|give|play|sing|produce|craft|whip\s+up|do)\b(?:\s+(?:me|us|her|him|them)\b)?)?",
    re.I,
)
_FILLER_NOUN = (r"(?:song|tune|piece|track|melody|jingle|number|ditty|composition|instrumental|music|beat|anthem|ballad|"
                r"lullaby|waltz|serenade|hymn|lament|shanty|ode)")
_REQUEST_PHRASES = [
    rf"\b(?:make|write|compose|create|play|sing|give|do)\s+(?:(?:me|us|her|him|them)\s+)?(?:a|an|some)\s+(?:\w+\s+)?{_FILLER_NOUN}\b",
    r"\b(?:sings?|singing|sung)\s+(?:about|of)\b",
    rf"\b(?:with|as|in|into)\s+(?:a|an|some)\s+(?:\w+\s+)?{_FILLER_NOUN}\b",
    rf"\b(?:a|an|some)\s+(?:little\s+|short\s+|quick\s+|new\s+|nice\s+)?{_FILLER_NOUN}\s+(?:for|about|of|that|which)\b",
    rf"^\s*(?:a|an|some)\s+(?:\w+\s+){{0,2}}?{_FILLER_NOUN}\b\s*[:,-]?",
    r"\b(?:please|pls|plz|thanks|thank\s+you|thx)\b",
    r"\b(?:sung|sang|singing|sings|played)\s*(?:by|on)?\s*$",
    r"\btime\s+signature\b",
    r"\b(?:signature|bpm|tempo)\b",
    r"\bin\s+time\b(?=\s*(?:[,.!?;]|$))",
    r"\b(?:make|keep|have)\s+(?:it|this|the\s+song)\s+(?:(?:a|an|more|sound|feel|really|very|super|kinda|kind\s+of|like)\s+)*"
    r"[\w-]+(?:\s+(?:one|song|tune|style|vibes?|feel|mood))?\b",
    r"\bin\s+(?:the\s+)?style\s+of\s+[^,.!?;]+",
]
# asides that only set the style when they stand alone at the end ("…, jazzy", "…, sad and slow")
STYLE_WORDS = frozenset("""
    jazzy funky upbeat sad happy epic chill spooky scary creepy romantic funny silly dramatic dreamy cheerful
    gentle soft slow fast energetic calm mellow groovy retro bluesy catchy loud quiet dark emotional melancholy
    melancholic uplifting festive playful peaceful relaxing relaxed moody cinematic orchestral acoustic electronic
    lofi lo-fi rock jazz pop blues folk classical waltz march lullaby ballad disco techno house punk metal
    country reggae swing latin celtic bouncy cute sweet heroic triumphant mysterious nostalgic
""".split())
_STYLE_TAIL = r"(?:very|really|super|more|a\s+bit|kinda|kind\s+of|and|,|\s)*"
_RELATION = (r"(?:sister|brother|mom|mum|mother|dad|father|wife|husband|son|daughter|friend|bestie|grandma|grandpa|"
             r"grandmother|grandfather|granny|nana|aunt|auntie|uncle|cousin|niece|nephew|boss|girlfriend|boyfriend|"
             r"partner|fiance|fiancee|colleague|teacher|neighbou?r|dog|cat)")
_DEDICATION = re.compile(rf"\b(?:(?:a|an|some)\s+(?:\w+\s+)?{_FILLER_NOUN}\s+)?for\s+(?:my|our)\s+"
                         rf"(?:(?:little|big|baby|dear|best|lovely|amazing|wonderful)\s+)*{_RELATION}\s*,?\s+(?=(?-i:[A-Z]))",
                         re.I)
_DANGLING = re.compile(r"^(?:[\s,;:.!?\-–—]|(?:and|with|by|for|in|at|on|of|to|a|an|the|about)\b)+|"
                       r"(?:[\s,;:\-–—]|\b(?:and|with|by|for|in|at|on|of|to|a|an|the|about)\b)+$", re.I)
_MENTION = re.compile(r"<[@#][!&]?\d+>|@(?:everyone|here)\b|https?://\S+|[*_~`|>#]+")


def explicit_lyrics(text: str) -> tuple[str, tuple[int, int]] | None:
    """Lyrics the person wrote out: `lyrics: …` to the end, or the first quoted passage."""
    label = _LYRICS_LABEL.search(text)
    if label:
        return label.group(1).strip().strip("\"“”'"), label.span()
    quoted = _QUOTED.search(text)
    if quoted:
        words = next(g for g in quoted.groups() if g)
        return words.strip(), quoted.span()
    return None


def remove_spans(text: str, spans: list[tuple[int, int]]) -> str:
    merged: list[list[int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    for start, end in reversed(merged):
        text = text[:start] + " , " + text[end:]
    return text


@lru_cache(maxsize=8)
def _style_tail(style_words: frozenset[str]) -> re.Pattern[str]:
    """Compiled once per set of words (the catalog's theme names change rarely), not per prompt."""
    words = "|".join(sorted((re.escape(w) for w in style_words), key=len, reverse=True))
    one = rf"(?:{words})(?:\s+(?:style|vibes?|mood|feel|one|version|theme))?"
    return re.compile(rf"[,;:\-–—]\s*{_STYLE_TAIL}{one}(?:{_STYLE_TAIL}{one})*{_STYLE_TAIL}[\s,;:.!]*$", re.I)


def lyrics_from_prompt(text: str, cue_spans: list[tuple[int, int]], style_words: frozenset[str] = frozenset()) -> str:
    """The prompt with cue spans, request phrasing and style asides removed; '' when nothing
    singable is left. `style_words` may add the catalog's theme names to the built-in ones."""
    words = _MENTION.sub(" ", remove_spans(text, cue_spans))
    words = _DEDICATION.sub(" ", _REQUEST_START.sub("", words.strip(), count=1))
    for pattern in _REQUEST_PHRASES:
        words = re.sub(pattern, " , ", words, flags=re.I)
    words = _style_tail(STYLE_WORDS | style_words).sub("", " ".join(words.split()))

    # tidy: no empty clauses, no punctuation runs, no dangling joiners at either end
    words = re.sub(r"\s+([,;:.!?])", r"\1", " ".join(words.split()))
    words = re.sub(r"([,;:])(?:[\s,;:]*[,;:])+", r"\1", words)
    previous = None
    while previous != words:
        previous, words = words, _DANGLING.sub("", words).strip()
    words = re.sub(r"\s*,\s*(?=[.!?]|$)", "", words)
    if not re.search(r"[^\W\d_]", words):  # nothing but numbers, punctuation or emoji
        return ""
    return words
