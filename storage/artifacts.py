"""Generated files kept under MUSE_DATA_DIR/artifacts, named by their sha256.

Writes are atomic (temp file in the same folder, fsync, rename), so a crash
leaves either the whole file or none: a reader never sees half an MP3. Storing
the same bytes again only refreshes the file's mtime, which is what retention
reads as "last used". Blocking file I/O: call from an executor, not the event loop.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from storage.errors import ArtifactError, InvalidValueError
from storage.paths import artifacts_dir

_SUFFIX = re.compile(r"^(\.[A-Za-z0-9]{1,8})?$")
_TEMP_PREFIX = ".tmp-"
STALE_TEMP_S = 3600.0  # a temp file this old belongs to a writer that died
_READ_CHUNK = 1 << 20


@dataclass(frozen=True, slots=True)
class Artifact:
    sha256: str
    path: Path  # absolute
    relative_path: str  # relative to MUSE_DATA_DIR; what compositions store
    size_bytes: int


@dataclass(frozen=True, slots=True)
class PruneReport:
    deleted_files: int
    deleted_bytes: int
    kept_files: int
    kept_bytes: int
    stale_temp_files: int


class ArtifactStore:
    def __init__(self, data_dir: Path, *, clock: Callable[[], float] = time.time) -> None:
        self.data_dir = Path(data_dir)
        self.root = artifacts_dir(self.data_dir)
        self._clock = clock

    def put_bytes(self, data: bytes, *, suffix: str = "") -> Artifact:
        digest = hashlib.sha256(data).hexdigest()
        return self._store(digest, len(data), suffix, lambda out: out.write(data))

    def put_file(self, source: Path, *, suffix: str | None = None) -> Artifact:
        """Copy a file in (e.g. the renderer's output), hashing it as it streams."""
        source = Path(source)
        try:
            digest, size = _hash_file(source)
        except OSError as exc:
            raise ArtifactError(f"cannot read {source}: {exc}") from exc

        def copy(out: object) -> None:
            with source.open("rb") as src:
                shutil.copyfileobj(src, out)  # type: ignore[arg-type]

        return self._store(digest, size, source.suffix if suffix is None else suffix, copy)

    def path_for(self, sha256: str, suffix: str = "") -> Path:
        _check_suffix(suffix)
        if not re.fullmatch(r"[0-9a-f]{64}", sha256):
            raise InvalidValueError(f"not a sha256 hex digest: {sha256!r}")
        return self.root / sha256[:2] / f"{sha256}{suffix}"

    def resolve(self, relative_path: str) -> Path:
        """The absolute path of a stored relative path, refusing anything outside the store."""
        path = (self.data_dir / relative_path).resolve()
        if not path.is_relative_to(self.root.resolve()):
            raise InvalidValueError(f"not an artifact path: {relative_path!r}")
        return path

    def exists(self, relative_path: str) -> bool:
        """False once retention has pruned the file (the piece can be re-rendered from its seed)."""
        return self.resolve(relative_path).is_file()

    def verify(self, artifact: Artifact) -> bool:
        """Re-hash the file: True when it still holds the bytes its name promises."""
        try:
            return _hash_file(artifact.path) == (artifact.sha256, artifact.size_bytes)
        except FileNotFoundError:
            return False

    def prune(
        self, *, max_age_s: float | None = None, max_total_bytes: int | None = None, dry_run: bool = False
    ) -> PruneReport:
        """Delete files unused for longer than `max_age_s`, then the least recently used
        until the rest fit in `max_total_bytes`; also sweep temp files of dead writers."""
        now = self._clock()
        files: list[tuple[float, int, Path]] = []
        stale = 0
        for path, stat in self._walk():
            if path.name.startswith(_TEMP_PREFIX):
                if now - stat.st_mtime > STALE_TEMP_S:
                    stale += 1
                    if not dry_run:
                        path.unlink(missing_ok=True)
                continue
            files.append((stat.st_mtime, stat.st_size, path))
        files.sort()  # least recently used first
        total = sum(size for _, size, _ in files)
        deleted = deleted_bytes = 0
        for mtime, size, path in files:
            too_old = max_age_s is not None and now - mtime > max_age_s
            too_big = max_total_bytes is not None and total > max_total_bytes
            if not (too_old or too_big):
                continue
            if not dry_run:
                path.unlink(missing_ok=True)
            deleted += 1
            deleted_bytes += size
            total -= size
        if not dry_run:
            self._remove_empty_shards()
        return PruneReport(deleted, deleted_bytes, len(files) - deleted, total, stale)

    def _store(self, digest: str, size: int, suffix: str, write: Callable[[object], object]) -> Artifact:
        target = self.path_for(digest, suffix)
        try:
            if not (target.is_file() and target.stat().st_size == size):
                target.parent.mkdir(parents=True, exist_ok=True)
                _atomic_write(target, write)
            now = self._clock()
            os.utime(target, (now, now))  # mtime is "last used" for retention, on our clock
        except OSError as exc:
            raise ArtifactError(f"cannot write artifact {target}: {exc}") from exc
        return Artifact(digest, target, target.relative_to(self.data_dir).as_posix(), size)

    def _walk(self) -> Iterator[tuple[Path, os.stat_result]]:
        if not self.root.is_dir():
            return
        for shard in self.root.iterdir():
            if not shard.is_dir():
                continue
            for entry in os.scandir(shard):
                if entry.is_file(follow_symlinks=False):
                    try:
                        yield Path(entry.path), entry.stat(follow_symlinks=False)
                    except FileNotFoundError:  # pruned or renamed under us
                        continue

    def _remove_empty_shards(self) -> None:
        if not self.root.is_dir():
            return
        for shard in self.root.iterdir():
            if shard.is_dir():
                try:
                    shard.rmdir()
                except OSError:  # not empty (or a writer just made it): keep it
                    pass


def _atomic_write(target: Path, write: Callable[[object], object]) -> None:
    fd, temp_name = tempfile.mkstemp(dir=target.parent, prefix=_TEMP_PREFIX)
    try:
        with os.fdopen(fd, "wb") as out:
            write(out)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temp_name, target)
    except BaseException:
        Path(temp_name).unlink(missing_ok=True)
        raise
    _fsync_dir(target.parent)


def _fsync_dir(folder: Path) -> None:
    """Make the rename itself durable (POSIX); harmless where directories cannot be opened."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _hash_file(path: Path) -> tuple[str, int]:
    digest = hashlib.sha256()
    size = 0
    with Path(path).open("rb") as src:
        while chunk := src.read(_READ_CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


def _check_suffix(suffix: str) -> None:
    if not _SUFFIX.match(suffix):
        raise InvalidValueError(f"artifact suffix must look like '.mp3', not {suffix!r}")
