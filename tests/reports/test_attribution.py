"""Attribution: a contact's touches before a conversion share its credit by five models."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from tests.reports.helpers import at, visit, visitor
from wagtail_journey import record
from wagtail_journey.models import Contact
from wagtail_journey.reports.attribution import DIRECT, credits, split
from wagtail_journey.reports.rollup import rollup_range

pytestmark = pytest.mark.django_db

DAY = date(2026, 3, 20)


def test_split_models_add_up_and_follow_their_rules():
    times = [at(DAY - timedelta(days=d)) for d in (14, 7, 0)]
    assert split("first", times, times[-1]) == [1.0, 0.0, 0.0]
    assert split("last", times, times[-1]) == [0.0, 0.0, 1.0]
    assert split("u_shaped", times, times[-1]) == pytest.approx([0.4, 0.2, 0.4])
    decay = split("time_decay", times, times[-1])
    assert decay == pytest.approx([1 / 7, 2 / 7, 4 / 7])
    for model in ("first", "last", "linear", "u_shaped", "time_decay"):
        assert sum(split(model, times, times[-1])) == pytest.approx(1.0)
        assert split(model, times[:1], times[0]) == [1.0]


@pytest.fixture
def journey(home_page):
    """Ana came from an ad, then a newsletter, then ordered (100.00); Bruno ordered directly."""
    ana = Contact.objects.create(email="ana@example.com")
    browser = visitor(contact=ana)
    visit(
        browser,
        [home_page],
        at(DAY - timedelta(days=10)),
        utm={"source": "google", "medium": "cpc"},
    )
    visit(
        browser, [home_page], at(DAY - timedelta(days=3)), utm={"source": "news", "medium": "email"}
    )
    record(
        "order_completed",
        contact=ana,
        occurred_at=at(DAY, 15),
        properties={"order_id": "A1", "amount": "100.00"},
        dedupe_key="order:A1",
    )
    bruno = Contact.objects.create(email="bruno@example.com")
    record(
        "order_completed",
        contact=bruno,
        occurred_at=at(DAY, 16),
        properties={"order_id": "B1", "amount": "20.00"},
        dedupe_key="order:B1",
    )
    rollup_range(DAY - timedelta(days=12), DAY)


def test_orders_are_credited_to_channels_side_by_side(journey):
    rows = {r["channel"]: r for r in credits(DAY - timedelta(days=30), DAY, "order")}
    assert set(rows) == {"google / cpc", "news / email", DIRECT}
    assert rows["google / cpc"]["first"] == 1.0 and rows["google / cpc"]["last"] == 0.0
    assert rows["news / email"]["last"] == 1.0
    assert rows["google / cpc"]["linear"] == 0.5
    assert rows["google / cpc"]["linear_value"] == 50.0
    assert rows[DIRECT]["first"] == 1.0 and rows[DIRECT]["first_value"] == 20.0
    for model in ("first", "last", "linear", "u_shaped", "time_decay"):
        assert sum(r[model] for r in rows.values()) == pytest.approx(2.0)
        assert sum(r[f"{model}_value"] for r in rows.values()) == pytest.approx(120.0)
    # Time decay: the newsletter (3 days before) outweighs the ad (10 days before).
    assert rows["news / email"]["time_decay"] > rows["google / cpc"]["time_decay"]


def test_rebuilding_the_day_does_not_double_credits(journey):
    rollup_range(DAY, DAY)
    rows = credits(DAY, DAY, "order")
    assert sum(r["linear"] for r in rows) == pytest.approx(2.0)
