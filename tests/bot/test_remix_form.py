"""The Remix button opens a form; what a member fills in becomes a remix of that piece."""

from __future__ import annotations

from tests.bot.conftest import fields, has_midi, piece_files
from tests.bot.test_remix_history import _notes_and_tempo
from tests.discord_standin import StandIn


async def _piece(standin: StandIn):
    ix = await standin.slash("compose", prompt="a happy tune", voice="piano", tempo=100, seed=7, length=6, user="alice")
    done = await ix.wait_for(has_midi, timeout=30)
    return ix, done


async def test_the_remix_button_opens_a_form_showing_the_current_values(standin: StandIn, bot) -> None:
    ix, _ = await _piece(standin)
    click = await standin.click(ix.original, "Remix", user="bob")
    form = await click.modal()
    assert form["title"].startswith("Remix #")
    placeholders = {c["components"][0]["custom_id"]: c["components"][0]["placeholder"] for c in form["components"]}
    assert set(placeholders) == {"tempo", "key", "pitch", "voice", "theme"}
    assert "now 100" in placeholders["tempo"] and "now piano" in placeholders["voice"]


async def test_a_filled_in_form_remixes_the_piece_with_the_same_notes(standin: StandIn, bot) -> None:
    ix, done = await _piece(standin)
    before_notes, _ = _notes_and_tempo(piece_files(done)["mid"])
    click = await standin.click(ix.original, "Remix", user="bob")  # anyone who heard it may remix it
    submitted = await standin.submit(click, {"tempo": "140"})
    remixed = await submitted.wait_for(has_midi, timeout=30)
    after_notes, after_tempo = _notes_and_tempo(piece_files(remixed)["mid"])
    assert after_tempo == 140 and after_notes == before_notes
    record = await bot.db.compositions.get(int(fields(remixed)["Id"].lstrip("#")))
    assert record.parent_id == int(fields(done)["Id"].lstrip("#")) and record.owner_id == standin.user("bob").id


async def test_bad_or_empty_form_answers_privately_and_the_bot_keeps_serving(standin: StandIn, bot) -> None:
    ix, _ = await _piece(standin)
    cases = [({}, "say what to change"), ({"tempo": "fast"}, "whole number"), ({"tempo": "900"}, "tempo"),
             ({"voice": "kazoo"}, "voice"), ({"key": "H major"}, "key")]
    for values, expected in cases:
        click = await standin.click(ix.original, "Remix", user="alice")
        answer = await (await standin.submit(click, values)).ack()
        assert answer.ephemeral and expected in answer.content.lower(), (values, answer.content)
        assert "\n" not in answer.content
    again = await standin.slash("compose", prompt="still here?", length=6, user="bob")
    assert fields(await again.wait_for(has_midi, timeout=30))["Id"]
