"""The page on which analytics consent is given keeps its campaign (issue 9, item 17).

The view was served before the choice, so it could not be recorded for the
visitor; journey.js sends the page, its query string and referrer with the
grant and the collect endpoint records that view.
"""

import json

import pytest
from django.utils import timezone

from wagtail_journey import record
from wagtail_journey.models import Touchpoint, Visitor
from wagtail_journey.tracking.audience import summary

pytestmark = pytest.mark.django_db

URL = "/journey/collect/"
CAMPAIGN = "utm_source=google&utm_medium=cpc&utm_campaign=launch"


def grant(web, article, **extra):
    body = {"consent": True, "page": article.pk, "query": CAMPAIGN, **extra}
    return web.post(
        URL, json.dumps(body), content_type="application/json", HTTP_ORIGIN="http://testserver"
    )


def test_the_consent_page_view_is_recorded_with_its_campaign_and_is_first_touch(web, article):
    web.get(f"/article/?{CAMPAIGN}")  # before the choice: counted anonymously only
    assert not Touchpoint.objects.exists()
    assert grant(web, article, ref="https://news.example.org/item").status_code == 204

    view = Touchpoint.objects.get(kind="page_view")
    assert view.page_id == article.pk and view.visitor is not None
    assert view.utm == {"source": "google", "medium": "cpc", "campaign": "launch"}
    assert view.properties == {"on_consent": True, "ref": "news.example.org"}

    web.get("/article/")  # the next page: direct, in the same session
    later = Touchpoint.objects.filter(kind="page_view").latest("id")
    assert later.session == view.session
    contact = record("form_submitted", visitor=view.visitor, email="new@example.com").contact
    assert contact.first_touch["source"] == "google"
    assert contact.first_touch["campaign"] == "launch"
    assert contact.first_touch["page"] == article.pk


def test_granting_again_records_no_second_view(web, article):
    grant(web, article)
    grant(web, article)
    assert Touchpoint.objects.filter(kind="page_view").count() == 1


def test_an_own_site_referrer_is_not_a_source(web, article):
    grant(web, article, query="", ref="http://testserver/")
    view = Touchpoint.objects.get(kind="page_view")
    assert view.utm is None and view.properties == {"on_consent": True}


def test_the_audience_report_counts_the_consent_page_once(web, article, exempt):
    web.get(f"/article/?{CAMPAIGN}")  # exempt mode: an audience-only view
    grant(web, article)
    assert Touchpoint.objects.filter(kind="page_view").count() == 2  # audience + the visitor's
    today = timezone.localdate()
    day = summary(today, today).totals
    assert (day.audience_views, day.consented_views) == (1, 0)
    web.get("/article/")
    day = summary(today, today).totals
    assert (day.audience_views, day.consented_views) == (1, 1)
    assert Visitor.objects.get().audience_only is False


def test_an_unknown_page_records_nothing_but_consent_holds(web):
    response = web.post(
        URL,
        json.dumps({"consent": True, "page": 999999, "query": CAMPAIGN}),
        content_type="application/json",
        HTTP_ORIGIN="http://testserver",
    )
    assert response.status_code == 204
    assert not Touchpoint.objects.exists()
    assert Visitor.objects.get().consented_at is not None


@pytest.mark.parametrize(
    "body",
    [
        {"consent": True, "page": 1, "query": "x" * 1001},
        {"consent": True, "page": 1, "ref": ["https://a.example"]},
        {"consent": False, "page": 1, "query": CAMPAIGN},
        {"events": [{"kind": "ok"}], "query": CAMPAIGN},
    ],
)
def test_bad_consent_beacons_are_refused_and_store_nothing(web, body):
    response = web.post(
        URL, json.dumps(body), content_type="application/json", HTTP_ORIGIN="http://testserver"
    )
    assert response.status_code == 400
    assert response.json()["error"]
    assert not Visitor.objects.exists() and not Touchpoint.objects.exists()
