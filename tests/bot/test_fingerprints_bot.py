"""Ten fixed requests through the Discord stand-in, with the model engine production runs, give the
pieces they gave before: /compose, a mention, format text, and remixes that keep or remake the notes."""

from __future__ import annotations

from dataclasses import replace

import pytest

from tests.bot.conftest import fields, has_midi, muse, piece_files, piece_in_channel
from tests.discord_standin import StandIn
from tests.fingerprints import check, midi_fingerprint

pytestmark = pytest.mark.slow


def _print(delivery) -> dict:
    info = {k: v for k, v in fields(delivery).items() if k != "Id"}
    files = piece_files(delivery)
    (embed,) = delivery.embeds
    return {"fields": info, "title": embed["title"], "description": embed["description"],
            "footer": embed.get("footer", {}).get("text"), "files": sorted(files), "content": delivery.content,
            "midi": midi_fingerprint(files["mid"])}


async def _slash(standin: StandIn, command: str, **options) -> tuple[int, dict]:
    ix = await standin.slash(command, user="alice", **options)
    done = await ix.wait_for(has_midi, timeout=60)
    return int(fields(done)["Id"].lstrip("#")), _print(done)


async def test_ten_requests_through_the_standin_compose_what_they_composed_before(
        standin: StandIn, bot_config, composer) -> None:
    actual: dict[str, dict] = {}
    async with muse(standin, replace(bot_config, engine="model"), composer):
        piece, actual["compose-piano"] = await _slash(standin, "compose", prompt="happy birthday", theme="birthday",
                                                      voice="piano", length=8, seed=11)
        sung, actual["compose-male"] = await _slash(standin, "compose", prompt="happy birthday dear friend",
                                                    theme="birthday", voice="male", length=8, seed=12)
        _, actual["compose-options"] = await _slash(standin, "compose", prompt="a gloomy tune", theme="sad",
                                                    key="E minor", tempo=72, meter="3/4", length=10, seed=13,
                                                    pitch=2, voice="synth")
        _, actual["compose-text"] = await _slash(standin, "compose", prompt="a jig in D major", theme="happy",
                                                 length=6, seed=14, format="text")
        _, actual["remix-tempo"] = await _slash(standin, "remix", piece=str(piece), tempo=140)
        _, actual["remix-pitch"] = await _slash(standin, "remix", piece=str(piece), pitch=-2)
        _, actual["remix-key"] = await _slash(standin, "remix", piece=str(piece), key="A major")
        _, actual["remix-theme"] = await _slash(standin, "remix", piece=str(piece), theme="jazz")
        _, actual["remix-sung-voice"] = await _slash(standin, "remix", piece=str(sung), voice="female")
        # a mention draws its own seed, so only what the words decide is kept of it
        await standin.mention("a slow sad piano song in D minor, 6 seconds please", user="bob")
        mentioned = _print(await piece_in_channel(standin, standin.channel("general").id, timeout=60))
        actual["mention"] = {"fields": {k: v for k, v in mentioned["fields"].items()
                                        if k in ("Theme", "Voice", "Key", "Meter", "Length")},
                             "files": mentioned["files"], "title": mentioned["title"]}
    check("bot", actual)
