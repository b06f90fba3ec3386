"""Stitching, attribution, retention, rate limiter, stages, journey.js size, checks."""

import gzip
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.cache import caches
from django.core.management import call_command
from django.test import override_settings
from django.utils import timezone

from wagtail_journey import record
from wagtail_journey.models import Touchpoint, Visitor

pytestmark = pytest.mark.django_db


def test_form_submission_shows_the_whole_anonymous_history_and_first_last_touch(consented, article):
    consented.get("/article/?utm_source=google&utm_medium=cpc&utm_campaign=launch")
    consented.get("/article/", HTTP_REFERER="https://news.ycombinator.com/item?id=1")
    consented.get("/article/")
    visitor = Visitor.objects.get()
    # What the forms module does on a consented submission:
    tp = record("form_submitted", visitor=visitor, email="ana@example.com", page=article)
    contact = tp.contact
    assert contact.touchpoints.filter(kind="page_view").count() == 3
    assert contact.first_touch["source"] == "google"
    assert contact.first_touch["medium"] == "cpc"
    assert contact.last_touch["source"] == "news.ycombinator.com"
    assert contact.last_touch["medium"] == "referral"
    # Later page views land on the contact directly, and a new campaign moves last touch.
    consented.get("/article/?utm_source=newsletter")
    contact.refresh_from_db()
    assert contact.touchpoints.count() == 5
    assert contact.last_touch["source"] == "newsletter"
    assert contact.first_touch["source"] == "google"


def test_retention_purges_old_anonymous_data_in_set_based_statements(
    article, django_assert_max_num_queries
):
    old = timezone.now() - timedelta(days=400)
    gone = Visitor.objects.create(last_seen_at=old)
    kept_recent = Visitor.objects.create()
    record("page_view", visitor=gone, page=article, occurred_at=old)
    record("page_view", visitor=kept_recent, page=article)
    identified = Visitor.objects.create(last_seen_at=old)
    record("page_view", visitor=identified, page=article, occurred_at=old)
    record("form_submitted", visitor=identified, email="keep@example.com")

    from wagtail_journey.models import TrackingBatch
    from wagtail_journey.tracking.retention import purge_anonymous_data

    stale_batch = TrackingBatch.objects.create(key="a" * 32)
    TrackingBatch.objects.filter(pk=stale_batch.pk).update(stored_at=old)
    fresh_batch = TrackingBatch.objects.create(key="b" * 32)
    with django_assert_max_num_queries(9):
        counts = purge_anonymous_data()
    assert counts["visitors"] == 1 and counts["touchpoints"] == 1
    assert counts["tracking_batches"] == 1  # a retried batch is a day old at most
    assert list(TrackingBatch.objects.all()) == [fresh_batch]
    assert not Visitor.objects.filter(pk=gone.pk).exists()
    assert Visitor.objects.filter(pk=kept_recent.pk).exists()
    assert Touchpoint.objects.filter(contact__email="keep@example.com").count() == 2
    assert purge_anonymous_data() == {
        "touchpoints": 0,
        "audience_touchpoints": 0,
        "visitors": 0,
        "tracking_batches": 0,
    }


def test_audience_data_is_kept_at_most_25_months(article, settings):
    settings.WAGTAIL_JOURNEY = {"ANONYMOUS_RETENTION_DAYS": 5000}
    v = Visitor.objects.create(audience_only=True)
    record("page_view", visitor=v, page=article, occurred_at=timezone.now() - timedelta(days=800))
    from wagtail_journey.tracking.retention import purge_anonymous_data

    assert purge_anonymous_data()["audience_touchpoints"] == 1


def test_daily_purge_schedule_is_created_once():
    from django_q.models import Schedule

    from wagtail_journey.tracking.retention import SCHEDULE_NAME

    call_command("journey_schedules")
    call_command("journey_schedules")
    schedule = Schedule.objects.get(name=SCHEDULE_NAME)
    assert schedule.schedule_type == Schedule.DAILY
    assert schedule.func == "wagtail_journey.tracking.retention.purge_anonymous_data"


@pytest.mark.parametrize(
    "cache",
    [
        {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "rl"},
        {"BACKEND": "django.core.cache.backends.db.DatabaseCache", "LOCATION": "wj_rl_cache"},
    ],
)
def test_rate_limiter_works_on_locmem_and_database_caches(cache):
    from wagtail_journey.tracking.ratelimit import allow

    with override_settings(
        CACHES={"default": cache}, WAGTAIL_JOURNEY={"RATE_LIMIT_CACHE": "default"}
    ):
        if "db" in cache["BACKEND"]:
            call_command("createcachetable", "wj_rl_cache")
        caches["default"].clear()
        now = 1_000_000.0
        results = [allow("t", "1.2.3.4", 3, 60, now=now) for _ in range(5)]
        assert results == [True, True, True, False, False]
        assert allow("t", "5.6.7.8", 3, 60, now=now)  # another client
        assert allow("t", "1.2.3.4", 3, 60, now=now + 60)  # next window


def test_journey_js_stays_under_2kb_gzipped():
    import wagtail_journey

    js = Path(wagtail_journey.__file__).parent / "static" / "wagtail_journey" / "journey.js"
    size = len(gzip.compress(js.read_bytes(), compresslevel=9))
    assert size < 2048, size


def test_script_tag_renders_with_endpoint_page_and_state(consented, article):
    from django.template import Context, Template

    request = consented.get("/article/").wsgi_request
    html = Template(
        "{% load journey_tracking %}{% journey_consent_banner %}{% journey_script %}"
    ).render(Context({"request": request, "page": article}))
    assert 'data-endpoint="/journey/collect/"' in html
    assert f'data-page="{article.pk}"' in html
    assert 'data-track="1"' in html
    assert "data-journey-consent" in html


def test_checks_flag_exempt_retention_and_short_shop_secret(settings):
    from wagtail_journey.checks import check_journey_settings

    settings.WAGTAIL_JOURNEY = {
        "TRACKING_CONSENT_MODE": "exempt",
        "AUDIENCE_RETENTION_DAYS": 900,
        "SHOP_SECRET": "short",
    }
    ids = {e.id for e in check_journey_settings()}
    assert {"wagtail_journey.E011", "wagtail_journey.E012"} <= ids
