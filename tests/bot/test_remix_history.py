"""/remix keeps the notes when only the tempo changes; /history lists and posts pieces again."""

from __future__ import annotations

import io

import mido
import pytest

from tests.bot.conftest import fields, has_midi, piece_files
from tests.discord_standin import StandIn

pytestmark = pytest.mark.slow


def _notes_and_tempo(midi: bytes) -> tuple[list[tuple[int, int, int]], int]:
    """(tick, channel, pitch) of every note-on, and the tempo in BPM."""
    song = mido.MidiFile(file=io.BytesIO(midi))
    notes, tempo = [], None
    for track in song.tracks:
        tick = 0
        for msg in track:
            tick += msg.time
            if msg.type == "note_on" and msg.velocity > 0:
                notes.append((tick, msg.channel, msg.note))
            if msg.type == "set_tempo":
                tempo = round(mido.tempo2bpm(msg.tempo))
    return sorted(notes), tempo


async def _compose(standin: StandIn, **options) -> tuple[int, dict[str, bytes]]:
    ix = await standin.slash("compose", length=6, user="alice", **options)
    done = await ix.wait_for(has_midi, timeout=30)
    return int(fields(done)["Id"].lstrip("#")), piece_files(done)


async def test_remix_tempo_changes_the_midi_tempo_and_keeps_the_notes(standin: StandIn, bot) -> None:
    piece_id, files = await _compose(standin, prompt="a happy tune", voice="piano", tempo=100, seed=5)
    choices = await (await standin.autocomplete("remix", "piece", "", user="alice")).choices()
    assert choices[0]["value"] == str(piece_id)

    ix = await standin.slash("remix", piece=str(piece_id), tempo=140, user="alice")
    done = await ix.wait_for(has_midi, timeout=30)
    before_notes, before_tempo = _notes_and_tempo(files["mid"])
    after_notes, after_tempo = _notes_and_tempo(piece_files(done)["mid"])
    assert (before_tempo, after_tempo) == (100, 140)
    assert after_notes == before_notes and len(after_notes) > 20
    info = fields(done)
    assert info["Tempo"] == "140 BPM" and int(info["Id"].lstrip("#")) != piece_id
    record = await bot.db.compositions.get(int(info["Id"].lstrip("#")))
    assert record.parent_id == piece_id

    # pitch keeps the rhythm and moves every pitched note by the same interval
    ix = await standin.slash("remix", piece=str(piece_id), pitch=2, user="alice")
    shifted, _ = _notes_and_tempo(piece_files(await ix.wait_for(has_midi, timeout=30))["mid"])
    assert [(t, c, n + (0 if c == 9 else 2)) for t, c, n in before_notes] == shifted


async def test_remix_of_someone_elses_piece_or_nothing_to_change_is_refused(standin: StandIn, bot) -> None:
    piece_id, _ = await _compose(standin, prompt="a calm tune")
    ix = await standin.slash("remix", piece=str(piece_id), tempo=90, user="bob")
    answer = await ix.ack()
    assert answer.ephemeral and "no piece" in answer.content
    ix = await standin.slash("remix", piece=str(piece_id), user="alice")
    assert "say what to change" in (await ix.ack()).content


async def test_history_lists_pages_and_reposts(standin: StandIn, bot) -> None:
    ids = [(await _compose(standin, prompt=f"tune number {i}", seed=i))[0] for i in range(6)]
    ix = await standin.slash("history", user="alice")
    listing = await ix.ack()
    assert listing.ephemeral
    text = listing.embeds[0]["description"]
    assert all(f"#{i}" in text for i in ids[1:]) and f"#{ids[0]}" not in text  # newest five first
    labels = [b["label"] for b in ix.original.buttons()]
    assert labels[:5] == [f"Post #{i}" for i in reversed(ids[1:])] and labels[5:] == ["Newer", "Older"]

    older = await standin.click(ix.original, "Older", user="alice")
    page2 = await older.ack()
    assert f"#{ids[0]}" in page2.embeds[0]["description"]

    post = await standin.click(ix.original, f"Post #{ids[0]}", user="alice")
    posted = await post.wait_for(has_midi, timeout=15)
    assert not posted.ephemeral
    assert fields(posted)["Id"] == f"#{ids[0]}"
    assert sorted(piece_files(posted)) == ["mid", "mp3", "png"]
