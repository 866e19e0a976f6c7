"""Per-field accuracy of `understand` on the public example prompts.

Run `python -m evaluation.understanding [prompts.jsonl]`; the default file is the repository's copy
`tests/fixtures/eval/prompts_public.jsonl` (the one tests/composer/test_eval_prompts.py checks), so
the number printed here is the number the test judges. Format of a line:
{"prompt", "options"?, "expect": {field: value}}; a list means any of those values; a two-number
list for tempo or length is a range; keys compare enharmonically; length within ±10 %.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

PUBLIC_PROMPTS = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "eval" / "prompts_public.jsonl"
FIELDS = ("theme", "voice", "key", "tempo", "meter", "length_s")


def read_cases(path: Path = PUBLIC_PROMPTS) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def matches(field: str, got, expected) -> bool:
    from composer.music.theory import Key

    if field == "key":
        return any(Key.parse(got) == Key.parse(e) for e in (expected if isinstance(expected, list) else [expected]))
    if isinstance(expected, list):
        if field in ("tempo", "length_s") and len(expected) == 2 and all(isinstance(x, (int, float)) for x in expected):
            return expected[0] <= got <= expected[1]
        return got in expected
    if field == "length_s":
        return abs(got - expected) <= 0.1 * expected
    return got == expected


def score(cases, catalog) -> tuple[dict[str, list[bool]], list[str]]:
    """Per field, one hit/miss per case that checks it; and a line per miss."""
    from composer.understanding.understand import understand

    hits: dict[str, list[bool]] = {}
    misses = []
    for case in cases:
        got = understand(case["prompt"], case.get("options"), catalog).to_manifest()
        for field, expected in case["expect"].items():
            ok = matches(field, got[field], expected)
            hits.setdefault(field, []).append(ok)
            if not ok:
                misses.append(f"{case['prompt']!r}: {field} {got[field]!r}, expected {expected!r}")
    return hits, misses


def main(argv: list[str]) -> int:
    from composer.catalog import default_catalog

    path = Path(argv[0]) if argv else PUBLIC_PROMPTS
    hits, misses = score(read_cases(path), default_catalog())
    print(f"{path} ({sum(1 for _ in read_cases(path))} prompts)")
    print("| field | correct | accuracy |\n|---|---|---|")
    for field in [f for f in FIELDS if f in hits] + sorted(set(hits) - set(FIELDS)):
        oks = hits[field]
        print(f"| {field} | {sum(oks)} / {len(oks)} | {100 * sum(oks) / len(oks):.1f} % |")
    for miss in misses:
        print("miss:", miss)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
