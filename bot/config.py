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
class BotConfig:
    token: str = field(repr=False)
    data_dir: Path = Path(DEFAULT_DATA_DIR)
    api_base: str | None = None  # MUSE_DISCORD_API_BASE: REST base instead of Discord's
    gateway: str | None = None  # MUSE_DISCORD_GATEWAY: Gateway URL instead of Discord's
    sync_guild: int | None = None  # MUSE_SYNC_GUILD: `--sync` to this guild instead of globally
    engine: str = "rules"  # MUSE_ENGINE: melody engine the worker uses (default: the trained model)
    packs_dir: Path | None = None  # MUSE_PACKS_DIR: operator packs of themes and voices
    limits: Limits = Limits()


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
        token=token,
        data_dir=data_dir_path(env),
        api_base=env.get("MUSE_DISCORD_API_BASE") or None,
        gateway=env.get("MUSE_DISCORD_GATEWAY") or None,
        sync_guild=int(sync_guild) if sync_guild else None,
        engine=env.get("MUSE_ENGINE") or default_engine(),
        packs_dir=Path(env["MUSE_PACKS_DIR"]).expanduser() if env.get("MUSE_PACKS_DIR") else None,
        limits=Limits(**limits),
    )
