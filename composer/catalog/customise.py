"""A member's theme from a few plain settings: start from a theme, change what they name, validate.

`/theme create` and `/theme edit` hand over what a member typed (text and numbers, no music
theory); this turns it into the one theme schema, so a bad value gets the schema's own message.
"""

from __future__ import annotations

import copy
import re
from typing import Any

from composer.catalog.schema import SCHEMA_VERSION, validate_theme
from composer.errors import SchemaError

# What a member may set; each maps onto one part of the schema.
SETTINGS = ("description", "mood", "examples", "tempo_min", "tempo_max", "mode", "key", "meters",
            "progression", "harmony", "bass", "pad", "groove", "style")
SWING = {"straight": 0.0, "swing": 0.33, "shuffle": 0.5}
_NAME_CHARS = re.compile(r"[^a-z0-9-]+")


def theme_name(text: str) -> str:
    """A member's name for a theme as the schema spells names: 'Neon Rain' → 'neon-rain'.
    Anything else (mentions, Markdown, other scripts) is left in, so the schema refuses it."""
    name = "-".join(str(text).strip().lower().split())
    return name if not _NAME_CHARS.search(name) else str(text)


def customise_theme(base: dict[str, Any], name: str, settings: dict[str, Any],
                    source: str = "your theme") -> dict[str, Any]:
    """`base` renamed to `name` with `settings` applied (unset ones left alone), validated."""
    unknown = sorted(set(settings) - set(SETTINGS))
    if unknown:
        raise SchemaError(f"{source}: unknown setting {unknown[0]!r}; settings: {', '.join(SETTINGS)}")
    spec = copy.deepcopy(base)
    spec["schema"] = SCHEMA_VERSION
    spec["name"] = theme_name(name)
    given = {k: v for k, v in settings.items() if v is not None and v != ""}
    for key in ("description", "mood"):
        if key in given:
            spec[key] = str(given[key]).strip()
    if "examples" in given:
        spec["examples"] = [e.strip() for e in str(given["examples"]).split(";") if e.strip()]
    _tempo(spec, given.get("tempo_min"), given.get("tempo_max"))
    _key_and_mode(spec, given.get("key"), given.get("mode"))
    if "meters" in given:
        spec["meters"] = [m.strip() for m in re.split(r"[,\s]+", str(given["meters"])) if m.strip()]
    if "progression" in given:
        _progression(spec, str(given["progression"]))
    _instruments(spec, {role: given[role] for role in ("harmony", "bass", "pad") if role in given})
    if "groove" in given:
        groove = str(given["groove"]).strip().lower()
        spec["feel"] = {**spec.get("feel", {}), "groove": groove, "swing": SWING.get(groove, 0.0)}
    if "style" in given:
        spec.setdefault("melody", {})["style"] = str(given["style"]).strip().lower()
    return validate_theme(spec, source=source)


def _tempo(spec: dict[str, Any], low: Any, high: Any) -> None:
    if low is None and high is None:
        return
    tempo = dict(spec["tempo"])
    tempo["min"] = low if low is not None else min(tempo["min"], high)
    tempo["max"] = high if high is not None else max(tempo["max"], low)
    if isinstance(tempo["min"], int) and isinstance(tempo["max"], int):
        tempo["default"] = min(max(tempo["default"], tempo["min"]), tempo["max"])
    spec["tempo"] = tempo


def _key_and_mode(spec: dict[str, Any], key: Any, mode: Any) -> None:
    if key is not None:
        from composer.request import parse_key

        parsed = parse_key(key)
        spec["keys"], spec["modes"] = [parsed.name], [parsed.mode]
    elif mode is not None:
        spec["modes"] = [str(mode).strip().lower()]
        spec["keys"] = [k for k in spec.get("keys", []) if k.endswith(f" {spec['modes'][0]}")]
        if not spec["keys"]:
            spec.pop("keys")


def _progression(spec: dict[str, Any], text: str) -> None:
    """'i VI III VII' sets verse and chorus; 'verse: I V vi IV | chorus: IV V I I' sets each named."""
    parts = [p.strip() for p in text.split("|") if p.strip()]
    progressions = dict(spec["progressions"])
    for part in parts:
        section, _, chords = part.rpartition(":")
        names = [section.strip().lower()] if section else ["verse", "chorus"]
        for name in names:
            progressions[name] = [{"chords": chords.split(), "weight": 1}]
    spec["progressions"] = progressions


def _instruments(spec: dict[str, Any], roles: dict[str, Any]) -> None:
    if not roles:
        return
    instruments = dict(spec["instruments"])
    for role, value in roles.items():
        text = str(value).strip()
        instruments[role] = int(text) if text.isdigit() else text
    instruments["keep"] = sorted(set(instruments.get("keep", [])) | set(roles))
    spec["instruments"] = instruments
