"""JSON values inside a column (record attributes, a ticket's customer object, a conversation stored as a
JSON string inside JSON): their leaves are pulled out as columns named by path (``customer.name``,
``conversation[].content``) so each path is typed and redacted like a column, then put back in place.
Embedded JSON documents (a string holding JSON) are opened and closed again the same way. Keys are data too
(an export keyed by e-mail address): ``keys`` lists them so they can be analyzed, ``rename_keys`` puts the
redacted ones back.

Hostile nesting: a document deeper than ``MAX_DEPTH`` levels (embedded documents count with their host) is not
opened as JSON at all; it is analyzed as the plain text it is, so no walk here recurses past that depth.
"""

from __future__ import annotations

import json

MAX_DEPTH = 64


class _Embedded:
    """A JSON document that was a string value."""

    def __init__(self, value) -> None:
        self.value = value


def depth_over(node, limit: int) -> bool:
    """True when ``node`` nests deeper than ``limit`` levels (an iterative walk)."""
    stack = [(node, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > limit:
            return True
        children = item.values() if isinstance(item, dict) else item
        stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return False


def parse_json(text: str | None, depth_left: int = MAX_DEPTH):
    """A dict or list with embedded JSON strings opened, or None when ``text`` is not a JSON object/array (or
    nests deeper than ``depth_left``)."""
    if not isinstance(text, str) or text.lstrip()[:1] not in ("{", "[") or depth_left < 1:
        return None
    try:
        node = json.loads(text)
    except (ValueError, RecursionError):
        return None
    if not isinstance(node, dict | list) or depth_over(node, depth_left):
        return None
    return _open(node, depth_left)


def _open(node, depth_left: int):
    if isinstance(node, dict):
        return {k: _open(v, depth_left - 1) for k, v in node.items()}
    if isinstance(node, list):
        return [_open(v, depth_left - 1) for v in node]
    if isinstance(node, str):
        inner = parse_json(node, depth_left)
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


def keys(node):
    """Every object key in the document, embedded documents included."""
    if isinstance(node, _Embedded):
        yield from keys(node.value)
    elif isinstance(node, dict):
        for key, value in node.items():
            yield key
            yield from keys(value)
    elif isinstance(node, list):
        for value in node:
            yield from keys(value)


def rename_keys(node, renamed: dict[str, str]):
    """The document with keys replaced per ``renamed``; two keys of one object that become the same name keep
    both values (``<EMAIL>``, ``<EMAIL>#2``)."""
    if isinstance(node, _Embedded):
        return _Embedded(rename_keys(node.value, renamed))
    if isinstance(node, list):
        return [rename_keys(value, renamed) for value in node]
    if not isinstance(node, dict):
        return node
    out: dict = {}
    for key, value in node.items():
        new = renamed.get(key, key)
        candidate, n = new, 1
        while candidate in out:
            n += 1
            candidate = f"{new}#{n}"
        out[candidate] = rename_keys(value, renamed)
    return out


def set_leaf(node, locator: tuple, value) -> None:
    for step in locator[:-1]:
        node = node.value if step is None else node[step]
    node[locator[-1]] = value  # the last step is a key or index: leaves never end on an embedded document
