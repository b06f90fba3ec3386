"""Flood guards of the public tracking endpoints.

Counting is done by :mod:`wagtail_journey.ratelimit` (atomic on every
deployment: the cache when it increments atomically, else one database upsert).
"""

from __future__ import annotations

from wagtail_journey import ratelimit


def allow(scope: str, ident: str, limit: int, window: int, *, now: float | None = None) -> bool:
    """Count one hit of ``ident`` in ``scope``; False past ``limit`` hits per ``window`` s."""
    if limit <= 0:
        return False
    return ratelimit.hit(scope, ident, limit, window, now=now)
