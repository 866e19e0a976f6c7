"""/remix of tempo, pitch or key keeps exactly the delivered notes: it starts from the piece's stored
score (history file kind "score", never posted), even when the piece was composed in a batch with
other members' requests; a piece without a usable score is composed again with its seed."""

from __future__ import annotations

import io
import logging
from dataclasses import replace

import mido
import pytest

from bot.config import BotConfig
from composer.melody import get_engine
from composer.pipeline import Composer
from composer.request import CompositionRequest
from composer.formats.score_json import score_from_json
from composer.music.theory import Key
from tests.bot.conftest import fields, has_midi, muse, piece_files, start_worker
from tests.composer.test_remix import BatchNudged
from tests.discord_standin import StandIn

pytestmark = pytest.mark.slow

Notes = list[tuple[int, int, int, int, int]]


def _midi_notes(midi: bytes) -> tuple[Notes, int]:
    """(start tick, length in ticks, channel, pitch, velocity) of every note, and the tempo in BPM."""
    song = mido.MidiFile(file=io.BytesIO(midi))
    notes, tempo = [], None
    for track in song.tracks:
        tick, sounding = 0, {}
        for msg in track:
            tick += msg.time
            if msg.type == "set_tempo":
                tempo = round(mido.tempo2bpm(msg.tempo))
            elif msg.type == "note_on" and msg.velocity > 0:
                sounding[(msg.channel, msg.note)] = (tick, msg.velocity)
            elif msg.type in ("note_off", "note_on") and (msg.channel, msg.note) in sounding:
                start, velocity = sounding.pop((msg.channel, msg.note))
                notes.append((start, tick - start, msg.channel, msg.note, velocity))
    return sorted(notes), tempo


def _shifted(notes: Notes, semitones: int) -> Notes:
    return sorted((s, d, c, p + (0 if c == 9 else semitones), v) for s, d, c, p, v in notes)


def _piece_id(delivery) -> int:
    return int(fields(delivery)["Id"].lstrip("#"))


class CountingCompose:
    """Counts how many requests the composer is asked to compose."""

    def __init__(self, composer: Composer):
        self.inner = composer.compose_scores
        self.requests = 0

    def __call__(self, requests, *args, **kwargs):
        self.requests += len(requests)
        return self.inner(requests, *args, **kwargs)


async def test_remix_of_a_piece_composed_in_a_batch_of_three_keeps_its_notes(
        standin: StandIn, bot_config: BotConfig, composer, monkeypatch) -> None:
    async with muse(standin, replace(bot_config, engine="model"), composer, start_worker=False) as bot:
        asked = [await standin.slash("compose", prompt=prompt, voice="piano", length=6, seed=seed, user=user)
                 for prompt, seed, user in [("a happy tune", 11, "alice"), ("a calm evening by the sea", 12, "bob"),
                                            ("a stormy night", 13, "owner")]]
        await standin.wait_until(lambda: bot.queue.describe()["waiting"] == 3)
        start_worker(bot)
        delivered = [await ix.wait_for(has_midi, timeout=60) for ix in asked]
        await bot.queue.wait_idle(10)
        assert bot.queue.stats.batches == [3]  # one pass of the model for all three
        middle = delivered[1]
        parent_id = _piece_id(middle)
        parent = await bot.db.compositions.get(parent_id)
        assert parent.engine == "model" and parent.file("score") is not None
        assert not any(name.endswith(".json") for name in middle.attachments)  # kept, not attached
        stored = score_from_json(bot.queue.worker.artifacts.resolve(parent.file("score").path).read_bytes())
        assert stored.tempo == parent.request["tempo"] and stored.key_name == parent.request["sounding_key"]
        before, before_tempo = _midi_notes(piece_files(middle)["mid"])

        counting = CountingCompose(composer)
        monkeypatch.setattr(composer, "compose_scores", counting)
        new_tempo = 150 if before_tempo != 150 else 90
        ix = await standin.slash("remix", piece=str(parent_id), tempo=new_tempo, pitch=3, user="bob")
        remix = await ix.wait_for(has_midi, timeout=60)
        after, after_tempo = _midi_notes(piece_files(remix)["mid"])
        assert after_tempo == new_tempo and len(after) > 20
        assert after == _shifted(before, 3)  # the same notes, the same quarters, three semitones up
        assert counting.requests == 0  # nothing was composed again
        info = fields(remix)
        assert info["Tempo"] == f"{new_tempo} BPM" and info["Pitch"] == "+3 semitones"
        assert info["Key"] == Key.parse(parent.request["sounding_key"]).transposed(3).name
        record = await bot.db.compositions.get(_piece_id(remix))
        assert record.parent_id == parent_id and record.engine == "model" and record.file("score") is not None

        # a remix of the remix, to a key of the same mode, keeps those notes too; the new key is the
        # key the member hears, so the remix's own transposition (+3) gives way to it
        key = Key.parse(parent.request["key"]).transposed(-2)
        ix = await standin.slash("remix", piece=str(record.id), key=key.name, user="bob")
        again_done = await ix.wait_for(has_midi, timeout=60)
        again, again_tempo = _midi_notes(piece_files(again_done)["mid"])
        assert again_tempo == new_tempo and again == _shifted(before, -2)
        assert fields(again_done)["Key"] == key.name
        assert counting.requests == 0


async def test_remix_keeps_the_delivered_notes_where_composing_again_would_not(
        standin: StandIn, bot_config: BotConfig, catalog) -> None:
    composer = Composer(catalog, engines={"rules": BatchNudged(get_engine("rules"))})
    async with muse(standin, bot_config, composer, start_worker=False) as bot:
        asked = [await standin.slash("compose", prompt=f"tune {i}", voice="piano", length=6, seed=i, user=user)
                 for i, user in enumerate(["alice", "bob", "owner"])]
        await standin.wait_until(lambda: bot.queue.describe()["waiting"] == 3)
        start_worker(bot)
        delivered = [await ix.wait_for(has_midi, timeout=30) for ix in asked]
        parent = await bot.db.compositions.get(_piece_id(delivered[1]))
        (alone,) = composer.compose_scores([CompositionRequest.from_manifest(parent.request)])
        before, _ = _midi_notes(piece_files(delivered[1])["mid"])
        assert _midi_notes(alone.midi)[0] != before  # what today's recompose-and-retime would have sent

        ix = await standin.slash("remix", piece=str(parent.id), tempo=77, user="bob")
        after, tempo = _midi_notes(piece_files(await ix.wait_for(has_midi, timeout=30))["mid"])
        assert (after, tempo) == (before, 77)


async def test_history_keeps_the_score_but_does_not_post_it(standin: StandIn, bot) -> None:
    ix = await standin.slash("compose", prompt="a happy tune", length=6, user="alice", format="midi")
    done = await ix.wait_for(has_midi, timeout=30)
    record = await bot.db.compositions.get(_piece_id(done))
    assert sorted(f.kind for f in record.files) == ["image", "midi", "score", "text"]
    assert record.file("score").path.endswith(".json")
    assert sorted(piece_files(done)) == ["mid", "png"]

    listing = await standin.slash("history", user="alice")
    await listing.ack()
    post = await standin.click(listing.original, f"Post #{record.id}", user="alice")
    posted = await post.wait_for(has_midi, timeout=15)
    assert sorted(piece_files(posted)) == ["mid", "png"]


async def test_a_piece_without_a_usable_score_is_composed_again(standin: StandIn, bot, caplog) -> None:
    caplog.set_level(logging.INFO, logger="bot.worker")
    pieces = []
    for seed in (21, 22):
        ix = await standin.slash("compose", prompt="a happy tune", voice="piano", length=6, seed=seed, user="alice")
        done = await ix.wait_for(has_midi, timeout=30)
        pieces.append((_piece_id(done), _midi_notes(piece_files(done)["mid"])[0]))
    (old_id, old_notes), (damaged_id, damaged_notes) = pieces
    async with bot.db.write() as conn:  # as stored before pieces kept their score
        await conn.execute("DELETE FROM composition_files WHERE composition_id = ? AND kind = 'score'", (old_id,))
    damaged = await bot.db.compositions.get(damaged_id)
    path = bot.queue.worker.artifacts.resolve(damaged.file("score").path)
    path.write_bytes(b'{"version": 99}')

    for piece_id, notes in pieces:
        ix = await standin.slash("remix", piece=str(piece_id), tempo=90, pitch=-2, user="alice")
        after, tempo = _midi_notes(piece_files(await ix.wait_for(has_midi, timeout=30))["mid"])
        assert tempo == 90 and after == _shifted(notes, -2)  # the rules engine writes the same notes again
    logged = [r.getMessage() for r in caplog.records if r.name in ("bot.worker", "composer.remix")]
    assert any(f"piece #{old_id}: no stored score" in line for line in logged)
    assert any("stored score unusable (stored score is format version 99" in line for line in logged)


def test_composing_again_and_retiming_keeps_the_singer(composer, make_request) -> None:
    """The fallback for pieces without a score: a sung piece is still sung at its new tempo."""
    from composer.remix import retime

    (piece,) = composer.compose_scores([make_request("a happy tune", voice="female", length=8, lyrics="la la land")])
    slower = retime(piece, 70)
    assert slower.sung is piece.sung and slower.score.lyrics == piece.score.lyrics
    assert "at 70 BPM" in slower.description and 'Sung words: "la la land"' in slower.description
