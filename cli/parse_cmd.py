"""`muse parse PROMPT … --json` and `muse parse --batch FILE --json`: resolve requests without composing.

Each output object is `{"request": {…}}` (the contract) plus `"understanding"`: how sure Muse is of
the theme it inferred, its closest candidates, and the notes. `--batch` loads the embedding model
once and embeds the prompts of each block of lines together (several times faster than one at a
time), overlapping each block's embedding with resolving the block before it.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any, TextIO

from cli.options import add_request_options, options_from_args
from cli.theme_cmd import add_theme_file_option, with_theme_file


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "parse", help="show how a prompt is understood, without composing",
        description="Options beat the words; the words beat the theme's defaults. Numbers written in the "
                    "prompt outside Muse's ranges are clamped (tempo 30-300 BPM, length 5-300 s, pitch "
                    "-12..12, variations 1-4) and the clamp is listed in understanding.notes; options "
                    "out of range are errors. MUSE_EMBEDDING_MODEL names another local sentence-"
                    "transformers folder, or 'off' for keyword matching.")
    parser.add_argument("prompt", nargs="?", help="what to compose, in plain words")
    add_request_options(parser)
    add_theme_file_option(parser)
    parser.add_argument("--batch", help="a file of JSON lines {prompt, options}; '-' reads stdin")
    parser.add_argument("--json", action="store_true", help="print JSON (the default output)")
    parser.set_defaults(run=run)


BLOCK_LINES = 512  # lines embedded together (bigger blocks pad less); output streams block by block


def _read_line(line: str) -> tuple[str, dict[str, Any]] | dict[str, Any]:
    """(prompt, options), or an {"error": …} row for a line that is not a usable request."""
    try:
        item = json.loads(line)
    except json.JSONDecodeError as exc:
        return {"error": f"not a JSON object: {exc.msg}"}
    if not isinstance(item, dict) or not isinstance(item.get("prompt"), str):
        return {"error": "each line needs a JSON object with a text 'prompt'"}
    options = item.get("options") or {}
    if not isinstance(options, dict):
        return {"error": "'options' must be a JSON object"}
    return item["prompt"], options


def _resolve(prompt: str, options: dict[str, Any], catalog: Any) -> dict[str, Any]:
    from composer import MuseError, interpret

    try:
        understanding = interpret(prompt, options, catalog)
    except MuseError as exc:
        return {"error": str(exc)}
    return {"request": understanding.request.to_manifest(), "understanding": understanding.to_json()}


def run_batch(stream: TextIO, out: TextIO) -> None:
    """Stream JSON lines in and out. Each block's prompts are embedded in one call on a worker thread
    (ONNX Runtime releases the GIL) while the main thread resolves and writes the block before it."""
    from concurrent.futures import ThreadPoolExecutor

    from composer import default_catalog, prime_understanding

    catalog = default_catalog()

    def blocks():
        block: list[Any] = []
        for line in stream:
            if line.strip():
                block.append(_read_line(line))
                if len(block) >= BLOCK_LINES:
                    yield block
                    block = []
        if block:
            yield block

    def write(block: list[Any]) -> None:
        for item in block:
            row = _resolve(*item, catalog) if isinstance(item, tuple) else item
            out.write(json.dumps(row, ensure_ascii=False) + "\n")
        out.flush()

    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="muse-embed") as pool:
        previous = None
        for block in blocks():
            prompts = [item[0] for item in block if isinstance(item, tuple) and "theme" not in item[1]]
            embedding = pool.submit(prime_understanding, prompts)
            if previous is not None:
                write(previous)
            embedding.result()
            previous = block
        if previous is not None:
            write(previous)


def run(args: argparse.Namespace) -> int:
    from composer import InvalidRequest, default_catalog, interpret

    if args.batch:
        if args.prompt or args.theme_file:
            raise InvalidRequest("give either a PROMPT (with --theme-file if you like) or --batch FILE, not both")
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
    catalog, options = with_theme_file(args.theme_file, default_catalog(), options_from_args(args))
    understanding = interpret(args.prompt, options, catalog)
    print(json.dumps({"request": understanding.request.to_manifest(), "understanding": understanding.to_json()},
                     ensure_ascii=False))
    return 0
