"""`muse compose PROMPT … -o DIR [--json]`: compose, then write the piece's files."""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
import time
from pathlib import Path

from cli.options import add_request_options, options_from_args
from cli.theme_cmd import add_theme_file_option, with_theme_file


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("compose", help="compose a piece from a prompt")
    parser.add_argument("prompt", help="what to compose, in plain words")
    add_request_options(parser)
    add_theme_file_option(parser)
    parser.add_argument("-o", "--out", default="out", help="output directory (default ./out)")
    parser.add_argument("--json", action="store_true", help="print the manifest as one JSON object")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from composer import Composer, check_output_dir, default_engine, understand

    started = time.perf_counter()
    composer = Composer()
    catalog, options = with_theme_file(args.theme_file, composer.catalog, options_from_args(args))
    composer.preload(options.get("engine") or default_engine())
    request = understand(args.prompt, options, catalog).seeded()
    understand_s = time.perf_counter() - started
    out_dir = Path(args.out)
    check_output_dir(out_dir)
    # stdout is the manifest's alone: anything a library prints while composing goes to stderr
    with contextlib.redirect_stdout(sys.stderr):
        pieces = composer.compose(request, understand_s=understand_s)
        manifests = [piece.to_manifest(piece.write(out_dir)) for piece in pieces]
    if args.json:
        manifest = manifests[0] if len(manifests) == 1 else {"request": request.to_manifest(),
                                                             "variations": manifests}
        json.dump(manifest, sys.stdout, ensure_ascii=False)
        sys.stdout.write("\n")
    else:
        for piece, manifest in zip(pieces, manifests):
            print(piece.description)
            for kind, path in manifest["files"].items():
                print(f"  {kind}: {path}")
    return 0
