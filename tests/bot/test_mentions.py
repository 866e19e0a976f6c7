"""Plain words: a mention or a DM composes through the same pipeline; a question gets help."""

from __future__ import annotations

from tests.bot.conftest import fields, piece_in_channel
from tests.discord_standin import StandIn


async def test_a_mention_delivers_a_piece(standin: StandIn, bot) -> None:
    asked = await standin.mention("a slow sad piano song in D minor, 6 seconds please", user="alice")
    status = await standin.wait_for_message(channel="general")
    assert int(status.message.message_reference["message_id"]) == asked.id
    done = await piece_in_channel(standin, standin.channel("general").id)
    info = fields(done)
    assert info["Key"] == "D minor" and info["Voice"] == "piano" and info["Theme"] == "sad"
    assert done.message.id == status.message.id  # the status reply became the piece
    assert sorted(n.rsplit(".", 1)[1] for n in done.attachments) == ["mid", "mp3", "png"]


async def test_a_dm_delivers_and_a_question_gets_help(standin: StandIn, bot) -> None:
    await standin.dm("an epic adventure for 6 seconds", user="bob")
    status = await standin.wait_for_message(dm_with="bob")
    done = await piece_in_channel(standin, status.channel_id)
    assert fields(done)["Theme"] in ("epic", "adventure")

    await standin.mention("what themes do you have?", user="alice")
    help_reply = await standin.wait_for_message(lambda d: "/compose" in d.content, channel="general")
    assert "/themes" in help_reply.content
