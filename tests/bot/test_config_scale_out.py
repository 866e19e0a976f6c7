"""The scale-out settings: read once, every bad value one line naming its variable, nothing set = default."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import ConfigError, ScaleOut, load_config, parse_shard_ids

PG = "postgresql://muse:pw@db:5432/muse"


def test_nothing_set_is_the_one_process_default(tmp_path: Path) -> None:
    scale = load_config({"DISCORD_TOKEN": "t"}, tmp_path / "none.env").scale
    assert scale == ScaleOut() and not scale.sharded and scale.syncs_commands


def test_every_switch_is_read(tmp_path: Path) -> None:
    scale = load_config({"DISCORD_TOKEN": "t", "MUSE_DATABASE_URL": PG, "MUSE_COMPOSER": "Ray",
                         "MUSE_RAY_ADDRESS": "ray://head:10001", "MUSE_RAY_APP": "tunes", "MUSE_SHARD_COUNT": "4",
                         "MUSE_SHARD_IDS": "2-3", "MUSE_HEALTH_PORT": "8081", "MUSE_LOG_FORMAT": "JSON"},
                        tmp_path / "none.env").scale
    assert (scale.database_url, scale.composer, scale.ray_address, scale.ray_app) == (PG, "ray", "ray://head:10001",
                                                                                      "tunes")
    assert (scale.shard_count, scale.shard_ids, scale.health_port, scale.log_format) == (4, (2, 3), 8081, "json")
    assert scale.sharded and not scale.syncs_commands  # shard 0 is another process's
    assert "pw" not in repr(scale)  # the database password stays out of logged configs


@pytest.mark.parametrize("value, ids", [("0", (0,)), ("0-3", (0, 1, 2, 3)), ("3,1, 1", (1, 3)), ("0-1,5", (0, 1, 5))])
def test_shard_ids_take_ranges_and_lists(value: str, ids: tuple[int, ...]) -> None:
    assert parse_shard_ids(value) == ids


def test_one_process_may_run_every_shard_on_sqlite(tmp_path: Path) -> None:
    scale = load_config({"DISCORD_TOKEN": "t", "MUSE_SHARD_COUNT": "2"}, tmp_path / "none.env").scale
    assert scale.shard_count == 2 and scale.shard_ids is None and scale.database_url is None


@pytest.mark.parametrize("env, words", [
    ({"MUSE_DATABASE_URL": "mysql://x"}, "MUSE_DATABASE_URL must be a postgresql:// URL"),
    ({"MUSE_COMPOSER": "gpu"}, "MUSE_COMPOSER must be local or ray"),
    ({"MUSE_SHARD_COUNT": "0"}, "MUSE_SHARD_COUNT must be a whole number"),
    ({"MUSE_SHARD_COUNT": "two"}, "MUSE_SHARD_COUNT must be a whole number"),
    ({"MUSE_SHARD_IDS": "0"}, "MUSE_SHARD_IDS needs MUSE_SHARD_COUNT"),
    ({"MUSE_SHARD_COUNT": "2", "MUSE_SHARD_IDS": "a-b", "MUSE_DATABASE_URL": PG}, "MUSE_SHARD_IDS must be"),
    ({"MUSE_SHARD_COUNT": "2", "MUSE_SHARD_IDS": "1-2", "MUSE_DATABASE_URL": PG}, "goes up to 2"),
    ({"MUSE_SHARD_COUNT": "2", "MUSE_SHARD_IDS": "1"}, "set MUSE_DATABASE_URL"),
    ({"MUSE_HEALTH_PORT": "70000"}, "MUSE_HEALTH_PORT must be a TCP port"),
    ({"MUSE_LOG_FORMAT": "xml"}, "MUSE_LOG_FORMAT must be text or json"),
])
def test_bad_scale_out_settings_name_the_variable(tmp_path: Path, env: dict, words: str) -> None:
    with pytest.raises(ConfigError, match=words) as caught:
        load_config({"DISCORD_TOKEN": "t", **env}, tmp_path / "none.env")
    assert "\n" not in str(caught.value)
