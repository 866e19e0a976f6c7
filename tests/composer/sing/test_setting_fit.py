"""The melody is written for the words: measured over the singing evaluation's prompts, both singers
and both engines, nearly every syllable gets one note of its own, stresses fall on beats and every
lyric line starts a phrase. Instrumental voices compose exactly what they did before the syllable
plan existed."""

import hashlib
import random
from bisect import bisect_right

import pytest

from composer.melody import get_engine
from composer.melody.model import checkpoint_exists
from composer.plan import make_plan
from evaluation.text_setting import PROMPTS, Fit, compose_sung, measure_composition

pytestmark = pytest.mark.slow

ENGINES = ["rules", pytest.param("model", marks=pytest.mark.skipif(not checkpoint_exists(),
                                                                    reason="no trained checkpoint"))]


@pytest.mark.parametrize("engine", ENGINES)
def test_words_fit_the_tune(composer, engine):
    compositions = compose_sung(PROMPTS[:10], "male", engine, composer) + \
        compose_sung(PROMPTS[10:], "female", engine, composer)
    total = sum((measure_composition(c) for c in compositions), Fit())
    figures = total.figures()
    assert figures["one_note"] >= 0.9  # was 0.92–0.93 when the words were fitted to a finished tune
    assert figures["stressed_on_beat"] >= 0.95  # was 0.73–0.78
    # was 0.46–0.48; at least 0.8 before sung phrases were planned for about three syllables a
    # second, now 0.72–0.74 (more syllables than strong beats; the words are understood better,
    # evaluation/singing.py)
    assert figures["stressed_strong"] >= 0.7
    assert figures["lines_at_phrase_start"] >= 0.95  # was 0.33–0.41
    assert figures["melisma"] <= 0.08
    assert figures["notes_sung"] >= 0.99
    for composition in compositions:
        plan, line = composition.plan, composition.sung
        assert plan.syllables is not None and line.syllables
        # each planned phrase has at least one note per syllable (the model exactly one)
        bar_q = plan.bar_quarters
        bounds = [p.start_bar * bar_q - 0.1 for p in plan.syllables.phrases]
        counts = [0] * len(bounds)
        for note in composition.score.track("vocals").notes:
            counts[max(0, bisect_right(bounds, note.start) - 1)] += 1
        planned = [p.count for p in plan.syllables.phrases]
        if engine == "model":
            assert counts == planned
        else:
            assert all(c >= p for c, p in zip(counts, planned))


@pytest.mark.parametrize("engine", ENGINES)
def test_sung_melodies_keep_key_register_bars_and_seed(make_plan_for, engine):
    from composer.sing.phrasing import with_syllable_plan

    melody_engine = get_engine(engine)
    plans = [with_syllable_plan(make_plan_for(prompt, voice=voice, length=20, engine=engine, **options))
             for prompt, voice, options in [("happy birthday dear friend", "male", {}),
                                            ("a lullaby for my little star", "female", {"meter": "6/8"}),
                                            ("rock and roll tonight", "male", {"meter": "5/4", "tempo": 100})]]
    seeds = [p.request.seed for p in plans]
    melodies = melody_engine.write(plans, seeds)
    assert melody_engine.write(plans, seeds) == melodies  # same seed, same tune
    assert melody_engine.write(plans[:1], [seeds[0] + 1]) != melodies[:1]
    for plan, melody in zip(plans, melodies):
        low, high = plan.voice.spec["lead"]["register"]
        assert all(low <= n.pitch <= high for n in melody)
        in_scale = sum(n.pitch % 12 in set(plan.key.scale) for n in melody) / len(melody)
        if engine == "rules":  # the rules keep to the scale and end on the tonic by construction ...
            assert in_scale == 1.0 and melody[-1].pitch % 12 == plan.key.tonic
        else:  # ... the model has learned to, mostly (tests/composer/model/test_model_engine.py measures it)
            assert in_scale >= 0.8
        assert abs(melody[-1].end - plan.total_quarters) < 1e-6
        assert melody[0].start >= plan.syllables.phrases[0].start_bar * plan.bar_quarters
        assert len(melody) >= sum(p.count for p in plan.syllables.phrases)


def test_same_seed_same_sung_midi(composer):
    from composer.understanding.understand import understand

    request = understand("happy birthday dear friend", {"voice": "female", "seed": 5, "length": 15},
                         composer.catalog)
    (first,) = composer.compose_scores([request])
    (again,) = composer.compose_scores([request])
    assert first.midi == again.midi


# Digests of the melodies both engines wrote for instrumental voices before the syllable plan
# existed (seed 21, 20 s; the model's recorded again with the whole-corpus checkpoint): these
# voices must not change when singing does. Themes are given, so that changes to
# understanding do not move the melodies this test watches.
INSTRUMENTAL = [("happy birthday", "piano", {"meter": "3/4", "theme": "birthday"}),
                ("a sad song about rain", "synth", {"theme": "sad"}),
                ("epic battle in the mountains", "metal", {"tempo": 140, "theme": "epic"}),
                ("an irish jig", "ethnic", {"meter": "6/8", "theme": "retro"}),
                ("dance all night", "drums", {"length": 15, "theme": "dance"})]
BEFORE = {
    "rules:piano": "b45f6886f777d09a", "rules:synth": "0374d6e959a7249e", "rules:metal": "62284411cc126ff0",
    "rules:ethnic": "e1231cfdd5f95fdc", "rules:drums": "cbbac9a731dbfbc1",
    # re-recorded when the sampler moved to NumPy's random generator and closes on the tonic
    "model:piano": "085a99f99ad0706d", "model:synth": "6bd7b0f9c29cd16b", "model:metal": "287cb17fdfd8b7df",
    "model:ethnic": "2334f9e679811b5d", "model:drums": "716b70cfac469d54",
}


def _digest(melody) -> str:
    text = ";".join(f"{n.start:.4f},{n.duration:.4f},{n.pitch},{n.velocity}" for n in melody)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


@pytest.mark.parametrize("engine", ENGINES)
def test_instrumental_voices_are_unchanged(catalog, engine):
    from composer.sing.phrasing import with_syllable_plan
    from composer.understanding.understand import understand

    plans = []
    for prompt, voice, options in INSTRUMENTAL:
        request = understand(prompt, dict(options, voice=voice, seed=21, engine=engine,
                                          length=options.get("length", 20)), catalog)
        plan = make_plan(request, catalog.theme(request.theme), catalog.voice(request.voice),
                         random.Random(request.seed))
        assert with_syllable_plan(plan) is plan and plan.syllables is None
        plans.append(plan)
    melodies = get_engine(engine).write(plans, [21] * len(plans))
    assert {f"{engine}:{voice}": _digest(m) for (_, voice, _), m in zip(INSTRUMENTAL, melodies)} == \
        {k: v for k, v in BEFORE.items() if k.startswith(engine)}
