import pytest

from composer.music.theory import SCALES


@pytest.mark.parametrize("prompt,options", [
    ("happy birthday", {}), ("a sad song", {"meter": "3/4"}), ("happy tune", {"meter": "6/8"}),
    ("sad", {"voice": "male"}), ("happy", {"meter": "5/4", "tempo": 90}),
])
def test_rules_melody_is_in_scale_on_chords_and_in_register(make_plan_for, rules_engine, prompt, options):
    plan = make_plan_for(prompt, **options)
    (melody,) = rules_engine.write([plan], [plan.request.seed])
    assert melody
    low, high = plan.voice.spec["lead"]["register"]
    chord_pcs = set(plan.key.scale)
    assert all(low <= n.pitch <= high for n in melody)
    in_scale = sum(n.pitch % 12 in set(plan.key.scale) for n in melody) / len(melody)
    assert in_scale >= 0.95, in_scale
    pulse = plan.meter.pulse_quarters
    on_beat = [n for n in melody if abs(n.start / pulse - round(n.start / pulse)) < 1e-6]
    tones = sum(n.pitch % 12 in plan.chord_at(n.start).pitch_classes for n in on_beat)
    assert tones / len(on_beat) >= 0.9
    assert melody[-1].pitch % 12 == plan.key.tonic  # lands on the tonic
    assert max(n.end for n in melody) <= plan.total_quarters + 1e-6
    del chord_pcs


def test_melody_is_deterministic_per_seed(make_plan_for, rules_engine):
    plan = make_plan_for(seed=11)
    assert rules_engine.write([plan], [11]) == rules_engine.write([plan], [11])
    assert rules_engine.write([plan], [11]) != rules_engine.write([plan], [12])


def test_batched_write_equals_single_writes(make_plan_for, rules_engine):
    plans = [make_plan_for(seed=s) for s in (1, 2, 3)]
    batch = rules_engine.write(plans, [1, 2, 3])
    assert batch == [rules_engine.write([p], [s])[0] for p, s in zip(plans, (1, 2, 3))]


def test_scale_table_is_diatonic():
    assert all(len(steps) == 7 for steps in SCALES.values())
