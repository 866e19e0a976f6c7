"""The public evaluation prompts (a copy of shared/eval/prompts_public.jsonl) against the accuracy aims.

Format: {"prompt", "options"?, "expect": {field: value}}; a list means any of those values; a
two-number list for tempo or length is a range; keys compare enharmonically; length within ±10%.
Aims: theme ≥ 90 %, voice ≥ 95 %, explicit key / tempo / meter / length 100 %.
"""

import json
from pathlib import Path

import pytest

from composer.music.theory import Key
from composer.understanding.understand import understand

PROMPTS = Path(__file__).resolve().parents[1] / "fixtures" / "eval" / "prompts_public.jsonl"
AIMS = {"theme": 0.90, "voice": 0.95, "key": 1.0, "tempo": 1.0, "meter": 1.0, "length_s": 1.0}


def matches(field: str, got, expected) -> bool:
    if field == "key":
        return any(Key.parse(got) == Key.parse(e) for e in (expected if isinstance(expected, list) else [expected]))
    if isinstance(expected, list):
        if field in ("tempo", "length_s") and len(expected) == 2 and all(isinstance(x, (int, float)) for x in expected):
            return expected[0] <= got <= expected[1]
        return got in expected
    if field == "length_s":
        return abs(got - expected) <= 0.1 * expected
    return got == expected


def accuracy(catalog) -> tuple[dict[str, float], list[str]]:
    hits: dict[str, list[bool]] = {}
    misses = []
    for line in PROMPTS.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        case = json.loads(line)
        got = understand(case["prompt"], case.get("options"), catalog).to_manifest()
        for field, expected in case["expect"].items():
            ok = matches(field, got[field], expected)
            hits.setdefault(field, []).append(ok)
            if not ok:
                misses.append(f"{case['prompt']!r}: {field} {got[field]!r}, expected {expected!r}")
    return {field: sum(oks) / len(oks) for field, oks in hits.items()}, misses


@pytest.fixture(scope="module")
def scored(catalog):
    return accuracy(catalog)


@pytest.mark.parametrize("field", sorted(AIMS))
def test_field_accuracy_meets_its_aim(scored, field):
    scores, misses = scored
    assert field in scores, f"no public example checks {field}"
    assert scores[field] >= AIMS[field], f"{field}: {scores[field]:.0%} < {AIMS[field]:.0%}; misses: {misses}"


def test_matcher_follows_the_format():
    assert matches("key", "Gb major", "F# major") and not matches("key", "F# minor", "F# major")
    assert matches("tempo", 90, [40, 120]) and not matches("tempo", 130, [40, 120])
    assert matches("length_s", 33, 30) and not matches("length_s", 34, 30)
    assert matches("theme", "epic", ["march", "epic"])
