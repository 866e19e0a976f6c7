"""`muse themes` and `muse voices`: what exists, as text or JSON."""

from __future__ import annotations

import argparse
import json


def register(sub: argparse._SubParsersAction) -> None:
    for kind in ("themes", "voices"):
        parser = sub.add_parser(kind, help=f"list the {kind}")
        parser.add_argument("--json", action="store_true", help="print JSON")
        parser.set_defaults(run=run, kind=kind)


def run(args: argparse.Namespace) -> int:
    from composer import default_catalog

    catalog = default_catalog()
    items = catalog.themes if args.kind == "themes" else catalog.voices
    rows = [{"name": name, "description": item.description,
             **({"sings": item.sings} if args.kind == "voices" else {})}
            for name, item in sorted(items.items())]
    if args.json:
        print(json.dumps({args.kind: rows}, ensure_ascii=False))
    else:
        width = max(len(r["name"]) for r in rows)
        for row in rows:
            print(f"{row['name']:<{width}}  {row['description']}")
    return 0
