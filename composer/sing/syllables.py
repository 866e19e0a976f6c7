"""Words → syllables with stress, from espeak-ng's phonemes (the same phonemes the voice speaks,
so the syllables the text-setting counts are exactly the ones the singer sings).

espeak marks stress (ˈ primary, ˌ secondary) just before a vowel; a syllable is one vowel
nucleus (a diphthong counts once) with the consonants around it.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from functools import lru_cache

VOWELS = set("aeiouyæɑɒɔəɚɛɜɝɪʊʌɐᵻɵɘɤɯɨʉøœɶ")
DIPHTHONGS = {("e", "ɪ"), ("a", "ɪ"), ("ɔ", "ɪ"), ("o", "ʊ"), ("a", "ʊ"), ("ə", "ʊ")}
STRESS_MARKS = {"ˈ": 2, "ˌ": 1}
LONG = "ː"
FUNCTION_WORDS = set(
    "a an the and or but of to in on at by for with from as is are was were be am it its i you he she "
    "we they me him her us them my your our their his this that so if than then".split())


@dataclass(frozen=True)
class Syllable:
    text: str  # spelling shown in the MIDI lyrics ("hap", "py")
    phonemes: tuple[str, ...]  # espeak IPA symbols, stress marks removed
    nucleus: tuple[int, int]  # [start, end) of the vowel within `phonemes`
    stress: int  # 2 primary, 1 secondary, 0 none
    word_index: int  # which word of the lyrics it belongs to
    word_start: bool  # first syllable of its word
    word_end: bool  # last syllable of its word


_lock = threading.Lock()
_phonemizer = None


def _espeak_phonemes(word: str) -> list[str]:
    """espeak-ng phonemes of one word (piper's bundled espeak-ng data; no network, no files written)."""
    global _phonemizer
    with _lock:  # espeak-ng keeps global state
        if _phonemizer is None:
            from piper.phonemize_espeak import EspeakPhonemizer

            _phonemizer = EspeakPhonemizer()
        sentences = _phonemizer.phonemize("en-us", word)
    return [p for sentence in sentences for p in sentence if p.strip() and p not in ".,;:!?-'\""]


def _nuclei(phones: list[str]) -> list[tuple[int, int]]:
    """[start, end) spans of vowel nuclei; long marks and diphthong second halves stay in their nucleus."""
    spans: list[tuple[int, int]] = []
    i = 0
    while i < len(phones):
        if phones[i] in VOWELS:
            j = i + 1
            while j < len(phones) and (phones[j] == LONG or (phones[j - 1], phones[j]) in DIPHTHONGS):
                j += 1
            spans.append((i, j))
            i = j
        else:
            i += 1
    return spans


_DIGRAPHS = ("th", "ch", "sh", "ph", "wh", "ck", "ng", "gh", "qu")


def _cut_in_cluster(word: str, start: int, end: int) -> int:
    """Where to cut the consonants word[start:end] between two vowels: one consonant (or digraph)
    goes to the next syllable, the rest stay with the previous one (hap-py, birth-day)."""
    if end - start >= 2 and word[end - 2:end] in _DIGRAPHS and end - start > 2:
        return end - 2
    return end - 1 if end - start >= 2 else start


def _split_spelling(word: str, count: int) -> list[str]:
    """Split a word's letters into `count` parts at vowel-group boundaries (display only)."""
    if count <= 1:
        return [word]
    groups = [(m.start(), m.end()) for m in re.finditer(r"[aeiouy]+", word)]
    if groups and groups[0] == (0, 1) and word[0] == "y" and len(word) > 1:
        groups = groups[1:]  # initial y is a consonant (yellow)
    silent_e = len(groups) > 1 and groups[-1] == (len(word) - 1, len(word)) and word.endswith("e")
    if silent_e and not re.search(r"[^aeiouy]le$", word):
        groups = groups[:-1]
    while len(groups) > count:  # merge the pair with the fewest letters between them
        gaps = [groups[k + 1][0] - groups[k][1] for k in range(len(groups) - 1)]
        k = gaps.index(min(gaps))
        groups[k:k + 2] = [(groups[k][0], groups[k + 1][1])]
    while len(groups) < count:  # split the longest vowel group (i-de-a)
        k = max(range(len(groups)), key=lambda g: groups[g][1] - groups[g][0]) if groups else -1
        if k < 0 or groups[k][1] - groups[k][0] < 2:
            break
        start, end = groups[k]
        groups[k:k + 1] = [(start, start + 1), (start + 1, end)]
    if len(groups) < count:  # no vowels to split (rhythm): even slices of the letters
        size = len(word) / count
        cuts = [round(size * k) for k in range(count + 1)]
    else:
        cuts = [0] + [_cut_in_cluster(word, a_end, b_start)
                      for (_, a_end), (b_start, _) in zip(groups, groups[1:])] + [len(word)]
    parts = [word[a:b] for a, b in zip(cuts, cuts[1:])]
    return [p or "-" for p in parts]


@lru_cache(maxsize=4096)
def word_syllables(word: str) -> tuple[tuple[tuple[str, ...], tuple[int, int], int], ...]:
    """(phonemes, nucleus span, stress) per syllable of one word; empty when it has no vowel."""
    raw = _espeak_phonemes(word)
    phones: list[str] = []
    stress_before: dict[int, int] = {}
    for p in raw:
        if p in STRESS_MARKS:
            stress_before[len(phones)] = max(stress_before.get(len(phones), 0), STRESS_MARKS[p])
        else:
            phones.append(p)
    spans = _nuclei(phones)
    if not spans:
        return ()
    out = []
    bounds = [0]
    for (_, end_a), (start_b, _) in zip(spans, spans[1:]):
        consonants = start_b - end_a
        bounds.append(end_a + (1 if consonants >= 2 else 0))  # one consonant goes to the next onset
    bounds.append(len(phones))
    previous_end = 0
    for k, (start, end) in enumerate(spans):
        a, b = bounds[k], bounds[k + 1]
        stress = max((s for pos, s in stress_before.items() if previous_end <= pos <= start), default=0)
        previous_end = end
        out.append((tuple(phones[a:b]), (start - a, end - a), stress))
    if len(out) == 1 and word in FUNCTION_WORDS:
        out = [(out[0][0], out[0][1], 0)]
    elif len(out) == 1 and out[0][2] == 0:
        out = [(out[0][0], out[0][1], 1)]  # a content monosyllable carries some stress
    return tuple(out)


def syllabify(words: list[str]) -> list[Syllable]:
    """All syllables of the lyrics in order; words without a vowel sound are skipped."""
    result: list[Syllable] = []
    for index, word in enumerate(words):
        parts = word_syllables(word)
        spellings = _split_spelling(word, len(parts))
        for k, ((phones, nucleus, stress), text) in enumerate(zip(parts, spellings)):
            result.append(Syllable(text or "-", phones, nucleus, stress, index, k == 0, k == len(parts) - 1))
    return result
