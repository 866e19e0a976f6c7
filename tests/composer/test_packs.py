"""Operator packs (MUSE_PACKS_DIR): the example pack loads, each broken file is left out with one
clear line while the rest is served, and a pack voice's lead plays from its own soundfont."""

from __future__ import annotations

import json
import logging
import struct
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from composer.audio.render import SAMPLE_RATE, Synth
from composer.catalog import Catalog, default_catalog
from composer.catalog.packs import load_packs, scan_packs, soundfont_presets
from composer.formats.score_json import score_from_json, score_to_json
from composer.understanding.understand import understand

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "packs" / "example"
CSOUND_SF2 = "/usr/share/sounds/sf2/sf_GMbank.sf2"  # Debian's csound-soundfont (public domain), Makefile


# -- a tiny, valid SF2 written at test time: one looped square wave as preset (bank, preset) -----------
def _chunk(cid: bytes, data: bytes) -> bytes:
    return cid + struct.pack("<I", len(data)) + data + (b"\0" if len(data) % 2 else b"")


def _name(text: str) -> bytes:
    return text.encode()[:19].ljust(20, b"\0")


def tiny_sf2(path: Path, bank: int = 8, preset: int = 3, title: bytes = b"tiny test font\0\0") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    period = 100  # samples: about 441 Hz at 44.1 kHz, recorded as A4 (MIDI 69)
    wave = np.where(np.arange(period) < period // 2, 12000, -12000).astype("<i2")
    samples = np.concatenate([np.tile(wave, 20), np.zeros(46, dtype="<i2")])  # 46 zeros after a sample
    info = _chunk(b"LIST", b"INFO" + _chunk(b"ifil", struct.pack("<HH", 2, 1)) + _chunk(b"isng", b"EMU8000\0")
                  + _chunk(b"INAM", title))
    sdta = _chunk(b"LIST", b"sdta" + _chunk(b"smpl", samples.tobytes()))
    phdr = (_name("square") + struct.pack("<HHHIII", preset, bank, 0, 0, 0, 0)
            + _name("EOP") + struct.pack("<HHHIII", 0, 0, 1, 0, 0, 0))
    pbag = struct.pack("<HHHH", 0, 0, 1, 0)
    pgen = struct.pack("<HH", 41, 0) + struct.pack("<HH", 0, 0)  # instrument 0; terminal
    inst = _name("square") + struct.pack("<H", 0) + _name("EOI") + struct.pack("<H", 1)
    ibag = struct.pack("<HHHH", 0, 0, 2, 0)
    igen = struct.pack("<HH", 54, 1) + struct.pack("<HH", 53, 0) + struct.pack("<HH", 0, 0)  # loop; sample 0
    loop_end = period * 19
    shdr = (_name("square") + struct.pack("<IIIIIBbHH", 0, period * 20, period, loop_end, SAMPLE_RATE, 69, 0, 0, 1)
            + _name("EOS") + struct.pack("<IIIIIBbHH", 0, 0, 0, 0, 0, 0, 0, 0, 0))
    pdta = _chunk(b"LIST", b"pdta" + b"".join(_chunk(cid, data) for cid, data in [
        (b"phdr", phdr), (b"pbag", pbag), (b"pmod", bytes(10)), (b"pgen", pgen), (b"inst", inst),
        (b"ibag", ibag), (b"imod", bytes(10)), (b"igen", igen), (b"shdr", shdr)]))
    path.write_bytes(_chunk(b"RIFF", b"sfbk" + info + sdta + pdta))
    return path


def _voice(name: str, soundfont: dict | None = None, **extra) -> dict:
    spec = json.loads((EXAMPLE / "voices" / "music-box.json").read_text())
    spec.update(name=name, examples=[f"a {name} lead"], **extra)
    spec.pop("soundfont")
    if soundfont is not None:
        spec["soundfont"] = soundfont
    return spec


def _theme(name: str) -> dict:
    spec = json.loads((EXAMPLE / "themes" / "lofi-tape.json").read_text())
    spec.update(name=name, default_voice="piano")
    return spec


def _write(path: Path, data) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(data if isinstance(data, str) else json.dumps(data))


@pytest.fixture
def mixed_packs(tmp_path) -> Path:
    """packs/neon: two good themes and one good voice beside one broken file of each kind."""
    packs = tmp_path / "packs"
    neon = packs / "neon"
    _write(neon / "pack.json", {"name": "neon", "version": "0.1", "author": "tests", "licence": "CC0-1.0"})
    _write(neon / "themes" / "neon-night.json", _theme("neon-night"))
    _write(neon / "themes" / "broken.json", '{"schema": 1, "name": "broken",')
    _write(neon / "themes" / "happy.json", _theme("happy"))
    tiny_sf2(neon / "soundfonts" / "square.sf2")
    _write(neon / "voices" / "square.json", _voice("square", {"file": "soundfonts/square.sf2", "bank": 8, "preset": 3}))
    _write(neon / "soundfonts" / "notes.sf2", "these are my notes, not a soundfont\n")
    _write(neon / "voices" / "fake.json", _voice("fake", {"file": "soundfonts/notes.sf2", "bank": 0, "preset": 0}))
    _write(neon / "voices" / "missing.json", _voice("missing", {"file": "soundfonts/gone.sf2", "bank": 0, "preset": 0}))
    _write(neon / "voices" / "no-preset.json",
           _voice("no-preset", {"file": "soundfonts/square.sf2", "bank": 0, "preset": 0}))
    tiny_sf2(neon / "soundfonts" / "odd.sf2", title=b"odd\0\0")  # headers fine, but FluidSynth refuses it
    _write(neon / "voices" / "odd.json", _voice("odd", {"file": "soundfonts/odd.sf2", "bank": 8, "preset": 3}))
    _write(neon / "voices" / "escape.json", _voice("escape", {"file": "../../x.sf2", "bank": 0, "preset": 0}))
    _write(packs / "stray" / "themes" / "lost.json", _theme("lost"))  # a folder without pack.json
    return packs


def test_the_example_pack_loads_with_its_theme_and_voice():
    themes, voices, problems = load_packs(REPO / "packs")
    assert problems == []
    assert [t.name for t in themes] == ["lofi-tape"] and [v.name for v in voices] == ["music-box"]
    assert voices[0].spec["soundfont"] == {"file": CSOUND_SF2, "bank": 0, "preset": 10}
    (pack,) = scan_packs(REPO / "packs").packs
    assert pack.meta["licence"] and pack.presets == {"music-box": "Music Box"}


def test_each_broken_file_is_one_line_and_the_rest_is_served(mixed_packs):
    themes, voices, problems = load_packs(mixed_packs)
    assert [t.name for t in themes] == ["neon-night"]
    assert [v.name for v in voices] == ["square"]
    assert voices[0].spec["soundfont"]["file"] == str((mixed_packs / "neon/soundfonts/square.sf2").resolve())
    by_file = {line.split(":")[0]: line for line in problems}
    assert len(by_file) == len(problems) == 8, problems
    assert "not valid JSON (line 1" in by_file["packs/neon/themes/broken.json"]
    assert "theme 'happy' has the name of a theme Muse ships" in by_file["packs/neon/themes/happy.json"]
    assert ("field 'soundfont.file' names notes.sf2, which is not a SoundFont"
            in by_file["packs/neon/voices/fake.json"])
    assert "field 'soundfont.file' names" in by_file["packs/neon/voices/missing.json"]
    assert "gone.sf2, which does not exist" in by_file["packs/neon/voices/missing.json"]
    assert ("field 'soundfont.preset' names bank 0, preset 0, which square.sf2 does not have; it has 1 presets "
            "(8:3 square" in by_file["packs/neon/voices/no-preset.json"])
    assert "must stay inside the pack" in by_file["packs/neon/voices/escape.json"]
    assert "names odd.sf2, which FluidSynth cannot load it" in by_file["packs/neon/voices/odd.json"]
    assert "pack.json: missing" in by_file["packs/stray/pack.json"]
    assert all("\n" not in line for line in problems)


def test_schema_and_voice_rules_name_the_field(tmp_path):
    pack = tmp_path / "one"
    _write(pack / "pack.json", {"name": "one", "version": "1", "author": "tests", "licence": "MIT"})
    _write(pack / "voices" / "bad-bank.json", _voice("bad-bank", {"file": CSOUND_SF2, "bank": 300, "preset": 0}))
    _write(pack / "voices" / "singer.json", _voice("singer", {"file": CSOUND_SF2, "bank": 0, "preset": 0}, sings=True))
    _write(pack / "themes" / "wants-voice.json", {**_theme("wants-voice"), "default_voice": "nobody"})
    _, _, problems = load_packs(pack)  # a single pack folder works too
    assert problems[0].startswith("one/voices/bad-bank.json: field 'soundfont.bank' must be a whole number from 0 to 128")
    assert problems[1].startswith("one/voices/singer.json: field 'soundfont' is for a played lead")
    assert problems[2].startswith("one/themes/wants-voice.json: field 'default_voice' names 'nobody'")


def test_soundfont_headers_are_read_and_checked(tmp_path):
    presets = soundfont_presets(Path(CSOUND_SF2))
    assert presets[(0, 10)] == "Music Box" and presets[(128, 0)] == "Standard"
    cut = tmp_path / "cut.sf2"
    cut.write_bytes(Path(CSOUND_SF2).read_bytes()[:4096])
    with pytest.raises(Exception, match="cut short"):
        soundfont_presets(cut)


def test_default_catalog_serves_packs_and_logs_one_warning_per_rejected_file(mixed_packs, monkeypatch, caplog):
    monkeypatch.setenv("MUSE_PACKS_DIR", str(mixed_packs))
    default_catalog.cache_clear()
    try:
        with caplog.at_level(logging.WARNING, logger="composer.catalog"):
            catalog = default_catalog()
    finally:
        default_catalog.cache_clear()  # the next caller gets the shipped catalog again
    assert "neon-night" in catalog.themes and "square" in catalog.voices
    assert "broken" not in catalog.themes and "fake" not in catalog.voices
    assert catalog.themes["happy"].spec == Catalog.from_dir().themes["happy"].spec  # never replaced
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 8 and all(w.startswith("pack file rejected: packs/") for w in warnings)


def _lead_audio(track, score) -> np.ndarray:
    """The track alone, from a fresh synth: FluidSynth carries a little state from one render to the
    next (its 64-frame blocks, dither), so only a fresh synth's first render can be compared exactly."""
    synth = Synth()
    try:
        return synth.render_tracks(score, [track], score.duration_s + 1.0)
    finally:
        synth._fs.delete()


def test_a_pack_voice_plays_its_lead_from_its_own_soundfont(composer, mixed_packs):
    themes, voices, _ = load_packs(REPO / "packs")
    tiny_themes, tiny_voices, _ = load_packs(mixed_packs)
    base = Catalog.from_dir()
    catalog = Catalog([*base.themes.values(), *themes], [*base.voices.values(), *voices, *tiny_voices])
    for voice, own in (("music-box", (CSOUND_SF2, 0, 10)), ("square", (tiny_voices[0].spec["soundfont"]["file"], 8, 3))):
        request = understand("faded cassette memories", {"voice": voice, "seed": 5, "length": 6,
                                                          "engine": "rules"}, catalog)
        assert request.theme == "lofi-tape"
        (draft,) = composer.compose_scores([request], catalog=catalog)
        lead = draft.score.track("lead")
        assert lead.soundfont == own and lead.program == 10  # MIDI keeps the GM music box
        assert all(t.soundfont is None for t in draft.score.tracks if t is not lead)
        own_audio = _lead_audio(lead, draft.score)
        gm_audio = _lead_audio(replace(lead, soundfont=None), draft.score)
        assert np.array_equal(gm_audio, _lead_audio(replace(lead, soundfont=None), draft.score))  # a fair test
        assert np.sqrt(np.mean(own_audio ** 2)) > 1e-3  # audible
        assert np.max(np.abs(own_audio - gm_audio)) > 0.05  # and not the GM music box
        master = composer.render(draft)
        assert master.shape[1] == 2 and np.max(np.abs(master)) > 0.1


def test_a_soundfont_that_cannot_be_loaded_falls_back_to_the_gm_program(composer, make_request, tmp_path):
    (draft,) = composer.compose_scores([make_request("happy birthday", voice="piano", length=5)])
    lead = draft.score.track("lead")
    gm = _lead_audio(lead, draft.score)
    for own in ((str(tmp_path / "gone.sf2"), 0, 0), (CSOUND_SF2, 77, 77)):
        assert np.array_equal(_lead_audio(replace(lead, soundfont=own), draft.score), gm)


def test_score_json_keeps_a_tracks_soundfont_and_leaves_other_scores_as_they_were(composer, make_request):
    (draft,) = composer.compose_scores([make_request("happy birthday", voice="piano", length=5)])
    plain = score_to_json(draft.score)
    assert b"soundfont" not in plain and score_to_json(score_from_json(plain)) == plain
    draft.score.track("lead").soundfont = (CSOUND_SF2, 0, 10)
    data = score_to_json(draft.score)
    back = score_from_json(data)
    assert back.track("lead").soundfont == (CSOUND_SF2, 0, 10) and back.track("bass").soundfont is None
    assert score_to_json(back) == data
    with pytest.raises(Exception, match="soundfont of track 'lead'"):
        score_from_json(data.replace(b'"soundfont":["', b'"soundfont":[1,"'))


def test_pack_files_in_the_repo_are_small():
    assert all(p.stat().st_size < 1_000_000 for p in (REPO / "packs").rglob("*") if p.is_file())
