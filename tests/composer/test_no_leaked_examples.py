"""No public example prompt, nor a near copy of one, among the theme phrases.

The theme phrases (description and examples) train the theme classifier and are what prompts are
compared with, so a public prompt copied into them makes the public accuracy measure recall, not
understanding. Texts are normalised first (casefold, punctuation → space, whitespace collapsed).
A theme text and a public prompt are near copies when any of these holds:

1. they are equal;
2. one contains the other as whole words and the contained one has at least 2 words
   (a lone genre word such as "bebop" is the theme's vocabulary, not a copied prompt);
3. their word sets overlap with Jaccard ≥ 0.5;
4. they share a run of ≥ 3 consecutive words of which ≥ 2 are content words (not in FUNCTION_WORDS),
   which catches a prompt with one word swapped ("celebrate my son's 5th birthday") but not
   "music for a ...".

The prompts are read from the same file as test_eval_prompts.py (evaluation.understanding.PUBLIC_PROMPTS).
"""

import json
import re

import pytest

from composer.catalog import DATA_DIR
from evaluation.understanding import PUBLIC_PROMPTS, read_cases

JACCARD = 0.5
RUN = 3
FUNCTION_WORDS = frozenset("a an the and or for of to in on at by with my me i is it this that some "
                           "music song piece tune".split())


def normalise(text: str) -> str:
    return " ".join(re.sub(r"[^\w\s]", " ", text.casefold()).split())


def _shared_run(a: list[str], b: list[str]) -> list[str]:
    """The longest run of consecutive words both texts have (ties: the first)."""
    best: list[str] = []
    for i in range(len(a)):
        for j in range(len(b)):
            k = 0
            while i + k < len(a) and j + k < len(b) and a[i + k] == b[j + k]:
                k += 1
            if k > len(best):
                best = a[i:i + k]
    return best


def near_copy(text: str, prompt: str) -> str | None:
    """Why `text` is a near copy of `prompt` (both raw), or None."""
    a, b = normalise(text), normalise(prompt)
    if a == b:
        return "equal"
    short, long = sorted((a, b), key=len)
    if len(short.split()) >= 2 and f" {short} " in f" {long} ":
        return "contained"
    wa, wb = set(a.split()), set(b.split())
    if len(wa & wb) / len(wa | wb) >= JACCARD:
        return f"Jaccard {len(wa & wb) / len(wa | wb):.2f}"
    run = _shared_run(a.split(), b.split())
    if len(run) >= RUN and sum(w not in FUNCTION_WORDS for w in run) >= 2:
        return f"shares {' '.join(run)!r}"
    return None


def theme_texts():
    """(theme file, field, text) for every description and example of the built-in themes."""
    for path in sorted((DATA_DIR / "themes").glob("*.json")):
        spec = json.loads(path.read_text(encoding="utf-8"))
        yield path.name, "description", spec["description"]
        for i, example in enumerate(spec.get("examples", [])):
            yield path.name, f"examples[{i}]", example


@pytest.fixture(scope="module")
def public_prompts():
    if not PUBLIC_PROMPTS.is_file():
        pytest.skip(f"no public example prompts at {PUBLIC_PROMPTS} (copy shared/eval/prompts_public.jsonl there)")
    return sorted({case["prompt"] for case in read_cases(PUBLIC_PROMPTS)})


def test_no_public_prompt_is_a_theme_phrase(public_prompts):
    public = {normalise(p) for p in public_prompts}
    leaked = [f"{name} {field}: {text!r}" for name, field, text in theme_texts() if normalise(text) in public]
    assert not leaked, "public example prompts copied into theme files: " + "; ".join(leaked)


def test_no_theme_phrase_is_a_near_copy_of_a_public_prompt(public_prompts):
    found = [f"{name} {field}: {text!r} ~ {prompt!r} ({why})"
             for name, field, text in theme_texts() for prompt in public_prompts
             if (why := near_copy(text, prompt))]
    assert not found, "near copies of public prompts in theme files:\n" + "\n".join(found)


def test_near_copy_rule():
    assert near_copy("Happy  Birthday!", "happy birthday") == "equal"
    assert near_copy("chill lo-fi beat for studying", "chill lo fi beat for studying") == "equal"
    assert near_copy("smooth jazz", "smooth jazz for a rainy evening") == "contained"
    assert near_copy("a military march", "a triumphant military march").startswith("Jaccard")
    assert near_copy("celebrate my son's 5th birthday",
                     "celebrate my son's 7th birthday with a song sung by a lady") == "shares 'celebrate my son s'"
    assert near_copy("bebop", "bebop saxophone improvisation") is None  # one genre word
    assert near_copy("joyful music for a sunny day", "scary music for a haunted house") is None  # function words
