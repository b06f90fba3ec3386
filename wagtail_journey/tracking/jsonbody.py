"""Parse an untrusted JSON request body without letting its shape cause a 500.

``json.loads`` raises ``RecursionError`` (not ``ValueError``) on deeply nested
input, and a parsed value may hold lone surrogates (``"\\ud800"``) that the
database refuses to store. :func:`loads` turns every such body into one
``ValueError`` the endpoints answer with 400.
"""

from __future__ import annotations

import json
from typing import Any

#: Nesting the endpoints' schemas need is 3 (body, list, event, properties); allow a margin.
MAX_DEPTH = 8


def loads(body: bytes, *, max_depth: int | None = MAX_DEPTH) -> Any:
    """The parsed body; ValueError when it is not UTF-8 JSON or nests deeper than ``max_depth``.

    ``max_depth=None`` skips the walk over the parsed value (depth and lone
    surrogates) for a caller whose schema check refuses nesting and cleans
    every string itself (the collect endpoint, on the tracking hot path).
    """
    try:
        data = json.loads(body)
    except RecursionError:
        raise ValueError("JSON nested too deeply") from None
    except UnicodeDecodeError as exc:
        raise ValueError("not UTF-8") from exc
    if max_depth is not None:
        _check(data, max_depth)
    return data


def _check(data: Any, max_depth: int) -> None:
    stack = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, dict):
            items = [*value.keys(), *value.values()]
        elif isinstance(value, list):
            items = value
        else:
            if isinstance(value, str):
                _check_text(value)
            continue
        if depth > max_depth:
            raise ValueError("JSON nested too deeply")
        stack.extend((item, depth + 1) for item in items)


def _check_text(value: str) -> None:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("lone surrogate in JSON text") from None
