"""Shared pieces of the composer tier's tests: a stand-in for the tier that composes in process."""

from __future__ import annotations

import asyncio
import importlib.util
from typing import Any

import pytest

if importlib.util.find_spec("ray") is None:  # without the scaleout extra there is no tier to test
    collect_ignore_glob = ["test_*.py"]

from composer import Composer


class LocalTier:
    """RemoteComposer's interface over an in-process Composer; `failures` are raised first, one a call."""

    def __init__(self, composer: Composer, failures: list[BaseException] | None = None):
        self.composer = composer
        self.failures = list(failures or [])
        self.calls: list[tuple[str, Any]] = []
        self.closed = False

    def _call(self, name: str, job: Any) -> None:
        self.calls.append((name, job))
        if self.failures:
            raise self.failures.pop(0)

    async def compose_scores(self, requests, job_ids=None):
        self._call("compose", job_ids)
        return await asyncio.to_thread(self.composer.compose_scores, list(requests))

    async def finish(self, draft, limit_bytes, job_id=None):
        self._call("finish", job_id)
        return await asyncio.to_thread(self.composer.finish, draft, size_limit_bytes=limit_bytes)

    async def remix(self, parent_request, request, stored_score, engine, job_id=None):
        self._call("remix", job_id)
        return await asyncio.to_thread(self.composer.remix, parent_request, request, stored_score, engine)

    async def close(self):
        self.closed = True


@pytest.fixture
def local_tier(composer):
    return lambda failures=None: LocalTier(composer, failures)
