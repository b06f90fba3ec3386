"""Fixtures for the tracking tests: a web-like client and clean caches."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.test import Client

from wagtail_journey.tracking import stages

BROWSER_UA = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36"
)
PHONE_UA = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1"
)


@pytest.fixture(autouse=True)
def _clean_tracking_state():
    cache.clear()
    stages.invalidate()
    yield
    cache.clear()
    stages.invalidate()


@pytest.fixture
def web() -> Client:
    """A client that looks like a real browser (bots are not tracked)."""
    return Client(HTTP_USER_AGENT=BROWSER_UA)


@pytest.fixture
def exempt(settings):
    settings.WAGTAIL_JOURNEY = {"TRACKING_CONSENT_MODE": "exempt"}
    return settings


def grant_consent(client: Client) -> None:
    """The browser grants analytics consent through journey.js's beacon."""
    response = client.post(
        "/journey/collect/",
        b'{"consent": true}',
        content_type="application/json",
        HTTP_ORIGIN="http://testserver",
    )
    assert response.status_code == 204


@pytest.fixture
def consented(web, db) -> Client:
    """A web whose visitor granted analytics consent through journey.js."""
    grant_consent(web)
    return web
