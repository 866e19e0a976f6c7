"""Melodies read straight from ABC tokens (`training.abc_melodies`), on small inline tunes."""

import pytest

from tests.composer.model.abc_text import TWO_TUNES
from training.abc_melodies import read_file


# One bar each, four equal notes of one pitch, so the playing order can be read off the pitches.
BAR = {"a": "C2C2C2C2", "b": "D2D2D2D2", "c": "E2E2E2E2", "d": "F2F2F2F2", "e": "G2G2G2G2"}
NAME = {60: "a", 62: "b", 64: "c", 65: "d", 67: "e"}


def read(body: str, meter: str = "4/4", length: str = "1/8", key: str = "C"):
    """(tune, why skipped) of a one-tune file with this body."""
    (_, tune, why), = read_file(f"X:1\nT:t\nM:{meter}\nL:{length}\nK:{key}\n{body}\n")
    return tune, why


def played(body: str) -> str:
    """The bars of `body` (`<a>` … `<e>`) in the order the tune is played."""
    for name, bar in BAR.items():
        body = body.replace(f"<{name}>", bar)
    tune, why = read(body)
    assert tune is not None, why
    assert [on for on, _, _ in tune.notes] == [float(i) for i in range(len(tune.notes))]  # no gaps, no overlaps
    return "".join(NAME[p] for _, _, p in tune.notes[::4])


def test_one_file_gives_every_tune_with_its_own_header():
    tunes = list(read_file(TWO_TUNES))
    assert [(number, why) for number, _, why in tunes] == [("1", ""), ("2", "")]
    first, second = tunes[0][1], tunes[1][1]
    assert (first.title, first.meter, first.bar_quarters) == ("Test Air", "3/4", 3.0)
    assert (second.title, second.meter, second.bar_quarters) == ("Minor Tune", "4/4", 4.0)
    assert str(first.signature) != str(second.signature)
    assert second.notes[0] == (0.0, 1.0, 69)  # no pickup: A on the first downbeat


def test_pickup_sits_at_the_end_of_bar_zero():
    tune = list(read_file(TWO_TUNES))[0][1]
    assert tune.notes[0] == (2.0, 1.0, 62)  # the pickup D on beat 3 of bar 0
    assert tune.notes[1] == (3.0, 1.0, 67)  # G on the downbeat of bar 1
    assert tune.notes[-1] == (24.0, 2.0, 67)  # the last bar, short by the pickup, starts on a bar line


def test_repeats_are_written_out():
    assert played("|: <a> :| <b> <b> |]") == "aabb"
    assert played("<a> | <b> :| <c> |]") == "ababc"  # an end repeat with no start goes back to the top
    assert played("|: <a> | <b> :|: <c> | <d> :|") == "ababcdcd"


def test_first_and_second_endings():
    assert played("|: <a> | <b> |1 <c> :|2 <d> |]") == "abcabd"
    assert played("|: <a> | <b> |[1 <c> :|[2 <d> |]") == "abcabd"
    assert played("|: <a> |1 <b> | <c> :|2 <d> | <e> |]") == "abcade"  # a first ending two bars long


def test_tied_notes_become_one_longer_note():
    tune, _ = read("C2 D2 E2 F2- | F2 A2 B2 c2 | d8 |]")
    assert (3.0, 2.0, 65) in tune.notes
    assert [on for on, _, _ in tune.notes] == [0.0, 1.0, 2.0, 3.0, 5.0, 6.0, 7.0, 8.0]


def test_grace_notes_are_skipped():
    tune, _ = read("C2 {^f}D2 E2 F2 | G2 A2 B2 c2 | d8 |]")
    assert 78 not in [p for _, _, p in tune.notes] and 66 not in [p for _, _, p in tune.notes]
    assert tune.notes[1] == (1.0, 1.0, 62)  # the grace note takes no time


def test_triplets_take_two_thirds_of_their_written_length():
    tune, _ = read("(3ABc F2 G2 A2 | G2 A2 B2 c2 | d8 |]")
    assert [(on, d) for on, d, _ in tune.notes[:4]] == [(0.0, 0.3333), (0.3333, 0.3333), (0.6667, 0.3333),
                                                        (1.0, 1.0)]
    assert tune.notes[6][0] == 4.0  # bar 2 still starts on its bar line


def test_one_wrong_bar_is_forgiven_several_skip_the_tune():
    one = "C2 D2 E2 F2 | G2 A2 B2 | c2 d2 e2 f2 | g2 f2 e2 d2 | c8 |]"
    tune, why = read(one)
    assert why == "" and tune.notes[7][0] == 8.0  # after the short bar, the next starts on the grid again
    several = "C2 D2 E2 F2 | G2 A2 B2 | c2 d2 e2 f2 | g2 f2 e2 | d2 c2 B2 A2 | G8 |]"
    assert read(several) == (None, "irregular bars")


@pytest.mark.parametrize("body", ["C2 D2 E2 F2 | [M:3/4] G2 A2 B2 | c6 |]",
                                  "C2 D2 E2 F2 | G2 A2 B2 c2 |\nM:3/4\nd2 e2 f2 | g6 |]"])
def test_a_meter_change_skips_the_tune(body):
    assert read(body) == (None, "meter change")


def test_inline_fields_music21_does_not_apply_skip_the_tune():
    assert read("[V:1] C2 D2 E2 F2 | G2 A2 B2 c2 |\n[V:2] E2 F2 G2 A2 | B2 c2 d2 e2 |]") == (None, "several voices")
    assert read("C2 D2 E2 F2 | [K:D] G2 A2 B2 c2 | d8 |]") == (None, "inline key or length change")
    same_meter, why = read("C2 D2 E2 F2 | [M:4/4] G2 A2 B2 c2 | d8 |]")
    assert why == "" and len(same_meter.notes) == 9


def test_a_tune_agrees_with_music21s_own_parse():
    """Independent check: music21's full parse (Streams) of a tune with a pickup, a grace note, a
    triplet, a tie and a rest gives the same onsets, lengths and pitches."""
    from music21 import converter

    text = "X:1\nT:Check\nM:3/4\nL:1/8\nK:D\nA | d2 f2 {g}a2 | (3bag f2- f2 | e2 c2 A2 | d4 z2 |]\n"
    (_, tune, why), = read_file(text)
    assert why == ""
    part = converter.parse(text, format="abc").parts[0]
    shift = float(part.getElementsByClass("Measure")[0].paddingLeft)
    theirs = [(float(n.offset) + shift, float(n.quarterLength), n.pitch.midi)
              for n in part.stripTies().flatten().notes if n.quarterLength > 0]
    assert len(theirs) == len(tune.notes) == 12
    for (on, d, p), (their_on, their_d, their_p) in zip(tune.notes, theirs):
        assert (on, d, p) == (pytest.approx(their_on, abs=1e-3), pytest.approx(their_d, abs=1e-3), their_p)
    assert tune.notes[0][0] == 2.5 and (7.0, 2.0, 78) in tune.notes  # pickup and tie, not just agreement
