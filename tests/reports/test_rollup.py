"""The daily roll-ups: what a day's tables hold, that rebuilding them changes
nothing, and that unique counts over a range are exact."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from tests.reports.helpers import at, visit, visitor
from wagtail_journey import record
from wagtail_journey.models import (
    Contact,
    DailyMetric,
    ReportContactDay,
    ReportSession,
    StageEntry,
    Visitor,
)
from wagtail_journey.reports import dashboard
from wagtail_journey.reports.rollup import rollup_day, rollup_range
from wagtail_journey.stages import set_lifecycle_stage

pytestmark = pytest.mark.django_db

DAY = date(2026, 3, 10)


def metric(name: str, dimension: str = "", day: date = DAY) -> int:
    row = DailyMetric.objects.filter(day=day, metric=name, dimension=dimension).first()
    return row.value if row else 0


def snapshot():
    return {
        model.__name__: sorted(
            tuple(v for k, v in row.items() if k != "id") for row in model.objects.values()
        )
        for model in (DailyMetric, ReportSession, ReportContactDay, StageEntry)
    }


@pytest.fixture
def day_of_visits(home_page, article):
    """Three sessions on DAY: a bounce from an ad, a two-page referral, an audience-only one."""
    ana = visitor()
    visit(ana, [home_page], at(DAY, 9), utm={"source": "google", "medium": "cpc"})
    visit(ana, [article, home_page], at(DAY, 15), ref="news.example")
    visit(visitor(audience_only=True), [article], at(DAY, 11))
    return ana


def test_sessions_keep_entry_exit_and_source(day_of_visits, home_page, article):
    rollup_day(DAY)
    rows = {(r.source, r.medium): r for r in ReportSession.objects.filter(day=DAY).order_by("id")}
    assert set(rows) == {("google", "cpc"), ("news.example", "referral"), ("", "")}
    referral = rows[("news.example", "referral")]
    assert (referral.entry_page_id, referral.exit_page_id, referral.page_views) == (
        article.pk,
        home_page.pk,
        2,
    )
    assert rows[("", "")].audience_only is True
    assert metric("sessions", "consented") == 2
    assert metric("sessions", "audience") == 1
    assert metric("bounces", "consented") == 1
    assert metric("visitors", "consented") == 1
    assert metric("entries", str(article.pk)) == 2
    assert metric("exits", str(home_page.pk)) == 2
    assert metric("views", str(home_page.pk)) == 2


def test_rebuilding_a_day_is_idempotent_and_follows_the_log(day_of_visits, article):
    rollup_day(DAY)
    first = snapshot()
    rollup_day(DAY)
    assert snapshot() == first
    visit(visitor(), [article], at(DAY, 20))
    rollup_day(DAY)
    assert metric("sessions", "consented") == 3


def test_days_are_site_local_days(settings, home_page):
    settings.TIME_ZONE = "Europe/Lisbon"  # UTC+1 in summer
    summer = date(2026, 7, 1)
    visit(visitor(), [home_page], at(summer, 0, 30))  # 23:30 UTC the day before
    rollup_range(summer - timedelta(days=1), summer)
    assert metric("sessions", "consented", summer) == 1
    assert metric("sessions", "consented", summer - timedelta(days=1)) == 0


def test_unique_visitors_over_a_range_are_exact_not_summed(home_page):
    regular, once = visitor(), visitor()
    for offset in range(3):
        visit(regular, [home_page], at(DAY + timedelta(days=offset), 10))
    visit(once, [home_page], at(DAY, 12))
    rollup_range(DAY, DAY + timedelta(days=2))
    summed = DailyMetric.objects.filter(metric="visitors").values_list("value", flat=True)
    assert sum(summed) == 4  # daily uniques added up
    figures = dashboard.figures(DAY, DAY + timedelta(days=2))
    assert figures.visitors == 2
    assert figures.sessions == 4


def test_conversions_orders_per_customer_and_abandoned_carts(home_page):
    buyer = Contact.objects.create(email="buyer@example.com")
    browser = Contact.objects.create(email="browser@example.com")
    for n, amount in ((1, "19.90"), (2, "5.10")):
        record(
            "order_completed",
            contact=buyer,
            occurred_at=at(DAY, 10 + n),
            properties={"order_id": f"A{n}", "amount": amount},
            dedupe_key=f"order:A{n}",
        )
    record("cart_updated", contact=buyer, occurred_at=at(DAY, 9))
    record("cart_updated", contact=browser, occurred_at=at(DAY, 9))
    record("form_submitted", contact=browser, page=home_page, occurred_at=at(DAY, 8))
    rollup_day(DAY)
    figures = dashboard.figures(DAY, DAY)
    assert (figures.orders, figures.customers, figures.orders_per_customer) == (2, 1, 2.0)
    assert figures.revenue_cents == 2500
    assert (figures.carts, figures.carts_abandoned, figures.cart_abandonment_rate) == (2, 1, 50.0)
    assert figures.submissions == 1
    assert metric("form_submissions", str(home_page.pk)) == 1


def test_stage_entries_count_new_leads(settings):
    contact = Contact.objects.create(email="lead@example.com")
    Contact.objects.filter(pk=contact.pk).update(created_at=at(DAY, 8))
    set_lifecycle_stage(contact, "lead")
    StageEntry.objects.all().delete()
    from wagtail_journey.models import Touchpoint

    Touchpoint.objects.filter(kind="stage_changed").update(occurred_at=at(DAY, 9))
    rollup_day(DAY)
    figures = dashboard.figures(DAY, DAY)
    assert figures.stages == {"subscriber": 1, "lead": 1}
    assert figures.contacts_created == 1


def test_command_rolls_up_a_range(home_page, capsys):
    visit(visitor(), [home_page], at(DAY, 10))
    call_command("journey_rollup", "--from", "2026-03-09", "--to", "2026-03-11")
    assert "3 day(s)" in capsys.readouterr().out
    assert metric("sessions", "consented") == 1


def test_command_refuses_a_bad_date():
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="Not a date"):
        call_command("journey_rollup", "--from", "10/03/2026")


def test_schedule_rolls_up_today_and_yesterday(home_page):
    from wagtail_journey.schedules import wanted

    schedule = wanted()["journey-report-rollup"]
    assert schedule["func"] == "wagtail_journey.reports.rollup.rollup_recent"
    from wagtail_journey.reports.rollup import rollup_recent

    visit(visitor(), [home_page], timezone.now() - timedelta(minutes=5))
    assert rollup_recent() == 2
    assert ReportSession.objects.count() == 1


def test_retention_purge_removes_a_stale_visitors_report_sessions(home_page):
    from wagtail_journey.tracking.retention import purge_anonymous_data

    old = timezone.now() - timedelta(days=500)
    stale = visitor()
    visit(stale, [home_page], old)
    Visitor.objects.filter(pk=stale.pk).update(last_seen_at=old)
    rollup_day(timezone.localdate(old))
    assert ReportSession.objects.filter(visitor=stale).exists()
    purge_anonymous_data()
    assert not ReportSession.objects.filter(visitor_id=stale.pk).exists()
    assert not Visitor.objects.filter(pk=stale.pk).exists()
