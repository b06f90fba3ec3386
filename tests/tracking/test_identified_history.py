"""An identified visitor's anonymous history is scored, staged and segmented."""

import math
from datetime import timedelta

import pytest
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tests.forms_helpers import form_id, hidden_values, make_landing_page, make_purposes
from tests.segment_helpers import group, make_segment, r
from wagtail_journey import record
from wagtail_journey.identity import identify_visitor
from wagtail_journey.models import (
    Contact,
    LifecycleTransition,
    PageJourneyStage,
    ScoreChange,
    ScoringRule,
    SegmentMembership,
    Touchpoint,
    Visitor,
)
from wagtail_journey.scoring import replay_rules

pytestmark = pytest.mark.django_db


def submit(client, page, email):
    block_id = form_id(page)
    html = client.get(page.url).content.decode()
    data = {**hidden_values(html, block_id), "email": email, "consent_privacy": "on"}
    data.setdefault("wj_form", block_id)
    return client.post(page.url, data)


def ledger(contact):
    return list(
        ScoreChange.objects.filter(contact=contact)
        .order_by("occurred_at", "id")
        .values_list("label", "delta", "touchpoint__kind", "touchpoint_id")
    )


def test_pages_read_before_the_form_count_towards_the_new_leads_score(
    consented, home_page, article, django_capture_on_commit_callbacks
):
    landing = make_landing_page(home_page, make_purposes())
    ScoringRule.objects.create(
        name="Read the blog", kind="page_view", page=home_page, include_subpages=True,
        points=5, cap_count=2, add_tag="reader",
    )  # fmt: skip
    ScoringRule.objects.create(name="Signed up", kind="form_submitted", points=20)
    LifecycleTransition.objects.create(stage="lead", min_score=10)
    PageJourneyStage.objects.create(page=article, stage="conversion")
    segment = make_segment("Engaged", group(r("score", min=25, max=None)))

    for _ in range(3):
        consented.get(article.url)
    views = list(Touchpoint.objects.filter(kind="page_view").order_by("id"))
    assert len(views) == 3 and all(tp.contact_id is None for tp in views)
    with django_capture_on_commit_callbacks(execute=True):
        assert submit(consented, landing, "lead@example.com").status_code == 200

    contact = Contact.objects.get(email="lead@example.com")
    form = Touchpoint.objects.get(contact=contact, kind="form_submitted")
    # Two page views (the cap), in time order, then the form.
    assert ledger(contact) == [
        ("Read the blog", 5, "page_view", views[0].pk),
        ("Read the blog", 5, "page_view", views[1].pk),
        ("Signed up", 20, "form_submitted", form.pk),
    ]
    assert contact.score == 30
    history = Touchpoint.objects.get(contact=contact, kind="score_changed", properties__history=2)
    assert history.properties["delta"] == 10 and history.properties["score"] == 10
    assert history.occurred_at == views[1].occurred_at
    assert contact.lifecycle_stage == "lead"  # the history's 10 points crossed the threshold
    assert contact.journey_stage == "conversion"  # furthest stage among the pages read
    assert set(contact.tags.names()) >= {"reader"}
    assert contact.last_activity_at >= views[2].occurred_at
    assert SegmentMembership.objects.filter(segment=segment, contact=contact).exists()
    # What the ledger says is what a replay from the touchpoints says.
    replay_rules([contact.pk])
    contact.refresh_from_db()
    assert contact.score == 30 and len(ledger(contact)) == 3


def test_identifying_again_never_scores_the_history_twice(consented, article):
    ScoringRule.objects.create(name="view", kind="page_view", points=3)
    for _ in range(3):
        consented.get(article.url)
    visitor = Visitor.objects.get()
    contact = record("form_submitted", visitor=visitor, email="twice@example.com").contact
    assert ScoreChange.objects.filter(contact=contact).count() == 3
    assert identify_visitor(visitor, contact) == 0
    record("form_submitted", visitor=visitor, email="twice@example.com")
    # The same browser then used by someone else: earlier history stays put.
    other = record("form_submitted", visitor=visitor, email="other@example.com").contact
    contact.refresh_from_db()
    assert contact.score == 9
    assert ScoreChange.objects.filter(contact=contact).count() == 3
    assert ScoreChange.objects.filter(contact=other).count() == 0
    assert Touchpoint.objects.filter(contact=contact, kind="score_changed").count() == 1


def test_a_rule_scores_a_touchpoint_once_whatever_writes_the_ledger(article):
    rule = ScoringRule.objects.create(name="view", kind="page_view", points=3)
    tp = record("page_view", email="once@example.com", page=article)
    assert ScoreChange.objects.filter(rule=rule, touchpoint=tp).count() == 1
    with pytest.raises(IntegrityError), transaction.atomic():
        ScoreChange.objects.create(
            contact=tp.contact, rule=rule, touchpoint=tp, reason="rule", delta=3,
            occurred_at=tp.occurred_at,
        )  # fmt: skip


def test_per_period_caps_hold_across_history_and_the_contacts_ledger(article):
    daily = ScoringRule.objects.create(
        name="daily", kind="page_view", points=2, cap_count=1, cap_period="day"
    )
    now = timezone.now()
    contact = Contact.objects.create(email="cap@example.com")
    # Another device of the contact already scored yesterday.
    record("page_view", contact=contact, page=article, occurred_at=now - timedelta(days=1))
    visitor = Visitor.objects.create(consented_at=now)
    for days in (5, 5, 3, 1):  # two views five days ago, one three days ago, one yesterday
        record("page_view", visitor=visitor, page=article, occurred_at=now - timedelta(days=days))
    assert identify_visitor(visitor, contact) == 4
    scored = ScoreChange.objects.filter(rule=daily, contact=contact).order_by("occurred_at")
    days_ago = [round((now - c.occurred_at) / timedelta(days=1)) for c in scored]
    assert days_ago == [5, 3, 1]  # one per day: the second view of day 5 and yesterday's capped
    contact.refresh_from_db()
    assert contact.score == 6


def test_consentless_exempt_visitor_is_never_combined_with_the_lead(
    web, exempt, home_page, article
):
    exempt.WAGTAIL_JOURNEY = {**exempt.WAGTAIL_JOURNEY, "FORM_MIN_FILL_SECONDS": 0}
    landing = make_landing_page(home_page, make_purposes())
    ScoringRule.objects.create(name="view", kind="page_view", points=5)
    for _ in range(3):
        web.get(article.url)
    visitor = Visitor.objects.get()
    assert visitor.audience_only
    assert Touchpoint.objects.filter(kind="page_view", audience_only=True).count() == 3
    assert submit(web, landing, "exempt@example.com").status_code == 200
    contact = Contact.objects.get(email="exempt@example.com")
    assert contact.score == 0
    assert not ScoreChange.objects.exists()
    assert not contact.touchpoints.filter(kind="page_view").exists()
    assert Touchpoint.objects.filter(page=article, contact=None, audience_only=True).count() == 3
    # Consent given later: only what is recorded from then on joins the contact.
    visitor.refresh_from_db()
    assert visitor.contact_id is None
    Visitor.objects.filter(pk=visitor.pk).update(consented_at=timezone.now(), audience_only=False)
    visitor.refresh_from_db()
    record("page_view", visitor=visitor, page=article)
    assert identify_visitor(visitor, contact) == 1
    contact.refresh_from_db()
    assert contact.score == 5
    assert Touchpoint.objects.filter(page=article, contact=None, audience_only=True).count() == 3


def test_segments_are_retested_once_per_identification(
    article, monkeypatch, django_capture_on_commit_callbacks
):
    from wagtail_journey import segments

    make_segment("Readers", group(r("visited_page", page=article.pk, include_subpages=False)))
    calls = []
    real = segments.update_contact_segments
    monkeypatch.setattr(
        segments, "update_contact_segments", lambda pk: calls.append(pk) or real(pk)
    )
    contact = Contact.objects.create(email="seg@example.com")
    visitor = Visitor.objects.create(consented_at=timezone.now())
    for _ in range(3):
        record("page_view", visitor=visitor, page=article)
    with django_capture_on_commit_callbacks(execute=True):
        assert identify_visitor(visitor, contact) == 3
    assert calls == [contact.pk]
    assert SegmentMembership.objects.filter(contact=contact).count() == 1
    # Through record(): the touchpoint that identifies re-tests the contact itself.
    calls.clear()
    other = Visitor.objects.create(consented_at=timezone.now())
    record("page_view", visitor=other, page=article)
    with django_capture_on_commit_callbacks(execute=True):
        record("form_submitted", visitor=other, contact=contact, identify=True)
    assert calls == [contact.pk]


def _identify_with_history(article, n):
    """Record the form submission that identifies a visitor with ``n`` earlier
    page views; returns (ledger INSERTs, other queries, the contact)."""
    contact = Contact.objects.create(email=f"n{n}@example.com")
    visitor = Visitor.objects.create(consented_at=timezone.now())
    start = timezone.now() - timedelta(days=n)
    Touchpoint.objects.bulk_create(
        Touchpoint(kind="page_view", visitor=visitor, page=article, occurred_at=start + timedelta(
            hours=i), journey_stage="awareness", utm={"source": "ads"} if i == 0 else None)
        for i in range(n)
    )  # fmt: skip
    with CaptureQueriesContext(connection) as queries:
        record("form_submitted", visitor=visitor, contact=contact, identify=True)
    contact.refresh_from_db()
    table = ScoreChange._meta.db_table
    inserts = [q for q in queries if q["sql"].startswith(f'INSERT INTO "{table}"')]
    return len(inserts), len(queries) - len(inserts), contact


def test_identifying_a_long_history_costs_a_fixed_number_of_queries(home_page, article):
    from taggit.models import Tag

    Tag.objects.create(name="reader", slug="reader")
    ScoringRule.objects.create(
        name="section", kind="page_view", page=home_page, include_subpages=True, points=1,
        add_tag="reader",
    )  # fmt: skip
    ScoringRule.objects.create(
        name="daily", kind="page_view", points=2, cap_count=3, cap_period="day"
    )
    ScoringRule.objects.create(name="form", kind="form_submitted", points=10)
    _, small, few = _identify_with_history(article, 5)
    inserts, large, many = _identify_with_history(article, 1500)
    # One view an hour: the daily rule scores the first 3 of each 24 hours.
    assert few.score == 5 + 2 * 3 + 10
    daily = 3 * math.ceil(1500 / 24)
    assert many.score == 1500 + 2 * daily + 10
    assert many.journey_stage == "awareness" and many.first_touch["source"] == "ads"
    # Everything but the batched ledger INSERTs is the same for 5 or 1500 page views.
    assert large == small, (small, large)
    assert inserts <= math.ceil((1500 + daily + 1) / 100)  # SQLite batches ~111 rows
