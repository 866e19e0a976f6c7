"""How the vocoder times a syllable's consonants: a phrase's first ones start just before the beat
and run on into the note, all inside it where there is no room (a line that starts the piece),
never dropped; a weak coda is sung; a phrase is one time-warp of the spoken words, a breath parts
them."""

import numpy as np

from composer.sing.singers import singer_for
from composer.sing.speech import Speech, SpokenSyllable
from composer.sing.vocoder import (LEAD_S, MAX_ONSET_S, Event, Lead, World, _leads, _part_frames, _without_fade,
                                   lay_out_frames, midi_hz)

HOP = 0.005
LEAD = round(LEAD_S / HOP)  # frames a phrase's first consonants start before the beat


def _event(start: float, end: float) -> Event:
    return Event(start, end, [(start, end, 60)], part_index=0, velocity=90)


def test_consonants_start_just_before_the_beat_and_run_on_into_the_note():
    events = [_event(1.0, 1.5), _event(1.5, 2.0)]
    spoken = [(0, 4, 40, 50), (50, 66, 90, 100)]  # 20 ms and 80 ms of onset consonants
    leads = _leads(events, spoken)
    assert leads[0] == Lead(4 * HOP, 0.0)  # short ones go wholly before the beat
    # a long one (the h of "happy") starts LEAD_S ahead: a listener hears the syllable begin there
    assert leads[1].before_s == LEAD_S
    assert abs(leads[1].inside_s - (16 * HOP - LEAD_S)) < 1e-9


def test_a_line_that_starts_the_piece_sings_its_consonants_inside_the_first_note():
    leads = _leads([_event(0.0, 0.6)], [(0, 14, 40, 50)])  # "s" of "seventeen" at 0 s: 70 ms
    assert leads[0].before_s == 0.0
    assert abs(leads[0].inside_s - 14 * HOP) < 1e-9


def test_consonants_squeezed_by_a_close_syllable_keep_their_length_partly_inside_the_note():
    events = [_event(1.0, 1.1), _event(1.1, 1.6)]  # the second syllable follows 100 ms after the first
    (_, lead) = _leads(events, [(0, 4, 10, 12), (12, 12 + 30, 60, 70)])  # 150 ms of consonants
    assert lead.before_s < 0.15
    assert abs(lead.before_s + lead.inside_s - min(0.15, MAX_ONSET_S)) < 1e-9
    assert lead.inside_s <= (1.6 - 1.1) / 3 + 1e-9


def test_a_weak_coda_is_sung_and_only_silence_after_it_is_cut():
    rate = 1000  # 5 samples per 5 ms frame
    level = np.full(25, -100.0)
    level[2:10] = 0.0  # the vowel
    level[10:15] = -40.0  # an "f" or a "t": far under the vowel, still a sound
    speech = Speech(np.zeros(125, np.float32), rate, [SpokenSyllable(0, 10, 50, 100)])
    world = World(np.zeros(25), np.ones((25, 4)), np.ones((25, 4)), rate, level)
    assert _without_fade(_part_frames(_event(0.0, 0.5), speech, world), world) == (0, 2, 10, 15)


def _two_words(second_start: float, breath: bool = False):
    """Two one-syllable words spoken at 200 frames/s: "hat" (onset 0-10, vowel 10-40, coda 40-50),
    a pause (50-60), then "sun" (onset 60-76, vowel 76-110, coda 110-120)."""
    rate = 1000
    parts = [SpokenSyllable(0, 50, 200, 250), SpokenSyllable(300, 380, 550, 600)]
    speech = Speech(np.zeros(130 * 5, np.float32), rate, parts)
    level = np.zeros(130)
    world = World(np.full(130, 120.0), np.ones((130, 4)), np.ones((130, 4)), rate, level)
    events = [Event(1.0, second_start - 0.01, [(1.0, second_start, 60)], 0, 90, breath=breath),
              Event(second_start, second_start + 0.5, [(second_start, second_start + 0.5, 62)], 1, 90, breath=True)]
    return events, speech, world


def test_a_phrase_is_sung_as_one_warp_of_the_spoken_words():
    events, speech, world = _two_words(2.0)
    track = lay_out_frames(events, speech, world, singer_for("male"), 800)
    first_beat, second_beat = round(1.0 / HOP), round(2.0 / HOP)
    assert list(track.source[first_beat - LEAD:first_beat + 10 - LEAD]) == list(range(0, 10))  # "h" across the beat
    assert track.source[first_beat + 10 - LEAD] == 10  # the first vowel right after it
    assert track.source[second_beat] == 76  # inside the phrase the vowel is on its beat
    between = list(track.source[second_beat - 36:second_beat])
    assert between == list(range(40, 76))  # coda, the pause between the words, the next onset: as spoken
    sung = track.source[first_beat - LEAD:second_beat + 100]
    assert (sung >= 0).all() and (np.diff(sung) >= 0).all()  # no silence cut in, nothing sung backwards
    # the glide to the second note starts with its onset: the vowel arrives in tune, with no
    # second glide from the old note at the beat
    assert abs(track.f0[second_beat] - midi_hz(62)) < 0.5


def test_consonants_between_close_vowels_are_sped_up_so_the_vowel_keeps_its_share():
    events, speech, world = _two_words(1.2)  # 40 frames between the beats, 36 frames of consonants
    track = lay_out_frames(events, speech, world, singer_for("male"), 800)
    first_beat, second_beat = round(1.0 / HOP), round(1.2 / HOP)
    vowel_from = first_beat + 10 - LEAD  # after the "h" that runs into the note
    vowel = track.source[vowel_from:second_beat]
    assert ((vowel >= 10) & (vowel < 40)).sum() >= (second_beat - vowel_from) // 2  # half, not what is left over
    assert track.source[second_beat] == 76


def test_a_breath_parts_the_words_and_releases_the_voice():
    events, speech, world = _two_words(2.0, breath=True)
    track = lay_out_frames(events, speech, world, singer_for("male"), 800)
    second_beat = round(2.0 / HOP)
    # the second onset sung again from just before its beat
    assert list(track.source[second_beat - LEAD:second_beat + 16 - LEAD]) == list(range(60, 76))
    assert track.gain[second_beat - LEAD - 1] == 0.0  # silence before it
    first_sung = np.flatnonzero(track.source[: second_beat - LEAD] >= 0)
    assert track.source[first_sung[-1]] < 50  # the first word ends with its own coda, not the pause
