"""The rate limiter counts the same on the database and on the cache."""

import pytest

from wagtail_journey.models import RateLimitCounter
from wagtail_journey.ratelimit import hit

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("backend", ["database", "cache"])
def test_limit_then_block_then_new_window(settings, backend):
    settings.WAGTAIL_JOURNEY = {**settings.WAGTAIL_JOURNEY, "RATE_LIMIT_BACKEND": backend}
    results = [hit("t", "198.51.100.1", 3, 60, now=1_000_020) for _ in range(5)]
    assert results == [True, True, True, False, False]
    # Another client is counted apart, and the next window starts afresh.
    assert hit("t", "198.51.100.2", 3, 60, now=1_000_020)
    assert hit("t", "198.51.100.1", 3, 60, now=1_000_080)


def test_database_counters_never_hold_the_raw_address(settings):
    settings.WAGTAIL_JOURNEY = {**settings.WAGTAIL_JOURNEY, "RATE_LIMIT_BACKEND": "database"}
    hit("form", "203.0.113.50", 5, 60)
    row = RateLimitCounter.objects.get()
    assert "203.0.113.50" not in row.key
    assert row.count == 1


def test_auto_uses_the_database_for_a_non_atomic_cache(settings):
    settings.CACHES = {
        **settings.CACHES,
        "dbcache": {
            "BACKEND": "django.core.cache.backends.db.DatabaseCache",
            "LOCATION": "nowhere",
        },
    }
    settings.WAGTAIL_JOURNEY = {**settings.WAGTAIL_JOURNEY, "RATE_LIMIT_CACHE": "dbcache"}
    assert hit("auto", "192.0.2.1", 1, 60)
    assert RateLimitCounter.objects.count() == 1
