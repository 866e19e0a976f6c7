"""Build interaction payloads the way the Discord client does.

A slash command is typed against the command the bot registered (so option
types, subcommands and ``guild_id`` come out right); by default values are
checked the way the Discord client checks them before sending (required
options, choices, ranges, lengths), because a real member cannot send what the
client refuses.
"""

from __future__ import annotations

from typing import Any

from .models import Attachment, Member, User

STRING, INTEGER, BOOLEAN, USER, CHANNEL, ROLE, MENTIONABLE, NUMBER, ATTACHMENT = 3, 4, 5, 6, 7, 8, 9, 10, 11


class InvalidOptions(ValueError):
    """The Discord client would not let a member send this."""


def command_data(
    command: dict[str, Any],
    path: list[str],
    options: dict[str, Any],
    *,
    focused: str | None = None,
    validate: bool = True,
    resolve: Any = None,
) -> dict[str, Any]:
    """``data`` of an APPLICATION_COMMAND (or AUTOCOMPLETE when ``focused``) interaction."""
    schema, nesting = command, []
    for name in path:
        sub = next((o for o in schema.get('options') or [] if o.get('type') in (1, 2) and o['name'] == name), None)
        if sub is None:
            raise InvalidOptions(f'/{command["name"]} has no subcommand {name!r}')
        nesting.append(sub)
        schema = sub
    if any(o.get('type') in (1, 2) for o in schema.get('options') or []):
        raise InvalidOptions(f'/{" ".join([command["name"], *path])} needs a subcommand')

    resolved: dict[str, dict[str, Any]] = {}
    leaf = [_option(schema, name, value, focused == name, validate, resolved, resolve) for name, value in options.items()]
    if validate and focused is None:
        missing = [o['name'] for o in schema.get('options') or [] if o.get('required') and o['name'] not in options]
        if missing:
            raise InvalidOptions(f'missing required option(s): {", ".join(missing)}')

    for sub in reversed(nesting):
        leaf = [{'name': sub['name'], 'type': sub['type'], 'options': leaf}]
    data: dict[str, Any] = {'id': command['id'], 'name': command['name'], 'type': 1, 'options': leaf}
    if command.get('guild_id'):
        data['guild_id'] = command['guild_id']
    if resolved:
        data['resolved'] = resolved
    return data


def _option(schema: dict[str, Any], name: str, value: Any, focused: bool, validate: bool,
            resolved: dict[str, dict[str, Any]], resolve: Any) -> dict[str, Any]:
    spec = next((o for o in schema.get('options') or [] if o['name'] == name), None)
    if spec is None:
        raise InvalidOptions(f'/{schema["name"]} has no option {name!r}')
    kind = spec['type']
    if focused:
        return {'name': name, 'type': kind, 'value': str(value), 'focused': True}
    if kind in (USER, CHANNEL, ROLE, MENTIONABLE, ATTACHMENT):
        value = _resolve(kind, value, resolved, resolve)
    elif validate:
        _check(spec, value)
    return {'name': name, 'type': kind, 'value': value}


def _check(spec: dict[str, Any], value: Any) -> None:
    kind, name = spec['type'], spec['name']
    expected = {STRING: str, INTEGER: int, BOOLEAN: bool, NUMBER: (int, float)}.get(kind)
    if expected and (not isinstance(value, expected) or (kind in (INTEGER, NUMBER) and isinstance(value, bool))):
        raise InvalidOptions(f'option {name}: {value!r} is not a valid {expected}')
    choices = spec.get('choices')
    if choices and value not in [c['value'] for c in choices]:
        raise InvalidOptions(f'option {name}: {value!r} is not one of the choices')
    if 'min_value' in spec and value < spec['min_value'] or 'max_value' in spec and value > spec['max_value']:
        raise InvalidOptions(f'option {name}: {value!r} outside {spec.get("min_value")}..{spec.get("max_value")}')
    if kind == STRING and not spec.get('min_length', 0) <= len(value) <= spec.get('max_length', 6000):
        raise InvalidOptions(f'option {name}: length {len(value)} outside {spec.get("min_length", 0)}..{spec.get("max_length", 6000)}')


def _resolve(kind: int, value: Any, resolved: dict[str, dict[str, Any]], resolve: Any) -> str:
    """Put users, members, channels and attachments into ``resolved`` and return the id."""
    if isinstance(value, Attachment):
        resolved.setdefault('attachments', {})[str(value.id)] = value.payload()
        return str(value.id)
    if isinstance(value, User):
        resolved.setdefault('users', {})[str(value.id)] = value.payload()
        member: Member | None = resolve(value) if resolve else None
        if member is not None:
            resolved.setdefault('members', {})[str(value.id)] = member.payload(with_user=False, with_permissions=True)
        return str(value.id)
    if hasattr(value, 'type') and hasattr(value, 'payload'):  # a Channel
        resolved.setdefault('channels', {})[str(value.id)] = value.payload() | {'permissions': str((1 << 41) - 1)}
        return str(value.id)
    if hasattr(value, 'permissions') and hasattr(value, 'payload'):  # a Role
        resolved.setdefault('roles', {})[str(value.id)] = value.payload()
        return str(value.id)
    return str(value)
