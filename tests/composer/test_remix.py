"""A remix from the stored score keeps exactly the notes, names key and chords as the arranger does,
and does not depend on which batch the melody engine wrote the piece in."""

from __future__ import annotations

from dataclasses import replace

import pytest

from composer.errors import InvalidRequest, ScoreDataError
from composer.melody import EngineInfo, get_engine
from composer.pipeline import Composer
from composer.remix import keeps_notes, plan_of, rearrange
from composer.music.score import Score
from composer.formats.score_json import score_from_json, score_to_json
from composer.sing.singers import singer_for


def _stored(score: Score) -> Score:
    """What a remix reads back from history."""
    return score_from_json(score_to_json(score))


def _notes(score: Score) -> dict[str, list[tuple[float, float, int, int]]]:
    return {t.name: [(n.start, n.duration, n.pitch, n.velocity) for n in t.notes] for t in score.tracks}


def _shifted(score: Score, semitones: int, but: tuple[str, ...] = ()) -> dict[str, list[tuple]]:
    return {t.name: [(n.start, n.duration, n.pitch + (0 if t.is_drums else semitones), n.velocity) for n in t.notes]
            for t in score.tracks if t.name not in but}


def _retimed(piece, tempo):
    from composer.remix import retime

    return retime(piece, tempo)


@pytest.mark.parametrize("pitch,tempo", [(0, 150), (3, 100), (-5, 72), (7, 180), (12, 100)])
def test_same_notes_shifted_and_named_as_a_fresh_arrangement(composer, catalog, make_request, pitch, tempo) -> None:
    base = make_request("a happy tune", voice="piano", tempo=100, length=12, seed=5)
    (parent,) = composer.compose_scores([base])
    remix = rearrange(_stored(parent.score), base, replace(base, pitch=pitch, tempo=tempo), catalog, parent.engine)

    assert _notes(remix.score) == _shifted(parent.score, pitch)
    assert remix.score.tempo == remix.plan.tempo == remix.request.tempo == tempo
    assert remix.score.total_quarters == parent.score.total_quarters
    # a non-singing piece composed afresh at that pitch (then re-timed) is the very same file
    (fresh,) = composer.compose_scores([replace(base, pitch=pitch)])
    fresh = _retimed(fresh, tempo) if tempo != base.tempo else fresh
    assert (remix.score.key_name, remix.score.key_sharps, remix.score.chords) == \
        (fresh.score.key_name, fresh.score.key_sharps, fresh.score.chords)
    assert remix.midi == fresh.midi and remix.description == fresh.description
    assert remix.engine == parent.engine and remix.sung is None


@pytest.mark.parametrize("voice", ["female", "male"])
def test_a_sung_piece_keeps_its_line_and_words(composer, catalog, make_request, voice) -> None:
    base = make_request("a happy tune", voice=voice, tempo=100, length=12, seed=5, lyrics="sing me a happy tune")
    (parent,) = composer.compose_scores([base])

    slower = rearrange(_stored(parent.score), base, replace(base, tempo=80), catalog, parent.engine)
    assert _notes(slower.score) == _notes(parent.score)
    assert slower.score.lyrics == parent.score.lyrics and slower.sung is not None
    assert slower.description.startswith(parent.description.split(" at ")[0])
    assert "at 80 BPM" in slower.description

    up = rearrange(_stored(parent.score), base, replace(base, pitch=4), catalog, parent.engine)
    assert _notes(up.score) | {"vocals": []} == _shifted(parent.score, 4) | {"vocals": []}
    # the sung line moves with the band, staying in the singer's range as a fresh piece would:
    # the line may move by an octave as a whole, a stray note that leaves the range by one more
    singer = singer_for(voice)
    before, after = parent.score.track("vocals").notes, up.score.track("vocals").notes
    assert [(n.start, n.duration, n.velocity) for n in after] == [(n.start, n.duration, n.velocity) for n in before]
    offsets = [a.pitch - b.pitch - 4 for a, b in zip(after, before)]
    assert all(o % 12 == 0 for o in offsets) and all(singer.low <= a.pitch <= singer.high for a in after)
    assert max(offsets.count(o) for o in set(offsets)) >= 0.8 * len(offsets)
    assert up.sung is not None and up.score.lyrics == parent.score.lyrics


class BatchNudged:
    """A melody engine that, like a batched neural model with float rounding, writes one note
    differently when the piece shares a batch with others."""

    def __init__(self, inner):
        self.inner = inner
        self.info = EngineInfo("rules", inner.info.version)

    def write(self, plans, seeds):
        melodies = self.inner.write(plans, seeds)
        if len(plans) > 1:
            melodies = [[replace(n, pitch=n.pitch + 1) if i == len(m) // 2 else n for i, n in enumerate(m)]
                        for m in melodies]
        return melodies


def test_a_piece_composed_in_a_batch_keeps_its_notes(catalog, make_request) -> None:
    composer = Composer(catalog, engines={"rules": BatchNudged(get_engine("rules"))})
    requests = [make_request(p, voice="piano", length=10, seed=s)
                for p, s in [("a happy tune", 1), ("a calm evening", 2), ("a sad song", 3)]]
    batch = composer.compose_scores(requests)
    middle = batch[1]
    (alone,) = composer.compose_scores([requests[1]])
    assert alone.midi != middle.midi  # composing it again would not give the delivered notes

    remix = rearrange(_stored(middle.score), requests[1], replace(requests[1], pitch=2, tempo=140), catalog,
                      middle.engine)
    assert _notes(remix.score) == _shifted(middle.score, 2)


def test_a_remix_of_a_remix_keeps_the_notes(composer, catalog, make_request) -> None:
    base = make_request("a lilting song", voice="piano", tempo=120, length=20, seed=9, meter="6/8")
    (parent,) = composer.compose_scores([base])
    slow = rearrange(_stored(parent.score), base, replace(base, tempo=60, pitch=-2), catalog, parent.engine)
    # its request keeps length_s=20 at 60 BPM, though its bars last 40 s: the plan follows the bars
    again = rearrange(_stored(slow.score), slow.request, replace(slow.request, pitch=1, tempo=200), catalog,
                      slow.engine)
    assert _notes(again.score) == _shifted(parent.score, 1)
    assert again.score.sections == parent.score.sections
    (fresh,) = composer.compose_scores([replace(base, pitch=1)])
    assert again.score.chords == fresh.score.chords and again.score.key_name == fresh.score.key_name


def test_a_score_that_is_not_the_requests_is_refused(composer, catalog, make_request) -> None:
    base = make_request("a happy tune", voice="piano", length=12, seed=5)
    (parent,) = composer.compose_scores([base])
    other = replace(base, seed=6)
    with pytest.raises(ScoreDataError, match="does not match its request's plan"):
        rearrange(_stored(parent.score), other, replace(other, tempo=90), catalog, parent.engine)
    with pytest.raises(ScoreDataError, match="3/4"):
        plan_of(parent.score, replace(base, meter=type(base.meter)(3, 4)), catalog)
    wrong_key = _stored(parent.score)
    wrong_key.key_name = "D major"
    with pytest.raises(ScoreDataError, match="key differ"):
        plan_of(wrong_key, base, catalog)


def test_only_tempo_and_pitch_may_change(composer, catalog, make_request) -> None:
    base = make_request("a happy tune", voice="piano", length=12, seed=5)
    assert keeps_notes(base, replace(base, tempo=90, pitch=3))
    for changed in (replace(base, theme="jazz"), replace(base, voice="male"), replace(base, seed=6),
                    replace(base, length_s=30)):
        assert not keeps_notes(base, changed)
    (parent,) = composer.compose_scores([base])
    with pytest.raises(InvalidRequest, match="only tempo and pitch"):
        rearrange(parent.score, base, replace(base, voice="male"), catalog, parent.engine)
