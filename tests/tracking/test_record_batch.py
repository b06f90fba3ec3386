"""events.record_batch(), the bulk form of record() that buffered tracking uses (any database).

tests/tracking/test_buffer.py drives it through Redis; here it is called
directly, so it also runs on SQLite (the example site buffers on SQLite
whenever REDIS_URL is set).
"""

from __future__ import annotations

import time

import pytest
from django.db import transaction
from django.utils import timezone

from wagtail_journey import record
from wagtail_journey.events import record_batch
from wagtail_journey.identity import get_or_create_contact
from wagtail_journey.models import ScoringRule, Touchpoint, Visitor
from wagtail_journey.tracking.utm import clean_text

pytestmark = pytest.mark.django_db


def _item(visitor, kind="page_view", **extra):
    return {"k": kind, "t": time.time(), "v": visitor.pk, **extra}


def test_a_batch_stores_rows_and_runs_reactions_for_identified_visitors(article):
    ScoringRule.objects.create(name="Reads", kind="page_view", points=5)
    contact, _ = get_or_create_contact("ana@example.com")
    known = Visitor.objects.create(consented_at=timezone.now())
    record("form_submitted", contact=contact, visitor=known, identify=True)
    audience = Visitor.objects.create(audience_only=True)
    with transaction.atomic():
        rows = record_batch(
            [
                _item(known, p=article.pk, s=7, d=1, j="awareness", u={"source": "news"}),
                _item(audience, a=True, p=article.pk),
            ]
        )
    assert len(rows) == 2
    view = Touchpoint.objects.get(kind="page_view", visitor=known)
    assert (view.contact_id, view.page_id, view.session, view.journey_stage) == (
        contact.pk,
        article.pk,
        7,
        "awareness",
    )
    assert view.utm == {"source": "news"}
    lone = Touchpoint.objects.get(kind="page_view", visitor=audience)
    assert lone.audience_only and lone.contact_id is None
    contact.refresh_from_db()
    assert contact.score == 5  # the scoring reaction ran once, for the identified view only


def test_the_contact_at_the_time_wins_and_an_erased_one_drops_the_item():
    ana, _ = get_or_create_contact("ana@example.com")
    bob, _ = get_or_create_contact("bob@example.com")
    gone, _ = get_or_create_contact("gone@example.com")
    visitor = Visitor.objects.create(consented_at=timezone.now(), contact=bob)
    gone_pk = gone.pk
    gone.delete()
    with transaction.atomic():
        record_batch([_item(visitor, c=ana.pk), _item(visitor, c=gone_pk), _item(visitor)])
    assert sorted(Touchpoint.objects.values_list("contact_id", flat=True)) == sorted(
        [ana.pk, bob.pk]
    )


def test_times_keep_the_moment_of_the_request(settings):
    visitor = Visitor.objects.create(consented_at=timezone.now())
    then = time.time() - 3600
    with transaction.atomic():
        record_batch([_item(visitor, t=then)])
    stored = Touchpoint.objects.get().occurred_at
    assert abs(stored.timestamp() - then) < 0.001


def test_beacon_text_loses_lone_surrogates_that_no_database_stores():
    assert clean_text("caf\ud800e") == "caf e"
    assert clean_text("\U0001f600 ok") == "\U0001f600 ok"  # real characters stay
