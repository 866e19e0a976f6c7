"""Lyrics text → words a singer can say: numbers and dates spelled out, accents folded, symbols
and other scripts skipped, each skip reported in one short note for the description."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

MAX_WORDS = 400  # more than any piece can sing (a 300 s piece has fewer notes); the rest is dropped
FALLBACK_WORDS = ("la", "la", "la")

_ORDINAL = re.compile(r"^(\d+)(st|nd|rd|th)$", re.I)
_YEAR = re.compile(r"^(1[1-9]|20)\d\d$")
_NUMBER = re.compile(r"^\d+(\.\d+)?$")
_TOKEN = re.compile(r"\d+(?:[.,]\d+)*(?:st|nd|rd|th)?|[^\W\d_]+(?:['’][^\W\d_]+)*", re.UNICODE)
_FOLD = {"ß": "ss", "æ": "ae", "œ": "oe", "ø": "o", "đ": "d", "ł": "l", "þ": "th", "ð": "d", "ı": "i"}


@dataclass
class Lyrics:
    words: list[str]  # lower-case ASCII words, in singing order
    notes: list[str] = field(default_factory=list)  # one line each, for the description

    @property
    def fallback(self) -> bool:
        return tuple(self.words) == FALLBACK_WORDS and bool(self.notes)


def spell_number(token: str) -> list[str]:
    """'90th' → ['ninetieth'], '1999' → ['nineteen', 'ninety', 'nine'], '3.5' → ['three', 'point', 'five']."""
    from num2words import num2words

    token = token.replace(",", "")
    ordinal = _ORDINAL.match(token)
    if ordinal:
        text = num2words(int(ordinal.group(1)), to="ordinal")
    elif _YEAR.match(token):
        text = num2words(int(token), to="year")
    elif _NUMBER.match(token) and len(token) <= 15:
        text = num2words(float(token) if "." in token else int(token))
    else:  # a long digit string: read it digit by digit
        text = " ".join(num2words(int(d)) for d in token if d.isdigit())
    return re.findall(r"[a-z]+", text.lower())


def _fold(word: str) -> str | None:
    """Latin letters with accents → plain ASCII; None when the word is in another script."""
    out = []
    for ch in word.lower():
        if ch in "'’":
            out.append("'")
            continue
        if ch in _FOLD:
            out.append(_FOLD[ch])
            continue
        base = unicodedata.normalize("NFKD", ch).encode("ascii", "ignore").decode()
        if not base.isalpha():
            return None
        out.append(base)
    folded = "".join(out).strip("'")
    return folded or None


def words_from_text(text: str) -> Lyrics:
    """Split lyrics into singable English-letter words, reporting what was spelled out or skipped."""
    words: list[str] = []
    skipped: list[str] = []
    spelled = False
    for match in _TOKEN.finditer(text or ""):
        token = match.group(0)
        if token[0].isdigit():
            words.extend(spell_number(token))
            spelled = True
            continue
        folded = _fold(token)
        if folded is None:
            skipped.append(token)
        else:
            words.append(folded)
    notes: list[str] = []
    if spelled:
        notes.append("numbers in the lyrics are sung as words")
    if skipped:
        shown = " ".join(skipped[:3]) + (" …" if len(skipped) > 3 else "")
        notes.append(f"Muse sings in English letters only, so it skipped {shown}")
    if len(words) > MAX_WORDS:
        notes.append(f"the lyrics are long, so Muse sings only the first {MAX_WORDS} words")
        words = words[:MAX_WORDS]
    if not words:
        notes.append("the lyrics have no words Muse can sing, so it sings 'la la la'")
        words = list(FALLBACK_WORDS)
    return Lyrics(words, notes)
