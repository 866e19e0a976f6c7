"""Theme files members upload and download: JSON or TOML bytes ↔ a validated theme spec.

The bot (/theme import, export) and the CLI (--theme-file, `muse theme validate`) read the same
way, so an upload gets the same one-line SchemaError wherever it goes wrong: size, encoding,
syntax (with line and column), shape, then the schema itself.
"""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import PurePath
from typing import Any

from composer.catalog.schema import SCHEMA_VERSION, validate_theme
from composer.errors import SchemaError

MAX_THEME_FILE_BYTES = 64 * 1024  # the largest built-in theme is ~3 KiB; this is room, not a target
THEME_FILE_FORMATS = ("json", "toml")


def read_theme_file(data: bytes, filename: str) -> dict[str, Any]:
    """The validated spec in a .json or .toml file's bytes; SchemaError (one line) otherwise."""
    # the name is the member's: keep the error on one line, short
    name = "".join(ch if ch.isprintable() else "?" for ch in PurePath(filename).name)[:80] or "theme file"
    fmt = PurePath(name).suffix.lower().lstrip(".")
    if fmt not in THEME_FILE_FORMATS:
        raise SchemaError(f"{name}: a theme file must end in .json or .toml, got {'.' + fmt if fmt else 'no suffix'}")
    if len(data) > MAX_THEME_FILE_BYTES:
        raise SchemaError(f"{name}: the file is {len(data) / 1024:.0f} KiB; a theme file may be at most "
                          f"{MAX_THEME_FILE_BYTES // 1024} KiB")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise SchemaError(f"{name}: not UTF-8 text (byte {exc.start + 1}); save the file as UTF-8") from None
    spec = _parse_json(text, name) if fmt == "json" else _parse_toml(text, name)
    if not isinstance(spec, dict):
        raise SchemaError(f"{name}: the file must hold one JSON object with the theme's fields, got {_shape(spec)}")
    return validate_theme(spec, source=name)


def _parse_json(text: str, name: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise SchemaError(f"{name}: not valid JSON (line {exc.lineno}, column {exc.colno}): {exc.msg}") from None
    except (ValueError, RecursionError) as exc:  # a 5,000-digit number, lists nested thousands deep
        raise SchemaError(f"{name}: not a usable JSON theme ({_too_big(exc)})") from None


def _parse_toml(text: str, name: str) -> Any:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:  # its message ends "(at line L, column C)"
        raise SchemaError(f"{name}: not valid TOML: {_one_line(exc)}") from None
    except (ValueError, RecursionError) as exc:
        raise SchemaError(f"{name}: not a usable TOML theme ({_too_big(exc)})") from None


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split())[:200] or type(exc).__name__


def _too_big(exc: BaseException) -> str:
    if isinstance(exc, RecursionError):
        return "lists or tables nested too deeply"
    return _one_line(exc).split(":")[0]  # "Exceeds the limit (4300 digits) for integer string conversion"


def _shape(value: Any) -> str:
    kinds = {list: "a list", str: "text", int: "a number", float: "a number", bool: "true or false"}
    return "null" if value is None else kinds.get(type(value), type(value).__name__)


def write_theme_file(spec: dict[str, Any], fmt: str = "json") -> bytes:
    """A validated spec as file bytes (schema version first) that `read_theme_file` reads back equal."""
    if fmt not in THEME_FILE_FORMATS:
        raise SchemaError(f"a theme file is written as {' or '.join(THEME_FILE_FORMATS)}, not {fmt!r}")
    if not isinstance(spec, dict):
        raise SchemaError(f"a theme to write must be an object of fields, got {_shape(spec)}")
    # a spec without its version is taken to be of this one; another version is refused
    valid = validate_theme({"schema": SCHEMA_VERSION, **spec}, source=f"theme {spec.get('name', '')!r}")
    ordered = {"schema": valid["schema"], **{k: v for k, v in valid.items() if k != "schema"}}
    if fmt == "json":
        return (json.dumps(ordered, indent=2, ensure_ascii=False) + "\n").encode("utf-8")
    return ("\n".join(_toml_table(ordered, ())).lstrip("\n") + "\n").encode("utf-8")


# -- a TOML writer for the shapes theme specs have: tables, arrays of scalars and of small tables --

_BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")


def _toml_table(table: dict[str, Any], path: tuple[str, ...]) -> list[str]:
    """Key/value lines first, then each sub-table under its own [header] (TOML's order)."""
    plain = {k: v for k, v in table.items() if not isinstance(v, dict)}
    lines = []
    if path and (plain or not table):
        lines += ["", f"[{'.'.join(_toml_key(p) for p in path)}]"]
    lines += [f"{_toml_key(k)} = {_toml_value(v, multiline=True)}" for k, v in plain.items()]
    for key, value in table.items():
        if isinstance(value, dict):
            lines += _toml_table(value, (*path, key))
    return lines


def _toml_key(key: str) -> str:
    return key if _BARE_KEY.match(key) else _toml_string(key)


def _toml_string(text: str) -> str:
    # JSON's escapes are TOML's, except that TOML wants DEL escaped too
    return json.dumps(text, ensure_ascii=False).replace("\x7f", "\\u007f")


def _toml_value(value: Any, multiline: bool = False) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return _toml_string(value)
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_toml_key(k)} = {_toml_value(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        items = [_toml_value(v) for v in value]
        one_line = "[" + ", ".join(items) + "]"
        if multiline and (len(one_line) > 100 or any(isinstance(v, dict) for v in value)):  # one item a line
            return "[\n" + "".join(f"  {item},\n" for item in items) + "]"
        return one_line
    raise SchemaError(f"a theme value of type {type(value).__name__} cannot be written as TOML")
