"""The 18 themes × 7 voices: every pair composes, themes are measurably distinct, voices sound different."""

import itertools
import random

import numpy as np
import pytest

from evaluation.analysis import chord_tone_ratio, ends_on_tonic, load_midi, same_pitch_overlaps, scale_consistency
from composer.arrange import arrange
from evaluation.themes import compose_theme_pieces, feature_matrix, loo_nearest_centroid
from evaluation.voices import voice_centroids
from composer.formats.midi import midi_bytes
from composer.plan import make_plan
from composer.understanding.understand import understand

THEMES = ["birthday", "happy", "sad", "romantic", "epic", "chill", "relax", "dance", "rock", "horror",
          "adventure", "lullaby", "holiday", "nature", "space", "retro", "jazz", "march"]
VOICES = ["female", "male", "metal", "ethnic", "synth", "piano", "drums"]


def compose_midi(catalog, rules_engine, theme, voice, seed=1, length=10, prompt=None):
    request = understand(prompt or f"a {theme} piece", {"theme": theme, "voice": voice, "seed": seed,
                                                        "length": length, "engine": "rules"}, catalog)
    plan = make_plan(request, catalog.theme(theme), catalog.voice(voice), random.Random(seed))
    score = arrange(plan, rules_engine.write([plan], [seed])[0], seed)
    return request, plan, score, load_midi(midi_bytes(score))


def test_the_catalog_has_exactly_the_contract_names(catalog):
    assert sorted(catalog.themes) == sorted(THEMES)
    assert sorted(catalog.voices) == sorted(VOICES)


@pytest.mark.parametrize("theme,voice", list(itertools.product(THEMES, VOICES)))
def test_every_theme_and_voice_pair_composes(catalog, rules_engine, theme, voice):
    request, plan, score, info = compose_midi(catalog, rules_engine, theme, voice)
    lead = info.melody
    assert lead is not None and lead.notes
    assert lead.program in {i["program"] for i in catalog.voice(voice).spec["lead"]["instruments"]}
    assert ends_on_tonic(info, request.key)
    assert all(same_pitch_overlaps(t.notes) == 0 for t in info.tracks)
    if voice == "drums":
        drums = sum(len(t.notes) for t in info.tracks if t.is_drums)
        assert drums / sum(len(t.notes) for t in info.tracks) >= 0.5
    if voice == "metal":
        programs = {t.program for t in info.tracks}
        kept = catalog.theme(theme).spec["instruments"].get("keep", [])
        assert 30 in programs and (29 in programs or "harmony" in kept)  # distorted lead and rhythm guitar
        assert any(t.is_drums for t in info.tracks)


@pytest.mark.slow
@pytest.mark.parametrize("theme", THEMES)
def test_every_theme_renders_real_audio(composer, catalog, theme):
    voice = VOICES[THEMES.index(theme) % len(VOICES)]
    request = understand(f"a {theme} piece", {"theme": theme, "voice": voice, "seed": 2, "length": 6,
                                              "engine": "rules"}, catalog)
    (composition,) = composer.compose_scores([request])
    audio = composer.render(composition)
    assert float(np.sqrt(np.mean(audio ** 2))) > 0.02
    assert float(np.max(np.abs(audio))) < 10 ** (-1 / 20)


@pytest.mark.parametrize("theme", THEMES)
def test_musicality_on_every_theme(catalog, rules_engine, theme):
    for seed in range(3):
        request, plan, score, info = compose_midi(catalog, rules_engine, theme, "piano", seed=seed, length=30)
        assert scale_consistency(info.melody.notes) >= 0.95
        assert chord_tone_ratio(info) >= 0.8
        assert ends_on_tonic(info, request.key)


@pytest.mark.slow
def test_themes_are_told_apart_by_a_nearest_centroid_classifier(catalog):
    infos, labels = compose_theme_pieces(catalog, seeds_per_theme=5, length_s=20)
    accuracy, confusion = loo_nearest_centroid(feature_matrix(infos), labels)
    assert accuracy >= 0.9, confusion


def test_theme_character(catalog, rules_engine):
    _, plan, score, info = compose_midi(catalog, rules_engine, "jazz", "piano", length=20)
    offbeats = [n.start % 1 for t in info.tracks for n in t.notes if 0.3 < n.start % 1 < 0.8]
    assert np.mean(offbeats) > 0.6  # swung eighths
    assert any(len(c.intervals) > 3 for s in plan.sections for c in s.chords)  # extended chords
    bass = info.track("bass").notes
    assert len(bass) / plan.bars >= 3.5  # walking quarter notes
    _, plan, _, info = compose_midi(catalog, rules_engine, "dance", "synth", length=20)
    assert 118 <= info.tempo_bpm <= 130
    kicks = {round(n.start, 2) for t in info.tracks if t.is_drums for n in t.notes if n.pitch == 36}
    assert all(float(b) in kicks for b in range(4, int(plan.total_quarters) - 4))  # four on the floor
    _, plan, _, info = compose_midi(catalog, rules_engine, "march", "piano", length=20)
    assert info.meter in ((2, 4), (4, 4)) and {56, 58, 61} & {t.program for t in info.tracks}
    snares = [n for t in info.tracks if t.is_drums for n in t.notes if n.pitch == 38]
    assert len(snares) / plan.bars >= 4
    _, plan, _, info = compose_midi(catalog, rules_engine, "retro", "synth", length=20)
    assert 80 in {t.program for t in info.tracks}
    _, plan, _, info = compose_midi(catalog, rules_engine, "horror", "piano", length=30)
    assert plan.key.mode == "minor"
    assert any(c.intervals[:3] == (0, 3, 6) for s in plan.sections for c in s.chords)  # diminished
    _, plan, _, info = compose_midi(catalog, rules_engine, "lullaby", "piano", length=20)
    assert str(plan.meter) in ("3/4", "6/8")
    assert np.mean([n.velocity for n in info.pitched]) < 70


@pytest.mark.slow
def test_voice_timbres_differ_in_the_audio(composer):
    for theme in ("happy", "sad"):
        centroids = {v: mix for v, (mix, _) in voice_centroids(composer, ["piano", "synth", "metal", "drums"],
                                                               theme=theme, length_s=8).items()}
        for a, b in itertools.combinations(centroids, 2):
            assert abs(centroids[a] - centroids[b]) / min(centroids[a], centroids[b]) >= 0.08, centroids
