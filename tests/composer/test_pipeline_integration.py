"""The whole pipeline into real files: MIDI, audio, picture and text, checked by independent readers."""

import io
import json

import mido
import numpy as np
import pretty_midi
import pytest
from PIL import Image

from evaluation.analysis import load_midi
from tests.pieces import written
from composer.audio.encode import read_audio
from composer.music.theory import Key


@pytest.mark.parametrize("prompt,options", [
    ("happy birthday", {"voice": "male", "key": "F major", "tempo": 120, "meter": "3/4", "length": 30, "format": "mp3"}),
    ("a sad piano piece", {"key": "D minor", "tempo": 70, "length": 20, "format": "ogg"}),
    ("happy", {"voice": "metal", "tempo": 140, "meter": "4/4", "length": 15, "format": "wav"}),
])
def test_compose_writes_every_file_and_they_agree(composer, make_request, tmp_path, prompt, options):
    request = make_request(prompt, **options)
    (result,) = composer.compose(request)
    files = written(result, tmp_path)
    assert set(files) == {"midi", "audio", "image", "text"}
    assert files["audio"].suffix == "." + options["format"]

    data = files["midi"].read_bytes()
    pm = pretty_midi.PrettyMIDI(io.BytesIO(data))
    mido.MidiFile(files["midi"])  # a second, independent parser
    assert pm.get_tempo_changes()[1][0] == pytest.approx(request.tempo, abs=0.01)
    ts = pm.time_signature_changes[0]
    assert (ts.numerator, ts.denominator) == (request.meter.numerator, request.meter.denominator)
    key = Key.parse(options["key"]) if "key" in options else request.key
    assert pm.key_signature_changes[0].key_number == key.tonic + (12 if key.mode == "minor" else 0)
    info = load_midi(data)
    bar_s = request.meter.bar_quarters * 60 / request.tempo
    assert abs(info.length_s - request.length_s) <= bar_s

    audio, rate = read_audio(files["audio"])
    assert rate == 44100 and audio.shape[1] == 2
    assert abs(len(audio) / rate - info.length_s) <= 1.5
    rms = float(np.sqrt(np.mean(audio ** 2)))
    assert rms > 0.02, "silent"
    assert float(np.max(np.abs(audio))) < 0.999, "clipping"

    with Image.open(files["image"]) as image:
        image.verify()
    with Image.open(files["image"]) as image:
        assert image.format == "PNG" and image.size == (1600, 720)
    text = files["text"].read_text()
    assert result.description in text and f"seed: {request.seed}" in text

    manifest = json.loads(json.dumps(result.to_manifest(result.write(tmp_path))))
    assert manifest["request"]["seed"] == request.seed
    assert manifest["engine"]["name"] == "rules"
    assert set(manifest["timings_s"]) >= {"understand", "compose", "render", "encode", "total"}


def test_variations_get_consecutive_seeds_and_distinct_music(composer, make_request, tmp_path):
    results = composer.compose(make_request("happy", variations=3, seed=100, length=8, format="midi"))
    assert [r.request.seed for r in results] == [100, 101, 102]
    assert len({r.artifacts["midi"] for r in results}) == 3
    assert all("audio" not in r.artifacts for r in results)


def test_no_seed_draws_one_and_reports_it(composer, catalog, tmp_path):
    from composer.understanding.understand import understand

    request = understand("happy", {"length": 6, "format": "midi", "engine": "rules"}, catalog)
    assert request.seed is None
    (result,) = composer.compose(request)
    assert isinstance(result.request.seed, int) and str(result.request.seed) in written(result, tmp_path)["midi"].name
