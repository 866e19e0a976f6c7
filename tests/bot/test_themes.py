"""/theme end to end through the stand-in: create, compose with it, share, import, export, delete,
who may do what across two servers, and bad input answered with one line and nothing stored."""

from __future__ import annotations

import io
import json

import mido
import pytest

from tests.bot.conftest import fields, has_midi, piece_files
from tests.discord_standin import StandIn



def _tempo(midi: bytes) -> int:
    song = mido.MidiFile(file=io.BytesIO(midi))
    return next(round(mido.tempo2bpm(m.tempo)) for t in song.tracks for m in t if m.type == "set_tempo")


async def _line(ix) -> str:
    answer = await ix.ack()
    assert answer.ephemeral, answer.content
    return answer.content or answer.embeds[0]["title"]


async def _compose(standin: StandIn, user: str, channel=None, **options):
    ix = await standin.slash("compose", user=user, length=6, **({"channel": channel} if channel else {}), **options)
    return await ix.wait_for(has_midi, timeout=30)


def _other_server(standin: StandIn):
    """A second server with its own member, made before the bot connects."""
    world = standin.world
    guild = world.add_guild("Other Place", world.user("owner"))
    channel = world.add_channel(guild, "lobby")
    world.add_member(guild, world.bot)
    world.add_member(guild, world.add_user("carol"))
    return channel


@pytest.fixture
async def two_servers(standin: StandIn, bot_config, composer):
    from tests.bot.conftest import muse

    lobby = _other_server(standin)
    async with muse(standin, bot_config, composer) as bot:
        yield bot, lobby


async def test_create_compose_share_import_export_delete(standin: StandIn, two_servers) -> None:
    bot, lobby = two_servers
    created = await _line(await standin.slash("theme create", user="alice", name="Neon Rain", base="retro",
                                              tempo_min=95, tempo_max=105, mode="minor",
                                              description="Synthwave in the rain: neon signs and a night drive.",
                                              examples="neon rain; a night drive under neon signs"))
    assert created == "Theme created: neon-rain"

    done = await _compose(standin, "alice", prompt="a short piece", theme="neon-rain", seed=1)
    info = fields(done)
    assert info["Theme"] == "neon-rain" and info["Key"].endswith("minor")
    assert 95 <= _tempo(piece_files(done)["mid"]) <= 105
    record = await bot.db.compositions.get(int(info["Id"].lstrip("#")))
    assert record.request["theme_spec"]["name"] == "neon-rain"  # the piece keeps the exact theme it used

    # bob, same server: does not see it until it is shared, then uses it in plain words
    choices = await (await standin.autocomplete("compose", "theme", "neon", user="bob")).choices()
    assert choices == []
    shared = await standin.slash("theme share", user="alice", name="neon-rain", scope="server")
    code = (await shared.ack()).content.rsplit("`", 2)[1]
    choices = await (await standin.autocomplete("compose", "theme", "neon", user="bob")).choices()
    assert [c["value"] for c in choices] == ["neon-rain"]
    done = await _compose(standin, "bob", prompt="a night drive in the neon rain", seed=2)
    assert fields(done)["Theme"] == "neon-rain"
    assert "no theme named" in await _line(await standin.slash("theme edit", user="bob", name="neon-rain",
                                                                 tempo_min=60))

    # carol, another server: cannot use it, until she imports a copy by its code
    refused = await standin.slash("compose", user="carol", channel=lobby, prompt="x", theme="neon-rain", length=6)
    assert "unknown theme" in await _line(refused)
    imported = await _line(await standin.slash("theme import", user="carol", channel=lobby, code=code))
    assert imported == "Theme imported: neon-rain"
    done = await _compose(standin, "carol", channel=lobby, prompt="a short piece", theme="neon-rain", seed=3)
    assert fields(done)["Theme"] == "neon-rain"

    # export → import is the same theme; an import never overwrites (the copy is renamed)
    exported = await standin.slash("theme export", user="alice", name="neon-rain")
    file = next(iter((await exported.ack()).attachments.items()))
    again = await _line(await standin.slash("theme import", user="alice", file=standin.upload(*file)))
    assert again == "Theme imported: neon-rain-2"
    mine = {t.name: t.spec for t in await bot.db.themes.list_for_owner(standin.user("alice").id)}
    assert {**mine["neon-rain-2"], "name": "neon-rain"} == mine["neon-rain"]
    assert json.loads(file[1]) == mine["neon-rain"]

    # delete: the owner can; the piece made with it is still in history with its theme
    assert "Deleted" in await _line(await standin.slash("theme delete", user="alice", name="neon-rain"))
    assert [t.name for t in await bot.db.themes.list_for_owner(standin.user("alice").id)] == ["neon-rain-2"]
    assert (await bot.db.compositions.get(record.id)).request["theme_spec"]["name"] == "neon-rain"


async def test_server_managers_remove_server_themes_but_members_cannot(standin: StandIn, bot) -> None:
    assert "created" in await _line(await standin.slash("theme create", user="alice", name="tavern", base="happy"))
    assert "now this server" in await _line(await standin.slash("theme share", user="alice", name="tavern",
                                                                  scope="server"))
    assert "only its owner" in await _line(await standin.slash("theme delete", user="bob", name="tavern"))
    assert "Deleted" in await _line(await standin.slash("theme delete", user="owner", name="tavern"))
    assert await bot.db.themes.list_for_owner(standin.user("alice").id) == []


BAD_CREATES = [
    ({"name": "x" * 200}, "at most 32 characters"),
    ({"name": "<@123> **bold**"}, "lower-case letters"),
    ({"name": "jazz"}, "built-in theme"),
    ({"name": "odd", "progression": "I IX V I"}, "IX"),
    ({"name": "odd", "tempo_min": 140, "tempo_max": 90}, "tempo"),
    ({"name": "odd", "meters": "4/4, 11/3"}, "meter"),
    ({"name": "odd", "harmony": "kazoophone"}, "kazoophone"),
]


@pytest.mark.parametrize("options,expect", BAD_CREATES)
async def test_bad_settings_get_one_line_and_store_nothing(standin: StandIn, bot, options, expect) -> None:
    line = await _line(await standin.slash("theme create", user="alice", **options))
    assert expect in line and "\n" not in line and len(line) <= 300
    assert await bot.db.themes.list_for_owner(standin.user("alice").id) == []


BAD_FILES = [
    ("theme.json", b"{not json", "JSON"),
    ("theme.json", json.dumps({"name": "x", "tempo": "fast"}).encode(), "field"),
    ("theme.toml", b"name = [unclosed", "TOML"),
    ("theme.txt", b"hello", ".json"),
    ("theme.json", b" " * (2 * 1024 * 1024), "KiB"),
]


@pytest.mark.parametrize("name,data,expect", BAD_FILES)
async def test_bad_theme_files_are_refused_whole(standin: StandIn, bot, name, data, expect) -> None:
    line = await _line(await standin.slash("theme import", user="alice", file=standin.upload(name, data)))
    assert expect in line and "\n" not in line
    assert await bot.db.themes.list_for_owner(standin.user("alice").id) == []


@pytest.mark.parametrize("name,data,expect", [("song.mid", b"not a midi file at all", "MIDI"),
                                              ("song.mid", b"MThd\x00\x00\x00\x06\x00\x01\x00\x02\x01", "MIDI")])
async def test_from_midi_refuses_what_is_not_a_midi_file(standin: StandIn, bot, name, data, expect) -> None:
    ix = await standin.slash("theme from-midi", user="alice", file=standin.upload(name, data), name="mine")
    answer = await ix.wait_for(lambda d: d.kind in ("followup", "edit_original") and bool(d.content), timeout=15)
    assert expect in answer.content and "\n" not in answer.content
    assert await bot.db.themes.list_for_owner(standin.user("alice").id) == []


async def test_from_midi_turns_a_piece_into_a_theme(standin: StandIn, bot) -> None:
    done = await _compose(standin, "alice", prompt="a jig in D major", theme="happy", meter="6/8", seed=4)
    midi = piece_files(done)["mid"]
    ix = await standin.slash("theme from-midi", user="alice", file=standin.upload("jig.mid", midi), name="my jig")
    answer = await ix.wait_for(lambda d: d.kind in ("followup", "edit_original") and bool(d.embeds), timeout=30)
    assert answer.embeds[0]["title"] == "Theme from jig.mid: my-jig"
    (saved,) = await bot.db.themes.list_for_owner(standin.user("alice").id)
    assert saved.spec["meters"][0] == "6/8" and "D major" in saved.spec.get("keys", ["D major"])
