"""Fixed-window rate limits that are atomic on every supported deployment.

django-ratelimit refuses caches whose ``incr`` is not atomic. Here a hit is
counted by the cache when its backend increments atomically — Redis and
Memcached across processes, Django's local-memory cache within its one process
(the embedded default runs one web process) — and otherwise (the database
cache, or ``RATE_LIMIT_BACKEND = "database"`` for several web processes without
Redis) by one ``INSERT ... ON CONFLICT DO UPDATE ... RETURNING`` statement,
which SQLite (3.35+) and PostgreSQL both execute atomically.
"""

from __future__ import annotations

import hashlib
import logging
import random
import time
import weakref

from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache
from django.db import connection

from wagtail_journey.conf import journey_settings

logger = logging.getLogger(__name__)

ATOMIC_CACHE_BACKENDS = (
    "django.core.cache.backends.locmem.LocMemCache",
    "django.core.cache.backends.redis.RedisCache",
    "django_redis.cache.RedisCache",
    "django.core.cache.backends.memcached.PyMemcacheCache",
    "django.core.cache.backends.memcached.PyLibMCCache",
)


def _use_cache() -> bool:
    mode = journey_settings.RATE_LIMIT_BACKEND
    if mode == "cache":
        return True
    if mode == "database":
        return False
    from django.conf import settings

    alias = journey_settings.RATE_LIMIT_CACHE
    backend = settings.CACHES.get(alias, {}).get("BACKEND", "")
    return backend in ATOMIC_CACHE_BACKENDS


def client_ip(request) -> str:
    """The client address: REMOTE_ADDR, or CLIENT_IP_HEADER behind a trusted proxy.

    One definition for every limit and proof of consent: a proxy header that
    is trusted for one and not the other would let a client dodge the limits.
    """
    header = journey_settings.CLIENT_IP_HEADER
    if header:
        value = request.META.get(header, "")
        if value:
            return value.split(",")[0].strip()[:64]
    return request.META.get("REMOTE_ADDR", "")[:64]


def hit(scope: str, ident: str, limit: int, window: int, *, now: float | None = None) -> bool:
    """Count one hit for ``ident`` in ``scope``; True while within ``limit`` per ``window`` s.

    ``ident`` (an IP address, a visitor id) is hashed: counters never hold it.
    A cache that fails (Redis down) or answers nothing (django-redis with
    IGNORE_EXCEPTIONS returns None) never breaks the request: that hit is
    counted in the database instead.
    """
    key, start = _counter(scope, ident, window, now)
    count = None
    if _use_cache():
        try:
            count = _hit_cache(key, start, window)
        except Exception:  # the cache is down: count where it cannot be
            logger.warning(
                "wagtail_journey: rate-limit cache unavailable; counting in the database"
            )
        if not isinstance(count, int) or isinstance(count, bool):
            count = None
    if count is None:
        count = _hit_db(key, start, window)
    return count <= limit


def _counter(scope: str, ident: str, window: int, now: float | None) -> tuple[str, int]:
    digest = hashlib.sha256(ident.encode()).hexdigest()[:32]
    return f"{scope}:{digest}", int(now if now is not None else time.time()) // window * window


def redis_counter(
    scope: str, ident: str, window: int, *, now: float | None = None
) -> tuple[str, int] | None:
    """Where :func:`hit` counts ``ident`` when it counts on Redis: (full key, expiry).

    None when counters live elsewhere. Lets a caller fold the count into a
    Redis script of its own (the tracking buffer pushes and counts in one
    round trip), stored exactly as :func:`hit` stores it.
    """
    if not _use_cache():
        return None
    cache = caches[journey_settings.RATE_LIMIT_CACHE]
    if not isinstance(cache, RedisCache):
        return None
    key, start = _counter(scope, ident, window, now)
    return cache.make_and_validate_key(_cache_key(key, start)), _expiry(window)


def _cache_key(key: str, start: int) -> str:
    return f"wj-rl:{key}:{start}"


def _expiry(window: int) -> int:
    return window + 5  # a little past the window: a late hit still finds its counter


def _hit_cache(key: str, start: int, window: int) -> int:
    cache = caches[journey_settings.RATE_LIMIT_CACHE]
    cache_key, timeout = _cache_key(key, start), _expiry(window)
    if isinstance(cache, RedisCache):
        return _hit_redis(cache, cache_key, timeout)
    if cache.add(cache_key, 1, timeout=timeout):
        return 1
    try:
        return cache.incr(cache_key)  # None from a cache that swallows errors
    except ValueError:  # expired between add and incr
        cache.add(cache_key, 1, timeout=timeout)
        return 1


# INCR, and a fresh counter gets its expiry in the same atomic step (an INCR
# alone, were the key to expire just before it, would make a counter that
# never expires).
_REDIS_HIT = (
    "local n = redis.call('INCR', KEYS[1]) "
    "if n == 1 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end "
    "return n"
)


def _hit_redis(cache: RedisCache, cache_key: str, timeout: int) -> int:
    """Django's Redis cache: the add-then-incr of other caches in one round trip, not three.

    The counter is stored as ``cache.add()``/``cache.incr()`` store it (a plain
    integer under the cache's key prefix and version): ``cache.get()`` reads it.
    """
    key = cache.make_and_validate_key(cache_key)
    return int(redis_script(cache, _REDIS_HIT)(keys=[key], args=[timeout]))


# Django's RedisCache builds a new redis.Redis object for every operation
# (about 1 ms of CPU each, mostly copying its response callbacks); one client
# per connection pool is enough: it is thread-safe and shares the pool.
_redis_clients: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def redis_client(cache: RedisCache):
    """A reused ``redis.Redis`` client for a Django Redis cache (rate limits, tracking buffer)."""
    backend = cache._cache
    try:
        pool = backend._get_connection_pool(True)
    except AttributeError:  # another Django version: its public, slower way
        return backend.get_client(write=True)
    client = _redis_clients.get(pool)
    if client is None:
        client = _redis_clients[pool] = backend._client(connection_pool=pool)
    return client


_scripts: dict[tuple[int, str], object] = {}


def redis_script(cache: RedisCache, source: str):
    """A Lua script on :func:`redis_client`, run by EVALSHA (its text is sent once)."""
    client = redis_client(cache)
    key = (id(client), source)
    script = _scripts.get(key)
    if script is None or script.registered_client is not client:
        script = _scripts[key] = client.register_script(source)
    return script


def _hit_db(key: str, start: int, window: int) -> int:
    from wagtail_journey.models import RateLimitCounter

    q = connection.ops.quote_name
    table, k, w, c = q(RateLimitCounter._meta.db_table), q("key"), q("window"), q("count")
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} ({k}, {w}, {c}) VALUES (%s, %s, 1) "  # noqa: S608
            f"ON CONFLICT ({k}, {w}) DO UPDATE SET {c} = {table}.{c} + 1 RETURNING {c}",
            [key, start],
        )
        (count,) = cursor.fetchone()
    if random.random() < 0.01:  # noqa: S311 (housekeeping, not security)
        RateLimitCounter.objects.filter(window__lt=start - 86400).delete()
    return count
