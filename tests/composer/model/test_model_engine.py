"""The committed checkpoint writes melodies that honour the request, and has learned what the sampler
no longer forces (the scale, chord tones on the beat, a cadence on the tonic): the same sampler over
random weights of the same shape does not get there."""

import pytest

from composer.melody import get_engine
from composer.melody.model import DEFAULT_CHECKPOINT, ModelEngine, checkpoint_exists

pytestmark = pytest.mark.skipif(not checkpoint_exists(), reason=f"no trained checkpoint at {DEFAULT_CHECKPOINT}")

CASES = [("happy birthday", {}), ("a sad song", {"meter": "3/4"}), ("happy tune", {"meter": "6/8"}),
         ("sad", {"voice": "male"}), ("happy", {"meter": "5/4", "tempo": 90})]
THEMES = ("happy", "sad", "lullaby", "march", "epic", "nature", "holiday", "adventure")


@pytest.fixture(scope="module")
def model_engine():
    return get_engine("model")


@pytest.fixture(scope="module")
def random_engine():
    """The same sampler and checkpoint shape, with the weights the model started from."""
    import torch

    from composer.model.fast import FastGPT
    from composer.model.model import build

    engine = ModelEngine()
    torch.manual_seed(0)
    engine.fast = FastGPT.from_model(build(engine.config).eval())
    return engine


@pytest.fixture
def plans(make_plan_for):
    return [make_plan_for(prompt, length=20, **options) for prompt, options in CASES]


def test_model_melodies_honour_the_request(model_engine, plans):
    melodies = model_engine.write(plans, [p.request.seed for p in plans])
    assert len(melodies) == len(plans)
    for plan, melody in zip(plans, melodies):
        assert melody
        low, high = plan.voice.spec["lead"]["register"]
        assert all(low <= n.pitch <= high for n in melody)
        intro = sum(s.bars for s in plan.sections if s.name == "intro") * plan.bar_quarters
        assert melody[0].start >= intro
        assert melody[-1].end <= plan.total_quarters + 1e-6  # never past the planned bars ...
        assert melody[-1].start >= plan.total_quarters - 2 * plan.bar_quarters  # ... and reaching the end
        starts = [n.start for n in melody]
        assert starts == sorted(set(starts))
        if plan.syllables is None:
            assert all(a.end <= b.start + 1e-6 for a, b in zip(melody, melody[1:]))  # one line


def _learned(plans, melodies) -> dict[str, float]:
    """Shares over all pieces: notes in the key's scale, beat notes on the chord, pieces whose own key
    estimate is the requested key, pieces ending on the tonic."""
    from training.corpus import melody_key

    in_scale = beats = chord_tones = total = keys = tonic_ends = 0
    for plan, melody in zip(plans, melodies):
        pulse = plan.meter.pulse_quarters
        for n in melody:
            total += 1
            in_scale += n.pitch % 12 in set(plan.key.scale)
            if abs(n.start / pulse - round(n.start / pulse)) < 1e-6:
                beats += 1
                chord_tones += n.pitch % 12 in plan.chord_at(n.start).pitch_classes
        keys += melody_key([(n.start, n.duration, n.pitch) for n in melody], None) == plan.key
        tonic_ends += melody[-1].pitch % 12 == plan.key.tonic
    return {"in_scale": in_scale / total, "chord_tones": chord_tones / beats, "key": keys / len(plans),
            "tonic_end": tonic_ends / len(plans)}


@pytest.mark.slow
def test_trained_weights_learned_what_the_sampler_no_longer_forces(model_engine, random_engine, make_plan_for):
    plans = [make_plan_for(f"a {theme} tune", theme=theme, length=20, voice="piano", seed=seed)
             for theme in THEMES for seed in (1, 2)]
    seeds = [p.request.seed for p in plans]
    trained = _learned(plans, model_engine.write(plans, seeds))
    untrained = _learned(plans, random_engine.write(plans, seeds))
    assert trained["in_scale"] >= 0.9 > 0.7 >= untrained["in_scale"]
    assert trained["chord_tones"] >= 0.6 > 0.45 >= untrained["chord_tones"]
    assert trained["key"] >= 0.75 > 0.5 >= untrained["key"]  # the closing tonic lifts chance a little
    assert trained["tonic_end"] == untrained["tonic_end"] == 1.0  # the request's key closes every tune


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

    from composer.understanding.understand import understand
    from evaluation.analysis import load_midi, same_pitch_overlaps

    requests = [replace(understand(f"a {theme} piece", {"theme": theme, "voice": "piano", "seed": 3, "length": 10},
                                   catalog), engine="model") for theme in sorted(catalog.themes)]
    compositions = composer.compose_scores(requests)
    for request, composition in zip(requests, compositions):
        assert composition.engine["name"] == "model"
        info = load_midi(composition.midi)
        assert info.melody.notes, request.theme
        assert same_pitch_overlaps(info.melody.notes) == 0, request.theme


@pytest.mark.slow
def test_returning_sections_repeat_their_first_statement(model_engine, make_plan_for):
    from composer.melody.model import _layout

    plans = [make_plan_for("a happy tune", length=60, voice="piano", seed=seed) for seed in range(3)]
    for plan, melody in zip(plans, model_engine.write(plans, [p.request.seed for p in plans])):
        layout, bar_q = _layout(plan, model_engine.config.n_positions), plan.bar_quarters
        returns = [(section, layout[first][0]) for section, first in layout if first is not None]
        assert returns, "a 60 s piece has a returning section"

        def tune(s):
            return [(round(n.start - s.start_bar * bar_q, 6), n.duration, n.pitch) for n in melody
                    if s.start_bar * bar_q <= n.start < s.end_bar * bar_q]

        for section, first in returns:
            assert tune(section) == tune(first)


def test_a_piece_longer_than_the_context_repeats_its_latest_sections(make_plan_for):
    from composer.melody.model import _expected_tokens_per_bar, _layout

    plan = make_plan_for("a happy tune", length=180, voice="piano", seed=1)
    layout = _layout(plan, 1024)
    written = sum(section.bars for section, source in layout if source is None)
    assert 8 + written * _expected_tokens_per_bar(plan) <= 1024
    assert layout[-1][1] is None  # the ending is always written
    assert all(layout[source][1] is None for _, source in layout if source is not None)


def test_a_batch_writes_what_each_request_writes_alone_in_as_few_steps_as_the_longest():
    """Rows of a batch are fed their own runs of forced tokens, so batching changes neither a
    piece's notes nor (much) the number of forward passes."""
    import random

    from composer.catalog import default_catalog
    from composer.melody.model import ModelEngine, _layout, _spec
    from composer.model.sample import generate
    from composer.plan import make_plan
    from composer.understanding.understand import understand

    catalog, engine = default_catalog(), ModelEngine()
    plans = []
    for i, theme in enumerate(["birthday", "jazz", "march", "lullaby", "rock"]):
        request = understand("a tune", {"theme": theme, "length": 20, "seed": i, "voice": "piano"}, catalog).seeded()
        plans.append(make_plan(request, catalog.theme_of(request), catalog.voice(request.voice),
                               random.Random(request.seed)))
    specs = [_spec(p, _layout(p, engine.config.n_positions), engine.tokenizer, seed) for seed, p in enumerate(plans)]

    class Counting:
        def __init__(self, fast):
            self.fast, self.steps, self.n_positions = fast, 0, fast.n_positions

        def new_cache(self, batch):
            return self.fast.new_cache(batch)

        def step(self, *args):
            self.steps += 1
            return self.fast.step(*args)

    alone_steps, alone = [], []
    for spec in specs:
        counter = Counting(engine.fast)
        alone += generate(counter, engine.tokenizer, [spec])
        alone_steps.append(counter.steps)
    counter = Counting(engine.fast)
    together = generate(counter, engine.tokenizer, specs)
    assert together == alone
    assert counter.steps <= max(alone_steps) + 2
