"""A stored job is plain JSON that rebuilds the same request after a restart, remixes included."""

from __future__ import annotations

import json

from bot.jobspec import JobSpec, ReplyTo
from composer import resolve_remix, understand

REPLY = ReplyTo("interaction", channel_id=1, application_id=2, filesize_limit=8_000_000)


def _round_trip(spec: JobSpec) -> JobSpec:
    return JobSpec.from_payload(json.loads(json.dumps(spec.to_payload())))


def test_a_compose_job_comes_back_identical(catalog):
    request = understand("a happy tune in D major", {"seed": 5, "engine": "rules", "variations": 2}, catalog)
    again = _round_trip(JobSpec("compose", request, REPLY))
    assert again.request == request and again.reply == REPLY and again.request.notes == request.notes


def test_a_remix_keeps_its_resolved_request_and_its_parent(catalog):
    parent = understand("a calm tune", {"seed": 9, "engine": "rules", "voice": "piano"}, catalog)
    remix = resolve_remix(parent, {"tempo": 140, "pitch": 2}, catalog)
    again = _round_trip(JobSpec("remix", remix, REPLY, parent_id=7, parent_request=parent))
    assert (again.request, again.parent_request, again.parent_id) == (remix, parent, 7)


def test_a_custom_theme_travels_with_the_job(catalog):
    spec = json.loads(json.dumps(catalog.theme("retro").spec))
    spec.update(name="neon-rain", description="Neon synthwave in the rain.")
    request = understand("a tune", {"theme": "neon-rain", "seed": 1, "engine": "rules"}, catalog.with_theme(spec))
    again = _round_trip(JobSpec("compose", request, REPLY))
    assert again.request.theme_spec == request.theme_spec and again.request == request


def test_a_remix_stored_before_remixes_were_resolved_once_is_resolved_on_restore(catalog):
    parent = understand("a calm tune", {"seed": 9, "engine": "rules"}, catalog)
    payload = {"mode": "remix", "request": {**parent.to_manifest(), "engine": "rules"}, "reply": REPLY.to_json(),
               "parent_id": 3, "changes": {"tempo": 150}}
    again = JobSpec.from_payload(payload)
    assert again.parent_request == parent and again.request.tempo == 150 and again.request.seed == parent.seed
