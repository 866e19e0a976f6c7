"""Shared fixtures: one Composer per test session (the synth and soundfont load once)."""

from __future__ import annotations

import random

import pytest

from composer.catalog import default_catalog
from composer.melody import get_engine
from composer.pipeline import Composer
from composer.plan import make_plan
from composer.understanding.understand import understand

pytest_plugins = ["tests.discord_standin.fixtures"]


@pytest.fixture(scope="session")
def catalog():
    return default_catalog()


@pytest.fixture(scope="session")
def composer(catalog):
    return Composer(catalog)


@pytest.fixture
def make_request(catalog):
    def build(prompt: str = "happy birthday", **options):
        options.setdefault("seed", 7)
        options.setdefault("engine", "rules")
        return understand(prompt, options, catalog)
    return build


@pytest.fixture
def make_plan_for(catalog, make_request):
    def build(prompt: str = "happy birthday", **options):
        request = make_request(prompt, **options)
        return make_plan(request, catalog.theme(request.theme), catalog.voice(request.voice),
                         random.Random(request.seed))
    return build


@pytest.fixture
def rules_engine():
    return get_engine("rules")


# A throw-away PostgreSQL server (tests/pg_server.py), started only by tests that ask for it.
@pytest.fixture(scope="session")
def pg_server(tmp_path_factory):
    from tests.pg_server import PgServer, PgServerMissing

    try:
        server = PgServer()
    except PgServerMissing as exc:
        pytest.fail(str(exc), pytrace=False)
    server.start(tmp_path_factory.mktemp("pg"))
    yield server
    server.destroy()


@pytest.fixture
def pg_url(pg_server):
    """A fresh, empty database on the session's server for this test; dropped afterwards."""
    name = pg_server.new_name()
    url = pg_server.fresh_database(name)
    yield url
    pg_server.drop_database(name)
