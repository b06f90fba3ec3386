"""The editor's preview asks no consent; journey.js is told the configured cookie name."""

import pytest

from tests.forms_helpers import make_landing_page, make_purposes

pytestmark = pytest.mark.django_db


def test_preview_shows_no_consent_banner_and_tracks_nothing(home_page, web):
    page = make_landing_page(home_page, make_purposes())
    live = web.get(page.url).content.decode()
    assert "data-journey-banner" in live and 'data-ask="1"' in live
    preview = page.make_preview_request().content.decode()
    assert "Join us" in preview  # the page itself is previewed
    assert "data-journey-banner" not in preview
    assert 'data-ask="0"' in preview and 'data-track="0"' in preview


def test_journey_js_reads_the_configured_consent_cookie(settings, web, article):
    settings.WAGTAIL_JOURNEY = {**settings.WAGTAIL_JOURNEY, "CONSENT_COOKIE_NAME": "acme_ok"}
    html = web.get(article.url).content.decode()
    assert 'data-consent-cookie="acme_ok"' in html
