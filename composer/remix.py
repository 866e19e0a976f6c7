"""Remixes, in one place: how a change is resolved, whether it keeps the notes, and the piece it makes.

Tempo, pitch and a key of the same mode keep the piece's notes: the delivered score is re-timed
or transposed, because composing the request again is not exact (a neural engine that wrote the
piece inside a batch can write a note differently alone). When the score is missing or unusable,
the parent is composed again with its own seed and re-timed. A new theme, voice or mode needs a
new arrangement, so the request goes back through `understand` with the same seed.
"""

from __future__ import annotations

import logging
import random
from dataclasses import replace
from typing import Any

from composer.arrange import _chord_changes
from composer.catalog import Catalog
from composer.errors import InvalidRequest, MuseError, ScoreDataError
from composer.formats.description import describe
from composer.formats.midi import midi_bytes
from composer.formats.score_json import score_from_json
from composer.music.score import Score, transpose
from composer.options import REMIX_OPTIONS, only_options
from composer.piece import Draft
from composer.pipeline import draft_of
from composer.plan import Plan, bar_count, make_plan
from composer.request import CompositionRequest, parse_int, parse_key, validate
from composer.sing import with_syllable_plan
from composer.understanding.understand import understand

log = logging.getLogger(__name__)


def resolve_remix(parent: CompositionRequest, changes: dict[str, Any], catalog: Catalog) -> CompositionRequest:
    """The remix's own request (what history stores). Bad values raise the usual InvalidRequest."""
    changes = {k: v for k, v in only_options(changes).items() if k in REMIX_OPTIONS}
    if not changes:
        raise InvalidRequest(f"say what to change: {', '.join(REMIX_OPTIONS)}")
    key = parse_key(changes["key"]) if "key" in changes else parent.key
    # a new key is the key the member will hear, so the old transposition no longer applies;
    # a pitch given with it transposes from there
    pitch_option = changes.get("pitch", 0 if "key" in changes else parent.pitch)
    rearranged = any(n in changes and str(changes[n]).lower() != getattr(parent, n) for n in ("voice", "theme"))
    if rearranged or key.mode != parent.key.mode:
        if parent.theme_spec is not None:  # the member's own theme, as the parent used it
            catalog = catalog.with_theme(parent.theme_spec)
        options = {"theme": changes.get("theme", parent.theme), "voice": changes.get("voice", parent.voice),
                   "tempo": changes.get("tempo", parent.tempo), "key": key.name, "meter": str(parent.meter),
                   "length": parent.length_s, "pitch": pitch_option, "seed": parent.seed,
                   "format": parent.format, "engine": parent.engine}
        if parent.lyrics and catalog.voice(str(options["voice"]).lower()).sings:
            options["lyrics"] = parent.lyrics
        return understand(parent.prompt, options, catalog)
    pitch = parse_int("pitch", pitch_option)
    pitch += ((key.tonic - parent.key.tonic + 6) % 12) - 6  # same mode, new tonic: the nearest transposition
    tempo = parse_int("tempo", changes["tempo"]) if "tempo" in changes else parent.tempo
    return validate(replace(parent, pitch=pitch, tempo=tempo))


def keeps_notes(parent: CompositionRequest, request: CompositionRequest) -> bool:
    """True when `request` differs from `parent` only in tempo and pitch."""
    return replace(request, tempo=parent.tempo, pitch=parent.pitch) == parent


def remix_draft(compose, catalog: Catalog, parent: CompositionRequest, request: CompositionRequest,
                stored_score: bytes | None, engine: dict[str, Any] | None) -> Draft:
    """The remix of `parent` as `request`. `compose` composes a list of requests into drafts;
    `stored_score` is the parent's score JSON and `engine` the engine manifest that wrote it."""
    if not keeps_notes(parent, request):
        (draft,) = compose([request])
        return draft
    if stored_score is not None and engine is not None:
        try:
            return rearrange(score_from_json(stored_score), parent, request, catalog, engine)
        except MuseError as exc:
            log.warning("remix: stored score unusable (%s), composing the parent again with its seed", exc)
    (draft,) = compose([replace(request, tempo=parent.tempo)])
    return retime(draft, request.tempo)


def rearrange(score: Score, parent: CompositionRequest, request: CompositionRequest, catalog: Catalog,
              engine: dict[str, Any]) -> Draft:
    """The piece `parent` made as `score`, at `request`'s tempo and pitch, with the same notes.

    Raises ScoreDataError when the score does not belong to `parent`, InvalidRequest when
    `request` changes more than tempo and pitch."""
    if not keeps_notes(parent, request):
        raise InvalidRequest("only tempo and pitch can change while keeping the notes")
    plan = replace(plan_of(score, parent, catalog), request=request)
    shift = request.pitch - parent.pitch
    sounding = plan.key.transposed(request.pitch)
    tracks = [replace(t, notes=list(t.notes) if t.is_drums or not shift else transpose(t.notes, shift))
              for t in score.tracks]
    new = Score(tempo=request.tempo, numerator=score.numerator, denominator=score.denominator,
                key_name=sounding.name, key_sharps=sounding.sharps, total_quarters=score.total_quarters,
                tracks=tracks, title=score.title, lyrics=list(score.lyrics),
                chords=_chord_changes(plan, sounding), sections=list(score.sections))
    return draft_of(request, plan, new, engine)  # sets the words again, in the singer's range


def retime(draft: Draft, tempo: int) -> Draft:
    """The same notes at another tempo (the score and the sung line are in quarter notes)."""
    if tempo == draft.request.tempo:
        return draft
    request = replace(draft.request, tempo=tempo)
    plan = replace(draft.plan, request=request)
    score = replace(draft.score, tempo=tempo)
    sung = draft.sung
    description = describe(plan, score) + (sung.describe() if sung else "")
    return Draft(request, plan, score, midi_bytes(score), description, draft.engine, sung, draft.compose_s)


def plan_of(score: Score, request: CompositionRequest, catalog: Catalog) -> Plan:
    """The plan `score` was arranged from, rebuilt from its request and seed and checked against it.

    A remix keeps the parent's bars while its request keeps the original length in seconds,
    so after a tempo change the length is taken from the score's bars, not from the request."""
    if request.seed is None:
        raise ScoreDataError("the piece has no seed, so its plan cannot be rebuilt")
    meter = request.meter
    if (score.numerator, score.denominator) != (meter.numerator, meter.denominator):
        raise ScoreDataError(f"stored score is in {score.numerator}/{score.denominator}, its request in {meter}")
    bars = round(score.total_quarters / meter.bar_quarters)
    planning = request
    if bar_count(request) != bars:
        planning = replace(request, length_s=bars * meter.bar_quarters * 60.0 / request.tempo)
    plan = make_plan(planning, catalog.theme_of(request), catalog.voice(request.voice),
                     random.Random(request.seed))
    plan = with_syllable_plan(replace(plan, request=request))  # as the composer planned it: words included
    sounding = plan.key.transposed(request.pitch)
    sections = [(s.start_bar * plan.bar_quarters, s.name) for s in plan.sections]
    mismatch = ("bars" if plan.total_quarters != score.total_quarters
                else "sections" if sections != list(score.sections)
                else "key" if sounding.name != score.key_name
                else "chords" if _chord_changes(plan, sounding) != list(score.chords)
                else None)
    if mismatch:
        raise ScoreDataError(f"stored score does not match its request's plan ({mismatch} differ)")
    return plan
