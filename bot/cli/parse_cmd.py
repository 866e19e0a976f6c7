"""`muse parse PROMPT … --json` and `muse parse --batch FILE --json`: resolve requests without composing."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any, TextIO

from bot.cli.options import add_request_options, options_from_args


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("parse", help="show how a prompt is understood, without composing")
    parser.add_argument("prompt", nargs="?", help="what to compose, in plain words")
    add_request_options(parser)
    parser.add_argument("--batch", help="a file of JSON lines {prompt, options}; '-' reads stdin")
    parser.add_argument("--json", action="store_true", help="print JSON (the default output)")
    parser.set_defaults(run=run)


def _parse_line(line: str, catalog: Any) -> dict[str, Any]:
    from composer.errors import MuseError
    from composer.understand import understand

    try:
        item = json.loads(line)
    except json.JSONDecodeError as exc:
        return {"error": f"not a JSON object: {exc.msg}"}
    if not isinstance(item, dict) or not isinstance(item.get("prompt"), str):
        return {"error": "each line needs a JSON object with a text 'prompt'"}
    options = item.get("options") or {}
    if not isinstance(options, dict):
        return {"error": "'options' must be a JSON object"}
    try:
        return {"request": understand(item["prompt"], options, catalog).to_manifest()}
    except MuseError as exc:
        return {"error": str(exc)}


def run_batch(stream: TextIO, out: TextIO) -> None:
    from composer.catalog import default_catalog

    catalog = default_catalog()
    for line in stream:
        if not line.strip():
            continue
        out.write(json.dumps(_parse_line(line, catalog), ensure_ascii=False) + "\n")


def run(args: argparse.Namespace) -> int:
    from composer.catalog import default_catalog
    from composer.errors import InvalidRequest
    from composer.understand import understand

    if args.batch:
        if args.prompt:
            raise InvalidRequest("give either a PROMPT or --batch FILE, not both")
        if args.batch == "-":
            run_batch(sys.stdin, sys.stdout)
        else:
            path = Path(args.batch)
            if not path.is_file():
                raise InvalidRequest(f"batch file {args.batch} does not exist")
            with path.open(encoding="utf-8") as stream:
                run_batch(stream, sys.stdout)
        return 0
    if args.prompt is None:
        raise InvalidRequest("a PROMPT is required (or --batch FILE)")
    request = understand(args.prompt, options_from_args(args), default_catalog())
    print(json.dumps({"request": request.to_manifest()}, ensure_ascii=False))
    return 0
