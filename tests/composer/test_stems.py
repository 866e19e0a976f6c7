"""`--stems` on an instrumental voice: the melody instrument and the band as two WAVs that add up
to the master (sung pieces are covered in tests/composer/sing/test_sing_audio.py)."""

import numpy as np
import pytest

from composer.audio.encode import read_audio
from composer.understanding.understand import understand
from tests.pieces import written


@pytest.mark.parametrize("voice", ["piano", "metal"])
def test_instrumental_stems_are_the_lead_and_the_band_and_add_up_to_the_master(composer, catalog, tmp_path, voice):
    request = understand("a happy tune", {"voice": voice, "seed": 3, "length": 6, "format": "wav", "stems": True},
                         catalog)
    (piece,) = composer.compose(request)
    files = written(piece, tmp_path)
    stems = files["stems"]
    assert set(stems) == {"vocals", "accompaniment"}
    lead, rate = read_audio(files["stems"]["vocals"])
    band, _ = read_audio(files["stems"]["accompaniment"])
    master, _ = read_audio(files["audio"])
    assert rate == 44100
    n = min(len(lead), len(band), len(master))
    assert np.corrcoef((lead[:n] + band[:n]).ravel(), master[:n].ravel())[0, 1] > 0.98
    assert np.sqrt(np.mean(lead ** 2)) > 0.01 and np.sqrt(np.mean(band ** 2)) > 0.01
    assert np.max(np.abs(lead)) < 1.0 and np.max(np.abs(band)) < 1.0


def test_no_stems_unless_asked(composer, catalog, tmp_path):
    request = understand("a happy tune", {"voice": "piano", "seed": 3, "length": 6, "format": "wav"}, catalog)
    (piece,) = composer.compose(request)
    assert "stems" not in piece.write(tmp_path) and not piece.stems and not list(tmp_path.glob("*-vocals.wav"))
