"""Everything a member does, on both shards of a scale-out Muse: two `muse bot` processes sharing
PostgreSQL, composing on a Ray Serve tier with two replicas, driven through the stand-in by the real
discord.py client."""

from __future__ import annotations

import re

import pytest

from storage import open_database
from tests.bot.conftest import fields, has_midi
from tests.discord_standin import StandIn

pytestmark = pytest.mark.slow

TIMEOUT_S = 90


async def _line(ix) -> str:
    answer = await ix.ack()
    if answer.callback_type == 5:  # deferred: the answer follows
        answer = await ix.wait_for(lambda d: d.kind in ("followup", "edit_original") and bool(d.content or d.embeds))
    return answer.content or answer.embeds[0]["description"]


async def _compose(standin: StandIn, guild, user: str = "alice", **options):
    ix = await standin.slash("compose", user=user, guild=guild, channel=standin.channel("general", guild=guild),
                             length=8, **options)
    done = await ix.wait_for(has_midi, timeout=TIMEOUT_S)
    return ix, done, int(fields(done)["Id"].lstrip("#"))


def _pieces_posted(ix) -> int:
    return sum(1 for d in ix.deliveries if has_midi(d))


async def test_every_command_works_for_servers_on_both_shards(standin: StandIn, shards, guilds, pg_url) -> None:
    assert standin.sync_count == 1  # only the process running shard 0 synced the commands

    # /compose in a server on each shard: received by that shard's process only, posted once
    composed = []
    for shard, guild in enumerate(guilds):
        ix, done, piece_id = await _compose(standin, guild, prompt=f"happy birthday from shard {shard}",
                                            voice="male", seed=shard + 1)
        assert {d.shard for d in standin.dispatched("INTERACTION_CREATE", guild=guild)} == {(shard, 2)}
        assert done.attachments and _pieces_posted(ix) == 1
        composed.append(piece_id)
    async with open_database(pg_url) as db:
        for shard, piece_id in enumerate(composed):
            record = await db.compositions.get(piece_id)
            assert record is not None and record.guild_id == guilds[shard].id
            assert record.engine == "model"  # composed by the trained model on a replica

    # /history on shard 1 lists the pieces made on both shards: one database
    listing = await (await standin.slash("history", user="alice", guild=guilds[1],
                                         channel=standin.channel("general", guild=guilds[1]))).ack()
    text = listing.embeds[0]["description"]
    assert all(f"#{piece_id}" in text for piece_id in composed)

    # /remix on shard 1 of the piece composed on shard 0 (its stored score is in the shared data dir)
    ix = await standin.slash("remix", piece=str(composed[0]), tempo=150, user="alice", guild=guilds[1],
                             channel=standin.channel("general", guild=guilds[1]))
    remixed = await ix.wait_for(has_midi, timeout=TIMEOUT_S)
    assert fields(remixed)["Tempo"].startswith("150") and _pieces_posted(ix) == 1

    # a member's custom theme, made on shard 0, used on shard 1
    created = await _line(await standin.slash(
        "theme create", user="bob", guild=guilds[0], channel=standin.channel("general", guild=guilds[0]),
        name="Neon Rain", base="retro", tempo_min=95, tempo_max=105, mode="minor",
        description="Synthwave in the rain: neon signs and a night drive.",
        examples="neon rain; a night drive under neon signs"))
    assert "Synthwave in the rain" in created and "**Shared** private" in created
    _, done, _ = await _compose(standin, guilds[1], user="bob", prompt="a short piece", theme="neon-rain", seed=3)
    info = fields(done)
    assert info["Theme"] == "neon-rain" and info["Key"].endswith("minor")

    # /jam now in each server: one post per server and Muse's own example piece under it
    for guild in guilds:
        jams = standin.channel("jams", guild=guild)
        line = await _line(await standin.slash("jam setup", user="owner", guild=guild,
                                               channel=standin.channel("general", guild=guild),
                                               option_values={"channel": jams, "time": "18:30",
                                                              "timezone": "Europe/Paris"}))
        assert "next prompt" in line
        assert "Posted" in await _line(await standin.slash("jam now", user="owner", guild=guild,
                                                           channel=standin.channel("general", guild=guild)))
        await standin.wait_for(lambda d: d.channel_id == jams.id and has_midi(d), timeout=TIMEOUT_S)
        posts = [d for d in standin.recorder.deliveries
                 if d.channel_id == jams.id and d.kind == "message" and "Today's jam" in (d.content or "")]
        assert len(posts) == 1

    # both processes report through /metrics what they did
    for proc in shards:
        text = await proc.metrics()
        delivered = re.search(r'^muse_jobs_total\{outcome="delivered"\} (\S+)$', text, re.M)
        assert delivered is not None and float(delivered.group(1)) >= 1
