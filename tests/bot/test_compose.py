"""/compose end to end: defer, progress, delivery with audio, MIDI, picture and embed; history."""

from __future__ import annotations

import io
from dataclasses import replace

import mido

from tests.bot.conftest import muse
from tests.discord_standin import StandIn

PROMPT = "happy birthday"


def _names(delivery) -> list[str]:
    return sorted(delivery.attachments)


async def test_compose_delivers_audio_midi_picture_and_embed(standin: StandIn, bot_config, composer) -> None:
    """End to end with the engine production runs: the trained model writes the melody."""
    async with muse(standin, replace(bot_config, engine="model"), composer) as bot:
        await _compose_and_check(standin, bot)


async def _compose_and_check(standin: StandIn, bot) -> None:
    ix = await standin.slash("compose", prompt=PROMPT, voice="piano", length=6, seed=11, user="alice")
    ack = await ix.ack()
    assert ack.callback_type == 5 and ix.acked_after_s < 3
    done = await ix.wait_for(lambda d: any(n.endswith(".mid") for n in d.attachments), timeout=30)
    assert done.kind == "edit_original"
    names = _names(done)
    assert [n.rsplit(".", 1)[1] for n in names] == ["mid", "mp3", "png"]
    files = done.attachments
    midi = next(b for n, b in files.items() if n.endswith(".mid"))
    mp3 = next(b for n, b in files.items() if n.endswith(".mp3"))
    png = next(b for n, b in files.items() if n.endswith(".png"))
    assert midi.startswith(b"MThd") and png.startswith(b"\x89PNG") and len(mp3) > 10_000
    (embed,) = done.embeds
    assert embed["title"] == PROMPT
    fields = {f["name"]: f["value"] for f in embed["fields"]}
    assert fields["Voice"] == "piano" and fields["Seed"] == "11" and fields["Theme"] == "birthday"
    assert set(fields) >= {"Theme", "Voice", "Key", "Tempo", "Meter", "Length", "Seed", "Id"}
    assert done.pings["everyone"] is False and done.pings["users"] == []
    labels = [b["label"] for b in ix.original.buttons()]
    assert labels == ["Variation", "Remix"]

    # the piece is in history, with its files and timings
    piece_id = int(fields["Id"].lstrip("#"))
    record = await bot.db.compositions.get(piece_id)
    assert record.owner_id == standin.user("alice").id
    assert {f.kind for f in record.files} >= {"midi", "audio", "image"}
    assert record.timings_s["render"] > 0 and record.engine == "model"
    assert mido.MidiFile(file=io.BytesIO(midi)).length > 4
    assert (await bot.db.jobs.get(1)).status.value == "done"


async def test_format_text_gives_the_description_and_the_melody_in_abc(standin: StandIn, bot) -> None:
    import music21

    ix = await standin.slash("compose", prompt="a jig in D major", length=6, seed=8, format="text", user="bob")
    done = await ix.wait_for(lambda d: any(n.endswith(".abc") for n in d.attachments), timeout=30)
    files = {n.rsplit(".", 1)[1]: b for n, b in done.attachments.items()}
    assert sorted(files) == ["abc", "mid", "txt"]  # no audio for text
    abc = files["abc"].decode()
    assert done.content == f"```abc\n{abc}```" and "K:D" in abc
    assert done.embeds[0]["description"].startswith("A ")
    parsed = music21.converter.parse(abc, format="abc")
    assert len(parsed.recurse().notes) > 4
