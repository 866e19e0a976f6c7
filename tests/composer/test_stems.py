"""`--stems` on an instrumental voice: the melody instrument and the band as two WAVs that add up
to the master (sung pieces are covered in tests/composer/sing/test_sing_audio.py)."""

import numpy as np
import pytest

from composer.audio.encode import read_audio
from composer.understanding.understand import understand


@pytest.mark.parametrize("voice", ["piano", "metal"])
def test_instrumental_stems_are_the_lead_and_the_band_and_add_up_to_the_master(composer, catalog, tmp_path, voice):
    request = understand("a happy tune", {"voice": voice, "seed": 3, "length": 6, "format": "wav", "stems": True},
                         catalog)
    (piece,) = composer.compose(request, tmp_path)
    stems = piece.to_manifest()["files"]["stems"]
    assert set(stems) == {"vocals", "accompaniment"}
    lead, rate = read_audio(piece.files["stems"]["vocals"])
    band, _ = read_audio(piece.files["stems"]["accompaniment"])
    master, _ = read_audio(piece.files["audio"])
    assert rate == 44100
    n = min(len(lead), len(band), len(master))
    assert np.corrcoef((lead[:n] + band[:n]).ravel(), master[:n].ravel())[0, 1] > 0.98
    assert np.sqrt(np.mean(lead ** 2)) > 0.01 and np.sqrt(np.mean(band ** 2)) > 0.01
    assert np.max(np.abs(lead)) < 1.0 and np.max(np.abs(band)) < 1.0


def test_no_stems_unless_asked(composer, catalog, tmp_path):
    request = understand("a happy tune", {"voice": "piano", "seed": 3, "length": 6, "format": "wav"}, catalog)
    (piece,) = composer.compose(request, tmp_path)
    assert "stems" not in piece.to_manifest()["files"] and not list(tmp_path.glob("*-vocals.wav"))
