"""Redis unreachable (cache and django-q2 broker on a closed port): nothing answers
500, a submission is stored once, its confirmation email waits in the database
for the sweep, and no touchpoint is dropped.

The real Redis client and django-q2's real Redis broker talk to a port where
nothing listens.
"""

import json
import socket

import pytest
from django.core import mail
from django.test import Client
from django_q.conf import Conf

from tests.forms_helpers import form_id, hidden_values, make_landing_page, make_purposes
from tests.tracking.conftest import BROWSER_UA
from wagtail_journey.emails.sending import sweep
from wagtail_journey.models import ConsentRecord, FormSubmission, OutboundEmail, Touchpoint
from wagtail_journey.models.outbound import OutboundStatus

pytestmark = pytest.mark.django_db


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]  # nothing listens once the socket is closed


@pytest.fixture
def redis_down(settings, monkeypatch):
    url = f"redis://127.0.0.1:{closed_port()}/0"
    # As docs/installation.md sets it up: Wagtail's own default cache apart,
    # the journey's Redis cache for limits, salts and the tracking buffer.
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
        "journey": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": url},
    }
    settings.WAGTAIL_JOURNEY = {
        **settings.WAGTAIL_JOURNEY,
        "RATE_LIMIT_CACHE": "journey",
        "TRACKING_BUFFER": "journey",
    }
    # django-q2 reads Q_CLUSTER once at import: point its Conf at the dead broker.
    monkeypatch.setattr(Conf, "SYNC", False)
    monkeypatch.setattr(Conf, "ORM", None)
    monkeypatch.setattr(Conf, "REDIS", url)
    return url


def test_pages_forms_and_beacons_work_and_nothing_is_lost(redis_down, home_page, article):
    landing = make_landing_page(home_page, make_purposes())
    web = Client(raise_request_exception=False, HTTP_USER_AGENT=BROWSER_UA)

    # An anonymous visitor before consent (daily aggregate, salt from the cache).
    assert web.get(article.url).status_code == 200
    # Consent through journey.js, then a tracked page view and a beacon.
    consent = web.post(
        "/journey/collect/",
        json.dumps({"consent": True}),
        content_type="application/json",
        HTTP_ORIGIN="http://testserver",
    )
    assert consent.status_code in (200, 204)
    assert web.get(article.url).status_code == 200
    beacon = web.post(
        "/journey/collect/",
        json.dumps({"page": article.pk, "events": [{"kind": "video_play"}]}),
        content_type="application/json",
        HTTP_ORIGIN="http://testserver",
    )
    assert beacon.status_code == 204
    assert Touchpoint.objects.filter(kind="page_view", page=article).count() == 1
    assert Touchpoint.objects.filter(kind="video_play").count() == 1

    # A consented form with double opt-in: stored once, redirected, no 500.
    html = web.get(landing.url).content.decode()
    data = {
        **hidden_values(html, form_id(landing)),
        "email": "down@example.com",
        "consent_privacy": "on",
        "consent_marketing": "on",
    }
    response = web.post(landing.url, data)
    assert response.status_code == 303
    assert web.post(landing.url, data).status_code == 303  # the browser re-sends it
    assert FormSubmission.objects.count() == 1
    assert Touchpoint.objects.filter(kind="form_submitted").count() == 1

    # The confirmation email could not be queued: it waits in the database...
    marketing = ConsentRecord.objects.get(purpose__key="marketing")
    row = OutboundEmail.objects.get(context__consent_record=marketing.pk)
    assert row.status == OutboundStatus.PENDING
    assert len(mail.outbox) == 0
    # ...and the minute sweep sends it, once.
    assert sweep().get("sent") == 1
    assert not sweep().get("sent")
    row.refresh_from_db()
    assert row.status == OutboundStatus.SENT
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["down@example.com"]
    assert "http://testserver/journey/confirm/" in mail.outbox[0].body


def test_rate_limits_fall_back_to_the_database(redis_down):
    from wagtail_journey.models import RateLimitCounter
    from wagtail_journey.ratelimit import hit

    assert [hit("t", "198.51.100.7", 2, 60) for _ in range(3)] == [True, True, False]
    assert RateLimitCounter.objects.count() == 1


def test_a_cache_that_swallows_errors_never_crashes_a_limit(settings, monkeypatch):
    """django-redis with IGNORE_EXCEPTIONS: add and incr answer None when Redis is down."""
    from django.core.cache import caches

    from wagtail_journey.ratelimit import hit

    settings.WAGTAIL_JOURNEY = {**settings.WAGTAIL_JOURNEY, "RATE_LIMIT_BACKEND": "cache"}
    cache = caches["default"]
    monkeypatch.setattr(cache, "add", lambda *a, **k: None)
    monkeypatch.setattr(cache, "incr", lambda *a, **k: None)
    assert [hit("t", "198.51.100.8", 1, 60) for _ in range(2)] == [True, False]
