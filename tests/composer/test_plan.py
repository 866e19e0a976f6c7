import pytest

from composer.plan import bar_count


@pytest.mark.parametrize("tempo,meter,length", [(120, "3/4", 30), (70, "4/4", 30), (180, "6/8", 60),
                                                 (60, "4/4", 5), (300, "2/4", 300), (30, "4/4", 120)])
def test_bar_count_matches_the_requested_length_within_one_bar(make_plan_for, tempo, meter, length):
    plan = make_plan_for("happy song", tempo=tempo, meter=meter, length=length)
    bar_s = plan.meter.bar_quarters * 60 / tempo
    assert plan.bars == bar_count(plan.request)
    assert abs(plan.duration_s - length) <= bar_s or plan.bars == 4


def test_sections_tile_the_piece_and_frame_it(make_plan_for):
    plan = make_plan_for("happy birthday", length=60)
    names = [s.name for s in plan.sections]
    assert names[0] == "intro" and names[-1] == "ending"
    assert {"verse", "chorus"} <= set(names)
    bar = 0
    for section in plan.sections:
        assert section.start_bar == bar and section.bars >= 1
        assert len(section.chords) == section.bars * plan.slots_per_bar
        bar = section.end_bar
    assert bar == plan.bars


@pytest.mark.parametrize("prompt,key", [("happy birthday", "F major"), ("a sad song", "D minor")])
def test_ending_is_a_dominant_to_tonic_cadence(make_plan_for, prompt, key):
    plan = make_plan_for(prompt, key=key)
    ending = plan.sections[-1]
    final_bar = ending.chords[-plan.slots_per_bar:]
    assert all(c.root == plan.key.tonic for c in final_bar)
    assert ending.chords[-plan.slots_per_bar - 1].symbol == "V7"


def test_chords_come_from_the_theme_vocabulary(make_plan_for, catalog):
    plan = make_plan_for("a sad song")
    vocabulary = {c for opts in catalog.theme("sad").spec["progressions"].values() for o in opts for c in o["chords"]}
    used = {c.symbol for s in plan.sections if s.name != "ending" for c in s.chords}
    assert used <= vocabulary


def test_same_seed_same_plan(make_plan_for):
    assert make_plan_for(seed=3).sections == make_plan_for(seed=3).sections


def test_ethnic_lead_follows_cues_in_the_prompt(make_plan_for):
    assert make_plan_for("a calm japanese garden", voice="ethnic", theme="happy").lead_name == "koto"
    assert make_plan_for("an irish jig", voice="ethnic", theme="happy").lead_name == "fiddle"
    first = make_plan_for("something cheerful", voice="ethnic").lead_name
    assert first == make_plan_for("something cheerful", voice="ethnic", seed=99).lead_name  # deterministic
