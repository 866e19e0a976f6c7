"""How a /remix becomes composer calls: which changes keep the notes and which compose anew.

Tempo, pitch and a key of the same mode keep the piece's notes: the worker takes the parent's
stored score and re-times or transposes it (`composer.rearrange`), so the remix has exactly the
notes that were delivered. Pieces stored before scores were kept (or whose score is gone) are
composed again with their own seed and then re-timed, which can differ in a rare note when a
neural engine wrote the parent inside a batch. A new theme, voice or mode needs a new
arrangement, so the request goes back through `understand` with the same seed.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from composer.catalog import Catalog
from composer.formats.description import describe
from composer.formats.midi import midi_bytes
from composer.pipeline import Composition
from composer.request import CompositionRequest, parse_int, parse_key, validate
from composer.understanding.understand import understand

REMIX_OPTIONS = ("tempo", "pitch", "key", "voice", "theme")


@dataclass(frozen=True)
class Remix:
    """What a remix asks for. When it keeps the notes, `request` is the parent's with the new
    pitch and `tempo` is applied afterwards; otherwise `request` is composed as it is."""

    request: CompositionRequest
    tempo: int | None
    keeps_notes: bool

    @property
    def final_request(self) -> CompositionRequest:
        """The remix's own request (what history stores and a later remix starts from)."""
        return self.request if self.tempo is None else replace(self.request, tempo=self.tempo)


def remix_of(base: CompositionRequest, changes: dict[str, Any], catalog: Catalog) -> Remix:
    """Decide how to make the remix; bad values raise the usual InvalidRequest."""
    changes = {k: v for k, v in changes.items() if k in REMIX_OPTIONS and v not in (None, "")}
    key = parse_key(changes["key"]) if "key" in changes else base.key
    # a new key is the key the member will hear (the card shows the sounding key), so the piece's
    # old transposition no longer applies; a pitch given with it transposes from there
    pitch_option = changes.get("pitch", 0 if "key" in changes else base.pitch)
    recompose = any(n in changes and str(changes[n]).lower() != getattr(base, n) for n in ("voice", "theme"))
    if recompose or key.mode != base.key.mode:
        options = {"theme": changes.get("theme", base.theme), "voice": changes.get("voice", base.voice),
                   "tempo": changes.get("tempo", base.tempo), "key": key.name, "meter": str(base.meter),
                   "length": base.length_s, "pitch": pitch_option, "seed": base.seed,
                   "format": base.format, "engine": base.engine}
        if base.lyrics and catalog.voice(str(options["voice"]).lower()).sings:
            options["lyrics"] = base.lyrics
        return Remix(understand(base.prompt, options, catalog), None, keeps_notes=False)
    pitch = parse_int("pitch", pitch_option)
    pitch += ((key.tonic - base.key.tonic + 6) % 12) - 6  # same mode, new tonic: the nearest transposition
    request = validate(replace(base, pitch=pitch))
    tempo = parse_int("tempo", changes["tempo"]) if "tempo" in changes else None
    if tempo is not None:
        validate(replace(base, tempo=tempo))  # range check with the usual message
    return Remix(request, tempo, keeps_notes=True)


def retime(composition: Composition, tempo: int) -> Composition:
    """The same notes at another tempo (the score is in quarter notes, so only the tempo moves).
    The sung line is in quarters too, so a singer still sings it."""
    request = replace(composition.request, tempo=tempo)
    plan = replace(composition.plan, tempo=tempo, request=request)
    score = replace(composition.score, tempo=tempo)
    sung = composition.sung
    description = describe(plan, score) + (sung.describe() if sung else "")
    return Composition(request, plan, score, midi_bytes(score), description, composition.engine, sung=sung)
