"""A throw-away PostgreSQL server for tests: Debian's binaries, a temp data dir, a free port.

PostgreSQL refuses to run as root, and this CI runs as root: then initdb and pg_ctl run as the
`postgres` system user (made by the Debian package) in a directory it owns. Authentication is
`trust` on 127.0.0.1 only, and fsync is off: the data is worth nothing after the test session.
"""

from __future__ import annotations

import glob
import itertools
import os
import pwd
import re
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

USER = "postgres"  # the superuser initdb creates, and the system user the server runs as under root
DATABASE = "muse"
_SETTINGS = {
    "listen_addresses": "'127.0.0.1'",
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "max_connections": "300",
    "shared_buffers": "32MB",
    "log_min_messages": "warning",
}
_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


class PgServerMissing(RuntimeError):
    """The PostgreSQL server binaries are not installed here."""


def find_bin_dir(root: str = "/usr/lib/postgresql") -> Path:
    """The newest <root>/<version>/bin that has initdb and pg_ctl."""
    found = [Path(p).parent for p in glob.glob(f"{glob.escape(root)}/*/bin/initdb")]
    found = [d for d in found if (d / "pg_ctl").exists()]
    if not found:
        raise PgServerMissing(
            f"PostgreSQL server binaries not found ({root}/*/bin/initdb): run `make test`, "
            "which installs them, or `apt-get install postgresql` (Debian's postgresql package)"
        )
    return max(found, key=lambda d: int(re.sub(r"\D", "", d.parent.name) or 0))


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class PgServer:
    """One server process; `fresh_database` gives each test its own database on it."""

    def __init__(self) -> None:
        self.bin_dir = find_bin_dir()
        self.work: Path | None = None
        self.port = 0
        self._as_postgres = os.geteuid() == 0
        self._serial = itertools.count(1)

    @property
    def url(self) -> str:
        return self.url_for(DATABASE)

    def url_for(self, database: str) -> str:
        return f"postgresql://{USER}@127.0.0.1:{self.port}/{database}"

    @property
    def data_dir(self) -> Path:
        assert self.work is not None, "start() first"
        return self.work / "data"

    def start(self, base_dir: Path | str) -> None:
        """Create the cluster on first start (under `base_dir`), then start it and wait until ready."""
        if self.work is None:
            self.work = self._make_work_dir(Path(base_dir))
            self.port = _free_port()
            self._initdb()
        self._pg_ctl("start", "-w", "-t", "60", "-l", str(self.work / "server.log"))
        if not self._exists(DATABASE):
            self._psql(f"CREATE DATABASE {DATABASE}")

    def stop(self) -> None:
        """Fast shutdown: open connections are cut, as when the database host restarts."""
        if self.work is not None and (self.data_dir / "postmaster.pid").exists():
            self._pg_ctl("stop", "-w", "-t", "60", "-m", "fast")

    def restart(self) -> None:
        """Stop and start again on the same data dir and port; committed data survives."""
        assert self.work is not None, "start() first"
        self.stop()
        self.start(self.work)

    def destroy(self) -> None:
        """Stop and delete the data dir."""
        self.stop()
        if self.work is not None:
            shutil.rmtree(self.work, ignore_errors=True)
            self.work = None

    def fresh_database(self, name: str, *, template: str = "template0") -> str:
        """CREATE DATABASE `name` (dropped first if it exists); returns its URL."""
        if not _NAME.match(name) or not _NAME.match(template):
            raise ValueError(f"not a plain database name: {name!r} / {template!r}")
        self.drop_database(name)
        self._psql(f"CREATE DATABASE {name} TEMPLATE {template}")
        return self.url_for(name)

    def new_name(self, prefix: str = "test") -> str:
        """A database name not used before on this server."""
        return f"{prefix}_{next(self._serial)}"

    def drop_database(self, name: str) -> None:
        """DROP DATABASE, cutting off connections a failed test left open."""
        if not _NAME.match(name):
            raise ValueError(f"not a plain database name: {name!r}")
        self._psql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")

    def log_tail(self, lines: int = 40) -> str:
        log = (self.work / "server.log") if self.work else None
        if log is None or not log.exists():
            return ""
        return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])

    def _make_work_dir(self, base_dir: Path) -> Path:
        if not self._as_postgres:
            base_dir.mkdir(parents=True, exist_ok=True)
            return Path(tempfile.mkdtemp(prefix="pg-", dir=base_dir))
        # pytest's tmp dirs are root-only (0700): the postgres user could not reach a data dir there.
        work = Path(tempfile.mkdtemp(prefix="muse-pg-"))
        entry = pwd.getpwnam(USER)
        os.chown(work, entry.pw_uid, entry.pw_gid)
        return work

    def _initdb(self) -> None:
        assert self.work is not None
        self._run(str(self.bin_dir / "initdb"), "-D", str(self.data_dir), "-U", USER, "-A", "trust",
                  "-E", "UTF8", "--no-locale", "--no-sync")
        settings = dict(_SETTINGS, port=str(self.port), unix_socket_directories=f"'{self.work}'")
        with open(self.data_dir / "postgresql.conf", "a", encoding="utf-8") as conf:
            conf.write("".join(f"{key} = {value}\n" for key, value in settings.items()))

    def _pg_ctl(self, *args: str) -> None:
        try:
            self._run(str(self.bin_dir / "pg_ctl"), "-D", str(self.data_dir), *args)
        except RuntimeError as exc:
            raise RuntimeError(f"{exc}\nserver log:\n{self.log_tail()}") from None

    def _exists(self, database: str) -> bool:
        out = self._psql(f"SELECT 1 FROM pg_database WHERE datname = '{database}'", tuples=True)
        return out.strip() == "1"

    def run_sql(self, database: str, sql: str) -> str:
        """Run SQL (as the superuser) in one database with psql; returns its unaligned output."""
        return self._psql(sql, database=database, tuples=True)

    def _psql(self, sql: str, *, database: str = "postgres", tuples: bool = False) -> str:
        args = [str(self.bin_dir / "psql"), "-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1",
                "-p", str(self.port), "-U", USER, "-d", database, "-c", sql]
        if tuples:
            args[1:1] = ["-A", "-t"]
        done = subprocess.run(args, capture_output=True, text=True, timeout=60)
        if done.returncode != 0:
            raise RuntimeError(f"psql {sql!r} failed: {done.stderr.strip()}")
        return done.stdout

    def _run(self, *args: str) -> None:
        command = (["runuser", "-u", USER, "--"] if self._as_postgres else []) + list(args)
        done = subprocess.run(command, capture_output=True, text=True, timeout=120,
                              cwd=self.work if self.work else None)
        if done.returncode != 0:
            raise RuntimeError(f"{' '.join(command)} failed ({done.returncode}): {done.stderr.strip()}")
