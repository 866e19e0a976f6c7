"""Thirty fixed `muse compose` requests give the pieces they gave before (MIDI notes and manifests)."""

from __future__ import annotations

import json
from importlib.metadata import entry_points
from pathlib import Path

import pytest

from tests.fingerprints import check, midi_fingerprint

pytestmark = pytest.mark.slow

# name → argv after `muse compose`; every request names its theme, so understanding changes don't move it
CASES: dict[str, list[str]] = {
    "birthday-male": ["happy birthday", "--theme", "birthday", "--voice", "male", "--seed", "1", "--length", "12"],
    "birthday-piano": ["happy birthday", "--theme", "birthday", "--voice", "piano", "--seed", "2024"],
    "sad-dminor": ["a sad piano piece in D minor at 70 bpm", "--theme", "sad", "--seed", "3", "--format", "midi"],
    "happy-female": ["sunshine and ice cream", "--theme", "happy", "--voice", "female", "--seed", "4",
                     "--length", "10", "--lyrics", "sunshine on my face"],
    "romantic-ogg": ["for my love", "--theme", "romantic", "--seed", "5", "--format", "ogg", "--length", "8"],
    "epic-metal": ["battle", "--theme", "epic", "--voice", "metal", "--seed", "6", "--format", "midi"],
    "chill": ["study beats", "--theme", "chill", "--seed", "7", "--format", "midi", "--length", "40"],
    "relax-wav": ["slow breathing", "--theme", "relax", "--seed", "8", "--format", "wav", "--length", "6"],
    "dance-synth": ["club night", "--theme", "dance", "--voice", "synth", "--seed", "9", "--format", "midi"],
    "rock-drums": ["garage band", "--theme", "rock", "--voice", "drums", "--seed", "10", "--format", "midi"],
    "horror": ["haunted attic", "--theme", "horror", "--seed", "11", "--format", "midi", "--meter", "3/4"],
    "adventure-ethnic": ["a sitar at dawn", "--theme", "adventure", "--voice", "ethnic", "--seed", "12",
                         "--format", "midi"],
    "lullaby-68": ["sleep now", "--theme", "lullaby", "--seed", "13", "--format", "midi", "--meter", "6/8"],
    "holiday-key": ["snow", "--theme", "holiday", "--seed", "14", "--format", "midi", "--key", "Bb major"],
    "nature-tempo": ["birds", "--theme", "nature", "--seed", "15", "--format", "midi", "--tempo", "88"],
    "space-long": ["stars", "--theme", "space", "--seed", "16", "--format", "midi", "--length", "90"],
    "retro-pitch": ["arcade", "--theme", "retro", "--seed", "17", "--format", "midi", "--pitch", "-3"],
    "jazz": ["late night cafe", "--theme", "jazz", "--seed", "18", "--format", "midi"],
    "march-24": ["parade", "--theme", "march", "--seed", "19", "--format", "midi"],
    "variations": ["happy", "--theme", "happy", "--seed", "20", "--variations", "3", "--format", "midi"],
    "variations-male": ["sing it", "--theme", "birthday", "--voice", "male", "--seed", "21", "--variations", "2",
                        "--format", "midi", "--length", "10"],
    "stems-piano": ["calm", "--theme", "relax", "--voice", "piano", "--seed", "22", "--stems", "--length", "6"],
    "stems-female": ["la la", "--theme", "happy", "--voice", "female", "--seed", "23", "--stems", "--length", "6"],
    "text": ["a jig", "--theme", "happy", "--seed", "24", "--format", "text", "--meter", "6/8"],
    "rules-engine": ["happy birthday", "--theme", "birthday", "--engine", "rules", "--seed", "25",
                     "--format", "midi"],
    "rules-male": ["row your boat", "--theme", "lullaby", "--engine", "rules", "--voice", "male", "--seed", "26",
                   "--format", "midi"],
    "words-in-prompt": ["a waltz in G major at 100 bpm, 20 seconds", "--theme", "romantic", "--seed", "27",
                        "--format", "midi"],
    "meter-54": ["odd time", "--theme", "jazz", "--seed", "28", "--format", "midi", "--meter", "5/4"],
    "short": ["tiny", "--theme", "chill", "--seed", "29", "--format", "midi", "--length", "5"],
    "minor-major-theme": ["a gloomy birthday", "--theme", "birthday", "--key", "C minor", "--seed", "30",
                          "--format", "midi"],
}


def _muse_main():
    (script,) = entry_points(group="console_scripts", name="muse")
    return script.load()


def _piece(manifest: dict, out: Path) -> dict:
    files = manifest["files"]
    midi = Path(files["midi"]).read_bytes()
    return {"request": manifest["request"], "description": manifest["description"], "engine": manifest["engine"],
            "files": sorted(files) + sorted(f"stems/{k}" for k in files.get("stems", {})),
            "midi": midi_fingerprint(midi)}


def test_thirty_cli_requests_compose_the_pieces_they_composed_before(tmp_path: Path, capsys) -> None:
    main = _muse_main()
    actual = {}
    for name, argv in CASES.items():
        out = tmp_path / name
        assert main(["compose", *argv, "-o", str(out), "--json"]) == 0, name
        manifest = json.loads(capsys.readouterr().out)
        pieces = manifest.get("variations", [manifest])
        actual[name] = [_piece(p, out) for p in pieces]
    check("cli", actual)
