"""understand(): voice and lyrics from words, precedence, notes, hostile input, custom themes, the embedding model."""

import json
from pathlib import Path

import pytest

from composer.understanding import semantic
from composer.errors import InvalidRequest, UnknownName
from composer.understanding.understand import interpret, understand

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


def req(catalog, prompt, **options):
    return understand(prompt, options, catalog)


@pytest.mark.parametrize("prompt, voice", [
    ("sung by a woman", "female"), ("a lullaby with female vocals", "female"), ("my sister sings it", "female"),
    ("make her a song sung by a lady", "female"), ("soprano aria", "female"),
    ("male vocals please", "male"), ("a baritone sings about the sea", "male"), ("sung by my dad", "male"),
    ("a sad tune on piano", "piano"), ("shredding guitars", "metal"), ("heavy metal", "metal"),
    ("chiptune boss fight", "synth"), ("synthesizer arpeggios", "synth"), ("koto in a garden", "ethnic"),
    ("a sitar melody", "ethnic"), ("bagpipes at dawn", "ethnic"), ("a drum solo", "drums"),
    ("just drums and percussion", "drums"),
])
def test_voice_from_words(catalog, prompt, voice):
    assert req(catalog, prompt).voice == voice


def test_accompaniment_and_negation_do_not_choose_the_voice(catalog):
    assert req(catalog, "garage rock with loud drums").voice == "piano"  # rock's default voice
    assert req(catalog, "no drums, just piano").voice == "piano"
    assert req(catalog, "a lullaby without piano, on a synth").voice == "synth"


def test_a_named_singer_beats_an_instrument(catalog):
    assert req(catalog, "a piano ballad sung by a man").voice == "male"


def test_singing_without_a_singer_gets_a_voice_that_sings_and_says_so(catalog):
    request = req(catalog, "a love song with vocals")
    assert request.voice == "female" and any("singing" in n for n in request.notes)


@pytest.mark.parametrize("prompt, lyrics", [
    ("celebrate my son's 7th birthday with a song sung by a lady", "celebrate my son's 7th birthday"),
    ("my grandma turns 90 tomorrow, make her a song sung by a lady", "my grandma turns 90 tomorrow"),
    ("sung by a man: row row row your boat", "row row row your boat"),
    ("please write a song about my cat Max, sung by a woman, 100 bpm, in C major", "my cat Max"),
    ('a jazzy tune sung by a man "fly me to the moon"', "fly me to the moon"),
    ("happy birthday, male vocals, lyrics: many happy returns of the day", "many happy returns of the day"),
    ("why is the sky so blue today? make it jazzy, sung by a man", "why is the sky so blue today?"),
    ("rainy Tuesday afternoon, missing you again, sad and slow, female vocals", "rainy Tuesday afternoon, missing you again"),
    ("a song for my sister Jessica who just got her driving licence, sung by a woman",
     "Jessica who just got her driving licence"),
    ("a lullaby for little Benjamin who is three years old, sung by a woman", "little Benjamin who is three years old"),
    ("good morning sunshine, time to wake up, make it sound upbeat, sung by a man", "good morning sunshine, time to wake up"),
    ("dancing in Vienna in the style of Strauss, sung by a woman", "dancing in Vienna"),
    ("sing about the astronauts returning home from Jupiter, space theme, sung by a man",
     "astronauts returning home from Jupiter"),
    ("my sister is the best, sung by a woman", "my sister is the best"),
])
def test_lyrics_are_the_prompt_without_instructions(catalog, prompt, lyrics):
    assert req(catalog, prompt).lyrics == lyrics


def test_written_lyrics_are_not_read_as_cues(catalog):
    request = req(catalog, "sung by a woman, lyrics: in the key of life at 300 bpm")
    assert request.lyrics == "in the key of life at 300 bpm"
    assert request.tempo != 300 and "in the key" not in str(request.key)


def test_no_lyrics_for_instruments_and_la_la_when_nothing_is_singable(catalog):
    assert req(catalog, "a sad piano piece").lyrics == ""
    request = req(catalog, "sung by a man, 90 bpm")
    assert request.lyrics == "la la la" and any("la la la" in n for n in request.notes)


def test_options_beat_text_and_the_override_is_noted(catalog):
    request = req(catalog, "a jig in 6/8 in D major at 90 bpm, sung by a woman",
                  meter="3/4", key="C minor", tempo=150, voice="synth")
    assert (str(request.meter), request.key.name, request.tempo, request.voice) == ("3/4", "C minor", 150, "synth")
    notes = " ".join(request.notes)
    for fragment in ("meter option (3/4) overrides 6/8", "key option (C minor) overrides D major",
                     "tempo option (150 BPM) overrides 90", "voice option (synth) overrides"):
        assert fragment in notes


def test_text_beats_theme_defaults(catalog):
    request = req(catalog, "happy birthday in 4/4 at 90 bpm in D minor")
    assert (request.theme, str(request.meter), request.tempo, request.key.name) == ("birthday", "4/4", 90, "D minor")


def test_contradictions_are_resolved_first_come_and_noted(catalog):
    request = req(catalog, "in C major and in D minor, fast but slow")
    assert request.key.name == "C major" and request.tempo == 144
    notes = " ".join(request.notes)
    assert "more than one key (C major, D minor)" in notes and "more than one tempo" in notes
    assert req(catalog, "in C major and in D minor, fast but slow") == request  # deterministic


def test_variations_and_transposition_from_words(catalog):
    request = req(catalog, "three variations of a lullaby, transpose up 2 semitones")
    assert (request.variations, request.pitch, request.theme) == (3, 2, "lullaby")


@pytest.mark.parametrize("prompt, field, value, fragment", [
    ("tempo 5000", "tempo", 300, "tempo 5000 BPM is outside 30-300 BPM"),
    ("a sad song at 10 bpm", "tempo", 30, "outside 30-300 BPM"),
    ("ten minutes of rain", "length_s", 300, "length 600 s is outside 5-300 s"),
    ("a 1 second stinger", "length_s", 5, "outside 5-300 s"),
    ("9 variations please", "variations", 4, "variations 9 is outside 1-4"),
    ("transpose up 3 octaves", "pitch", 12, "pitch 36 is outside -12-12"),
])
def test_out_of_range_numbers_in_text_are_clamped_and_noted(catalog, prompt, field, value, fragment):
    request = req(catalog, prompt)
    assert getattr(request, field) == value
    assert any(fragment in n for n in request.notes), request.notes


@pytest.mark.parametrize("options, message", [
    ({"tempo": 5000}, "tempo must be between 30 and 300"), ({"length": 0}, "length must be between"),
    ({"key": "H major"}, "key must be a note name"), ({"meter": "11/8"}, "meter must be one of"),
    ({"voice": "kazoo"}, "unknown voice 'kazoo'"), ({"bpm": 100}, "unknown option 'bpm'"),
])
def test_out_of_range_options_are_errors(catalog, options, message):
    with pytest.raises(InvalidRequest, match=message):
        understand("a song", options, catalog)


@pytest.mark.parametrize("prompt, message", [
    ("", "prompt is empty"), ("   \n\t ", "prompt is empty"), ("\x00\x07\x1b", "prompt is empty"),
    ("\u200b\u200f\u202e", "prompt is empty"), ("x" * 4001, "at most 4000"),
    ("@everyone <@123> <#456>", "only mentions or formatting"), ("**__~~``~~__**", "only mentions or formatting"),
])
def test_bad_prompts_are_clear_errors(catalog, prompt, message):
    with pytest.raises(InvalidRequest, match=message):
        understand(prompt, {}, catalog)


def test_hostile_but_meaningful_prompts_resolve(catalog):
    request = req(catalog, "@everyone <@123> **epic** battle\u200b in D\u202e minor \x07")
    assert request.theme == "epic" and request.key.name == "D minor"
    assert "\u200b" not in request.prompt and "\x07" not in request.prompt
    long = req(catalog, "a sad song sung by a woman " + "la " * 1300)
    assert long.theme == "sad" and len(long.lyrics) <= 2000


def test_only_emoji_falls_back_to_the_default_theme_and_says_so(catalog):
    request = req(catalog, "🎵🎶🎸🔥")
    assert request.theme == "happy" and any("default theme" in n for n in request.notes)


def test_meaningless_words_have_low_confidence_and_fall_back(catalog):
    result = interpret("asdf qwerty zxcv", {}, catalog)
    assert result.theme_source == "default" and result.theme_confidence < 0.26
    assert result.request.theme == "happy" and any("default theme" in n for n in result.request.notes)


def test_meaning_without_shared_words(catalog):
    """No word of these prompts appears in the chosen theme's examples or description."""
    assert req(catalog, "tears on my pillow since you left").theme == "sad"
    assert req(catalog, "werewolves howling at midnight in the crypt").theme == "horror"
    result = interpret("a rocket launching past the moon", {}, catalog)
    assert result.request.theme == "space" and result.theme_source == "text" and result.theme_confidence > 0.3


def test_custom_themes_are_understood_like_builtin_ones(catalog):
    spec = json.loads(json.dumps(catalog.theme("chill").spec))
    spec.update(name="sea-shanty", description="Rollicking sea shanties sung by sailors hauling ropes on deck.",
                examples=["a sea shanty", "sailors singing on a ship", "heave ho me hearties"])
    custom = catalog.with_theme(spec)
    assert understand("drunken sailors hauling on the rigging", {}, custom).theme == "sea-shanty"
    assert understand("drunken sailors hauling on the rigging", {}, catalog).theme != "sea-shanty"


def test_theme_option_is_validated(catalog):
    with pytest.raises(UnknownName, match="unknown theme"):
        understand("a song", {"theme": "polka"}, catalog)


def test_encoder_matches_sentence_transformers_reference():
    """The reference vectors were written by sentence-transformers from the same weights."""
    import numpy as np

    reference = json.loads((FIXTURES / "minilm_reference.json").read_text())
    model = semantic.get_semantics()
    got = model.encoder.encode(reference["texts"])
    want = np.array(reference["vectors"], dtype=np.float32)
    assert np.all((got * want).sum(1) > 0.9999)


def test_padding_in_a_batch_does_not_change_a_vector():
    """Short prompts share a padded batch with long ones; the mask must hide the padding."""
    import numpy as np

    model = semantic.get_semantics()
    texts = ["jazz", "a very long and winding description of a rainy night in a smoky old jazz bar downtown", "sad"]
    together = model.encoder.encode(texts)
    alone = np.stack([model.encoder.encode([t])[0] for t in texts])
    assert np.all((together * alone).sum(1) > 0.99999)
    assert np.allclose(np.linalg.norm(together, axis=1), 1.0, atol=1e-5)


def test_theme_classifier_is_deterministic_and_separates_what_it_was_fitted_on():
    import numpy as np

    rng = np.random.default_rng(0)
    centres = rng.normal(size=(3, 16))
    x = np.concatenate([c + 0.1 * rng.normal(size=(5, 16)) for c in centres])
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    labels = np.repeat(np.arange(3), 5)
    weights, bias = semantic.fit_classifier(x, labels, 3)
    again = semantic.fit_classifier(x, labels, 3)
    assert np.array_equal(weights, again[0]) and np.array_equal(bias, again[1])
    assert np.array_equal(np.argmax(x @ weights / semantic.CLASSIFIER_TEMPERATURE + bias, axis=1), labels)


def test_theme_scores_give_a_similarity_and_a_probability_per_theme(catalog):
    similarity, probability = semantic.get_semantics().theme_scores(
        "an astronaut floating between galaxies", [t.spec for t in catalog.themes.values()])
    assert set(similarity) == set(probability) == set(catalog.themes)
    assert abs(sum(probability.values()) - 1.0) < 1e-4
    assert max(probability, key=probability.get) == max(similarity, key=similarity.get) == "space"


def test_keyword_fallback_when_the_model_is_switched_off(catalog, monkeypatch):
    monkeypatch.setenv(semantic.MODEL_ENV, "off")
    semantic.reset()
    try:
        request = understand("a lullaby for my baby", {}, catalog)
        assert request.theme == "lullaby" and any("keywords only" in n for n in request.notes)
    finally:
        monkeypatch.delenv(semantic.MODEL_ENV)
        semantic.reset()


def test_a_missing_model_folder_is_reported_not_raised(catalog, monkeypatch, tmp_path):
    monkeypatch.setenv(semantic.MODEL_ENV, str(tmp_path / "nowhere"))
    semantic.reset()
    try:
        request = understand("epic battle music", {}, catalog)
        assert any("no sentence-embedding model" in n for n in request.notes)
    finally:
        monkeypatch.delenv(semantic.MODEL_ENV)
        semantic.reset()


def test_shipped_phrase_vectors_cover_every_builtin_theme(catalog):
    """Edited theme examples? Run `python -m composer.understanding.semantic` to refresh composer/understanding/embeddings/."""
    import numpy as np

    folder = semantic.model_folder()
    cache = semantic.load_phrase_cache(folder)
    phrases = [p for t in catalog.themes.values() for p in (t.description, *t.spec["examples"])]
    missing = [p for p in phrases if p not in cache]
    assert not missing, f"run `python -m composer.understanding.semantic`; missing: {missing[:3]}"
    fresh = semantic.get_semantics().encoder.encode(phrases[:5])
    assert np.all((fresh * np.stack([cache[p] for p in phrases[:5]])).sum(1) > 0.999)


def test_shipped_theme_classifier_is_the_one_a_fresh_fit_gives(catalog):
    """Edited themes? Run `python -m composer.understanding.semantic` to refit the shipped classifier."""
    import numpy as np

    specs = [t.spec for t in catalog.themes.values()]
    shipped = semantic.load_shipped_classifier()
    semantic.reset()  # a fresh index: nothing cached from other tests
    fresh = semantic.get_semantics()._theme_index(specs, shipped=False)
    assert shipped is not None and shipped[0] == fresh.digest, "run `python -m composer.understanding.semantic`"
    assert np.array_equal(shipped[1], fresh.weights) and np.array_equal(shipped[2], fresh.bias)
    semantic.reset()
    used = semantic.get_semantics()._theme_index(specs)
    assert used.digest == shipped[0] and np.array_equal(used.weights, shipped[1])
    semantic.reset()


@pytest.mark.slow
def test_random_mixtures_of_cues_and_junk_never_crash(catalog):
    """Only InvalidRequest may escape, whatever the mix of cue words, symbols and invisible characters."""
    import random
    import string

    words = ("in D minor major F# Bb flat sharp key of at 120 bpm tempo ♩= 3/4 6/8 waltz jig seconds minutes "
             "1:30 half a minute sung by a woman man piano drums no without lyrics: \" ' “ ” transpose up down "
             "semitones octave variations versions @everyone <@123> ** __ ` 🎵 \u200b \u202e \x00 \n "
             "99999999999 -5 0 0.0 1e9 nan").split(" ")
    rng = random.Random(4)
    for i in range(400):
        if i % 3 == 0:
            prompt = "".join(rng.choice(string.printable + "éü♩♯♭“”\u200b\u202e🎵") for _ in range(rng.randint(0, 60)))
        else:
            prompt = " ".join(rng.choice(words) for _ in range(rng.randint(1, 14)))
        try:
            request = understand(prompt, {}, catalog)
        except InvalidRequest:
            continue
        assert 30 <= request.tempo <= 300 and 5 <= request.length_s <= 300
