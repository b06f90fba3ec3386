"""Flood guards of the public tracking endpoints, and the client's IP.

Counting is done by :mod:`wagtail_journey.ratelimit` (atomic on every
deployment: the cache when it increments atomically, else one database upsert).
"""

from __future__ import annotations

from wagtail_journey import ratelimit
from wagtail_journey.conf import journey_settings


def allow(scope: str, ident: str, limit: int, window: int, *, now: float | None = None) -> bool:
    """Count one hit of ``ident`` in ``scope``; False past ``limit`` hits per ``window`` s."""
    if limit <= 0:
        return False
    return ratelimit.hit(scope, ident, limit, window, now=now)


def client_ip(request) -> str:
    """The client address: REMOTE_ADDR, or CLIENT_IP_HEADER behind a trusted proxy."""
    header = journey_settings.CLIENT_IP_HEADER
    if header:
        value = request.META.get(header, "")
        if value:
            return value.split(",")[0].strip()[:64]
    return request.META.get("REMOTE_ADDR", "")[:64]
