"""The committed checkpoint composes melodies that honour the plan (quick: short pieces, one batch)."""

import pytest

from composer.melody import get_engine
from composer.melody.model import DEFAULT_CHECKPOINT, checkpoint_exists

pytestmark = pytest.mark.skipif(not checkpoint_exists(), reason=f"no trained checkpoint at {DEFAULT_CHECKPOINT}")

CASES = [("happy birthday", {}), ("a sad song", {"meter": "3/4"}), ("happy tune", {"meter": "6/8"}),
         ("sad", {"voice": "male"}), ("happy", {"meter": "5/4", "tempo": 90})]


@pytest.fixture(scope="module")
def model_engine():
    return get_engine("model")


@pytest.fixture
def plans(make_plan_for):
    return [make_plan_for(prompt, length=20, **options) for prompt, options in CASES]


def test_model_melodies_follow_the_plan(model_engine, plans):
    melodies = model_engine.write(plans, [p.request.seed for p in plans])
    assert len(melodies) == len(plans)
    for plan, melody in zip(plans, melodies):
        assert melody
        low, high = plan.voice.spec["lead"]["register"]
        assert all(low <= n.pitch <= high for n in melody)
        assert sum(n.pitch % 12 in set(plan.key.scale) for n in melody) / len(melody) >= 0.95
        pulse = plan.meter.pulse_quarters
        on_beat = [n for n in melody if abs(n.start / pulse - round(n.start / pulse)) < 1e-6]
        assert sum(n.pitch % 12 in plan.chord_at(n.start).pitch_classes for n in on_beat) / len(on_beat) >= 0.9
        assert melody[-1].pitch % 12 == plan.key.tonic
        assert abs(melody[-1].end - plan.total_quarters) < 1e-6  # exactly the planned bars
        intro = sum(s.bars for s in plan.sections if s.name == "intro") * plan.bar_quarters
        assert melody[0].start >= intro
        starts = [n.start for n in melody]
        assert starts == sorted(starts)


@pytest.mark.slow
def test_model_is_deterministic_per_seed(model_engine, make_plan_for):
    plan = make_plan_for(seed=11, length=20)
    first = model_engine.write([plan], [11])
    assert model_engine.write([plan], [11]) == first
    assert model_engine.write([plan], [12]) != first


def test_engine_names_its_checkpoint(model_engine):
    manifest = model_engine.info.to_manifest()
    assert manifest["name"] == "model"
    assert manifest["checkpoint"].endswith("checkpoints/melody")
    assert manifest["version"].startswith("gpt2-")


@pytest.mark.slow
def test_every_theme_arranges_with_model_melodies(composer, catalog):
    """One batch across all themes through plan → model → arrangement → MIDI, read back."""
    from dataclasses import replace

    from evaluation.analysis import chord_tone_ratio, ends_on_tonic, load_midi, same_pitch_overlaps, scale_consistency
    from composer.understanding.understand import understand

    requests = [replace(understand(f"a {theme} piece", {"theme": theme, "voice": "piano", "seed": 3, "length": 10},
                                   catalog), engine="model") for theme in sorted(catalog.themes)]
    compositions = composer.compose_scores(requests)
    for request, composition in zip(requests, compositions):
        assert composition.engine["name"] == "model"
        info = load_midi(composition.midi)
        assert scale_consistency(info.melody.notes) >= 0.95, request.theme
        assert chord_tone_ratio(info) >= 0.8, request.theme
        assert ends_on_tonic(info, request.key), request.theme
        assert same_pitch_overlaps(info.melody.notes) == 0, request.theme


@pytest.mark.slow
def test_returning_sections_repeat_the_tune_with_one_bar_varied(model_engine, make_plan_for):
    from composer.melody.model import _layout

    plans = [make_plan_for("a happy tune", length=60, voice="piano", seed=seed) for seed in range(3)]
    varied = 0
    for plan, melody in zip(plans, model_engine.write(plans, [p.request.seed for p in plans])):
        layout, bar_q, pulse = _layout(plan), plan.bar_quarters, plan.meter.pulse_quarters
        returns = [(section, layout[first][0]) for section, first in layout if first is not None]
        assert returns, "a 60 s piece has a returning section"
        for section, first in returns:
            def tune(s):
                return [(n.start - s.start_bar * bar_q, n.duration, n.pitch) for n in melody
                        if s.start_bar * bar_q <= n.start < s.end_bar * bar_q]
            before, after = tune(first), tune(section)
            assert [n[:2] for n in before] == [n[:2] for n in after]  # same rhythm (and words)
            changed = [(a, b) for a, b in zip(before, after) if a != b]
            assert len({int(a[0] // bar_q) for a, _ in changed}) <= 1  # one bar at most ...
            assert all(abs(a[0] / pulse - round(a[0] / pulse)) > 1e-6 for a, _ in changed)  # ... off the beat
            assert all(a[0] < (section.bars - 1) * bar_q for a, _ in changed)  # the cadence bar stays
            assert all(b[2] % 12 in set(plan.key.scale) for _, b in changed)
            varied += bool(changed)
    assert varied >= 3
