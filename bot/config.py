"""Bot settings, read once from the environment (and an optional `.env`) in `main()`.

Nothing reads the environment at import time; tests build a `BotConfig` directly.
The token is kept out of `repr()` so a logged config never leaks it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping

from composer import MuseError, default_engine
from storage import is_postgres_url
from storage.paths import DEFAULT_DATA_DIR, data_dir_path



class ConfigError(MuseError):
    """A missing or malformed setting; the message names the variable."""


@dataclass(frozen=True)
class Limits:
    """Fairness and size limits; every one can be set per deployment."""

    member_active_max: int = 3  # one running + two waiting per member
    guild_active_max: int = 20  # queued + running jobs per server
    queue_max: int = 100  # queued + running jobs in the whole process
    cooldown_s: float = 3.0  # between two accepted requests of one member
    job_timeout_s: float = 120.0  # composing + rendering one job
    batch_max: int = 8  # requests composed together in one model pass
    render_threads: int = 0  # pieces rendered and encoded at once (0: one per CPU core)
    progress_interval_s: float = 2.0  # at most one progress edit per job this often
    max_length_s: float = 300.0  # longest piece a member may ask for


@dataclass(frozen=True)
class ScaleOut:
    """The scale-out switches. All unset (the default) is one process: SQLite, the composer in
    process, one gateway connection, no HTTP port."""

    database_url: str | None = field(default=None, repr=False)  # MUSE_DATABASE_URL: postgresql://…
    composer: str = "local"  # MUSE_COMPOSER: "local" (in this process) or "ray" (the Ray Serve tier)
    ray_address: str = "auto"  # MUSE_RAY_ADDRESS: the Ray cluster the "ray" composer connects to
    ray_app: str = "muse-composer"  # MUSE_RAY_APP: the Serve application that owns the model
    shard_count: int | None = None  # MUSE_SHARD_COUNT: gateway shards across all bot processes
    shard_ids: tuple[int, ...] | None = None  # MUSE_SHARD_IDS: this process's shards, e.g. "0-3" or "0,2"
    health_port: int | None = None  # MUSE_HEALTH_PORT: /healthz, /readyz and /metrics on this port
    log_format: str = "text"  # MUSE_LOG_FORMAT: "text" or "json" (one object per line, job id included)

    @property
    def sharded(self) -> bool:
        return self.shard_count is not None

    @property
    def syncs_commands(self) -> bool:
        """Only the process that runs shard 0 syncs slash commands (one process, never several)."""
        return self.shard_ids is None or 0 in self.shard_ids


@dataclass(frozen=True)
class BotConfig:
    token: str = field(repr=False)
    data_dir: Path = Path(DEFAULT_DATA_DIR)
    api_base: str | None = None  # MUSE_DISCORD_API_BASE: REST base instead of Discord's
    gateway: str | None = None  # MUSE_DISCORD_GATEWAY: Gateway URL instead of Discord's
    sync_guild: int | None = None  # MUSE_SYNC_GUILD: `--sync` to this guild instead of globally
    engine: str = "rules"  # MUSE_ENGINE: melody engine the worker uses (default: the trained model)
    packs_dir: Path | None = None  # MUSE_PACKS_DIR: operator packs of themes and voices
    limits: Limits = Limits()
    scale: ScaleOut = ScaleOut()


_LIMIT_VARS = {
    "MUSE_MEMBER_ACTIVE_MAX": ("member_active_max", int),
    "MUSE_GUILD_ACTIVE_MAX": ("guild_active_max", int),
    "MUSE_QUEUE_MAX": ("queue_max", int),
    "MUSE_COOLDOWN_S": ("cooldown_s", float),
    "MUSE_JOB_TIMEOUT_S": ("job_timeout_s", float),
    "MUSE_BATCH_MAX": ("batch_max", int),
    "MUSE_RENDER_THREADS": ("render_threads", int),
    "MUSE_MAX_LENGTH_S": ("max_length_s", float),
}


def read_dotenv(path: Path) -> dict[str, str]:
    """`KEY=value` lines; `#` comments and blank lines skipped, optional quotes removed."""
    values: dict[str, str] = {}
    if not path.is_file():
        return values
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("export "):
            line = line[len("export "):]
        key, sep, value = line.partition("=")
        if not sep:
            raise ConfigError(f"{path}:{number}: expected KEY=value")
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        values[key.strip()] = value
    return values


def load_config(environ: Mapping[str, str] | None = None, dotenv: Path | None = Path(".env")) -> BotConfig:
    """Settings from the environment; a `.env` file fills in what the environment lacks."""
    env = dict(read_dotenv(dotenv)) if dotenv is not None else {}
    env.update(os.environ if environ is None else environ)
    token = env.get("DISCORD_TOKEN", "").strip()
    if not token:
        raise ConfigError("DISCORD_TOKEN is not set: put the bot token in the environment or in .env")
    limits = {}
    for var, (name, kind) in _LIMIT_VARS.items():
        if env.get(var):
            try:
                limits[name] = kind(env[var])
            except ValueError:
                raise ConfigError(f"{var} must be a {kind.__name__}, got {env[var]!r}") from None
    sync_guild = env.get("MUSE_SYNC_GUILD") or None
    if sync_guild is not None and not sync_guild.isdigit():
        raise ConfigError(f"MUSE_SYNC_GUILD must be a guild id (digits), got {sync_guild!r}")
    return BotConfig(
        scale=read_scale_out(env),
        token=token,
        data_dir=data_dir_path(env),
        api_base=env.get("MUSE_DISCORD_API_BASE") or None,
        gateway=env.get("MUSE_DISCORD_GATEWAY") or None,
        sync_guild=int(sync_guild) if sync_guild else None,
        engine=env.get("MUSE_ENGINE") or default_engine(),
        packs_dir=Path(env["MUSE_PACKS_DIR"]).expanduser() if env.get("MUSE_PACKS_DIR") else None,
        limits=Limits(**limits),
    )


def parse_shard_ids(value: str) -> tuple[int, ...]:
    """"0-3" or "0,2,5" (ranges and lists mixed): sorted, without repeats."""
    ids: set[int] = set()
    for part in value.split(","):
        part = part.strip()
        low, dash, high = part.partition("-")
        if not (low.isdigit() and (not dash or high.isdigit())):
            raise ConfigError(f"MUSE_SHARD_IDS must be shard numbers like 0-3 or 0,2; got {value!r}")
        ids.update(range(int(low), int(high if dash else low) + 1))
    if not ids:
        raise ConfigError(f"MUSE_SHARD_IDS names no shard: {value!r}")
    return tuple(sorted(ids))


def read_scale_out(env: Mapping[str, str]) -> ScaleOut:
    """The scale-out settings; each one is checked here so a bad value stops `muse bot` at once."""
    url = env.get("MUSE_DATABASE_URL", "").strip() or None
    if url is not None and not is_postgres_url(url):
        raise ConfigError("MUSE_DATABASE_URL must be a postgresql:// URL (leave it unset for SQLite)")
    composer = env.get("MUSE_COMPOSER", "").strip().lower() or "local"
    if composer not in ("local", "ray"):
        raise ConfigError(f"MUSE_COMPOSER must be local or ray, got {composer!r}")
    count = _positive_int(env, "MUSE_SHARD_COUNT")
    ids = parse_shard_ids(env["MUSE_SHARD_IDS"]) if env.get("MUSE_SHARD_IDS", "").strip() else None
    if ids is not None and count is None:
        raise ConfigError("MUSE_SHARD_IDS needs MUSE_SHARD_COUNT (the shards across all bot processes)")
    if ids is not None and count is not None and ids[-1] >= count:
        raise ConfigError(f"MUSE_SHARD_IDS goes up to {ids[-1]}, but MUSE_SHARD_COUNT is {count} (ids are 0–{count - 1})")
    if ids is not None and count is not None and len(ids) < count and url is None:
        raise ConfigError("shards split across processes share their queue and limits in PostgreSQL: "
                          "set MUSE_DATABASE_URL")
    port = _positive_int(env, "MUSE_HEALTH_PORT")
    if port is not None and port > 65535:
        raise ConfigError(f"MUSE_HEALTH_PORT must be a TCP port (1–65535), got {port}")
    log_format = env.get("MUSE_LOG_FORMAT", "").strip().lower() or "text"
    if log_format not in ("text", "json"):
        raise ConfigError(f"MUSE_LOG_FORMAT must be text or json, got {log_format!r}")
    return ScaleOut(database_url=url, composer=composer, ray_address=env.get("MUSE_RAY_ADDRESS") or "auto",
                    ray_app=env.get("MUSE_RAY_APP") or "muse-composer", shard_count=count, shard_ids=ids,
                    health_port=port, log_format=log_format)


def _positive_int(env: Mapping[str, str], var: str) -> int | None:
    value = env.get(var, "").strip()
    if not value:
        return None
    if not value.isdigit() or int(value) < 1:
        raise ConfigError(f"{var} must be a whole number ≥ 1, got {value!r}")
    return int(value)
