"""Page views: what is recorded, with what, and what is never recorded."""

import pytest
from wagtail.models import Page

from tests.tracking.conftest import BROWSER_UA, PHONE_UA
from wagtail_journey.models import (
    DailyPageStat,
    DeviceClass,
    PageJourneyStage,
    Touchpoint,
    Visitor,
)

pytestmark = pytest.mark.django_db


def test_consented_page_view_is_a_touchpoint_with_stage_session_utm_and_device(
    consented, article, home_page
):
    PageJourneyStage.objects.create(page=home_page, stage="consideration")
    response = consented.get(
        "/article/?utm_source=newsletter&utm_medium=email&utm_campaign=spring",
        HTTP_REFERER="https://www.google.com/search?q=x",
    )
    assert response.status_code == 200
    tp = Touchpoint.objects.get(kind="page_view")
    assert tp.page_id == article.pk
    assert tp.journey_stage == "consideration"  # inherited from the section
    assert tp.utm == {"source": "newsletter", "medium": "email", "campaign": "spring"}
    assert tp.properties == {"ref": "google.com"}
    assert tp.device == DeviceClass.DESKTOP
    assert tp.session and tp.visitor.consented_at is not None
    assert not tp.audience_only

    consented.get("/article/")
    second = Touchpoint.objects.filter(kind="page_view").latest("id")
    assert second.session == tp.session  # same session within 30 minutes
    assert second.utm is None and second.properties is None


def test_a_new_session_starts_when_the_session_cookie_expired(consented, article):
    consented.get("/article/")
    first = Touchpoint.objects.get()
    del consented.cookies["wj_sid"]  # the web drops it after 30 minutes idle
    consented.get("/article/")
    second = Touchpoint.objects.latest("id")
    assert second.session != first.session
    assert second.visitor_id == first.visitor_id


def test_session_cookie_slides_with_the_configured_timeout(consented, article):
    response = consented.get("/article/")
    assert response.cookies["wj_sid"]["max-age"] == 30 * 60
    assert response.cookies["wj_sid"]["httponly"]


def test_own_page_stage_beats_the_section_and_non_inheriting_stage_stays_put(
    consented, article, home_page
):
    PageJourneyStage.objects.create(page=home_page, stage="awareness", include_descendants=False)
    consented.get("/article/")
    assert Touchpoint.objects.latest("id").journey_stage == ""
    PageJourneyStage.objects.create(page=article, stage="conversion")
    consented.get("/article/")
    assert Touchpoint.objects.latest("id").journey_stage == "conversion"
    consented.get("/")
    assert Touchpoint.objects.latest("id").journey_stage == "awareness"


def test_phone_is_a_mobile_device(consented, article):
    consented.get("/article/", HTTP_USER_AGENT=PHONE_UA)
    assert Touchpoint.objects.get().device == DeviceClass.MOBILE


def test_required_mode_before_consent_sets_no_cookie_and_counts_anonymously(web, article):
    r1 = web.get("/article/?utm_source=ads")
    r2 = web.get("/article/?utm_source=ads")
    assert r1.status_code == r2.status_code == 200
    assert not r1.cookies and not r2.cookies
    assert Touchpoint.objects.count() == 0
    assert Visitor.objects.count() == 0
    stat = DailyPageStat.objects.get()
    assert (stat.page_id, stat.source, stat.views, stat.visitors) == (article.pk, "ads", 2, 1)
    # Another device (different user agent) is another unique visitor.
    web.get("/article/?utm_source=ads", HTTP_USER_AGENT=PHONE_UA)
    stat.refresh_from_db()
    assert (stat.views, stat.visitors) == (3, 2)


def test_exempt_mode_tracks_audience_only_with_a_13_month_cookie(web, exempt, article):
    response = web.get("/article/")
    cookie = response.cookies["wj_vid"]
    assert cookie["max-age"] == 395 * 86400 and cookie["httponly"]
    tp = Touchpoint.objects.get()
    assert tp.audience_only and tp.visitor.audience_only and tp.contact_id is None
    # The cookie is set once, not extended on every visit.
    assert "wj_vid" not in web.get("/article/").cookies
    assert Touchpoint.objects.filter(visitor=tp.visitor).count() == 2


def test_exempt_audience_visitor_is_never_stitched_to_a_contact(web, exempt, article):
    from wagtail_journey import record
    from wagtail_journey.tracking.visitors import visitor_from_request

    web.get("/article/")
    visitor = Visitor.objects.get()
    request = web.get("/article/").wsgi_request
    assert visitor_from_request(request) == visitor
    tp = record("form_submitted", visitor=visitor, email="ana@example.com")
    assert tp.visitor_id is None  # not combined
    visitor.refresh_from_db()
    assert visitor.contact_id is None
    assert Touchpoint.objects.filter(audience_only=True, contact__isnull=True).count() == 2


def test_audience_touchpoints_run_no_reactions(exempt, web, article, clean_reactions):
    from wagtail_journey.events import reaction

    seen = []
    reaction("spy", order=1)(lambda tp: seen.append(tp.kind))
    web.get("/article/")
    assert Touchpoint.objects.get().audience_only
    assert seen == []


@pytest.mark.parametrize("header", [{"HTTP_SEC_GPC": "1"}, {"HTTP_DNT": "1"}])
def test_gpc_and_dnt_opt_out_in_exempt_mode(web, exempt, article, header):
    response = web.get("/article/", **header)
    assert response.status_code == 200
    assert not response.cookies
    assert Touchpoint.objects.count() == 0 and Visitor.objects.count() == 0
    stat = DailyPageStat.objects.get()
    assert (stat.views, stat.visitors) == (1, 0)  # counted, not even hashed


def test_gpc_opts_out_in_required_mode_too(web, article):
    response = web.get("/article/", HTTP_SEC_GPC="1")
    assert not response.cookies and Touchpoint.objects.count() == 0
    assert DailyPageStat.objects.get().visitors == 0


def test_explicit_consent_overrides_gpc_for_this_site(consented, article):
    consented.get("/article/", HTTP_SEC_GPC="1")
    assert Touchpoint.objects.filter(kind="page_view").count() == 1


def test_withdrawing_consent_stops_tracking_and_deletes_the_cookie(consented, article):
    consented.get("/article/")
    response = consented.post(
        "/journey/collect/",
        b'{"consent": false}',
        content_type="application/json",
        HTTP_ORIGIN="http://testserver",
    )
    assert response.status_code == 204
    assert response.cookies["wj_vid"]["max-age"] == 0
    assert response.cookies["wj_c"].value == "0"
    consented.get("/article/")
    assert Touchpoint.objects.count() == 1


@pytest.mark.parametrize(
    "kwargs",
    [
        {
            "HTTP_USER_AGENT": "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"
        },
        {
            "HTTP_USER_AGENT": "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)"
        },
        {"HTTP_USER_AGENT": ""},
        {"HTTP_SEC_PURPOSE": "prefetch"},
        {"HTTP_SEC_PURPOSE": "prefetch;prerender"},
        {"HTTP_PURPOSE": "prefetch"},
    ],
)
def test_bots_and_prefetches_are_not_recorded(consented, article, kwargs):
    response = consented.get("/article/", **kwargs)
    assert response.status_code == 200
    assert Touchpoint.objects.count() == 0
    assert DailyPageStat.objects.count() == 0


def test_head_404_and_admin_are_not_recorded(consented, article, admin_client):
    assert consented.head("/article/").status_code == 200
    assert consented.get("/missing/").status_code == 404
    admin_client.get("/admin/")
    admin_client.get(f"/admin/pages/{article.pk}/edit/preview/")
    assert Touchpoint.objects.count() == 0


def test_restricted_page_prompt_is_not_counted(consented, article):
    from wagtail.models import PageViewRestriction

    PageViewRestriction.objects.create(page=article, restriction_type="password", password="x")
    response = consented.get("/article/")
    assert response.status_code == 200  # Wagtail's password form
    assert Touchpoint.objects.count() == 0


def test_redirecting_page_is_not_counted(consented, article, home_page):
    from demo.models import ArticlePage

    class Redirecting(ArticlePage):
        class Meta:
            proxy = True
            app_label = "demo"

    assert Page.objects.filter(pk=article.pk).exists()
    # A 3xx from serve(): simulate with a page whose serve redirects.
    from unittest import mock

    from django.shortcuts import redirect

    with mock.patch.object(ArticlePage, "serve", lambda self, request, *a, **k: redirect("/")):
        assert consented.get("/article/").status_code == 302
    assert Touchpoint.objects.count() == 0


@pytest.mark.parametrize("bad", ["not-a-key", "x" * 500, "<script>", "AAAAAAAAAAAAAAAAAAAAAA"])
def test_malformed_or_foreign_visitor_cookie_is_replaced_not_adopted(web, exempt, article, bad):
    web.cookies["wj_vid"] = bad
    response = web.get("/article/")
    assert response.status_code == 200
    new_key = response.cookies["wj_vid"].value
    assert new_key != bad
    visitor = Visitor.objects.get()
    assert visitor.key == new_key
    assert Touchpoint.objects.get().visitor == visitor


def test_foreign_visitor_cookie_in_required_mode_is_deleted(web, article):
    web.cookies["wj_vid"] = "AAAAAAAAAAAAAAAAAAAAAA"
    response = web.get("/article/")
    assert response.status_code == 200
    assert response.cookies["wj_vid"]["max-age"] == 0
    assert Touchpoint.objects.count() == 0 and Visitor.objects.count() == 0


def test_utm_values_with_html_or_10kb_are_cleaned(consented, article):
    consented.get(
        "/article/",
        {"utm_source": "<script>alert(1)</script>news", "utm_campaign": "x" * 10_000},
    )
    tp = Touchpoint.objects.get()
    assert tp.utm["source"] == "alert(1)news"
    assert tp.utm["campaign"] == "x" * 100
    assert "<" not in str(tp.utm)


def test_tracking_off_records_nothing(consented, article, settings):
    settings.WAGTAIL_JOURNEY = {"TRACKING_ENABLED": False}
    assert consented.get("/article/").status_code == 200
    assert Touchpoint.objects.count() == 0 and DailyPageStat.objects.count() == 0


def test_a_tracked_page_view_costs_at_most_one_insert(
    consented, article, django_assert_max_num_queries, django_capture_on_commit_callbacks
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    consented.get("/article/")  # warm caches (site root, stage table)
    with CaptureQueriesContext(connection) as ctx:
        consented.get("/article/")
    inserts = [q["sql"] for q in ctx.captured_queries if q["sql"].startswith("INSERT")]
    assert len(inserts) == 1 and "touchpoint" in inserts[0]
    with django_assert_max_num_queries(len(ctx.captured_queries)):
        consented.get("/article/")


def test_tracking_adds_one_select_and_one_insert_to_a_page(
    consented, article, settings, django_assert_max_num_queries
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    consented.get("/article/")
    settings.WAGTAIL_JOURNEY = {"TRACKING_ENABLED": False}
    with CaptureQueriesContext(connection) as off:
        consented.get("/article/")
    settings.WAGTAIL_JOURNEY = {}
    # + visitor SELECT + touchpoint INSERT (+ SAVEPOINT/RELEASE of record()'s atomic
    # inside the test transaction; BEGIN/COMMIT in production)
    with django_assert_max_num_queries(len(off.captured_queries) + 4):
        consented.get("/article/")


def test_user_agent_header_of_bots_list_is_not_hand_written():
    from wagtail_journey.tracking.useragent import is_bot

    assert is_bot("Mozilla/5.0 (compatible; YandexBot/3.0; +http://yandex.com/bots)")
    assert not is_bot(BROWSER_UA)


def test_a_visitor_from_two_sources_is_one_unique_visitor_of_the_page(web, article):
    web.get("/article/?utm_source=newsletter")
    web.get("/article/", HTTP_REFERER="https://www.google.com/")
    stats = {s.source: (s.views, s.visitors) for s in DailyPageStat.objects.all()}
    # The visitor counts on the source of their first view; the page has one visitor.
    assert stats == {"newsletter": (1, 1), "google.com": (1, 0)}


def test_anonymous_views_count_on_the_sites_local_day(web, article, settings, monkeypatch):
    from datetime import UTC, date, datetime

    from wagtail_journey.tracking import aggregates

    settings.TIME_ZONE = "Asia/Tokyo"  # 23:30 UTC is 08:30 the next morning in Tokyo
    late_evening_utc = datetime(2026, 3, 9, 23, 30, tzinfo=UTC)
    monkeypatch.setattr(aggregates.timezone, "now", lambda: late_evening_utc)
    web.get("/article/")
    assert DailyPageStat.objects.get().day == date(2026, 3, 10)


def test_unique_visitor_memory_ends_at_local_midnight_on_a_dst_day(settings):
    from datetime import UTC, datetime

    from django.utils import timezone

    from wagtail_journey.tracking.aggregates import _seconds_left

    settings.TIME_ZONE = "Europe/Lisbon"
    timezone.deactivate()
    # 29 March 2026: at 01:00 UTC Lisbon's clocks jump from 01:00 to 02:00. From 00:30
    # (UTC and local) to local midnight (23:00 UTC) is 22.5 hours, not 23.5 of wall clock.
    just_after_midnight = datetime(2026, 3, 29, 0, 30, tzinfo=UTC)
    assert _seconds_left(just_after_midnight) == 22 * 3600 + 1800 + 60
