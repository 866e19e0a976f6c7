"""Tune families (`training.families`): near-duplicates found across keys, splits drawn by family."""

import random

from training.families import Families, group, summary


def tune(rng: random.Random, notes: int = 128) -> list[int]:
    return [rng.randrange(55, 80) for _ in range(notes)]


def variant(pitches: list[int], transpose: int, changed: list[int]) -> list[int]:
    """The tune transposed, with the notes at `changed` moved a little."""
    out = [p + transpose for p in pitches]
    for i in changed:
        out[i] += 3 if out[i] < 70 else -3
    return out


def test_a_transposed_copy_with_a_note_or_two_changed_is_dropped_and_the_earlier_kept():
    rng = random.Random(1)
    original = tune(rng)
    unrelated = [tune(rng) for _ in range(30)]
    tunes = [original, variant(original, 5, [40]), variant(original, -3, [30, 90]), *unrelated]
    families = group(tunes)
    assert families.family[0] == families.family[1] == families.family[2] == 0
    assert families.duplicate_of[:3] == [None, 0, 0]
    assert summary(families)["near_duplicates_dropped"] == 2


def test_the_copy_is_dropped_whichever_comes_first():
    rng = random.Random(2)
    original = tune(rng)
    families = group([variant(original, 2, [60]), *[tune(rng) for _ in range(5)], original])
    assert families.duplicate_of[0] is None and families.duplicate_of[6] == 0


def test_unrelated_tunes_stay_apart():
    rng = random.Random(3)
    families = group([tune(rng) for _ in range(200)])
    assert families.family == list(range(200))
    assert not any(d is not None for d in families.duplicate_of)
    assert summary(families)["families"] == 200


def test_every_member_of_a_family_gets_the_same_split():
    rng = random.Random(4)
    tunes, ids = [], []
    for k in range(40):  # 40 families: a tune and two looser variants (same family, not near-duplicates)
        original = tune(rng)
        for j, changed in enumerate(([], [10, 40, 70, 100], [20, 50, 80, 110])):
            tunes.append(variant(original, j, changed))
            ids.append(f"essenFolksong/f{k}.abc#{j}")
    families = group(tunes)
    assert not any(d is not None for d in families.duplicate_of)
    sizes = [families.family.count(root) for root in set(families.family)]
    assert sizes.count(3) >= 25  # LSH finds most pairs this loose (Jaccard ~0.6), not every one
    by_family: dict[int, set[str]] = {}
    for i in range(len(tunes)):
        by_family.setdefault(families.family[i], set()).add(families.split_of(ids, i))
    assert all(len(splits) == 1 for splits in by_family.values())
    alone = Families(list(range(len(tunes))), [None] * len(tunes), 0)  # each tune its own family
    assert any(len({alone.split_of(ids, i) for i in range(3 * k, 3 * k + 3)}) > 1 for k in range(40)), \
        "the ids would not show a split drawn per tune"


def test_splits_are_about_90_5_5_and_stable():
    n = 4000
    ids = [f"essenFolksong/file{i // 7}.abc#{i % 7}" for i in range(n)]
    families = Families(list(range(n)), [None] * n, 0)
    splits = [families.split_of(ids, i) for i in range(n)]
    assert 0.87 < splits.count("train") / n < 0.93
    assert 0.03 < splits.count("val") / n < 0.07 and 0.03 < splits.count("test") / n < 0.07
    assert splits == [families.split_of(ids, i) for i in range(n)]
