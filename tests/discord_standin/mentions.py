"""Who a message would actually ping, following Discord's allowed_mentions rules.

Tests assert on this (``message.pings``) rather than on the raw payload, so a
prompt containing ``@everyone`` is checked against what Discord would do.
"""

from __future__ import annotations

import re
from typing import Any

USER_RE = re.compile(r'<@!?(\d+)>')
ROLE_RE = re.compile(r'<@&(\d+)>')
EVERYONE_RE = re.compile(r'@(everyone|here)\b')


def compute_pings(
    content: str,
    allowed: dict[str, Any] | None,
    *,
    replied_user_id: int | None = None,
) -> dict[str, Any]:
    """Return ``{'users': [...], 'roles': [...], 'everyone': bool}`` that would ping.

    With no ``allowed_mentions`` Discord parses everything in the content.
    """
    content = content or ''
    users_in = [int(u) for u in USER_RE.findall(content)]
    roles_in = [int(r) for r in ROLE_RE.findall(content)]
    everyone_in = bool(EVERYONE_RE.search(content))

    if allowed is None:
        users = users_in + ([replied_user_id] if replied_user_id is not None else [])
        return {'users': _unique(users), 'roles': _unique(roles_in), 'everyone': everyone_in}

    parse = set(allowed.get('parse', []))
    allowed_users = {int(u) for u in allowed.get('users', [])}
    allowed_roles = {int(r) for r in allowed.get('roles', [])}
    users = [u for u in users_in if 'users' in parse or u in allowed_users]
    roles = [r for r in roles_in if 'roles' in parse or r in allowed_roles]
    if replied_user_id is not None and allowed.get('replied_user', False):
        users.append(replied_user_id)
    return {'users': _unique(users), 'roles': _unique(roles), 'everyone': everyone_in and 'everyone' in parse}


def _unique(values: list[int]) -> list[int]:
    return list(dict.fromkeys(values))
