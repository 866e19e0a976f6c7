"""Custom themes named in plain words are found, and twenty of them cost the built-ins nothing.

The evaluation (themes, requests and figures) is evaluation/custom_themes.py; this checks its aims.
"""

import pytest

from composer.understanding.understand import _name_in_text, interpret, understand
from evaluation.custom_themes import CUSTOM_THEMES, NAMED_AIM, custom_specs, public_accuracy, score_named


@pytest.fixture(scope="module")
def extended(catalog):
    return catalog.with_themes(custom_specs(catalog))


def test_the_evaluation_has_twenty_themes_and_three_requests_each_not_copied():
    assert len(CUSTOM_THEMES) == 20
    for name, (_, _, description, examples, requests) in CUSTOM_THEMES.items():
        assert len(requests) >= 3, name
        phrases = {p.lower() for p in (description, *examples)}
        assert not any(r.lower() in phrases or any(r.lower() in p for p in phrases) for r in requests), name


def test_requests_naming_a_custom_theme_find_it(extended):
    share, misses = score_named(extended)
    assert share >= NAMED_AIM, misses


def test_the_builtins_public_accuracy_does_not_drop_with_twenty_custom_themes(catalog, extended):
    before, _ = public_accuracy(catalog)
    after, misses = public_accuracy(extended)
    assert all(after[field] >= before[field] for field in before), (before, after, misses)


@pytest.mark.parametrize("name,text,found", [
    ("neon-rain", "in my neon rain theme", True), ("neon-rain", "neon-rain please", True),
    ("neon-rain", "NeonRain", True), ("neon-rain", "neon is the rain", False),
    ("sea-shanty", "sea shanties for the crew", True), ("lullaby", "lullabies", True),
    ("march", "marching band", True), ("sad", "a saddle", False),
])
def test_a_name_is_found_with_spaces_for_hyphens(name, text, found):
    assert _name_in_text(name, text) is found


def test_a_named_custom_theme_wins_over_builtins_the_words_also_suggest(extended):
    # "dance" is a built-in the words name too; the member's own theme is what they asked for
    understanding = interpret("use tango night for our first dance", {}, extended)
    assert understanding.request.theme == "tango-night" and understanding.theme_source == "text"
    assert understanding.request.theme_spec["name"] == "tango-night"


def test_an_obscurely_named_custom_theme_is_found_even_with_little_meaning(catalog, extended):
    spec = {**custom_specs(catalog)[0], "name": "zq-7", "description": "Mine.", "examples": ["mine"]}
    request = understand("play zq 7", {}, extended.with_themes([spec]))
    assert request.theme == "zq-7"


def test_without_custom_themes_nothing_changes(catalog):
    assert understand("use tango night for our first dance", {}, catalog).theme == "dance"
