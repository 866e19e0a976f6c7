"""Custom themes: unique names per owner, visibility, unguessable share codes."""

from __future__ import annotations

import math
import re

import pytest

from storage import ConflictError, InvalidValueError, NewSavedTheme, NotFoundError, Visibility
from storage.themes import SHARE_CODE_BYTES, new_share_code

SPEC = {"name": "night drive", "tempo": [80, 100], "instruments": {"lead": "synth"}}


def theme(owner_id: int = 1, name: str = "Night Drive", **overrides: object) -> NewSavedTheme:
    fields: dict[str, object] = dict(owner_id=owner_id, name=name, spec=SPEC, schema_version=1)
    fields.update(overrides)
    return NewSavedTheme(**fields)  # type: ignore[arg-type]


async def test_create_and_find(db) -> None:
    created = await db.themes.create(theme())
    assert created.spec == SPEC and created.visibility is Visibility.PRIVATE
    assert await db.themes.get(created.id) == created
    assert await db.themes.get_by_name(1, "night drive") == created  # ASCII case-insensitive
    assert await db.themes.get_by_share_code(created.share_code) == created
    assert await db.themes.get_by_share_code("nope") is None


async def test_names_unique_per_owner_only(db) -> None:
    await db.themes.create(theme(owner_id=1))
    with pytest.raises(ConflictError, match="already have a theme named"):
        await db.themes.create(theme(owner_id=1, name="NIGHT DRIVE"))
    other = await db.themes.create(theme(owner_id=2))  # another member may reuse the name
    assert other.name == "Night Drive"


def test_share_codes_carry_at_least_64_bits() -> None:
    assert SHARE_CODE_BYTES * 8 >= 64
    codes = {new_share_code() for _ in range(2000)}
    assert len(codes) == 2000
    for code in codes:
        assert re.fullmatch(r"[A-Za-z0-9_-]+", code)
        assert len(code) * math.log2(64) >= 64


async def test_visibility_listing(db) -> None:
    mine = await db.themes.create(theme(owner_id=1, name="Mine"))
    shared = await db.themes.create(theme(owner_id=2, name="Club", visibility=Visibility.GUILD, guild_id=10))
    await db.themes.create(theme(owner_id=2, name="Secret"))
    await db.themes.create(theme(owner_id=3, name="Elsewhere", visibility=Visibility.GUILD, guild_id=11))
    public = await db.themes.create(theme(owner_id=3, name="For all", visibility=Visibility.PUBLIC))

    visible = await db.themes.list_visible(1, 10)
    assert [t.id for t in visible] == [mine.id, shared.id]  # own first
    assert [t.id for t in await db.themes.list_visible(1, None)] == [mine.id]
    assert [t.id for t in await db.themes.list_public()] == [public.id]
    assert [t.name for t in await db.themes.list_for_owner(2)] == ["Club", "Secret"]

    with pytest.raises(InvalidValueError):
        await db.themes.create(theme(owner_id=1, name="Nowhere", visibility=Visibility.GUILD))


async def test_update_rename_share_and_delete(db) -> None:
    created = await db.themes.create(theme())
    await db.themes.create(theme(name="Taken"))
    updated = await db.themes.update(
        created.id, owner_id=1, spec={"tempo": [60, 70]}, schema_version=2, visibility="guild", guild_id=5
    )
    assert updated.spec == {"tempo": [60, 70]} and updated.schema_version == 2
    assert updated.visibility is Visibility.GUILD and updated.guild_id == 5
    assert updated.updated_at >= created.updated_at and updated.share_code == created.share_code

    assert (await db.themes.update(created.id, owner_id=1, name="night DRIVE")).name == "night DRIVE"
    with pytest.raises(ConflictError):
        await db.themes.update(created.id, owner_id=1, name="taken")
    with pytest.raises(NotFoundError):
        await db.themes.update(created.id, owner_id=2, spec={})

    code = await db.themes.regenerate_share_code(created.id, owner_id=1)
    assert code != created.share_code
    assert await db.themes.get_by_share_code(created.share_code) is None
    assert (await db.themes.get_by_share_code(code)).id == created.id  # type: ignore[union-attr]

    assert not await db.themes.delete(created.id, owner_id=2)
    assert await db.themes.delete(created.id, owner_id=1)
    assert await db.themes.get(created.id) is None
