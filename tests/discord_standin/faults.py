"""Faults a test asks for: answer chosen requests with 429, 5xx or any error.

A rule matches by route name (see ``rest.ROUTE_NAMES``), optionally by
interaction, and fires ``times`` times. 429s carry the ``Via`` header and a
JSON ``retry_after``, without which discord.py would not retry.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from aiohttp import web

JSON = {'Content-Type': 'application/json'}


def json_response(data: object, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    """A JSON response whose Content-Type is exactly ``application/json`` (discord.py parses nothing else)."""
    return web.Response(body=json.dumps(data).encode(), status=status, headers={**JSON, **(headers or {})})


def error_response(status: int, code: int, message: str, headers: dict[str, str] | None = None) -> web.Response:
    return json_response({'message': message, 'code': code}, status, headers)


@dataclass
class Fault:
    route: str
    status: int
    times: int = 1
    retry_after: float = 0.05
    code: int = 0
    message: str = ''
    interaction_id: int | None = None
    hits: int = 0

    def matches(self, route: str, interaction_id: int | None) -> bool:
        if self.hits >= self.times or route != self.route:
            return False
        return self.interaction_id is None or self.interaction_id == interaction_id

    def response(self) -> web.Response:
        self.hits += 1
        if self.status == 429:
            body = {'message': 'You are being rate limited.', 'retry_after': self.retry_after, 'global': False}
            headers = {'Via': '1.1 google', 'Retry-After': str(self.retry_after), 'X-RateLimit-Scope': 'user'}
            return json_response(body, 429, headers)
        return error_response(self.status, self.code, self.message or f'{self.status}: stand-in fault')


class Faults:
    def __init__(self) -> None:
        self.rules: list[Fault] = []

    def add(self, fault: Fault) -> Fault:
        self.rules.append(fault)
        return fault

    def take(self, route: str, interaction_id: int | None) -> Fault | None:
        return next((f for f in self.rules if f.matches(route, interaction_id)), None)
