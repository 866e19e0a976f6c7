"""`muse db upgrade` and `muse db prune`, in-process and as the installed console script."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import aiosqlite
import pytest

from cli import main
from storage import ArtifactStore, latest_version
from storage.migrations import apply_migrations


@pytest.fixture
def data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "fresh" / "data"  # does not exist yet: the command creates it
    monkeypatch.setenv("MUSE_DATA_DIR", str(root))
    monkeypatch.delenv("MUSE_DATABASE_URL", raising=False)  # these tests are about the SQLite file
    return root


def _version(path: Path) -> int:
    with sqlite3.connect(path) as conn:
        return conn.execute("PRAGMA user_version").fetchone()[0]


def test_upgrade_creates_data_dir_and_database(data: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["db", "upgrade"]) == 0
    assert _version(data / "muse.sqlite3") == latest_version()
    assert f"from version 0 to {latest_version()}" in capsys.readouterr().out
    assert main(["db", "upgrade"]) == 0
    assert "up to date" in capsys.readouterr().out


async def test_upgrade_from_version_1(data: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data.mkdir(parents=True)
    async with aiosqlite.connect(data / "muse.sqlite3", isolation_level=None) as conn:
        await apply_migrations(conn, target=1)
        await conn.execute("INSERT INTO users (id, created_at, updated_at) VALUES (1, 0, 0)")
    # main() runs its own event loop (asyncio.run), so call it from a worker thread here.
    import asyncio

    assert await asyncio.to_thread(main, ["db", "upgrade"]) == 0
    assert f"from version 1 to {latest_version()}" in capsys.readouterr().out
    with sqlite3.connect(data / "muse.sqlite3") as conn:
        assert conn.execute("SELECT id FROM users").fetchall() == [(1,)]


def test_newer_database_is_refused_with_one_error_line(data: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["db", "upgrade"]) == 0
    with sqlite3.connect(data / "muse.sqlite3") as conn:
        conn.execute(f"PRAGMA user_version = {latest_version() + 1}")
    capsys.readouterr()
    for argv in (["db", "upgrade"], ["db", "prune"]):
        assert main(argv) == 2
        err = capsys.readouterr().err
        assert err.startswith("error: ") and err.count("\n") == 1 and "Traceback" not in err
        assert "newer" in err or "only knows" in err
    assert _version(data / "muse.sqlite3") == latest_version() + 1


def test_prune_applies_age_and_size(data: Path, capsys: pytest.CaptureFixture[str]) -> None:
    store = ArtifactStore(data)
    old = store.put_bytes(b"o" * 1000, suffix=".mp3")
    os.utime(old.path, (1, 1))  # decades unused
    big = [store.put_bytes(bytes([i]) * (600 * 1024), suffix=".wav") for i in range(3)]
    for i, art in enumerate(big):
        os.utime(art.path, (2_000_000_000 + i, 2_000_000_000 + i))

    assert main(["db", "prune", "--max-age-days", "30", "--max-total-mb", "1", "--dry-run"]) == 0
    assert "would delete 3 files" in capsys.readouterr().out
    assert old.path.exists()

    assert main(["db", "prune", "--max-age-days", "30", "--max-total-mb", "1"]) == 0
    out = capsys.readouterr().out
    assert "deleted 3 files" in out and "kept 1 files" in out
    assert not old.path.exists() and [a.path.exists() for a in big] == [False, False, True]
    assert _version(data / "muse.sqlite3") == latest_version()


@pytest.mark.parametrize("bad", [["--max-age-days", "-1"], ["--max-total-mb", "lots"], ["--max-age-days", "nan"]])
def test_prune_rejects_bad_limits(data: Path, capsys: pytest.CaptureFixture[str], bad: list[str]) -> None:
    assert main(["db", "prune", *bad]) == 2
    assert capsys.readouterr().err.startswith("error: ")


def test_installed_console_script_upgrades(tmp_path: Path) -> None:
    muse = Path(sys.executable).with_name("muse")
    assert muse.exists(), f"{muse} missing: install the project into the venv (make test does)"
    root = tmp_path / "script-data"
    done = subprocess.run(
        [str(muse), "db", "upgrade"], cwd=tmp_path, capture_output=True, text=True, timeout=60,
        env=dict(os.environ, MUSE_DATA_DIR=str(root)),
    )
    assert done.returncode == 0, done.stderr
    assert "upgraded schema" in done.stdout
    assert _version(root / "muse.sqlite3") == latest_version()


def test_unusable_data_dir_is_one_error_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    monkeypatch.setenv("MUSE_DATA_DIR", str(blocker / "data"))
    assert main(["db", "upgrade"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: cannot create data directory") and "Traceback" not in err


async def test_upgrade_and_prune_use_postgres_when_the_url_is_set(
    data: Path, pg_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import asyncio

    with_password = pg_url.replace("postgresql://postgres@", "postgresql://postgres:s3cret@")
    monkeypatch.setenv("MUSE_DATABASE_URL", with_password)
    assert await asyncio.to_thread(main, ["db", "upgrade"]) == 0
    out = capsys.readouterr().out
    assert f"from version 0 to {latest_version()}" in out and "s3cret" not in out and ":***@" in out
    assert await asyncio.to_thread(main, ["db", "upgrade"]) == 0
    assert "up to date" in capsys.readouterr().out
    assert await asyncio.to_thread(main, ["db", "prune"]) == 0
    assert "0 finished jobs" in capsys.readouterr().out
    assert not (data / "muse.sqlite3").exists()  # no SQLite file on the side


def test_a_database_url_that_is_not_postgres_is_one_error_line(
    data: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("MUSE_DATABASE_URL", "mysql://somewhere/muse")
    assert main(["db", "upgrade"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: MUSE_DATABASE_URL must be a postgresql:// URL") and err.count("\n") == 1
