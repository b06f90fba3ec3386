"""A response that sets a visitor cookie is never stored by a shared cache.

Every way the package sets or deletes its cookies (page views in both consent
modes, consent granted or withdrawn through journey.js) is driven here; each
response carrying one of the cookies must be ``private`` with ``Vary: Cookie``,
and a page that sets none stays cacheable.
"""

import json

import pytest
from django.http import HttpResponse
from django.test import RequestFactory
from django.utils.cache import patch_cache_control

from wagtail_journey.tracking import visitors

pytestmark = pytest.mark.django_db

COOKIES = ("wj_vid", "wj_sid", "wj_c")


def beacon(client, payload):
    return client.post(
        "/journey/collect/",
        json.dumps(payload),
        content_type="application/json",
        HTTP_ORIGIN="http://testserver",
    )


def assert_private_if_it_sets_a_cookie(response):
    set_here = [name for name in COOKIES if name in response.cookies]
    assert set_here, "the scenario should set or delete a cookie"
    cache_control = {p.strip() for p in response.get("Cache-Control", "").split(",")}
    assert "private" in cache_control, (set_here, response.get("Cache-Control"))
    assert "public" not in cache_control
    assert "cookie" in response.get("Vary", "").lower()


def test_page_view_in_exempt_mode_sets_the_cookie_privately(web, exempt, article):
    assert_private_if_it_sets_a_cookie(web.get(article.url))


def test_consent_beacons_and_consented_page_views_are_private(web, article):
    assert_private_if_it_sets_a_cookie(beacon(web, {"consent": True}))
    assert_private_if_it_sets_a_cookie(web.get(article.url))  # the session cookie slides
    assert_private_if_it_sets_a_cookie(beacon(web, {"consent": False}))  # deletes them


def test_a_page_that_sets_no_cookie_stays_cacheable(web, article):
    response = web.get(article.url)  # required mode, no consent: no cookie at all
    assert not any(name in response.cookies for name in COOKIES)
    assert "private" not in response.get("Cache-Control", "")


def test_a_site_wide_public_cache_header_is_overridden(exempt):
    request = RequestFactory().get("/")
    response = HttpResponse()
    patch_cache_control(response, public=True, max_age=600)  # e.g. the site's cache middleware
    state = visitors.resolve(request)
    visitors.apply_cookies(state, request, response)
    assert "wj_vid" in response.cookies
    assert "private" in response["Cache-Control"] and "public" not in response["Cache-Control"]
    assert response["Vary"] == "Cookie"
