"""Bad input gets one private line and the bot keeps working; prompts never ping anyone."""

from __future__ import annotations

import pytest

from tests.bot.conftest import has_midi, piece_in_channel
from tests.discord_standin import StandIn


@pytest.mark.parametrize("options, words", [
    ({"prompt": "a song", "voice": "kazoo"}, "unknown voice 'kazoo'"),
    ({"prompt": "a song", "tempo": 0}, "tempo must be between 30 and 300"),
    ({"prompt": "   "}, "prompt is empty"),
    ({"prompt": "la " * 2000}, "prompt is too long: 6000 characters"),
])
async def test_bad_input_gets_one_ephemeral_line_and_the_next_command_works(
        standin: StandIn, bot, options, words) -> None:
    ix = await standin.slash("compose", validate=False, user="bob", length=6, **options)
    answer = await ix.ack()
    assert answer.ephemeral and answer.callback_type == 4
    assert words in answer.content and "\n" not in answer.content and "Traceback" not in answer.content
    assert not [d for d in standin.recorder.deliveries if d.kind == "edit_original"]
    assert await bot.db.jobs.list_active() == []

    ok = await standin.slash("compose", prompt="a calm song", length=6, user="bob")
    assert (await ok.ack()).callback_type == 5
    await ok.wait_for(has_midi, timeout=30)


async def test_the_discord_client_refuses_out_of_range_options_before_muse_sees_them(standin: StandIn, bot) -> None:
    from tests.discord_standin import InvalidOptions

    for options in ({"tempo": 0}, {"variations": 5}):  # voices are autocompleted: Muse itself answers those
        with pytest.raises(InvalidOptions):
            await standin.slash("compose", prompt="x", **options)


async def test_everyone_and_role_mentions_in_a_prompt_never_ping(standin: StandIn, bot) -> None:
    alice = standin.user("alice")
    # kept under 60 characters: longer MIDI titles get a "…" that composer/formats/midi.py cannot encode yet
    prompt = f"@everyone @here <@&{standin.guild.id}> march"
    ix = await standin.slash("compose", prompt=prompt, length=6, user="bob")
    done = await ix.wait_for(has_midi, timeout=30)
    for delivery in ix.deliveries:
        assert delivery.pings.get("everyone", False) is False
        assert not delivery.pings.get("roles") and not delivery.pings.get("users")
    assert done.embeds[0]["title"].startswith("@everyone")  # shown, never pinged

    await standin.mention(f"<@{alice.id}> @everyone jig, 6 seconds", user="bob")
    reply = await piece_in_channel(standin, standin.channel("general").id)
    assert reply.pings["everyone"] is False and reply.pings["roles"] == [] and reply.pings["users"] == []


async def test_voices_are_offered_from_the_bots_own_catalog_and_an_unknown_one_gets_a_line(standin, bot) -> None:
    choices = await (await standin.autocomplete("compose", "voice", "", user="alice")).choices()
    assert [c["value"] for c in choices] == sorted(bot.catalog.voices)
    typed = await (await standin.autocomplete("remix", "voice", "ma", user="alice")).choices()
    assert [c["value"] for c in typed] == ["male", "female"]  # starts with "ma" first, then contains it
    answer = await (await standin.slash("compose", prompt="a tune", voice="kazoo", user="alice")).ack()
    assert answer.ephemeral and "unknown voice 'kazoo'" in answer.content
