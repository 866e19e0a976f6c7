"""Fingerprints of finished pieces: what must not change when the code is moved around.

A fingerprint keeps the resolved request, the description, the engine, which files came back
and, per MIDI track, a hash of its notes (tick, pitch, velocity, length) with the count beside it,
so a mismatch says which track moved. Paths and timings are left out: they change every run.
Run the fingerprint tests with MUSE_RECORD_FINGERPRINTS=1 to write the expected files anew.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
from pathlib import Path
from typing import Any

import mido

FIXTURES = Path(__file__).parent / "fixtures" / "fingerprints"


def midi_fingerprint(data: bytes) -> dict[str, Any]:
    song = mido.MidiFile(file=io.BytesIO(data))
    tracks, meta = [], []
    for track in song.tracks:
        tick, name, program, channels = 0, "", None, set()
        started: dict[tuple[int, int], tuple[int, int]] = {}
        notes: list[tuple[int, int, int, int]] = []
        lyrics: list[str] = []
        for msg in track:
            tick += msg.time
            if msg.type == "track_name":
                name = msg.name
            elif msg.type == "program_change":
                program = msg.program
            elif msg.type == "note_on" and msg.velocity > 0:
                started[(msg.channel, msg.note)] = (tick, msg.velocity)
                channels.add(msg.channel)
            elif msg.type in ("note_on", "note_off") and (msg.channel, msg.note) in started:
                on, velocity = started.pop((msg.channel, msg.note))
                notes.append((on, msg.note, velocity, tick - on))
            elif msg.type == "lyrics":
                lyrics.append(f"{tick}:{msg.text}")
            elif msg.type in ("set_tempo", "time_signature", "key_signature"):
                meta.append(str(msg.copy(time=tick)))
        if notes or lyrics:
            digest = hashlib.sha256(json.dumps(sorted(notes)).encode()).hexdigest()[:16]
            tracks.append({"name": name, "channels": sorted(channels), "program": program,
                           "notes": len(notes), "hash": digest,
                           "lyrics": hashlib.sha256("|".join(lyrics).encode()).hexdigest()[:12] if lyrics else None})
    return {"tracks": tracks, "meta": sorted(meta), "length_s": round(song.length, 3)}


def check(name: str, actual: dict[str, Any]) -> None:
    """Compare with the recorded fingerprints (or record them when asked)."""
    path = FIXTURES / f"{name}.json"
    if os.environ.get("MUSE_RECORD_FINGERPRINTS"):
        path.write_text(json.dumps(actual, indent=1, sort_keys=True, ensure_ascii=False) + "\n", encoding="utf-8")
        return
    expected = json.loads(path.read_text(encoding="utf-8"))
    assert sorted(actual) == sorted(expected)
    for case in expected:
        assert actual[case] == expected[case], f"fingerprint of {case!r} changed"
