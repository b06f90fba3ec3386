"""A fixed-window rate limiter on Django's cache (``add`` + ``incr``).

Works with every cache backend: locmem and Redis count atomically; the
database cache's ``incr`` is a read-then-write, so under a race it may let a
few extra requests through, which is fine for a flood guard (it never blocks
an honest client wrongly). django-ratelimit refuses such caches; we accept them
so the embedded SQLite default works without Redis.
"""

from __future__ import annotations

import hashlib
import time

from django.core.cache import caches

from wagtail_journey.conf import journey_settings


def _cache():
    return caches[journey_settings.RATE_LIMIT_CACHE]


def allow(scope: str, ident: str, limit: int, window: int, *, now: float | None = None) -> bool:
    """Count one hit of ``ident`` in ``scope``; False once ``limit`` hits per ``window`` s passed.

    The identifier (an IP, a visitor id) is hashed so the cache holds no raw
    personal data.
    """
    if limit <= 0:
        return False
    bucket = int((now if now is not None else time.time()) // window)
    digest = hashlib.blake2b(ident.encode(), digest_size=12).hexdigest()
    key = f"wj:rl:{scope}:{digest}:{bucket}"
    cache = _cache()
    if cache.add(key, 1, timeout=window + 1):
        return True
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add() and incr()
        cache.add(key, 1, timeout=window + 1)
        return True
    return count <= limit


def client_ip(request) -> str:
    """The client address: REMOTE_ADDR, or CLIENT_IP_HEADER behind a trusted proxy."""
    header = journey_settings.CLIENT_IP_HEADER
    if header:
        value = request.META.get(header, "")
        if value:
            return value.split(",")[0].strip()[:64]
    return request.META.get("REMOTE_ADDR", "")[:64]
