"""Where Muse keeps its database and generated files: MUSE_DATA_DIR, read at call time."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from storage.errors import StorageError

DEFAULT_DATA_DIR = "./data"
DB_FILENAME = "muse.sqlite3"
ARTIFACTS_DIRNAME = "artifacts"


def data_dir_path(environ: Mapping[str, str] | None = None) -> Path:
    """MUSE_DATA_DIR (default ./data), resolved here and nowhere else; nothing is created."""
    env = os.environ if environ is None else environ
    return Path(env.get("MUSE_DATA_DIR") or DEFAULT_DATA_DIR).expanduser()


def data_dir(environ: Mapping[str, str] | None = None) -> Path:
    """The data directory, created if missing (so a fresh checkout just works)."""
    path = data_dir_path(environ)
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StorageError(f"cannot create data directory {path} (MUSE_DATA_DIR): {exc.strerror}") from exc
    return path


def database_path(root: Path) -> Path:
    return root / DB_FILENAME


def artifacts_dir(root: Path) -> Path:
    return root / ARTIFACTS_DIRNAME
