"""The request options shared by `muse compose` and `muse parse`, mapped to slash-command names."""

from __future__ import annotations

import argparse
from typing import Any

from composer.request import FORMATS

# CLI flag → slash-command option name (the names every entry point shares)
FLAG_TO_OPTION = {
    "voice": "voice", "theme": "theme", "tempo": "tempo", "key": "key", "meter": "meter",
    "length": "length", "pitch": "pitch", "seed": "seed", "variations": "variations",
    "format": "format", "lyrics": "lyrics", "stems": "stems", "engine": "engine",
}


def add_request_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--voice", help="female, male, metal, ethnic, synth, piano or drums")
    parser.add_argument("--theme", help="one of `muse themes`")
    parser.add_argument("--tempo", help="beats per minute, 30-300")
    parser.add_argument("--key", help='e.g. "D minor", "Bb major", "F#m"')
    parser.add_argument("--meter", help="e.g. 4/4, 3/4, 6/8")
    parser.add_argument("--length", help="seconds, 5-300")
    parser.add_argument("--pitch", help="transpose by semitones, -12 to 12")
    parser.add_argument("--seed", help="same seed, same piece (0 to 2147483646)")
    parser.add_argument("--variations", help="how many pieces, 1-4")
    parser.add_argument("--format", help=f"one of {', '.join(FORMATS)} (default mp3)")
    parser.add_argument("--lyrics", help="words to sing (female and male voices)")
    parser.add_argument("--stems", action="store_true", default=None,
                        help="also write two WAV stems: vocals (the singer, or the melody instrument) and accompaniment")
    parser.add_argument("--engine", help="melody engine (default: the trained model when present)")


def options_from_args(args: argparse.Namespace) -> dict[str, Any]:
    return {option: getattr(args, flag) for flag, option in FLAG_TO_OPTION.items()
            if getattr(args, flag, None) is not None}
