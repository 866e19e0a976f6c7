"""Text-setting: syllables onto melody notes — one per note, melismas when notes outnumber
syllables, repeats to fill the piece, a clean stop when the tune ends, stress on strong beats."""

from composer.music.score import Note
from composer.sing.setting import beat_strength, set_text, split_phrases
from composer.sing.syllables import syllabify
from composer.music.theory import Meter

FOUR = Meter(4, 4)


def quarters(starts, duration=1.0, pitch=60):
    return [Note(float(s), duration, pitch, 90) for s in starts]


def sung_texts(line):
    return [s.syllable.text for s in line.syllables]


def test_one_syllable_per_note_when_counts_match():
    melody = quarters([0, 1, 2, 3])
    line = set_text(syllabify(["happy", "birthday"]), melody, FOUR, [0.0])
    assert sung_texts(line) == ["hap", "py", "birth", "day"]
    assert [len(s.notes) for s in line.syllables] == [1, 1, 1, 1]
    assert [s.start for s in line.syllables] == [0, 1, 2, 3]


def test_extra_notes_become_melismas_and_every_note_is_sung():
    melody = quarters([0, 1, 2, 3, 4, 5, 6], duration=1.0)  # one phrase of 7 notes, lyric of 4 syllables
    melody = melody[:4] + [Note(4.0, 3.0, 62, 90)]  # the phrase ends on a long note: 5 notes
    line = set_text(syllabify(["happy", "birthday"]), melody, FOUR, [0.0], repeat=False)
    assert sung_texts(line) == ["hap", "py", "birth", "day"]
    covered = [n for s in line.syllables for n in s.notes]
    assert covered == sorted(melody, key=lambda n: n.start)
    assert max(len(s.notes) for s in line.syllables) == 2


def test_short_lyrics_repeat_to_fill_the_piece_in_order():
    melody = quarters(range(0, 32, 2), duration=1.5)  # 16 notes, phrases every 4 bars
    line = set_text(syllabify(["happy", "birthday"]), melody, FOUR, [0.0])
    texts = sung_texts(line)
    assert texts[:8] == ["hap", "py", "birth", "day"] * 2
    assert len(texts) >= 12
    cycle = ["hap", "py", "birth", "day"]
    assert all(t == cycle[i % 4] for i, t in enumerate(texts))
    assert line.syllables[-1].notes[-1] == melody[-1]  # the last note is sung


def test_long_lyrics_stop_at_a_word_boundary_with_a_note():
    words = "the quick brown fox jumps over the lazy dog and then runs far away".split()
    melody = quarters(range(8))
    line = set_text(syllabify(words), melody, FOUR, [0.0])
    assert len(line.syllables) <= 8
    assert line.syllables[-1].syllable.word_end
    assert any("tune ended before the lyrics" in n for n in line.notes)


def test_stressed_syllable_lands_on_the_downbeat_after_a_pickup():
    # pickup on beat 4, then a downbeat: "a-WAY" should put "way" on the downbeat
    melody = [Note(3.0, 1.0, 60, 90), Note(4.0, 1.0, 62, 90), Note(5.0, 1.0, 64, 90)]
    line = set_text(syllabify(["away"]), melody, FOUR, [0.0], repeat=False)
    stressed = [s for s in line.syllables if s.syllable.stress == 2][0]
    assert stressed.start == 4.0
    assert beat_strength(4.0, FOUR) == 3 and beat_strength(3.5, FOUR) == 0


def test_phrases_split_at_rests_and_sections():
    melody = quarters([0, 1, 2]) + quarters([4, 5]) + quarters([8, 9])
    phrases = split_phrases(melody, FOUR, [0.0, 8.0])
    assert [len(p) for p in phrases] == [3, 2, 2]


def test_lyric_events_are_hyphenated_inside_words():
    line = set_text(syllabify(["happy", "day"]), quarters([0, 1, 2]), FOUR, [0.0])
    assert line.lyrics() == [(0.0, "hap-"), (1.0, "py"), (2.0, "day")]
