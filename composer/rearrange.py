"""A new tempo or transposition of a piece that keeps its notes: start from its stored score.

Composing the request again with its seed is not exact: a neural engine that wrote the piece
inside a batch of other requests can write a note differently alone (float rounding). So a
remix that changes only tempo, pitch or the key (same mode) takes the delivered score, moves
every pitched note by the same interval, sets the tempo, and renames the key and chords the
way the arranger names them. The plan comes from `make_plan` (deterministic from request and
seed) and must match the score's bars, sections, key and chords, or the score is not used.
"""

from __future__ import annotations

import random
from dataclasses import replace
from typing import Any

from composer.arrange import _chord_changes
from composer.catalog import Catalog
from composer.formats.description import describe
from composer.errors import InvalidRequest, ScoreDataError
from composer.formats.midi import midi_bytes
from composer.pipeline import Composition
from composer.plan import Plan, bar_count, make_plan
from composer.request import CompositionRequest
from composer.music.score import Score, transpose
from composer.sing import prepare as prepare_vocals
from composer.sing import with_syllable_plan


def keeps_notes(parent: CompositionRequest, request: CompositionRequest) -> bool:
    """True when `request` differs from `parent` only in tempo and pitch."""
    return replace(request, tempo=parent.tempo, pitch=parent.pitch) == parent


def rearrange(score: Score, parent: CompositionRequest, request: CompositionRequest, catalog: Catalog,
              engine: dict[str, Any]) -> Composition:
    """The piece `parent` made as `score`, at `request`'s tempo and pitch, with the same notes.

    `engine` is the engine manifest of the parent piece (its notes came from it). Raises
    ScoreDataError when the score does not belong to `parent`, InvalidRequest when `request`
    changes more than tempo and pitch."""
    if not keeps_notes(parent, request):
        raise InvalidRequest("only tempo and pitch can change while keeping the notes")
    plan = replace(plan_of(score, parent, catalog), request=request, tempo=request.tempo)
    shift = request.pitch - parent.pitch
    sounding = plan.key.transposed(request.pitch)
    tracks = [replace(t, notes=list(t.notes) if t.is_drums or not shift else transpose(t.notes, shift))
              for t in score.tracks]
    new = Score(tempo=request.tempo, numerator=score.numerator, denominator=score.denominator,
                key_name=sounding.name, key_sharps=sounding.sharps, total_quarters=score.total_quarters,
                tracks=tracks, title=score.title, lyrics=list(score.lyrics),
                chords=_chord_changes(plan, sounding), sections=list(score.sections))
    sung = prepare_vocals(plan, new)  # sets the words again (and keeps the line in the singer's range)
    description = describe(plan, new) + (sung.describe() if sung else "")
    return Composition(request, plan, new, midi_bytes(new), description, dict(engine), sung=sung)


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
    plan = make_plan(planning, catalog.theme(request.theme), catalog.voice(request.voice),
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
