"""How a /remix becomes composer calls: which changes keep the notes and which compose anew.

Tempo, pitch and a key of the same mode keep the piece's notes: the stored request is
composed again with its own seed (same request and seed give the same notes) and then
re-timed or transposed before rendering. A new theme, voice or mode needs a new
arrangement, so the request goes back through `understand` with the same seed.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from composer.catalog import Catalog
from composer.describe import describe
from composer.midi import midi_bytes
from composer.pipeline import Composition
from composer.request import CompositionRequest, parse_int, parse_key, validate
from composer.understand import understand

REMIX_OPTIONS = ("tempo", "pitch", "key", "voice", "theme")


def plan_remix(base: CompositionRequest, changes: dict[str, Any],
               catalog: Catalog) -> tuple[CompositionRequest, int | None]:
    """Return (request to compose, tempo to apply afterwards or None)."""
    changes = {k: v for k, v in changes.items() if k in REMIX_OPTIONS and v not in (None, "")}
    key = parse_key(changes["key"]) if "key" in changes else base.key
    recompose = any(n in changes and str(changes[n]).lower() != getattr(base, n) for n in ("voice", "theme"))
    if recompose or key.mode != base.key.mode:
        options = {"theme": changes.get("theme", base.theme), "voice": changes.get("voice", base.voice),
                   "tempo": changes.get("tempo", base.tempo), "key": key.name, "meter": str(base.meter),
                   "length": base.length_s, "pitch": changes.get("pitch", base.pitch), "seed": base.seed,
                   "format": base.format, "engine": base.engine}
        if base.lyrics and catalog.voice(str(options["voice"]).lower()).sings:
            options["lyrics"] = base.lyrics
        return understand(base.prompt, options, catalog), None
    pitch = parse_int("pitch", changes.get("pitch", base.pitch))
    pitch += ((key.tonic - base.key.tonic + 6) % 12) - 6  # same mode, new tonic: the nearest transposition
    request = validate(replace(base, pitch=pitch))
    tempo = parse_int("tempo", changes["tempo"]) if "tempo" in changes else None
    if tempo is not None:
        validate(replace(base, tempo=tempo))  # range check with the usual message
    return request, tempo


def retime(composition: Composition, tempo: int) -> Composition:
    """The same notes at another tempo (the score is in quarter notes, so only the tempo moves)."""
    request = replace(composition.request, tempo=tempo)
    plan = replace(composition.plan, tempo=tempo, request=request)
    score = replace(composition.score, tempo=tempo)
    return Composition(request, plan, score, midi_bytes(score), describe(plan, score), composition.engine)
