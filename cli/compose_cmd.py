"""`muse compose PROMPT … -o DIR [--json]`."""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
import time
from pathlib import Path

from cli.options import add_request_options, options_from_args


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("compose", help="compose a piece from a prompt")
    parser.add_argument("prompt", help="what to compose, in plain words")
    add_request_options(parser)
    parser.add_argument("-o", "--out", default="out", help="output directory (default ./out)")
    parser.add_argument("--json", action="store_true", help="print the manifest as one JSON object")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from composer.pipeline import Composer, check_output_dir
    from composer.understanding.understand import understand

    started = time.perf_counter()
    composer = Composer()
    request = understand(args.prompt, options_from_args(args), composer.catalog)
    understand_s = time.perf_counter() - started
    out_dir = Path(args.out)
    check_output_dir(out_dir)
    # stdout is the manifest's alone: anything a library prints while composing goes to stderr
    with contextlib.redirect_stdout(sys.stderr):
        results = composer.compose(request, out_dir, understand_s=understand_s)
    if args.json:
        if len(results) == 1:
            manifest = results[0].to_manifest()
        else:
            manifest = {"request": results[0].request.to_manifest(),
                        "variations": [r.to_manifest() for r in results]}
        json.dump(manifest, sys.stdout, ensure_ascii=False)
        sys.stdout.write("\n")
    else:
        for result in results:
            print(result.description)
            for kind, path in result.files.items():
                print(f"  {kind}: {path}")
    return 0
