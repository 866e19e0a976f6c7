"""The `muse` command line: one module per subcommand, each with `register(subparsers)`."""

from __future__ import annotations

import argparse
import logging
import sys

from cli import bot_cmd, catalog_cmd, compose_cmd, db_cmd, packs_cmd, parse_cmd, theme_cmd, train_cmd

_COMMAND_MODULES = [compose_cmd, parse_cmd, catalog_cmd, theme_cmd, bot_cmd, train_cmd, db_cmd, packs_cmd]


class UsageError(Exception):
    """Bad command-line input: reported as one `error:` line with exit code 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # argparse prints usage + exits 2; we want one line
        raise UsageError(message)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="muse", description="Muse composes original music from a few words.")
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress to stderr")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    for module in _COMMAND_MODULES:
        module.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    from composer import MuseError

    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except UsageError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    try:
        return int(args.run(args) or 0)
    except (UsageError, MuseError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # a bug, not bad input: one line for the person, the traceback in the log
        if args.verbose:
            logging.getLogger("muse").error("unexpected failure", exc_info=True)
        print(f"error: Muse failed unexpectedly ({type(exc).__name__}: {exc}); run with -v for details",
              file=sys.stderr)
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
