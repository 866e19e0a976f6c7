"""Daily jam prompts: varied, never a recent title again, the server's theme pool, and every prompt's
options compose Muse's example piece through `understand` exactly as the text says."""

from __future__ import annotations

import os
import subprocess
import sys
from collections import Counter

import pytest

from composer.jam import ADJECTIVES, CONSTRAINTS, EXAMPLE_LENGTH_S, NOUNS, JamPrompt, draw_jam_prompt
from composer.understanding.understand import understand


@pytest.fixture(scope="module")
def neon_rain(catalog):
    """A member's custom theme, with a tempo range no built-in has."""
    spec = {**catalog.theme("chill").spec, "name": "neon-rain", "description": "Rain on neon signs, late.",
            "examples": ["rain on a neon sign"], "tempo": {"min": 96, "max": 104, "default": 100}}
    return catalog.with_themes([spec])


def constraints(prompt: JamPrompt) -> list[str]:
    """The constraints a prompt sets (length counts when it is not the example's default)."""
    options = prompt.options
    return [k for k in CONSTRAINTS if k in options and (k != "length" or options[k] != EXAMPLE_LENGTH_S)]


def test_the_same_seed_gives_the_same_prompt_in_another_process(catalog):
    """Seeds are strings hashed by `random`, not Python's salted hash: a restart draws the same jam."""
    here = [draw_jam_prompt(catalog, seed) for seed in (0, 1, 2**40 + 7)]
    code = ("from composer.catalog import default_catalog; from composer.jam import draw_jam_prompt; "
            "print(repr([draw_jam_prompt(default_catalog(), s) for s in (0, 1, 2**40 + 7)]))")
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    assert out.stdout.strip() == repr(here)
    assert here[0] == draw_jam_prompt(catalog, 0)


def test_sixty_seeds_give_varied_prompts(catalog):
    prompts = [draw_jam_prompt(catalog, seed) for seed in range(60)]
    assert len({p.text for p in prompts}) == 60
    assert len({p.title for p in prompts}) >= 55  # 1,600 titles: a couple of chance repeats at most
    assert len({p.theme for p in prompts}) >= 14  # of 18
    kinds = Counter(k for p in prompts for k in constraints(p))
    assert set(kinds) == set(CONSTRAINTS) and min(kinds.values()) >= 4, kinds
    assert all(2 <= len(constraints(p)) <= 3 for p in prompts)
    assert len({p.options["voice"] for p in prompts if "voice" in p.options}) >= 5
    assert len({p.options["key"] for p in prompts if "key" in p.options}) >= 12
    assert len({p.options["meter"] for p in prompts if "meter" in p.options}) >= 4
    for p in prompts:
        adjective, noun = p.title.split(" ")
        assert adjective in ADJECTIVES and noun in NOUNS
        assert p.text.startswith(f"{p.title} — {p.theme} theme, ")


def test_each_constraint_fits_the_theme_and_changes_something(catalog):
    for seed in range(200):
        p = draw_jam_prompt(catalog, seed)
        spec = catalog.theme(p.theme).spec
        if "key" in p.options:
            assert p.options["key"].split()[-1] in spec["modes"], p  # a sad theme stays minor
            assert p.options["key"] in p.text
        if "tempo" in p.options:
            assert spec["tempo"]["min"] * 0.85 <= p.options["tempo"] <= spec["tempo"]["max"] * 1.15, p
            assert p.options["tempo"] % 5 == 0 and f"about {p.options['tempo']} BPM" in p.text
        if "meter" in p.options:
            assert p.options["meter"] != spec["meters"][0] and p.options["meter"] in p.text
        if "voice" in p.options:
            assert p.options["voice"] != spec["default_voice"] and f"{p.options['voice']} voice" in p.text


def test_a_server_never_sees_a_title_again_within_thirty_days(catalog):
    """A year of daily jams for one server, each drawn with the previous 30 days' titles."""
    titles: list[str] = []
    for day in range(365):
        prompt = draw_jam_prompt(catalog, 1000 + day, recent_titles=titles[-30:])
        assert prompt.title not in titles[-30:]
        titles.append(prompt.title)


def test_a_recent_title_is_drawn_again_with_a_derived_seed_deterministically(catalog):
    first = draw_jam_prompt(catalog, 7)
    again = draw_jam_prompt(catalog, 7, recent_titles=[first.title.upper()])  # any case
    assert again.title != first.title
    assert again == draw_jam_prompt(catalog, 7, recent_titles=[first.title])
    assert again.options["seed"] == first.options["seed"]  # the example piece keeps its seed


def test_when_nearly_every_title_was_used_the_last_one_left_is_drawn(catalog):
    every = [f"{a} {n}" for a in ADJECTIVES for n in NOUNS]
    assert draw_jam_prompt(catalog, 3, recent_titles=every[1:]).title == every[0]


def test_the_theme_pool_is_respected(catalog):
    themes = {draw_jam_prompt(catalog, seed, theme_pool=["sad", " Jazz ", "no-such-theme"]).theme
              for seed in range(40)}
    assert themes == {"sad", "jazz"}  # case and spaces forgiven, a deleted theme skipped


def test_a_pool_of_only_unknown_themes_falls_back_to_every_theme(catalog):
    """A member deleted the server's only pool theme: the day's jam is still posted."""
    themes = {draw_jam_prompt(catalog, seed, theme_pool=["gone"]).theme for seed in range(60)}
    assert themes <= set(catalog.themes) and len(themes) >= 10


def test_a_custom_theme_in_the_pool_is_drawn_with_its_own_ranges(neon_rain):
    for seed in range(30):
        prompt = draw_jam_prompt(neon_rain, seed, theme_pool=["neon-rain"])
        assert prompt.theme == "neon-rain" and prompt.text.startswith(f"{prompt.title} — neon-rain theme")
        if "tempo" in prompt.options:
            assert 80 <= prompt.options["tempo"] <= 120  # 96-104 BPM, 15 % either side
        request = understand(prompt.text, prompt.options, neon_rain)
        assert request.theme == "neon-rain" and request.theme_spec["name"] == "neon-rain"


@pytest.mark.parametrize("pool", [(), ("neon-rain", "retro", "lullaby")], ids=["all-themes", "custom-pool"])
def test_every_prompt_composes_through_understand_as_written(neon_rain, pool):
    """The example piece is what the text says: every option is honoured and the text, read as
    words, never argues with the options (no override or fallback notes)."""
    for seed in range(30):
        prompt = draw_jam_prompt(neon_rain, seed, theme_pool=pool)
        request = understand(prompt.text, prompt.options, neon_rain)
        assert request.theme == prompt.theme
        assert request.length_s == prompt.options["length"] and request.seed == prompt.options["seed"]
        for name in ("voice", "tempo", "meter"):
            if name in prompt.options:
                assert str(getattr(request, name)) == str(prompt.options[name]), (name, prompt)
        if "key" in prompt.options:
            assert request.key.name == prompt.options["key"]
        assert request.notes == (), prompt


def test_a_singer_sings_the_title(catalog):
    sung = [p for p in (draw_jam_prompt(catalog, s) for s in range(100))
            if p.options.get("voice") in ("female", "male")]
    assert sung
    for prompt in sung:
        assert prompt.options["lyrics"] == prompt.title.lower()
        assert understand(prompt.text, prompt.options, catalog).lyrics == prompt.title.lower()
