"""With no scale-out setting, `muse bot` is the one-process bot it always was: SQLite, the composer
in process, one plain gateway client, and none of the scale-out extra imported."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

SCALE_OUT_MODULES = ("ray", "asyncpg", "prometheus_client", "composer_tier", "storage.postgres", "bot.health",
                     "bot.metrics", "bot.remote_worker")


@pytest.mark.slow
def test_the_default_bot_imports_nothing_of_the_scale_out_mode(tmp_path: Path) -> None:
    script = textwrap.dedent(f"""
        import asyncio, sys
        from bot.config import load_config
        from bot.main import create_bot, open_resources

        async def main():
            config = load_config({{"DISCORD_TOKEN": "x", "MUSE_DATA_DIR": {str(tmp_path)!r}, "MUSE_ENGINE": "rules"}},
                                 dotenv=None)
            assert config.scale.database_url is None and config.scale.composer == "local"
            async with open_resources(config) as resources:
                bot = create_bot(config, resources)
                assert type(bot).__name__ == "MuseBot", type(bot)
                assert type(resources.worker).__name__ == "ComposerWorker"
                assert not resources.queue.sharing.shared
                await bot.close()
            loaded = [m for m in {SCALE_OUT_MODULES!r} if m in sys.modules]
            assert not loaded, loaded

        asyncio.run(main())
        print("ok")
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and done.stdout.strip().endswith("ok"), done.stderr[-2000:]
    assert (tmp_path / "muse.sqlite3").exists() or any(tmp_path.rglob("*.sqlite3"))
