"""record(): the single entry point, and the reactions that follow it."""

import pytest
from django.db import transaction
from django_q.models import Success

from wagtail_journey import record
from wagtail_journey.events import reaction, reactions
from wagtail_journey.models import Contact, Touchpoint, Visitor

pytestmark = pytest.mark.django_db


def test_record_stores_a_touchpoint_for_a_new_contact_by_email(article):
    tp = record(
        "form_submitted",
        email="New@Example.com",
        page=article,
        properties={"form": "newsletter"},
        journey_stage="consideration",
    )
    tp.refresh_from_db()
    assert tp.contact.email == "new@example.com"
    assert tp.page_id == article.pk
    assert tp.properties == {"form": "newsletter"}
    assert tp.journey_stage == "consideration"
    assert tp.is_new


def test_invalid_kind_is_rejected_and_nothing_is_stored():
    for bad in ["", "Page View", "x" * 65, "<script>"]:
        with pytest.raises(ValueError):
            record(bad, email="a@example.com")
    assert Touchpoint.objects.count() == 0
    assert Contact.objects.count() == 0


def test_invalid_email_stores_nothing():
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        record("form_submitted", email="nope")
    assert Touchpoint.objects.count() == 0


def test_anonymous_history_joins_the_contact_when_the_visitor_is_identified(article):
    visitor = Visitor.objects.create()
    record("page_view", visitor=visitor, page=article)
    record("page_view", visitor=visitor, page=article)
    assert Touchpoint.objects.filter(contact__isnull=False).count() == 0

    tp = record("form_submitted", visitor=visitor, email="ana@example.com")

    contact = tp.contact
    assert contact.touchpoints.count() == 3
    visitor.refresh_from_db()
    assert visitor.contact_id == contact.pk
    # Later anonymous-looking calls with the same visitor land on the contact too.
    later = record("page_view", visitor=visitor, page=article)
    assert later.contact_id == contact.pk


def test_dedupe_key_records_a_fact_once(clean_reactions):
    calls = []

    @reaction("count", order=1)
    def count(tp):
        calls.append(tp.pk)

    first = record("order_completed", email="b@example.com", dedupe_key="order:42")
    again = record("order_completed", email="b@example.com", dedupe_key="order:42")
    assert first.pk == again.pk
    assert not again.is_new
    assert Touchpoint.objects.filter(kind="order_completed").count() == 1
    assert calls == [first.pk]


def test_reactions_run_in_order_and_derived_touchpoints_do_not_loop(clean_reactions):
    seen = []

    @reaction("second", order=20)
    def second(tp):
        seen.append(("second", tp.kind))

    @reaction("first", order=10, kinds=["page_view", "form_submitted"])
    def first(tp):
        seen.append(("first", tp.kind))
        # A reaction may record a derived fact; it must not re-run "first".
        record("score_changed", contact=tp.contact, properties={"delta": 5})

    record("form_submitted", email="c@example.com")

    assert seen == [
        ("first", "form_submitted"),
        ("second", "score_changed"),  # derived: runs the others, not its author
        ("second", "form_submitted"),
    ]
    assert [r.name for r in reactions()][:2] == ["activity", "first"]


def test_last_activity_follows_the_newest_touchpoint():
    from datetime import timedelta

    from django.utils import timezone

    now = timezone.now()
    tp = record("page_view", email="d@example.com", occurred_at=now)
    record("page_view", contact=tp.contact, occurred_at=now - timedelta(days=3))
    tp.contact.refresh_from_db()
    assert tp.contact.last_activity_at == now


def test_a_failing_reaction_rolls_back_the_whole_record(clean_reactions):
    @reaction("boom", order=5)
    def boom(tp):
        raise RuntimeError("broken reaction")

    with pytest.raises(RuntimeError):
        record("form_submitted", email="e@example.com")
    assert Touchpoint.objects.count() == 0
    assert Contact.objects.count() == 0


@pytest.mark.django_db(transaction=True)
def test_deferred_reactions_run_in_a_task_after_commit(clean_reactions, monkeypatch):
    import django_q.tasks

    ran, queued = [], []
    real_async_task = django_q.tasks.async_task

    def spy(func, *args, **kwargs):
        queued.append((func, args, kwargs.get("save")))
        return real_async_task(func, *args, **kwargs)

    monkeypatch.setattr(django_q.tasks, "async_task", spy)

    @reaction("later", deferred=True, kinds=["cart_updated"])
    def later(tp):
        ran.append(tp.pk)

    with transaction.atomic():
        tp = record("cart_updated", email="f@example.com")
        other = record("page_view", contact=tp.contact)  # not of its kinds
        assert ran == [] and queued == []  # nothing runs or is queued before commit
    assert ran == [tp.pk]
    assert other.pk not in ran
    # It went through django-q2 (sync mode in tests), as one task that keeps no
    # success row (so reactions never crowd other results out of save_limit).
    assert ("wagtail_journey.events.run_deferred", (tp.pk, ()), False) in queued
    assert not Success.objects.filter(name=f"journey-reactions-{tp.pk}").exists()


@pytest.mark.django_db(transaction=True)
def test_no_deferred_task_when_the_transaction_rolls_back(clean_reactions):
    ran = []

    @reaction("later", deferred=True)
    def later(tp):
        ran.append(tp.pk)

    with pytest.raises(RuntimeError), transaction.atomic():
        record("cart_updated", email="g@example.com")
        raise RuntimeError("abort")
    assert ran == []
    assert Touchpoint.objects.count() == 0
