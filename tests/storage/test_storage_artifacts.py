"""Content-addressed files: atomic writes, deduplication, retention by age and total size."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from storage import ArtifactError, ArtifactStore, InvalidValueError
from storage.artifacts import STALE_TEMP_S

NOW = 1_800_000_000.0
DAY_S = 86400.0


@pytest.fixture
def store(tmp_path: Path) -> ArtifactStore:
    return ArtifactStore(tmp_path / "data", clock=lambda: NOW)


def _age(path: Path, age_s: float) -> None:
    os.utime(path, (NOW - age_s, NOW - age_s))


def _leftovers(store: ArtifactStore) -> list[Path]:
    return [p for p in store.root.rglob("*") if p.name.startswith(".tmp-")]


def test_put_is_content_addressed_and_atomic(store: ArtifactStore) -> None:
    data = b"MThd" + bytes(range(256)) * 10
    digest = hashlib.sha256(data).hexdigest()
    art = store.put_bytes(data, suffix=".mid")
    assert art.sha256 == digest and art.size_bytes == len(data)
    assert art.path == store.root / digest[:2] / f"{digest}.mid"
    assert art.relative_path == f"artifacts/{digest[:2]}/{digest}.mid"
    assert art.path.read_bytes() == data
    assert store.exists(art.relative_path) and store.verify(art)
    assert _leftovers(store) == []


def test_same_bytes_dedupe_and_refresh_last_use(store: ArtifactStore) -> None:
    first = store.put_bytes(b"same", suffix=".txt")
    _age(first.path, 10 * DAY_S)
    old_inode = first.path.stat().st_ino
    second = store.put_bytes(b"same", suffix=".txt")
    assert second == first
    assert first.path.stat().st_ino == old_inode  # not rewritten
    assert first.path.stat().st_mtime > NOW - DAY_S  # but marked as used now
    assert len(list(store.root.rglob("*.txt"))) == 1


def test_put_file_streams_and_verify_detects_damage(store: ArtifactStore, tmp_path: Path) -> None:
    source = tmp_path / "render.wav"
    source.write_bytes(os.urandom(3 * 1024 * 1024 + 17))
    art = store.put_file(source)
    assert art.path.suffix == ".wav" and art.path.read_bytes() == source.read_bytes()
    art.path.write_bytes(b"truncated")
    assert not store.verify(art)
    with pytest.raises(ArtifactError):
        store.put_file(tmp_path / "missing.wav")


def test_failed_write_leaves_no_partial_file(store: ArtifactStore, tmp_path: Path) -> None:
    class Exploding:
        def __init__(self) -> None:
            self.calls = 0

        def read(self, size: int = -1) -> bytes:
            self.calls += 1
            if self.calls > 2:
                raise OSError("disk vanished")
            return b"x" * 1024

    digest = "e" * 64
    with pytest.raises(ArtifactError):
        store._store(digest, 10_000, ".mp3", lambda out: __import__("shutil").copyfileobj(Exploding(), out))
    assert not store.path_for(digest, ".mp3").exists()
    assert _leftovers(store) == []


def test_bad_names_are_refused(store: ArtifactStore) -> None:
    for suffix in ("mp3", "../x", ".toolongsuffix", "./"):
        with pytest.raises(InvalidValueError):
            store.put_bytes(b"x", suffix=suffix)
    for path in ("../../etc/passwd", "/etc/passwd", "muse.sqlite3", "artifacts/../muse.sqlite3"):
        with pytest.raises(InvalidValueError):
            store.exists(path)


def test_prune_by_age(store: ArtifactStore) -> None:
    old = store.put_bytes(b"old", suffix=".mp3")
    new = store.put_bytes(b"new", suffix=".mp3")
    _age(old.path, 31 * DAY_S)
    _age(new.path, 1 * DAY_S)
    report = store.prune(max_age_s=30 * DAY_S)
    assert (report.deleted_files, report.deleted_bytes, report.kept_files) == (1, 3, 1)
    assert not old.path.exists() and new.path.exists()
    assert not old.path.parent.exists() or any(old.path.parent.iterdir())  # empty shard removed


def test_prune_by_total_size_drops_least_recently_used(store: ArtifactStore) -> None:
    arts = [store.put_bytes(bytes([i]) * 1000, suffix=".ogg") for i in range(10)]
    for i, art in enumerate(arts):
        _age(art.path, (10 - i) * 60.0)  # arts[0] is the least recently used
    dry = store.prune(max_total_bytes=3500, dry_run=True)
    assert dry.deleted_files == 7 and all(a.path.exists() for a in arts)
    report = store.prune(max_total_bytes=3500)
    assert (report.deleted_files, report.kept_files, report.kept_bytes) == (7, 3, 3000)
    assert [a.path.exists() for a in arts] == [False] * 7 + [True] * 3


def test_prune_sweeps_only_stale_temp_files(store: ArtifactStore) -> None:
    store.put_bytes(b"keep")
    shard = next(p for p in store.root.iterdir() if p.is_dir())
    stale = shard / ".tmp-dead-writer"
    fresh = shard / ".tmp-live-writer"
    stale.write_bytes(b"half")
    fresh.write_bytes(b"half")
    _age(stale, STALE_TEMP_S + 60)
    _age(fresh, 5)
    report = store.prune(max_age_s=DAY_S)
    assert report.stale_temp_files == 1 and report.kept_files == 1
    assert not stale.exists() and fresh.exists()


def test_prune_on_empty_store(store: ArtifactStore) -> None:
    assert store.prune(max_age_s=0, max_total_bytes=0).deleted_files == 0
