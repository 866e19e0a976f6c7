"""The Discord stand-in, exercised by the real discord.py client.

A minimal bot written here (no mocks of discord.py) logs in, syncs, answers
slash commands, buttons, autocomplete, mentions and DMs against the stand-in,
while the tests inject the faults Discord produces in production.
"""

from __future__ import annotations

import asyncio
import io

import discord
import pytest
from discord import app_commands

from tests.discord_standin import InvalidOptions, StandIn, running

pytest_plugins = ['tests.discord_standin.fixtures']

MIDI = b'MThd\x00\x00\x00\x06' + bytes(range(200))
PNG = b'\x89PNG\r\n\x1a\n' + bytes(500)


class MiniBot(discord.Client):
    """Just enough bot to drive every stand-in feature the real bot relies on."""

    def __init__(self, *, sync: bool = True):
        super().__init__(intents=discord.Intents.default(), guild_ready_timeout=0.05,
                         allowed_mentions=discord.AllowedMentions.none())
        self.tree = app_commands.CommandTree(self)
        self.sync_on_start = sync
        self.gate: asyncio.Event | None = None  # a test holds /compose here before it delivers
        self.errors: list[BaseException] = []
        self._add_commands()

    async def setup_hook(self) -> None:
        if self.sync_on_start:
            await self.tree.sync()

    def _add_commands(self) -> None:
        @self.tree.command(description='Compose a piece')
        @app_commands.choices(voice=[app_commands.Choice(name=v, value=v) for v in ('piano', 'male')])
        async def compose(interaction: discord.Interaction, prompt: str, voice: str = 'piano',
                          tempo: app_commands.Range[int, 20, 300] = 120) -> None:
            await interaction.response.defer(thinking=True)
            if self.gate is not None:
                await asyncio.wait_for(self.gate.wait(), 10)
            files = [discord.File(io.BytesIO(MIDI), 'piece.mid'), discord.File(io.BytesIO(PNG), 'roll.png')]
            text = f'{prompt} ({voice}, {tempo} bpm) @everyone'
            try:
                await interaction.edit_original_response(content=text, attachments=files)
            except discord.HTTPException as exc:
                if exc.code != 50027:
                    raise
                files = [discord.File(io.BytesIO(MIDI), 'piece.mid'), discord.File(io.BytesIO(PNG), 'roll.png')]
                await interaction.channel.send(
                    f'{interaction.user.mention} {text}', files=files,
                    allowed_mentions=discord.AllowedMentions(users=[interaction.user]))

        theme = app_commands.Group(name='theme', description='Themes')

        @theme.command(name='show', description='Show a theme')
        async def theme_show(interaction: discord.Interaction, name: str) -> None:
            await interaction.response.send_message(f'theme {name}', ephemeral=True)

        @theme_show.autocomplete('name')
        async def theme_names(interaction: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
            names = ['birthday', 'blues', 'chill', 'epic']
            return [app_commands.Choice(name=n, value=n) for n in names if n.startswith(current)]

        self.tree.add_command(theme)

        @self.tree.command(description='A button')
        async def knock(interaction: discord.Interaction) -> None:
            view = discord.ui.View(timeout=30)
            button = discord.ui.Button(label='Again', custom_id='again')

            async def again(click: discord.Interaction) -> None:
                await click.response.send_message(f'again for {click.user.name}')

            button.callback = again
            view.add_item(button)
            await interaction.response.send_message('knock knock', view=view)

        @self.tree.command(description='Open a form')
        async def ask(interaction: discord.Interaction) -> None:
            form = discord.ui.Modal(title='Your request', custom_id='ask-form')
            words = discord.ui.TextInput(label='Words', custom_id='words', max_length=20)
            mood = discord.ui.TextInput(label='Mood', custom_id='mood', required=False, default='calm')
            form.add_item(words)
            form.add_item(mood)

            async def submitted(answer: discord.Interaction) -> None:
                await answer.response.send_message(f'{words.value} / {mood.value}', ephemeral=True)

            form.on_submit = submitted
            await interaction.response.send_modal(form)

        @self.tree.command(description='Upload something big')
        async def big(interaction: discord.Interaction, size: int) -> None:
            await interaction.response.defer()
            try:
                await interaction.edit_original_response(
                    attachments=[discord.File(io.BytesIO(bytes(size)), 'big.wav')])
            except discord.HTTPException as exc:
                await interaction.edit_original_response(content=f'too big: {exc.status}')

        @self.tree.command(description='Steps of a long job')
        async def steps(interaction: discord.Interaction) -> None:
            await interaction.response.defer()
            first = await interaction.followup.send('one', wait=True)
            second = await interaction.followup.send('two', ephemeral=True, wait=True)
            await second.edit(content='two, edited')
            await interaction.followup.send(f'ids {first.id} {second.id}')

        @self.tree.command(description='Read an attachment')
        async def measure(interaction: discord.Interaction, file: discord.Attachment) -> None:
            data = await file.read()
            await interaction.response.send_message(f'{file.filename}: {len(data)} bytes, expired={interaction.is_expired()}')

        @self.tree.command(description='Who am I')
        async def whoami(interaction: discord.Interaction) -> None:
            admin = interaction.permissions.administrator
            await interaction.response.send_message(f'{interaction.user.name} admin={admin}', ephemeral=True)

    async def on_message(self, message: discord.Message) -> None:
        if message.author == self.user:
            return
        if self.user in message.mentions or message.guild is None:
            await message.reply(f'heard: {message.content}', mention_author=True)


@pytest.fixture
async def bot(standin: StandIn, standin_env) -> MiniBot:
    client = MiniBot()
    async with running(client, standin.token):
        yield client


# --- login, ready, sync -------------------------------------------------------

async def test_login_ready_and_sync(standin: StandIn, bot: MiniBot) -> None:
    assert bot.user.id == standin.world.bot.id
    assert bot.application_id == standin.world.application_id
    assert [g.name for g in bot.guilds] == ['Muse Test']
    assert sorted(await standin.wait_synced()) == ['ask', 'big', 'compose', 'knock', 'measure', 'steps', 'theme', 'whoami']
    assert standin.recorder.unhandled == []


async def test_a_bot_that_does_not_sync_can_use_registered_commands(standin: StandIn, standin_env) -> None:
    client = MiniBot(sync=False)
    standin.register_tree(client.tree)
    async with running(client, standin.token):
        ix = await standin.slash('compose', prompt='quiet')
        await ix.with_files('piece.mid')
    assert standin.world.command_syncs == []


async def test_guild_sync_shadows_global_commands(standin: StandIn, bot: MiniBot) -> None:
    guild = discord.Object(standin.guild.id)
    bot.tree.copy_global_to(guild=guild)
    await bot.tree.sync(guild=guild)
    assert 'compose' in await standin.wait_synced(guild)
    ix = await standin.slash('knock')
    assert ix.payload['data']['guild_id'] == str(standin.guild.id)
    await ix.ack()


async def test_sync_is_refused_like_discord_when_a_command_is_invalid(standin: StandIn, standin_env) -> None:
    client = MiniBot(sync=False)

    @client.tree.command(name='many', description='too many choices')
    @app_commands.choices(x=[app_commands.Choice(name=str(i), value=i) for i in range(26)])
    async def many(interaction: discord.Interaction, x: int) -> None: ...

    async with running(client, standin.token):
        with pytest.raises(app_commands.CommandSyncFailure):
            await client.tree.sync()


# --- slash commands -------------------------------------------------------------

async def test_deferred_slash_command_answered_with_two_attachments(standin: StandIn, bot: MiniBot) -> None:
    ix = await standin.slash('compose', prompt='happy birthday', voice='male', tempo=90, user='owner')
    ack = await ix.ack()
    assert ack.callback_type == 5 and ix.acked_after_s < 3
    done = await ix.with_files('piece.mid', 'roll.png')
    assert done.kind == 'edit_original'
    assert done.attachments == {'piece.mid': MIDI, 'roll.png': PNG}
    assert done.content == 'happy birthday (male, 90 bpm) @everyone'
    assert done.allowed_mentions == {'parse': []}
    assert done.pings['everyone'] is False
    assert ix.original.files == {'piece.mid': MIDI, 'roll.png': PNG}
    assert ix.original.attachments[0].content_type == 'audio/midi'


async def test_validation_matches_the_discord_client(standin: StandIn, bot: MiniBot) -> None:
    with pytest.raises(InvalidOptions):
        await standin.slash('compose', prompt='x', tempo=0)
    with pytest.raises(InvalidOptions):
        await standin.slash('compose', prompt='x', voice='kazoo')
    ix = await standin.slash('compose', prompt='x', tempo=0, validate=False)
    await ix.ack()  # discord.py's transformer rejects it; the stand-in just delivered it


async def test_subcommand_autocomplete_and_ephemeral_reply(standin: StandIn, bot: MiniBot) -> None:
    typing = await standin.autocomplete('theme show', 'name', 'b')
    assert [c['value'] for c in await typing.choices()] == ['birthday', 'blues']
    ix = await standin.slash('theme show', name='blues')
    reply = await ix.ack()
    assert reply.content == 'theme blues' and reply.ephemeral


async def test_button_click_and_dm_command(standin: StandIn, bot: MiniBot) -> None:
    ix = await standin.slash('knock', dm=True, user='bob')
    await ix.ack()
    assert ix.original.buttons()[0]['label'] == 'Again'
    click = await standin.click(ix.original, 'Again', user='bob')
    answer = await click.ack()
    assert answer.content == 'again for bob'


async def test_a_form_opens_is_checked_like_the_client_and_its_answer_arrives(standin: StandIn, bot: MiniBot) -> None:
    ix = await standin.slash('ask')
    form = await ix.modal()
    assert form['title'] == 'Your request' and form['custom_id'] == 'ask-form'
    with pytest.raises(InvalidOptions, match='required'):
        await standin.submit(ix, {'mood': 'wild'})  # the client does not send without the required field
    with pytest.raises(InvalidOptions, match='length'):
        await standin.submit(ix, {'words': 'x' * 21})
    answer = await (await standin.submit(ix, {'words': 'rain on tin'})).ack()
    assert answer.content == 'rain on tin / calm' and answer.ephemeral  # the untouched field keeps its default


def test_a_modal_discord_would_refuse_is_refused() -> None:
    from tests.discord_standin.hub import RequestError
    from tests.discord_standin.modals import check_modal

    field = {'type': 4, 'custom_id': 'a', 'label': 'A', 'style': 1}
    good = {'custom_id': 'f', 'title': 'Form', 'components': [{'type': 1, 'components': [field]}]}
    check_modal(good, answering_type=3)
    for bad, answering in [({**good, 'title': 'x' * 46}, 3), ({**good, 'components': []}, 3),
                           ({**good, 'components': [{'type': 1, 'components': [field]}] * 2}, 3),
                           ({**good, 'components': [{'type': 1, 'components': [{**field, 'style': 3}]}]}, 3),
                           (good, 4), (good, 5)]:
        with pytest.raises(RequestError, match='Invalid Form Body'):
            check_modal(bad, answering_type=answering)


async def test_admin_and_member_permissions(standin: StandIn, bot: MiniBot) -> None:
    carol = standin.add_user('carol', admin=True)
    answers = [await (await standin.slash('whoami', user=u)).ack() for u in ('owner', 'alice', carol)]
    assert [a.content for a in answers] == ['owner admin=True', 'alice admin=False', 'carol admin=True']


async def test_upload_over_the_interaction_limit_is_refused_with_413(standin: StandIn, bot: MiniBot) -> None:
    ix = await standin.slash('big', size=2048, attachment_size_limit=1024)
    answer = await ix.wait_for(lambda d: d.content.startswith('too big'))
    assert answer.content == 'too big: 413'
    assert [(r.route, r.status, r.code) for r in standin.recorder.rejections] == [('edit_original', 413, 40005)]


async def test_followups_after_a_defer(standin: StandIn, bot: MiniBot) -> None:
    ix = await standin.slash('steps')
    last = await ix.wait_for(lambda d: d.content.startswith('ids'), kind='followup')
    first_id, second_id = map(int, last.content.split()[1:])
    assert first_id == ix.original.id and ix.original.content == 'one'  # the first followup replaced "thinking…"
    second = standin.world.messages[second_id]
    assert second.ephemeral and second.content == 'two, edited'
    assert [d.kind for d in ix.deliveries] == ['callback', 'followup', 'followup', 'edit_followup', 'followup']


async def test_attachment_option_is_downloadable_and_age_drives_is_expired(standin: StandIn, bot: MiniBot) -> None:
    upload = standin.upload('tune.mid', MIDI)
    ix = await standin.slash('measure', file=upload, age_s=16 * 60)
    assert (await ix.ack()).content == f'tune.mid: {len(MIDI)} bytes, expired=True'


# --- mentions and DMs -----------------------------------------------------------

async def test_mention_and_dm_are_answered(standin: StandIn, bot: MiniBot) -> None:
    asked = await standin.mention('a slow sad song', user='alice')
    reply = await standin.wait_for_message(channel='general')
    assert reply.content == f'heard: <@{standin.world.bot.id}> a slow sad song'
    assert int(reply.message.message_reference['message_id']) == asked.id
    assert reply.pings['users'] == [standin.user('alice').id]  # mention_author=True pings only the asker

    await standin.dm('hello there', user='bob')
    dm_reply = await standin.wait_for_message(dm_with='bob')
    assert dm_reply.content == 'heard: hello there'


async def test_plain_guild_messages_carry_no_content_without_the_intent(standin: StandIn, bot: MiniBot) -> None:
    await standin.say('not for the bot')
    await standin.mention('for the bot')
    await standin.wait_for_message()
    plain, mention = bot.cached_messages[:2]
    assert (plain.content, mention.content) == ('', f'<@{standin.world.bot.id}> for the bot')


# --- faults ---------------------------------------------------------------------

async def test_a_429_on_the_first_edit_still_ends_in_delivery(standin: StandIn, bot: MiniBot) -> None:
    fault = standin.fail('edit_original', 429, retry_after=0.1)
    ix = await standin.slash('compose', prompt='rate limited')
    done = await ix.with_files('piece.mid', 'roll.png')
    assert fault.hits == 1
    assert done.attachments['piece.mid'] == MIDI
    assert [(r.route, r.status) for r in standin.recorder.rejections] == [('edit_original', 429)]


async def test_a_502_is_retried(standin: StandIn, bot: MiniBot) -> None:
    fault = standin.fail('edit_original', 502)
    ix = await standin.slash('compose', prompt='bad gateway')
    await ix.with_files('piece.mid', timeout=10)
    assert fault.hits == 1


async def test_gateway_drop_then_resume_then_commands_still_answered(standin: StandIn, bot: MiniBot) -> None:
    first = await standin.slash('compose', prompt='before')
    await first.with_files('piece.mid')
    session = standin.gateway.current

    await standin.drop_gateway(4000)
    queued = await standin.slash('compose', prompt='while away')  # sent while disconnected, replayed on RESUME
    await standin.wait_resumed()
    assert standin.gateway.current is session and session.identifies == 1

    second = await standin.slash('compose', prompt='after')
    assert (await queued.with_files('piece.mid')).content.startswith('while away')
    assert (await second.with_files('piece.mid')).content.startswith('after')


async def test_expired_token_falls_back_to_a_channel_message(standin: StandIn, bot: MiniBot) -> None:
    bot.gate = asyncio.Event()
    ix = await standin.slash('compose', prompt='too late', user='alice')
    await ix.ack()
    ix.expire()
    bot.gate.set()
    fallback = await standin.wait_for_message(channel='general')
    assert fallback.attachments == {'piece.mid': MIDI, 'roll.png': PNG}
    assert fallback.pings == {'users': [standin.user('alice').id], 'roles': [], 'everyone': False,
                              'user_objects': [standin.user('alice')]}
    assert [(r.route, r.status, r.code) for r in standin.recorder.rejections] == [('edit_original', 401, 50027)]


async def test_a_second_acknowledgement_is_refused(standin: StandIn, bot: MiniBot) -> None:
    ix = await standin.slash('knock')
    await ix.ack()
    async with discord.http.aiohttp.ClientSession() as session:  # what a buggy bot would do
        url = f'{standin.api_base}/interactions/{ix.id}/{ix.token}/callback'
        async with session.post(url, json={'type': 5}) as resp:
            assert resp.status == 400 and (await resp.json())['code'] == 40060
