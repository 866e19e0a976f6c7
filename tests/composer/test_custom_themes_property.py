"""Property: any spec a member might upload is either refused with one clear SchemaError line, or
accepted and then composes. Never another exception.

Specs are random JSON-ish values and mutations of the built-in themes (wrong types, numbers out of
range, bad numerals, missing and extra fields, huge lists, GM names, meters, drum steps). The
validation property runs in the fast tier; composing every accepted spec is `slow`.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from composer.catalog import default_catalog
from composer.catalog.gm_instruments import GM_INSTRUMENTS
from composer.catalog.schema import validate_theme
from composer.catalog.theme_files import read_theme_file, write_theme_file
from composer.errors import SchemaError

CATALOG = default_catalog()
BUILTIN = [t.spec for _, t in sorted(CATALOG.themes.items())]
SETTINGS = dict(max_examples=150, deadline=None, database=None, derandomize=True,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

scalars = (st.none() | st.booleans() | st.integers(-400, 400) | st.integers() | st.floats()
           | st.text(max_size=12) | st.sampled_from(["", " ", "I", "4/4", "x...", "major", "walking"]))
json_values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=4)
                           | st.dictionaries(st.text(max_size=8), inner, max_size=4), max_leaves=12)
NUMERALS = ["IX", "viii", "I7b9", "", "Imaj9", "bbII", "i°7", "V/V", "Isus", "#IV+7", "ii°", "bVII", "V9", "vi6",
            "Iaug", "IIIdim", "IVsus2", "iv", "0"]
METERS = ["5/8", "4/4", "3/4", "6/8", "13/8", "0/4", "4/3", " 4/4", "7/8", "12/8", "4/4/4"]
STEPS = ["x.", "X" * 96, "x" * 97, "xyz", ".", "x.o.X.", ""]
GM_NAMES = [*GM_INSTRUMENTS[::9], "Electric Piano 1", "electric pinao", "warm pad", "kazoo", "STRINGS"]


def _paths(value: Any, prefix: tuple = ()) -> list[tuple]:
    found = [prefix]
    children = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else []
    for key, child in children:
        found += _paths(child, (*prefix, key))
    return found


def _at(spec: Any, path: tuple) -> Any:
    for key in path:
        spec = spec[key]
    return spec


@st.composite
def _mutation(draw, old: Any) -> Any:
    """A new value for one place in a spec (or _DELETE)."""
    kind = draw(st.sampled_from(["any", "wrong_type", "number", "numeral", "meter", "steps", "gm", "delete",
                                 "huge", "empty"]))
    if kind == "wrong_type":
        return draw(st.sampled_from([str(old), [old], {"value": old}, None, True, 1.5]))
    if kind == "number":
        base = old if isinstance(old, (int, float)) and not isinstance(old, bool) else 0
        return draw(st.sampled_from([base + draw(st.integers(-300, 300)), -base, base + 0.5, 10 ** 30, -1, 0,
                                     float("nan"), float("inf"), 127, 128, 300, 301, 30, 29]))
    if kind == "huge":
        return draw(st.sampled_from([[old] * draw(st.integers(13, 3000)), "x" * draw(st.integers(33, 70000))]))
    if kind == "empty":
        return draw(st.sampled_from([[], "", {}]))
    if kind == "delete":
        return _DELETE
    pool = {"numeral": NUMERALS, "meter": METERS, "steps": STEPS, "gm": GM_NAMES}.get(kind)
    return draw(st.sampled_from(pool)) if pool else draw(json_values)


_DELETE = object()


@st.composite
def mutated_builtin(draw) -> Any:
    spec = copy.deepcopy(draw(st.sampled_from(BUILTIN)))
    spec["name"] = f"my-{spec['name']}"  # a custom theme never replaces a built-in of the same name
    for _ in range(draw(st.integers(1, 3))):
        path = draw(st.sampled_from(_paths(spec)[1:]))
        parent, key = _at(spec, path[:-1]), path[-1]
        if draw(st.booleans()) and isinstance(parent, dict):  # an extra field next to this one
            parent[draw(st.text(min_size=1, max_size=10))] = draw(json_values)
            continue
        new = draw(_mutation(parent[key]))
        if new is _DELETE:
            del parent[key]
        else:
            parent[key] = new
    return spec


VALID_NUMERALS = ["I", "ii", "iii", "IV", "V", "vi", "vii°", "V7", "bVII", "bIII", "iv", "Imaj7", "ii7", "#iv°",
                  "Isus4", "V9", "vi6", "III+", "bVIaug", "viidim7"]
steps = st.from_regex(r"[xXo.]{1,96}", fullmatch=True)


@st.composite
def plausible_builtin(draw) -> Any:
    """A built-in changed the way a member edits one: fields swapped in from other themes, other
    numerals, meters, modes, drum steps, GM names, optional fields dropped. Mostly still valid."""
    spec = copy.deepcopy(draw(st.sampled_from(BUILTIN)))
    spec["name"] = f"my-{spec['name']}"
    for _ in range(draw(st.integers(1, 4))):
        path = draw(st.sampled_from(_paths(spec)[1:]))
        parent, key, old = _at(spec, path[:-1]), path[-1], _at(spec, path)
        donor = draw(st.sampled_from(BUILTIN))
        if path[0] in donor and path[0] != "name" and draw(st.booleans()):
            spec[path[0]] = copy.deepcopy(donor[path[0]])  # a whole field from another theme
        elif path[0] == "progressions" and isinstance(old, str):
            parent[key] = draw(st.sampled_from(VALID_NUMERALS))
        elif path[0] == "meters" and isinstance(old, str):
            parent[key] = draw(st.sampled_from(["2/4", "3/4", "4/4", "5/4", "6/8", "9/8", "12/8", "2/2", "3/8", "7/8"]))
        elif path[0] == "modes" and isinstance(old, str):
            parent[key] = draw(st.sampled_from(["major", "minor"]))
        elif path[:2] == ("drums", "patterns") and isinstance(old, str):
            parent[key] = draw(steps)
        elif path[0] == "instruments" and key in ("harmony", "bass", "pad"):
            parent[key] = draw(st.sampled_from(GM_INSTRUMENTS) | st.integers(0, 127))
        elif isinstance(old, (int, float)) and not isinstance(old, bool):
            parent[key] = type(old)(old * draw(st.sampled_from([0, 0.5, 0.9, 1.1, 2])))
        elif isinstance(parent, dict) and len(path) <= 2 and path[0] not in ("schema", "name", "description"):
            del parent[key]
    return spec


specs = st.one_of(json_values, mutated_builtin(), plausible_builtin())


def _checked(spec: Any) -> dict[str, Any] | None:
    """The validated spec, or None after checking the refusal is one clear line."""
    try:
        return validate_theme(spec, source="upload.json")
    except SchemaError as exc:
        message = str(exc)
        assert message.startswith("upload.json: ") and "\n" not in message and len(message) <= 1000, message
        return None


@settings(**SETTINGS)
@given(specs)
def test_a_spec_is_refused_in_one_line_or_accepted_and_round_trips(spec):
    valid = _checked(spec)
    if valid is None:
        return
    assert validate_theme(valid) == valid
    for fmt in ("json", "toml"):
        assert read_theme_file(write_theme_file(valid, fmt), f"t.{fmt}") == valid


@pytest.mark.slow
@settings(**SETTINGS)
@given(plausible_builtin())
def test_an_accepted_spec_composes(composer, spec):
    from composer.understanding.understand import understand

    valid = _checked(spec)
    assume(valid is not None and valid["name"] not in CATALOG.themes)
    catalog = CATALOG.with_themes([valid])
    options = {"theme": valid["name"], "engine": "rules", "format": "midi", "length": 5, "seed": 1}
    (piece,) = composer.compose(understand("a short test piece", options, catalog))
    assert piece.request.theme == valid["name"] and piece.artifacts["midi"].startswith(b"MThd")
