"""No public example prompt, nor a near copy of one, among the theme or voice phrases.

The theme phrases (description and examples) train the theme classifier and are what prompts are
compared with; the voice phrases (examples, and the lead instruments' names and cues) are matched
against the prompt's words to choose the voice and the lead instrument (composer/understanding/voice_cues.py,
composer/plan.py). A public prompt copied into either makes the public accuracy measure recall, not
understanding. Voice descriptions are checked too, though nothing matches against them today.
Texts are normalised first (casefold, punctuation → space, whitespace collapsed).
A catalog text and a public prompt are near copies when any of these holds:

1. they are equal;
2. one contains the other as whole words and the contained one has at least 2 words
   (a lone genre or instrument word such as "bebop", "sitar" or "drums" is the catalog's vocabulary,
   not a copied prompt; a two-word phrase such as "drum solo" lifted from a prompt is a copy);
3. their word sets overlap with Jaccard ≥ 0.5;
4. they share a run of ≥ 3 consecutive words of which ≥ 2 are content words (not in FUNCTION_WORDS),
   which catches a prompt with one word swapped ("celebrate my son's 5th birthday") but not
   "music for a ...".

The prompts are read from the same file as test_eval_prompts.py (evaluation.understanding.PUBLIC_PROMPTS).
"""

import json
import re

import pytest

from composer.catalog import DATA_DIR, default_catalog
from composer.understanding import voice_cues
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


def voice_texts():
    """(voice file, field, text) for every text of the built-in voices: description, examples, and each
    lead instrument's name and cues."""
    for path in sorted((DATA_DIR / "voices").glob("*.json")):
        spec = json.loads(path.read_text(encoding="utf-8"))
        yield path.name, "description", spec["description"]
        for i, example in enumerate(spec.get("examples", [])):
            yield path.name, f"examples[{i}]", example
        for i, instrument in enumerate(spec.get("lead", {}).get("instruments", [])):
            yield path.name, f"lead.instruments[{i}].name", instrument["name"]
            for j, cue in enumerate(instrument.get("cues", [])):
                yield path.name, f"lead.instruments[{i}].cues[{j}]", cue


CATALOG_TEXTS = {"theme": theme_texts, "voice": voice_texts}


@pytest.fixture(scope="module")
def public_prompts():
    if not PUBLIC_PROMPTS.is_file():
        pytest.skip(f"no public example prompts at {PUBLIC_PROMPTS} (copy shared/eval/prompts_public.jsonl there)")
    return sorted({case["prompt"] for case in read_cases(PUBLIC_PROMPTS)})


@pytest.mark.parametrize("kind", CATALOG_TEXTS)
def test_no_public_prompt_is_a_catalog_phrase(public_prompts, kind):
    public = {normalise(p) for p in public_prompts}
    leaked = [f"{name} {field}: {text!r}" for name, field, text in CATALOG_TEXTS[kind]() if normalise(text) in public]
    assert not leaked, f"public example prompts copied into {kind} files: " + "; ".join(leaked)


@pytest.mark.parametrize("kind", CATALOG_TEXTS)
def test_no_catalog_phrase_is_a_near_copy_of_a_public_prompt(public_prompts, kind):
    found = [f"{name} {field}: {text!r} ~ {prompt!r} ({why})"
             for name, field, text in CATALOG_TEXTS[kind]() for prompt in public_prompts
             if (why := near_copy(text, prompt))]
    assert not found, f"near copies of public prompts in {kind} files:\n" + "\n".join(found)


def test_the_rule_sees_every_phrase_the_voice_reader_matches():
    """If voice_cues starts reading another field, this fails until voice_texts() checks it too."""
    checked = {text for _, _, text in voice_texts()}
    read = {phrase for voice in default_catalog().voices.values() for phrase in voice_cues._phrases(voice)}
    assert read <= checked, f"voice phrases the leak rule does not check: {sorted(read - checked)}"


def test_near_copy_rule():
    assert near_copy("Happy  Birthday!", "happy birthday") == "equal"
    assert near_copy("chill lo-fi beat for studying", "chill lo fi beat for studying") == "equal"
    assert near_copy("smooth jazz", "smooth jazz for a rainy evening") == "contained"
    assert near_copy("a military march", "a triumphant military march").startswith("Jaccard")
    assert near_copy("celebrate my son's 5th birthday",
                     "celebrate my son's 7th birthday with a song sung by a lady") == "shares 'celebrate my son s'"
    assert near_copy("bebop", "bebop saxophone improvisation") is None  # one genre word
    assert near_copy("sitar", "a sitar melody at sunrise") is None  # one instrument word
    assert near_copy("drum solo", "a drum solo") == "contained"  # a phrase lifted from a prompt
    assert near_copy("joyful music for a sunny day", "scary music for a haunted house") is None  # function words
