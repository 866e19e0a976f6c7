"""`muse packs check DIR`: validate operator packs (themes, voices, soundfonts) before deploying them."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("packs", help="operator packs of themes and voices (MUSE_PACKS_DIR)")
    actions = parser.add_subparsers(dest="packs_action", metavar="check", required=True, parser_class=type(parser))
    check = actions.add_parser("check", help="validate a pack folder, or a folder of packs, before deploying it")
    check.add_argument("dir", type=Path, help="a pack (holding pack.json) or a folder of packs")
    check.add_argument("--json", action="store_true", help="print JSON")
    check.set_defaults(run=run_check)


def run_check(args: argparse.Namespace) -> int:
    """Every pack with its themes and voices, and every problem; exit 0 when all is good, 2 otherwise."""
    from composer.catalog.packs import scan_packs

    if not args.dir.is_dir():
        print(f"error: {args.dir} is not a folder; give a pack (holding pack.json) or a folder of packs",
              file=sys.stderr)
        return 2
    report = scan_packs(args.dir)
    problems = report.all_problems
    if not report.packs and not problems:
        problems = [f"{args.dir}: no pack found (a pack is a folder with a pack.json)"]
        report.problems.extend(problems)
    if args.json:
        print(json.dumps(_as_json(report), ensure_ascii=False))
    else:
        _print_text(report)
    if problems:
        print(f"error: {_count(len(problems), 'problem')} in {args.dir}; fix "
              f"{'them' if len(problems) != 1 else 'it'} before deploying", file=sys.stderr)
        return 2
    return 0


def _voice_line(pack, voice) -> str:
    own = voice.spec.get("soundfont")
    sound = (f" [soundfont {own['file']}, bank {own['bank']} preset {own['preset']}: "
             f"{pack.presets.get(voice.name, '?')}]" if own else "")
    return f"  voice {voice.name}: {voice.description}{sound}"


def _print_text(report) -> None:
    for line in report.problems:
        print(f"rejected: {line}")
    for pack in report.packs:
        meta = pack.meta
        print(f"pack {pack.name} {meta.get('version', '')} by {meta.get('author', '?')} "
              f"(licence {meta.get('licence', '?')}) in {pack.shown}")
        for theme in pack.themes:
            print(f"  theme {theme.name}: {theme.description}")
        for voice in pack.voices:
            print(_voice_line(pack, voice))
        for line in pack.problems:
            print(f"  rejected: {line}")
    print(f"{_count(len(report.packs), 'pack')}: {_count(len(report.themes), 'theme')} and "
          f"{_count(len(report.voices), 'voice')} served, {_count(len(report.all_problems), 'problem')}")


def _count(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def _as_json(report) -> dict:
    return {
        "ok": not report.all_problems,
        "packs": [{**pack.meta, "folder": pack.shown,
                   "themes": [t.name for t in pack.themes],
                   "voices": [{"name": v.name, **({"soundfont": {**v.spec["soundfont"],
                                                                  "preset_name": pack.presets.get(v.name)}}
                                                   if "soundfont" in v.spec else {})}
                              for v in pack.voices],
                   "problems": pack.problems} for pack in report.packs],
        "problems": report.all_problems,
    }
