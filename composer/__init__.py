"""Muse's composer: a library that turns a few words into a finished piece of music.

The front door. Callers (the bot, the CLI, training and evaluation) take what they need from here:

    from composer import Composer, understand
    composer = Composer()
    (piece,) = composer.compose(understand("happy birthday", {"voice": "male"}, composer.catalog))
    piece.write(Path("out"))          # or upload piece.files() / store piece.artifacts

Names load on first use, so `import composer.request` stays light (no synth, no model).
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

_EXPORTS = {
    "Composer": "composer.pipeline",
    "Draft": "composer.piece",
    "Piece": "composer.piece",
    "check_output_dir": "composer.piece",
    "slug": "composer.piece",
    "file_stem": "composer.piece",
    "CompositionRequest": "composer.request",
    "draw_seed": "composer.request",
    "understand": "composer.understanding.understand",
    "interpret": "composer.understanding.understand",
    "prime_understanding": "composer.understanding.understand",
    "resolve_remix": "composer.remix",
    "Catalog": "composer.catalog",
    "customise_theme": "composer.catalog.customise",
    "theme_name": "composer.catalog.customise",
    "theme_from_midi": "composer.catalog.from_midi",
    "default_catalog": "composer.catalog",
    "load_catalog": "composer.catalog",
    "default_engine": "composer.melody",
    "OPTIONS": "composer.options",
    "Option": "composer.options",
    "AUDIO_FORMATS": "composer.options",
    "FORMATS": "composer.options",
    "METERS": "composer.options",
    "MuseError": "composer.errors",
    "InvalidRequest": "composer.errors",
    "UnknownName": "composer.errors",
    "key_names": "composer.options",
    "SchemaError": "composer.errors",
    "read_theme_file": "composer.catalog.theme_files",
    "write_theme_file": "composer.catalog.theme_files",
    "MAX_THEME_FILE_BYTES": "composer.catalog.theme_files",
    "gm_instrument_names": "composer.catalog.gm_instruments",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'composer' has no attribute {name!r}")
    value = getattr(import_module(_EXPORTS[name]), name)
    globals()[name] = value
    return value
