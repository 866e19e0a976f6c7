"""Modals (forms): what Discord accepts when a bot opens one, and the submit a member sends back.

Discord refuses a modal with a bad shape (400, 50035) and refuses to open one in answer to
autocomplete or to another modal's submit; the Discord client checks the member's input against
each field's `required` and length limits before sending, so a test cannot send what a member
could not.
"""

from __future__ import annotations

from typing import Any

from .hub import RequestError
from .invocations import InvalidOptions

ACTION_ROW, TEXT_INPUT, LABEL = 1, 4, 18
AUTOCOMPLETE, MODAL_SUBMIT = 4, 5


def _invalid(why: str) -> RequestError:
    return RequestError(400, 50035, f'Invalid Form Body: {why}')


def text_inputs(data: dict[str, Any]) -> list[dict[str, Any]]:
    """The modal's text inputs, whether wrapped in action rows or in labels."""
    out = []
    for row in data.get('components') or []:
        if row.get('type') == ACTION_ROW:
            out.extend(row.get('components') or [])
        elif row.get('type') == LABEL:
            component = dict(row.get('component') or {})
            component.setdefault('label', row.get('label'))
            out.append(component)
        else:
            raise _invalid(f'components: type {row.get("type")} cannot hold a text input')
    return out


def check_modal(data: dict[str, Any], answering_type: int) -> None:
    """Refuse what Discord refuses when a bot answers with a modal."""
    if answering_type in (AUTOCOMPLETE, MODAL_SUBMIT):
        raise _invalid('a modal cannot answer autocomplete or another modal')
    if not isinstance(data.get('custom_id'), str) or not 1 <= len(data['custom_id']) <= 100:
        raise _invalid('custom_id: 1-100 characters')
    if not isinstance(data.get('title'), str) or not 1 <= len(data['title']) <= 45:
        raise _invalid('title: 1-45 characters')
    fields = text_inputs(data)
    if not 1 <= len(data.get('components') or []) <= 5:
        raise _invalid('components: 1-5 rows')
    ids = [f.get('custom_id') for f in fields]
    if len(set(ids)) != len(ids):
        raise _invalid('components: custom_id values must be unique')
    for f in fields:
        if f.get('type') != TEXT_INPUT or f.get('style') not in (1, 2):
            raise _invalid('components: text inputs only, style 1 or 2')
        if not isinstance(f.get('label'), str) or not 1 <= len(f['label']) <= 45:
            raise _invalid(f'{f.get("custom_id")}.label: 1-45 characters')
        low, high = f.get('min_length', 0), f.get('max_length', 4000)
        if not 0 <= low <= high <= 4000 or len(f.get('placeholder') or '') > 100:
            raise _invalid(f'{f.get("custom_id")}: lengths 0-4000, placeholder up to 100 characters')
        if len(f.get('value') or '') > high:
            raise _invalid(f'{f.get("custom_id")}.value: longer than max_length')


def submit_data(modal: dict[str, Any], values: dict[str, str]) -> dict[str, Any]:
    """`data` of the MODAL_SUBMIT a member sends after filling the form in."""
    fields = {f['custom_id']: f for f in text_inputs(modal)}
    unknown = sorted(set(values) - set(fields))
    if unknown:
        raise InvalidOptions(f'the form has no field {unknown[0]!r}; fields: {", ".join(fields)}')
    rows = []
    for custom_id, spec in fields.items():
        value = values.get(custom_id, spec.get('value') or '')
        if spec.get('required', True) and not value:
            raise InvalidOptions(f'field {custom_id} is required')
        if value and not spec.get('min_length', 0) <= len(value) <= spec.get('max_length', 4000):
            raise InvalidOptions(f'field {custom_id}: length {len(value)} outside '
                                 f'{spec.get("min_length", 0)}..{spec.get("max_length", 4000)}')
        rows.append({'type': ACTION_ROW, 'components': [{'type': TEXT_INPUT, 'custom_id': custom_id, 'value': value}]})
    return {'custom_id': modal['custom_id'], 'components': rows}
