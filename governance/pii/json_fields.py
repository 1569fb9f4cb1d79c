"""JSON values inside a column (record attributes, a ticket's customer object, a conversation stored as a
JSON string inside JSON): their leaves are pulled out as columns named by path (``customer.name``,
``conversation[].content``) so each path is typed and redacted like a column, then put back in place.
Embedded JSON documents (a string holding JSON) are opened and closed again the same way."""

from __future__ import annotations

import json


class _Embedded:
    """A JSON document that was a string value."""

    def __init__(self, value) -> None:
        self.value = value


def parse_json(text: str | None):
    """A dict or list with embedded JSON strings opened, or None when ``text`` is not a JSON object/array."""
    if not isinstance(text, str) or text.lstrip()[:1] not in ("{", "["):
        return None
    try:
        node = json.loads(text)
    except ValueError:
        return None
    return _open(node) if isinstance(node, (dict, list)) else None


def _open(node):
    if isinstance(node, dict):
        return {k: _open(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_open(v) for v in node]
    if isinstance(node, str):
        inner = parse_json(node)
        return _Embedded(inner) if inner is not None else node
    return node


def _close(node):
    if isinstance(node, _Embedded):
        return json.dumps(_close(node.value), ensure_ascii=False)
    if isinstance(node, dict):
        return {k: _close(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_close(v) for v in node]
    return node


def dump_json(node) -> str:
    return json.dumps(_close(node), ensure_ascii=False, separators=(",", ":"))


def leaves(node, path: str = "", locator: tuple = ()):
    """(path, locator, value) for every string or integer leaf; lists add ``[]`` to the path."""
    if isinstance(node, _Embedded):
        yield from leaves(node.value, path, locator + (None,))
    elif isinstance(node, dict):
        for key, value in node.items():
            yield from leaves(value, f"{path}.{key}" if path else str(key), locator + (key,))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from leaves(value, f"{path}[]", locator + (i,))
    elif isinstance(node, str) or (isinstance(node, int) and not isinstance(node, bool)):
        yield path, locator, node


def set_leaf(node, locator: tuple, value) -> None:
    for step in locator[:-1]:
        node = node.value if step is None else node[step]
    node[locator[-1]] = value  # the last step is a key or index: leaves never end on an embedded document
