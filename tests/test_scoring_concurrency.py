"""Concurrency on PostgreSQL: no lost points, caps hold (run by make test-postgres)."""

import threading

import pytest
from django.db import connection, connections
from django.utils import timezone

from tests.threads import run_in_threads
from wagtail_journey import record
from wagtail_journey.models import Contact, ScoreChange, ScoringRule

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

THREADS, EACH = 8, 10


@pytest.fixture(autouse=True)
def _needs_postgres():
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (make test-postgres)")


def hammer(contact_id, kind, n=EACH):
    # One timestamp for all: the last-activity UPDATE then touches the row only
    # once, so it is the scoring lock (not that UPDATE) that serialises.
    when = timezone.now()

    def work():
        contact = Contact.objects.get(pk=contact_id)
        for _ in range(n):
            record(kind, contact=contact, occurred_at=when)

    errors = run_in_threads(work, THREADS)
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


@pytest.mark.parametrize("case", ["same-email", "shared-browser", "already-linked"])
def test_concurrent_identifications_of_one_visitor_score_its_history_once(case):
    """A double-clicked form (or two people on one browser at once): the
    visitor's anonymous page views are moved and scored exactly once.
    ("already-linked": the visitor row already names the contact, so no
    UPDATE of it would serialise the two; the lock in identify_visitor does.)"""
    from wagtail_journey.models import Touchpoint, Visitor

    same_person = case != "shared-browser"
    ScoringRule.objects.create(name="view", kind="page_view", points=5)
    ScoringRule.objects.create(name="form", kind="form_submitted", points=20)
    visitor = Visitor.objects.create(consented_at=timezone.now())
    if case == "already-linked":
        contact = Contact.objects.create(email="same@example.com")
        Visitor.objects.filter(pk=visitor.pk).update(contact=contact)
        Touchpoint.objects.bulk_create(Touchpoint(kind="page_view", visitor=visitor) for _ in "abc")
    else:
        for _ in range(3):
            record("page_view", visitor=visitor)
    barrier = threading.Barrier(THREADS)
    errors = []

    def work(i):
        try:
            mine = Visitor.objects.get(pk=visitor.pk)  # each request read the cookie itself
            barrier.wait()
            email = "same@example.com" if same_person else f"p{i}@example.com"
            record("form_submitted", visitor=mine, email=email)
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=work, args=(i,)) for i in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    views = ScoreChange.objects.filter(rule__name="view")
    assert views.count() == 3
    assert views.values("touchpoint").distinct().count() == 3
    assert views.values("contact").distinct().count() == 1
    owner = views.first().contact
    assert Touchpoint.objects.filter(kind="page_view", contact=owner).count() == 3
    assert ScoreChange.objects.filter(rule__name="form").count() == THREADS
    for contact in Contact.objects.all():
        ledger = sum(ScoreChange.objects.filter(contact=contact).values_list("delta", flat=True))
        assert contact.score == ledger
    assert sum(Contact.objects.values_list("score", flat=True)) == 3 * 5 + THREADS * 20
