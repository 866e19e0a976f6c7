"""Whatever members type is stored verbatim and stays inert: it is only ever a bound parameter."""

from __future__ import annotations

import pytest

from storage import InvalidValueError, NewJob, NewSavedTheme, latest_version

HOSTILE = {
    "sql": "x'); DROP TABLE compositions; --",
    "sql_union": "' OR 1=1 UNION SELECT share_code, 1, 1 FROM themes --",
    "pragma": "'; PRAGMA user_version = 999; --",
    "nul": "before\x00after\x00",
    "long": "ab\u00e9c" * 2500,  # 10,000 characters
    "emoji": "\U0001F3B5\U0001F468\u200D\U0001F469\u200D\U0001F467 birthday \U0001F382\uFE0F",
    "rtl": "\u05E9\u05D9\u05E8 \u05E9\u05DE\u05D7 \u202Egnos\u202C \u0645\u0648\u0633\u064A\u0642\u0649",
    "controls": "line\nbreak\r\ttab\x1b[31mred\x7f",
    "json_like": '{"prompt": "x"}\\u0000"',
    "percent": "%s %d %(name)s {0} ?1 :name @x $1",
}


@pytest.mark.parametrize("label", sorted(HOSTILE))
async def test_prompts_requests_and_theme_names_round_trip(db, make_piece, label: str) -> None:
    text = HOSTILE[label]
    if "\x00" in text and db.dialect.name == "postgresql":
        await _nul_is_refused_whole(db, make_piece, text)
        return
    stored = await db.compositions.add(
        make_piece(owner_id=7, prompt=text, description=text, request={"prompt": text, text: [text]})
    )
    again = await db.compositions.get(stored.id)
    assert again is not None
    assert again.prompt == text and again.description == text
    assert again.request == {"prompt": text, text: [text]}
    assert (await db.compositions.history_for_user(7)).items[0].prompt == text

    made = await db.themes.create(NewSavedTheme(owner_id=7, name=text, spec={"note": text}, schema_version=1))
    assert made.name == text
    assert (await db.themes.get_by_name(7, text)).spec == {"note": text}  # type: ignore[union-attr]

    queued = await db.jobs.enqueue(NewJob(requester_id=7, payload={"prompt": text}, interaction_token=text))
    assert (await db.jobs.get(queued.id)).interaction_token == text  # type: ignore[union-attr]

    await db.users.upsert(7, name=text, preferences={"voice": text})
    assert (await db.users.get(7)).name == text  # type: ignore[union-attr]

    # The schema is intact and nothing ran: still the same tables, version and row counts.
    assert await db.integrity_check() == "ok"
    async with db.read() as conn:
        async with conn.execute("SELECT count(*) FROM compositions") as cur:
            assert (await cur.fetchone())[0] == 1
    assert await db.schema_version() == latest_version()


async def _nul_is_refused_whole(db, make_piece, text: str) -> None:  # type: ignore[no-untyped-def]
    """PostgreSQL text cannot hold NUL: a typed refusal and nothing half-written, where SQLite keeps it.
    (Inside JSON a NUL is the escape \\u0000, which both keep.)"""
    with pytest.raises(InvalidValueError):
        await db.compositions.add(make_piece(owner_id=7, prompt=text))
    with pytest.raises(InvalidValueError):
        await db.themes.create(NewSavedTheme(owner_id=7, name=text, spec={"note": text}, schema_version=1))
    assert await db.compositions.count_for_user(7) == 0
    stored = await db.compositions.add(make_piece(owner_id=7, prompt="fine", request={"prompt": text}))
    assert (await db.compositions.get(stored.id)).request == {"prompt": text}  # type: ignore[union-attr]


async def test_byte_exact_length_of_long_text(db, make_piece) -> None:
    text = HOSTILE["long"]
    stored = await db.compositions.add(make_piece(prompt=text))
    assert len((await db.compositions.get(stored.id)).prompt.encode()) == len(text.encode()) > 10_000  # type: ignore[union-attr]


@pytest.mark.parametrize(
    "overrides",
    [
        {"prompt": "lone surrogate \ud800"},
        {"request": {"tempo": float("nan")}},
        {"timings_s": {"total": float("inf")}},
        {"owner_id": 1 << 70},
        {"request": {"not json": object()}},
    ],
    ids=["surrogate", "nan", "inf", "huge-id", "object"],
)
async def test_unstorable_values_raise_a_typed_error(db, make_piece, overrides: dict) -> None:
    with pytest.raises(InvalidValueError):
        await db.compositions.add(make_piece(**overrides))
    assert await db.compositions.count_for_user(1) == 0
    await db.compositions.add(make_piece())  # the connection is fine afterwards
