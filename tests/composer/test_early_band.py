"""A lone piece's band is arranged from the plan alone and renders while its melody is written."""

import pickle
from concurrent.futures import Future
from contextlib import ExitStack
from dataclasses import replace

import pytest

from composer.arrange import arrange, arrange_band
from composer.audio.encode import read_audio
from composer.audio.loudness import integrated_lufs
from composer.audio.render import borrow_synth, synth_free
from composer.audio.mix import TARGET_LUFS
from composer.music.score import Note


def _band(score):
    return [(t.name, t.program, t.notes) for t in score.tracks if t.bus != "lead"]


@pytest.mark.parametrize("theme", ["happy", "jazz", "lullaby", "rock"])
def test_the_band_is_the_same_whatever_the_melody(make_plan_for, rules_engine, theme):
    plan = make_plan_for(f"a {theme} tune", theme=theme, seed=3)
    written = rules_engine.write([plan], [3])[0]
    other = [replace(n, pitch=n.pitch + 2, velocity=60) for n in written[::2]] + [Note(0.0, 1.0, 60, 90)]
    first, second = arrange(plan, written, 3), arrange(plan, other, 3)
    assert _band(first) == _band(second) == [(t.name, t.program, t.notes) for t in arrange_band(plan, 3)]
    assert first.tracks[0].bus == "lead" and first.tracks[0].notes != second.tracks[0].notes


@pytest.fixture(autouse=True)
def _a_synth_loaded():
    with borrow_synth():  # the pool has an idle synth afterwards, as in a warmed-up bot
        pass


def test_a_lone_piece_starts_its_band_before_the_melody_and_finishes_with_it(composer, make_request):
    (draft,) = composer.compose_scores([make_request("a calm walk", seed=5, length=10)])
    assert isinstance(draft.band_audio, Future)
    band = draft.band_audio.result(timeout=60)
    assert band.ndim == 2 and band.shape[1] == 2 and abs(band).max() > 0.01  # the band plays
    piece = composer.finish(draft)
    audio, rate = read_audio(piece.artifacts["audio"])
    assert integrated_lufs(audio, rate) == pytest.approx(TARGET_LUFS, abs=1.5)
    assert len(audio) / rate == pytest.approx(piece.score.duration_s + 1.0, abs=0.3)


def test_a_draft_sent_elsewhere_leaves_its_band_behind_and_renders_it_there(composer, make_request):
    (draft,) = composer.compose_scores([make_request("a calm walk", seed=6, length=10)])
    moved = pickle.loads(pickle.dumps(draft))
    assert moved.band_audio is None and draft.band_audio is not None
    assert moved.score == draft.score
    here, there = composer.finish(draft), composer.finish(moved)
    a, rate = read_audio(here.artifacts["audio"])
    b, _ = read_audio(there.artifacts["audio"])
    assert abs(len(a) - len(b)) <= rate // 10
    assert integrated_lufs(b, rate) == pytest.approx(integrated_lufs(a, rate), abs=0.5)


@pytest.mark.parametrize("options", [{"format": "text"}, {"stems": True}, {"voice": "male"}])
def test_no_early_band_where_the_piece_does_not_render_a_plain_band(composer, make_request, options):
    (draft,) = composer.compose_scores([make_request("a calm walk", seed=5, length=10, **options)])
    assert draft.band_audio is None


def test_a_batch_writes_its_melodies_first(composer, make_request):
    drafts = composer.compose_scores([make_request("a calm walk", seed=s, length=10) for s in (1, 2)])
    assert [d.band_audio for d in drafts] == [None, None]


def test_no_early_band_while_every_synth_is_busy(composer, make_request):
    with ExitStack() as busy:
        while synth_free():
            busy.enter_context(borrow_synth())
        (draft,) = composer.compose_scores([make_request("a calm walk", seed=5, length=10)])
    assert draft.band_audio is None
    assert composer.finish(draft).artifacts["audio"]


def test_a_composer_whose_drafts_leave_the_process_renders_no_early_band(catalog, make_request):
    from composer.pipeline import Composer

    tier = Composer(catalog, early_band=False)  # as the composer tier's replicas build theirs
    (draft,) = tier.compose_scores([make_request("a calm walk", seed=5, length=10)])
    assert draft.band_audio is None
