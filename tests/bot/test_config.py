"""Configuration: environment first, `.env` fills gaps, the token never shows; `muse bot` without one."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from bot.config import ConfigError, load_config

ROOT = Path(__file__).resolve().parents[2]


def test_environment_beats_dotenv_and_limits_are_read(tmp_path: Path) -> None:
    dotenv = tmp_path / ".env"
    dotenv.write_text('# comment\nDISCORD_TOKEN="from-file"\nMUSE_COOLDOWN_S=7\nexport MUSE_SYNC_GUILD=42\n')
    config = load_config({"DISCORD_TOKEN": "secret-token-value", "MUSE_BATCH_MAX": "2", "MUSE_RENDER_THREADS": "3"},
                         dotenv)
    assert config.token == "secret-token-value"
    assert (config.limits.cooldown_s, config.limits.batch_max, config.sync_guild) == (7.0, 2, 42)
    assert config.limits.render_threads == 3
    assert "secret-token-value" not in repr(config)
    assert load_config({}, dotenv).token == "from-file"


@pytest.mark.parametrize("env, words", [
    ({}, "DISCORD_TOKEN is not set"),
    ({"DISCORD_TOKEN": "t", "MUSE_COOLDOWN_S": "soon"}, "MUSE_COOLDOWN_S must be a float"),
    ({"DISCORD_TOKEN": "t", "MUSE_SYNC_GUILD": "my server"}, "MUSE_SYNC_GUILD must be a guild id"),
])
def test_bad_settings_name_the_variable(tmp_path: Path, env: dict, words: str) -> None:
    with pytest.raises(ConfigError, match=words):
        load_config(env, tmp_path / "missing.env")


def test_muse_bot_without_a_token_prints_one_error_line(tmp_path: Path) -> None:
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    result = subprocess.run([sys.executable, "-m", "cli", "bot"], cwd=tmp_path, env=env,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "error: DISCORD_TOKEN is not set: put the bot token in the environment or in .env"]


def test_packs_dir_comes_from_the_environment_or_dotenv(tmp_path):
    from bot.config import load_config

    dotenv = tmp_path / ".env"
    dotenv.write_text("DISCORD_TOKEN=abc\nMUSE_PACKS_DIR=~/packs\n")
    config = load_config({}, dotenv)
    assert config.packs_dir is not None and config.packs_dir.name == "packs" and "~" not in str(config.packs_dir)
    assert load_config({"DISCORD_TOKEN": "abc"}, None).packs_dir is None
