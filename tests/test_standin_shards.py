"""The stand-in routes by Gateway shard as Discord does, checked with the real discord.py client.

Each shard connection gets a READY listing only its guilds, a guild's events go to the
connection of shard `(guild_id >> 22) % count`, DMs to shard 0, and IDENTIFY with a shard
Discord would refuse closes the socket with the real code (4010 invalid shard, 4011 sharding
required), which discord.py raises as `ConnectionClosed`.
"""

from __future__ import annotations

import asyncio

import discord
import pytest
from discord import app_commands

from tests.discord_standin import StandIn, pointed_at, running, shard_of
from tests.discord_standin.sessions import parse_shard
from tests.discord_standin.snowflake import snowflake


class ShardBot(discord.AutoShardedClient):
    """Answers /where with its own name, so a test sees which process got the interaction."""

    def __init__(self, name: str, *, shard_ids: list[int] | None = None, shard_count: int | None = None,
                 sync: bool = False):
        super().__init__(intents=discord.Intents.default(), guild_ready_timeout=0.05, shard_ids=shard_ids,
                         shard_count=shard_count, allowed_mentions=discord.AllowedMentions.none())
        self.name, self.sync_on_start = name, sync
        self.tree = app_commands.CommandTree(self)
        self.heard: list[tuple[str, int | None]] = []  # (what, guild id) this client received

        @self.tree.command(description='Which bot answers')
        async def where(interaction: discord.Interaction) -> None:
            self.heard.append(('where', interaction.guild_id))
            await interaction.response.send_message(f'{self.name} on shard {interaction.guild.shard_id if interaction.guild else 0}')

    async def setup_hook(self) -> None:
        if self.sync_on_start:
            await self.tree.sync()

    async def before_identify_hook(self, shard_id: int | None, *, initial: bool = False) -> None:
        """Discord spaces identifies 5 s apart; the stand-in does not need it."""

    async def on_message(self, message: discord.Message) -> None:
        self.heard.append(('message', message.guild.id if message.guild else None))


async def eventually(check, timeout: float = 5.0) -> None:
    """Poll a bot-side condition (the stand-in's own waits wake on what it records, not on the bot)."""
    async with asyncio.timeout(timeout):
        while not check():
            await asyncio.sleep(0.01)


# --- units: ids and parsing ------------------------------------------------------

@pytest.mark.parametrize('count', [1, 2, 3, 16])
def test_a_snowflake_minted_for_a_shard_routes_there(count: int) -> None:
    for shard_id in range(count):
        assert shard_of(snowflake(shard=(shard_id, count)), count) == shard_id


def test_a_snowflake_outside_the_shards_is_refused() -> None:
    with pytest.raises(ValueError):
        snowflake(shard=(2, 2))


def test_identify_shard_parsing_follows_discord() -> None:
    assert parse_shard(None) == (0, 1)
    assert parse_shard([1, 4]) == (1, 4)
    for bad in ([4, 4], [-1, 2], [0, 0], [0], ['0', '1'], 'x'):
        assert parse_shard(bad) is None


async def test_guild_on_shard_lays_out_a_test_guild(standin: StandIn) -> None:
    guild = standin.guild_on_shard(1, 2)
    assert shard_of(guild.id, 2) == 1
    assert {c.name for c in guild.channels} == {'general', 'jams'}
    assert {m.user.name for m in guild.members.values()} == {'owner', 'alice', 'bob', 'Muse'}
    assert standin.channel('jams', guild=guild).guild_id == guild.id


# --- two processes, one shard each ------------------------------------------------

async def test_each_shard_gets_its_own_guilds_and_events(standin: StandIn, standin_env) -> None:
    on = {shard: standin.guild_on_shard(shard, 2) for shard in (0, 1)}
    default_shard = shard_of(standin.guild.id, 2)
    zero, one = ShardBot('zero', shard_ids=[0], shard_count=2, sync=True), ShardBot('one', shard_ids=[1], shard_count=2)
    async with running(zero, standin.token), running(one, standin.token):
        for shard, bot in ((0, zero), (1, one)):
            expected = {on[shard].id} | ({standin.guild.id} if default_shard == shard else set())
            assert {g.id for g in bot.guilds} == expected
            assert set(standin.session(shard).guild_ids) == expected
            assert len([d for d in standin.dispatched('READY') if d.shard == (shard, 2)]) == 1
            assert {d.guild_id for d in standin.dispatched('GUILD_CREATE') if d.shard == (shard, 2)} == expected
        assert standin.sync_count == 1

        for shard, bot in ((0, zero), (1, one)):
            ix = await standin.slash('where', channel='general', guild=on[shard])
            reply = await ix.ack()
            assert reply.payload['data']['content'] == f'{bot.name} on shard {shard}'
            assert [d.shard for d in standin.dispatched('INTERACTION_CREATE', guild=on[shard])] == [(shard, 2)]
        for shard, bot in ((0, zero), (1, one)):  # the replies echo back too, each on its guild's shard
            assert ('where', on[shard].id) in bot.heard and {g for _, g in bot.heard} == {on[shard].id}

        await standin.dm('hello', user='bob')
        await eventually(lambda: ('message', None) in zero.heard)
        assert [d.shard for d in standin.dispatched('MESSAGE_CREATE', dm=True)] == [(0, 2)]
        assert ('message', None) not in one.heard


async def test_the_bots_own_messages_echo_on_the_guilds_shard(standin: StandIn, standin_env) -> None:
    guild = standin.guild_on_shard(1, 2)
    zero, one = ShardBot('zero', shard_ids=[0], shard_count=2), ShardBot('one', shard_ids=[1], shard_count=2)
    async with running(zero, standin.token), running(one, standin.token):
        channel = standin.channel('general', guild=guild)
        await zero.http.send_message(channel.id, params=discord.http.handle_message_parameters(content='hi'))
        await eventually(lambda: ('message', guild.id) in one.heard)
        assert ('message', guild.id) not in zero.heard


async def test_a_slash_command_for_a_shard_nobody_runs_fails_loudly(standin: StandIn, standin_env) -> None:
    guild = standin.guild_on_shard(1, 2)
    zero = ShardBot('zero', shard_ids=[0], shard_count=2)
    async with running(zero, standin.token):
        standin.register_tree(zero.tree)
        with pytest.raises(RuntimeError, match='no bot runs the shard'):
            await standin.slash('where', guild=guild)


async def test_one_client_running_both_shards(standin: StandIn, standin_env) -> None:
    guilds = [standin.guild_on_shard(shard, 2) for shard in (0, 1)]
    both = ShardBot('both', shard_ids=[0, 1], shard_count=2)
    async with running(both, standin.token):
        assert {g.id for g in guilds} <= {g.id for g in both.guilds}
        assert set(both.shards) == {0, 1}
        standin.register_tree(both.tree)
        for shard, guild in enumerate(guilds):
            reply = await (await standin.slash('where', guild=guild)).ack()
            assert reply.payload['data']['content'] == f'both on shard {shard}'


async def test_gateway_bot_recommends_the_shard_count(standin_env) -> None:
    async with StandIn(shards=3) as server:
        with pointed_at(server.api_base, server.gateway_url):
            client = ShardBot('auto')  # no shard_count: discord.py asks GET /gateway/bot
            async with running(client, server.token):
                assert client.shard_count == 3 and set(client.shards) == {0, 1, 2}
                assert {s.shard for s in server.gateway.sessions.by_shard.values()} == {(0, 3), (1, 3), (2, 3)}


async def test_a_shard_resumes_on_its_own(standin: StandIn, standin_env) -> None:
    guild = standin.guild_on_shard(1, 2)
    zero, one = ShardBot('zero', shard_ids=[0], shard_count=2), ShardBot('one', shard_ids=[1], shard_count=2)
    async with running(zero, standin.token), running(one, standin.token):
        standin.register_tree(one.tree)
        session = standin.session(1)
        await standin.drop_gateway(4000, shard=1)
        queued = await standin.slash('where', guild=guild)  # queued while shard 1 is away, replayed on RESUME
        await standin.wait_resumed()
        assert standin.session(1) is session and session.resumes == 1
        assert standin.session(0).resumes == 0
        assert (await queued.ack()).payload['data']['content'] == 'one on shard 1'


# --- what Discord refuses ---------------------------------------------------------

async def test_a_shard_id_beyond_the_count_closes_with_4010(standin: StandIn, standin_env) -> None:
    client = discord.Client(intents=discord.Intents.default(), shard_id=2, shard_count=2)
    with pytest.raises(discord.ConnectionClosed) as raised:
        async with running(client, standin.token):
            pass
    assert raised.value.code == 4010


async def test_a_second_connection_on_a_live_shard_closes_with_4010(standin: StandIn, standin_env) -> None:
    first = ShardBot('first', shard_ids=[0], shard_count=2)
    async with running(first, standin.token):
        second = ShardBot('second', shard_ids=[0], shard_count=2)
        with pytest.raises(discord.ConnectionClosed) as raised:
            async with running(second, standin.token):
                pass
        assert raised.value.code == 4010
        assert standin.gateway.connected(0)  # the first keeps its shard


async def test_a_shard_over_the_guild_limit_closes_with_4011(standin_env) -> None:
    async with StandIn(max_guilds_per_shard=1) as server:
        server.world.add_test_guild('second guild')
        with pointed_at(server.api_base, server.gateway_url):
            client = discord.Client(intents=discord.Intents.default())
            with pytest.raises(discord.ConnectionClosed) as raised:
                async with running(client, server.token):
                    pass
            assert raised.value.code == 4011
