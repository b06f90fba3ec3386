"""Moments of truth and what the best customers did before their first order."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from tests.reports.helpers import at
from wagtail_journey import record
from wagtail_journey.models import Contact
from wagtail_journey.reports.moments import best_customers_before_first_order, moments
from wagtail_journey.reports.rollup import rollup_range

pytestmark = pytest.mark.django_db

DAY = date(2026, 5, 1)


def order(contact, day, n):
    record(
        "order_completed",
        contact=contact,
        occurred_at=at(day, 12),
        properties={"order_id": f"M{n}", "amount": "10"},
        dedupe_key=f"order:M{n}",
    )


def test_time_to_first_submission_first_order_and_repeat(home_page, article):
    ana = Contact.objects.create(email="ana@example.com")
    Contact.objects.filter(pk=ana.pk).update(created_at=at(DAY, 8))
    record("page_view", contact=ana, page=article, occurred_at=at(DAY + timedelta(days=1), 9))
    record("form_submitted", contact=ana, page=home_page, occurred_at=at(DAY + timedelta(days=2)))
    order(ana, DAY + timedelta(days=10), 1)
    order(ana, DAY + timedelta(days=25), 2)
    bruno = Contact.objects.create(email="bruno@example.com")
    Contact.objects.filter(pk=bruno.pk).update(created_at=at(DAY, 8))
    order(bruno, DAY, 3)
    rollup_range(DAY, DAY + timedelta(days=30))
    found = {m.key: m for m in moments(DAY, DAY + timedelta(days=30))}
    assert (found["first_submission"].contacts, found["first_submission"].median_days) == (1, 2)
    assert found["first_order"].contacts == 2 and found["first_order"].median_days == 5
    assert dict(found["first_order"].buckets) == {
        "0": 1,
        "1": 0,
        "2–7": 0,
        "8–30": 1,
        "31–90": 0,
        "> 90": 0,
    }
    assert (found["repeat_order"].contacts, found["repeat_order"].median_days) == (1, 15)
    # Outside the period: nothing.
    assert moments(DAY + timedelta(days=60), DAY + timedelta(days=90))[1].contacts == 0
    best, before = best_customers_before_first_order()
    assert best == 1  # the top decile of two customers: Ana, two orders
    assert dict(before) == {"page_view: Article": 1, "form_submitted: Home": 1}
