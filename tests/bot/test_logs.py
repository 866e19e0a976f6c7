"""JSON logs (MUSE_LOG_FORMAT=json): one object per line, the job id on a job's records, no secrets."""

from __future__ import annotations

import asyncio
import io
import json
import logging
from dataclasses import replace
from typing import Iterator

import pytest

from bot.config import BotConfig, ScaleOut
from bot.logs import configure_logging, log_fields
from composer.log_json import REDACTED, JsonFormatter, bind_job, json_handler
from tests.bot.conftest import muse
from tests.discord_standin import StandIn

TOKEN = "MTIzNDU2Nzg5MDEyMzQ1Njc4.GabcDE.fake-token-for-the-log-tests"


def lines_of(stream: io.StringIO) -> list[dict]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


@pytest.fixture
def captured() -> Iterator[tuple[logging.Logger, io.StringIO]]:
    stream = io.StringIO()
    logger = logging.getLogger("muse.test.logs")
    handler = json_handler({"tier": "test"}, redact=[TOKEN], stream=stream)
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    logger.propagate = False
    yield logger, stream
    logger.removeHandler(handler)


def test_one_json_object_per_line_with_the_fields(captured) -> None:
    logger, stream = captured
    logger.info("job %s delivered", 7, extra={"job_id": 7, "pieces": 2})
    logger.warning("no job here")
    try:
        raise ValueError("boom\nwith a second line")
    except ValueError:
        logger.exception("it failed")
    first, second, third = lines_of(stream)
    assert first["message"] == "job 7 delivered" and first["job_id"] == 7 and first["pieces"] == 2
    assert first["level"] == "INFO" and first["logger"] == "muse.test.logs" and first["tier"] == "test"
    assert first["process"] == "MainProcess" and isinstance(first["pid"], int) and first["time"].endswith("+00:00")
    assert "job_id" not in second
    assert "ValueError: boom" in third["exception"] and len(stream.getvalue().splitlines()) == 3


async def test_a_bound_job_id_tags_its_task_only(captured) -> None:
    logger, stream = captured

    async def job(job_id: int) -> None:
        bind_job(job_id)
        await asyncio.sleep(0)
        logger.info("working")

    await asyncio.gather(asyncio.create_task(job(1)), asyncio.create_task(job(2)))
    logger.info("between jobs")
    assert [line.get("job_id") for line in lines_of(stream)] == [1, 2, None]


def test_the_token_never_appears(captured) -> None:
    logger, stream = captured
    logger.error("login with %s failed", TOKEN, extra={"headers": {"Authorization": f"Bot {TOKEN}"}})
    assert TOKEN not in stream.getvalue() and REDACTED in stream.getvalue()
    lines_of(stream)  # still valid JSON


def test_short_secrets_are_not_redacted_everywhere() -> None:
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "muse is here", None, None)
    assert json.loads(JsonFormatter(redact=["muse", None, ""]).format(record))["message"] == "muse is here"


def test_text_mode_leaves_logging_alone(bot_config: BotConfig) -> None:
    root = logging.getLogger()
    before = list(root.handlers)
    assert configure_logging(bot_config) is None
    assert root.handlers == before


def test_json_mode_replaces_the_root_handlers_and_names_the_shards(bot_config: BotConfig) -> None:
    scale = ScaleOut(log_format="json", shard_count=4, shard_ids=(1, 3),
                     database_url="postgresql://muse:a-long-db-password@db/muse")
    config = replace(bot_config, token=TOKEN, scale=scale)
    assert log_fields(config)["shards"] == [1, 3]
    root = logging.getLogger()
    before, level = list(root.handlers), root.level
    stream = io.StringIO()
    try:
        handler = configure_logging(config, stream=stream)
        assert root.handlers == [handler]
        logging.getLogger("bot.test").info("token %s, database %s", TOKEN, scale.database_url)
    finally:
        for h in list(root.handlers):
            root.removeHandler(h)
        for h in before:
            root.addHandler(h)
        root.setLevel(level)
    (line,) = lines_of(stream)
    assert line["shards"] == [1, 3] and line["tier"] == "bot"
    assert TOKEN not in line["message"] and "a-long-db-password" not in line["message"]


async def test_a_composed_job_logs_its_id_and_never_the_token(standin: StandIn, bot_config: BotConfig,
                                                             composer) -> None:
    stream = io.StringIO()
    handler = json_handler({"tier": "bot"}, redact=[standin.token], stream=stream)
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        async with muse(standin, bot_config, composer) as bot:
            logging.getLogger("bot.test").info("config %r, token %s", bot.config, standin.token)
            ix = await standin.slash("compose", prompt="a sad song", voice="piano", length=6, seed=5)
            await ix.wait_for(lambda d: any(n.endswith(".mid") for n in d.attachments), timeout=60)
            await bot.queue.wait_idle(10)
    finally:
        root.removeHandler(handler)
        root.setLevel(level)
    text = stream.getvalue()
    assert standin.token not in text
    lines = lines_of(stream)
    delivered = [line for line in lines if line["logger"] == "bot.job_delivery" and "delivered" in line["message"]]
    assert [line["job_id"] for line in delivered] == [1]
    composed = [line for line in lines if line.get("job_ids") == [1]]
    assert composed and composed[0]["logger"] == "bot.job_runner"
