"""The request options of `muse compose` and `muse parse`, built from composer's option table."""

from __future__ import annotations

import argparse
from typing import Any

from composer import OPTIONS


def _help(option: Any) -> str:
    extra = (f", {option.range_help}" if option.range else
             f" ({', '.join(option.choices)})" if option.choices else "")
    return option.help + extra


def add_request_options(parser: argparse.ArgumentParser) -> None:
    for option in OPTIONS:
        if option.kind is bool:
            parser.add_argument(f"--{option.name}", action="store_true", default=None, help=_help(option))
        else:
            parser.add_argument(f"--{option.name}", help=_help(option))


def options_from_args(args: argparse.Namespace) -> dict[str, Any]:
    return {o.name: getattr(args, o.name) for o in OPTIONS if getattr(args, o.name, None) is not None}
