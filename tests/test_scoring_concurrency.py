"""Concurrency on PostgreSQL: no lost points, caps hold (run by make test-postgres)."""

import threading

import pytest
from django.db import connection, connections
from django.utils import timezone

from wagtail_journey import record
from wagtail_journey.models import Contact, ScoreChange, ScoringRule

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

THREADS, EACH = 8, 10


@pytest.fixture(autouse=True)
def _needs_postgres():
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (make test-postgres)")


def hammer(contact_id, kind, n=EACH):
    barrier = threading.Barrier(THREADS)
    errors = []
    # One timestamp for all: the last-activity UPDATE then touches the row only
    # once, so it is the scoring lock (not that UPDATE) that serialises.
    when = timezone.now()

    def work():
        try:
            contact = Contact.objects.get(pk=contact_id)
            barrier.wait()
            for _ in range(n):
                record(kind, contact=contact, occurred_at=when)
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=work) for _ in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []


def test_concurrent_touchpoints_never_lose_points():
    ScoringRule.objects.create(name="view", kind="page_view", points=3)
    ScoringRule.objects.create(name="view bonus", kind="page_view", points=-1)
    contact = Contact.objects.create(email="race@example.com")
    hammer(contact.pk, "page_view")
    contact.refresh_from_db()
    assert contact.score == THREADS * EACH * 2
    assert ScoreChange.objects.filter(contact=contact).count() == THREADS * EACH * 2


def test_caps_hold_under_concurrency():
    capped = ScoringRule.objects.create(name="opens", kind="email_opened", points=5, cap_count=4)
    daily = ScoringRule.objects.create(
        name="daily", kind="email_opened", points=1, cap_count=7, cap_period="day"
    )
    contact = Contact.objects.create(email="cap@example.com")
    hammer(contact.pk, "email_opened")
    contact.refresh_from_db()
    assert ScoreChange.objects.filter(rule=capped).count() == 4
    assert ScoreChange.objects.filter(rule=daily).count() == 7
    assert contact.score == 4 * 5 + 7
