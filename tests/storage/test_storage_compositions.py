"""History: pieces stored with their files and timings, paged newest first."""

from __future__ import annotations

import pytest

from storage import ConflictError, StoredFile


async def test_add_and_get_round_trip(db, make_piece) -> None:
    new = make_piece(owner_id=11, prompt="a slow sad piano song in D minor")
    stored = await db.compositions.add(new)
    assert stored.id > 0 and stored.created_at.tzinfo is not None
    again = await db.compositions.get(stored.id)
    assert again == stored
    for field in ("owner_id", "prompt", "request", "seed", "engine", "checkpoint", "timings_s",
                  "guild_id", "channel_id", "description"):
        assert getattr(again, field) == getattr(new, field)
    assert set(again.files) == set(new.files)
    assert again.file("midi") == new.files[0] and again.file("stem:vocals") is None
    assert await db.compositions.get(stored.id + 1000) is None
    assert (await db.users.get(11)) is not None  # the member row appears on first use


async def test_history_pages_are_newest_first_without_overlap(db, make_piece) -> None:
    ids = [(await db.compositions.add(make_piece(owner_id=1, prompt=f"tune {i}"))).id for i in range(45)]
    await db.compositions.add(make_piece(owner_id=2, prompt="someone else"))

    seen: list[int] = []
    before = None
    sizes = []
    while True:
        page = await db.compositions.history_for_user(1, limit=20, before_id=before)
        sizes.append(len(page.items))
        seen += [c.id for c in page.items]
        if page.next_before_id is None:
            break
        before = page.next_before_id
    assert sizes == [20, 20, 5]
    assert seen == sorted(ids, reverse=True)
    assert await db.compositions.count_for_user(1) == 45

    offset_page = await db.compositions.history_for_user(1, limit=20, offset=40)
    assert [c.id for c in offset_page.items] == seen[40:]


async def test_guild_history_and_dm_pieces(db, make_piece) -> None:
    a = await db.compositions.add(make_piece(owner_id=1, guild_id=500))
    b = await db.compositions.add(make_piece(owner_id=2, guild_id=500))
    dm = await db.compositions.add(make_piece(owner_id=1, guild_id=None, channel_id=None))
    page = await db.compositions.history_for_guild(500)
    assert [c.id for c in page.items] == [b.id, a.id]
    assert await db.compositions.count_for_guild(500) == 2
    assert (await db.compositions.get(dm.id)).guild_id is None  # type: ignore[union-attr]


async def test_variations_in_one_transaction_and_lineage(db, make_piece) -> None:
    parent = await db.compositions.add(make_piece())
    variations = await db.compositions.add_many(
        [make_piece(prompt=f"variation {i}", seed=i, parent_id=parent.id) for i in range(4)]
    )
    assert [v.seed for v in variations] == [0, 1, 2, 3]
    assert all(v.parent_id == parent.id for v in variations)


async def test_delete_only_own_and_cascades_files(db, make_piece) -> None:
    mine = await db.compositions.add(make_piece(owner_id=1))
    assert not await db.compositions.delete(mine.id, owner_id=2)
    assert await db.compositions.delete(mine.id, owner_id=1)
    assert await db.compositions.get(mine.id) is None
    async with db.read() as conn:
        async with conn.execute("SELECT count(*) FROM composition_files WHERE composition_id = ?", (mine.id,)) as cur:
            assert (await cur.fetchone())[0] == 0


async def test_bad_hash_and_duplicate_file_kind_are_refused_whole(db, make_piece) -> None:
    bad = make_piece(files=(StoredFile("midi", "x.mid", "not-a-hash", 1),))
    with pytest.raises(ConflictError):
        await db.compositions.add(bad)
    twice = make_piece(files=(StoredFile("midi", "a", "a" * 64, 1), StoredFile("midi", "b", "b" * 64, 1)))
    with pytest.raises(ConflictError):
        await db.compositions.add(twice)
    assert await db.compositions.count_for_user(1) == 0  # nothing half-written
