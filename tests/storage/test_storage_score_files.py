"""A piece's score (kind "score", the notes as JSON for remixes) is one more history file: no
schema change, and pieces stored before it (from every schema version) read back as they were."""

from __future__ import annotations

from pathlib import Path

import aiosqlite

from storage import ArtifactStore, StoredFile, open_database
from storage.migrations import apply_migrations


async def test_a_score_file_is_stored_and_read_back_with_the_others(db, make_piece, tmp_path: Path) -> None:
    artifacts = ArtifactStore(tmp_path / "data")
    score = artifacts.put_bytes(b'{"version":1}', suffix=".json")
    files = make_piece().files + (StoredFile("score", score.relative_path, score.sha256, score.size_bytes),)
    stored = await db.compositions.add(make_piece(files=files))
    again = await db.compositions.get(stored.id)
    assert [f.kind for f in again.files] == ["audio", "midi", "score"]  # read back sorted by kind
    assert again.file("score") == files[-1] and again.file("score").path.endswith(".json")
    assert artifacts.resolve(again.file("score").path).read_bytes() == b'{"version":1}'


async def test_pieces_from_before_scores_read_back_without_one(tmp_path: Path, make_piece) -> None:
    path = tmp_path / "muse.sqlite3"
    async with aiosqlite.connect(path, isolation_level=None) as conn:
        await apply_migrations(conn, target=1)
        await conn.execute("INSERT INTO users (id, name, created_at, updated_at) VALUES (42, 'ada', 1, 1)")
        await conn.execute("""INSERT INTO compositions (id, owner_id, prompt, request_json, seed, created_at)
                              VALUES (5, 42, 'old tune', '{"tempo": 90}', 7, 1700000001)""")
        await conn.execute("INSERT INTO composition_files VALUES (5, 'midi', 'artifacts/aa/x.mid', ?, 321)",
                           ("a" * 64,))
    async with open_database(path) as db:
        old = await db.compositions.get(5)
        assert [f.kind for f in old.files] == ["midi"] and old.file("score") is None
        score = StoredFile("score", "artifacts/bb/" + "b" * 64 + ".json", "b" * 64, 12)
        remix = await db.compositions.add(make_piece(owner_id=42, parent_id=5, files=(score,)))
        assert (await db.compositions.get(remix.id)).file("score") == score
