"""`muse bot [--sync]`: run the Discord bot (configuration from the environment and .env)."""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("bot", help="run the Discord bot (DISCORD_TOKEN from the environment or .env)")
    parser.add_argument("--sync", action="store_true",
                        help="first sync the slash commands (globally, or to MUSE_SYNC_GUILD), then run")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from bot.main import main

    return main(sync=args.sync)
