"""Themes and voices, loaded from the JSON data files shipped with the package (and custom specs)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable, Iterable

from composer.errors import SchemaError, UnknownName
from composer.catalog.schema import validate_theme, validate_voice

DATA_DIR = Path(__file__).parent / "data"


@dataclass(frozen=True)
class _Spec:
    """A validated spec; `spec` is the plain dict, the same shape a member uploads or exports."""

    spec: dict[str, Any]

    @property
    def name(self) -> str:
        return self.spec["name"]

    @property
    def description(self) -> str:
        return self.spec["description"]

    def __hash__(self) -> int:
        return hash(self.name)


@dataclass(frozen=True)
class Theme(_Spec):
    builtin: bool = True


@dataclass(frozen=True)
class Voice(_Spec):
    @property
    def sings(self) -> bool:
        return self.spec["sings"]


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise SchemaError(f"{path.name}: not valid JSON (line {exc.lineno}, column {exc.colno}): {exc.msg}") from exc


def load_theme_file(path: Path) -> Theme:
    spec = validate_theme(_read_json(path), source=path.name)
    if spec["name"] != path.stem:
        raise SchemaError(f"{path.name}: field 'name' must match the file name, got {spec['name']!r}")
    return Theme(spec)


def load_voice_file(path: Path) -> Voice:
    spec = validate_voice(_read_json(path), source=path.name)
    if spec["name"] != path.stem:
        raise SchemaError(f"{path.name}: field 'name' must match the file name, got {spec['name']!r}")
    return Voice(spec)


class Catalog:
    """Every theme and voice Muse knows; custom themes are added per call, never globally."""

    def __init__(self, themes: Iterable[Theme], voices: Iterable[Voice]):
        self.themes = {t.name: t for t in themes}
        self.voices = {v.name: v for v in voices}

    @classmethod
    def from_dir(cls, data_dir: Path = DATA_DIR) -> "Catalog":
        themes = [load_theme_file(p) for p in sorted((data_dir / "themes").glob("*.json"))]
        voices = [load_voice_file(p) for p in sorted((data_dir / "voices").glob("*.json"))]
        return cls(themes, voices)

    def theme(self, name: str) -> Theme:
        try:
            return self.themes[name]
        except KeyError:
            raise UnknownName(f"unknown theme {name!r}; themes: {', '.join(sorted(self.themes))}") from None

    def voice(self, name: str) -> Voice:
        try:
            return self.voices[name]
        except KeyError:
            raise UnknownName(f"unknown voice {name!r}; voices: {', '.join(sorted(self.voices))}") from None

    def with_theme(self, spec: dict[str, Any], source: str = "custom theme") -> "Catalog":
        """A catalog that also knows one custom theme (validated), for one request."""
        return self.with_themes([spec], source)

    def with_themes(self, specs: Iterable[dict[str, Any]], source: str = "custom theme",
                    on_invalid: Callable[[dict[str, Any], SchemaError], None] | None = None) -> "Catalog":
        """A catalog that also knows these custom themes (validated), e.g. a member's visible set.
        A custom theme never replaces a built-in of the same name. With `on_invalid`, a spec that
        fails validation is reported there and left out instead of failing the whole set."""
        custom = []
        for spec in specs:
            try:
                custom.append(Theme(validate_theme(spec, source=source), builtin=False))
            except SchemaError as exc:
                if on_invalid is None:
                    raise
                on_invalid(spec, exc)
        custom = [t for t in custom if not (t.name in self.themes and self.themes[t.name].builtin)]
        return Catalog([*self.themes.values(), *custom], self.voices.values())

    def theme_of(self, request: Any) -> Theme:
        """The theme a request names: its own spec when it carries one (a member's theme), else ours."""
        spec = getattr(request, "theme_spec", None)
        if spec is not None:
            return Theme(validate_theme(spec, source=f"theme {request.theme!r}"), builtin=False)
        return self.theme(request.theme)


@lru_cache(maxsize=1)
def default_catalog() -> Catalog:
    """The shipped themes and voices, plus the operator's packs when `MUSE_PACKS_DIR` is set."""
    import os

    return load_catalog(os.environ.get("MUSE_PACKS_DIR", "").strip() or None)


def load_catalog(packs_dir: str | Path | None = None) -> Catalog:
    """The shipped themes and voices plus the packs in `packs_dir`: each rejected pack file is one
    warning line in the log, and everything else is served."""
    import logging

    catalog = Catalog.from_dir()
    if not packs_dir:
        return catalog
    from composer.catalog.packs import load_packs

    log = logging.getLogger(__name__)
    themes, voices, problems = load_packs(Path(packs_dir), catalog)
    for problem in problems:
        log.warning("pack file rejected: %s", problem)
    log.info("packs from %s: %d themes, %d voices, %d files rejected", packs_dir, len(themes), len(voices),
             len(problems))
    return Catalog([*catalog.themes.values(), *themes], [*catalog.voices.values(), *voices])
