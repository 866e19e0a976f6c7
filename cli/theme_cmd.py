"""`muse theme validate FILE [--json]`, and `--theme-file FILE` for compose and parse.

A member's theme file is checked here exactly as the bot checks an upload (composer's
read_theme_file), so "ok" on the command line means the bot will take it too.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("theme", help="work with custom theme files (JSON or TOML)")
    actions = parser.add_subparsers(dest="theme_command", required=True)
    validate = actions.add_parser("validate", help="check a theme file against the schema")
    validate.add_argument("file", help="a .json or .toml theme file")
    validate.add_argument("--json", action="store_true", help="print the normalised spec as JSON")
    validate.set_defaults(run=run_validate)


def read_theme_path(path_text: str) -> dict[str, Any]:
    """The validated spec in a theme file on disk; InvalidRequest/SchemaError say what is wrong."""
    from composer import InvalidRequest, read_theme_file

    path = Path(path_text)
    if not path.is_file():
        raise InvalidRequest(f"theme file {path_text} does not exist")
    return read_theme_file(path.read_bytes(), path.name)


def run_validate(args: argparse.Namespace) -> int:
    from composer.catalog.schema import SCHEMA_VERSION

    spec = read_theme_path(args.file)
    if args.json:
        print(json.dumps(spec, ensure_ascii=False))
    else:
        print(f"ok: {spec['name']} (schema {spec.get('schema', SCHEMA_VERSION)})")
    return 0


def add_theme_file_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--theme-file", metavar="FILE",
                        help="a custom theme (.json or .toml) for this request; it is the theme unless --theme "
                             "names it too")


def with_theme_file(path_text: str | None, catalog: Any, options: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
    """The catalog with the file's theme added, and the options asking for it (unchanged without a file)."""
    from composer import InvalidRequest

    if not path_text:
        return catalog, options
    spec = read_theme_path(path_text)
    name = spec["name"]
    if name in catalog.themes:
        raise InvalidRequest(f"the theme file's name {name!r} is a built-in theme's; give the theme another name")
    asked = str(options.get("theme") or name).strip().lower()
    if asked != name:
        raise InvalidRequest(f"--theme {asked} and --theme-file (theme {name!r}) disagree; give one of them")
    return catalog.with_themes([spec], source=Path(path_text).name), {**options, "theme": name}
