"""How the vocoder times a syllable's consonants: before the beat where there is room, inside the
note where there is none (a line that starts the piece), never dropped; a weak coda is sung."""

import numpy as np

from composer.sing.speech import Speech, SpokenSyllable
from composer.sing.vocoder import MAX_LEAD_S, Event, Lead, World, _leads, _spoken_frames

HOP = 0.005


def _event(start: float, end: float) -> Event:
    return Event(start, end, [(start, end, 60)], part_index=0, velocity=90)


def test_consonants_go_before_the_beat_when_there_is_room():
    events = [_event(1.0, 1.5), _event(1.5, 2.0)]
    spoken = [(0, 12, 40, 50), (50, 66, 90, 100)]  # 60 ms and 80 ms of onset consonants
    leads = _leads(events, spoken)
    assert leads[0] == Lead(12 * HOP, 0.0)
    assert leads[1] == Lead(16 * HOP, 0.0)


def test_a_line_that_starts_the_piece_sings_its_consonants_inside_the_first_note():
    leads = _leads([_event(0.0, 0.6)], [(0, 14, 40, 50)])  # "s" of "seventeen" at 0 s: 70 ms
    assert leads[0].before_s == 0.0
    assert abs(leads[0].inside_s - 14 * HOP) < 1e-9


def test_consonants_squeezed_by_a_close_syllable_keep_their_length_partly_inside_the_note():
    events = [_event(1.0, 1.1), _event(1.1, 1.6)]  # the second syllable follows 100 ms after the first
    (_, lead) = _leads(events, [(0, 4, 10, 12), (12, 12 + 30, 60, 70)])  # 150 ms of consonants
    assert lead.before_s < 0.15
    assert abs(lead.before_s + lead.inside_s - min(0.15, MAX_LEAD_S)) < 1e-9
    assert lead.inside_s <= (1.6 - 1.1) / 3 + 1e-9


def test_a_weak_coda_is_sung_and_only_silence_after_it_is_cut():
    rate = 1000  # 5 samples per 5 ms frame
    level = np.full(25, -100.0)
    level[2:10] = 0.0  # the vowel
    level[10:15] = -40.0  # an "f" or a "t": far under the vowel, still a sound
    speech = Speech(np.zeros(125, np.float32), rate, [SpokenSyllable(0, 10, 50, 100)])
    world = World(np.zeros(25), np.ones((25, 4)), np.ones((25, 4)), rate, level)
    assert _spoken_frames(_event(0.0, 0.5), speech, world) == (0, 2, 10, 15)
