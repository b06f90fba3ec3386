"""Scoring rules, the ledger, caps, rebuild and decay."""

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from wagtail_journey import record
from wagtail_journey.models import Contact, ScoreChange, ScoringRule, Touchpoint
from wagtail_journey.scoring import apply_decay, replay_rules, sync_scores_from_ledger

pytestmark = pytest.mark.django_db


def rule(**kw):
    kw.setdefault("name", f"{kw['kind']} {kw.get('points')}")
    return ScoringRule.objects.create(**kw)


def score_of(contact):
    contact.refresh_from_db()
    return contact.score


def test_a_matching_touchpoint_scores_and_the_ledger_explains_it(article):
    r = rule(kind="page_view", points=5, name="Read an article")
    rule(kind="form_submitted", points=20)
    tp = record("page_view", email="a@example.com", page=article)
    contact = tp.contact
    assert score_of(contact) == 5
    change = ScoreChange.objects.get(contact=contact)
    assert (change.rule, change.touchpoint, change.delta, change.label) == (
        r,
        tp,
        5,
        "Read an article",
    )
    derived = Touchpoint.objects.get(contact=contact, kind="score_changed")
    assert derived.properties == {"delta": 5, "score": 5, "rules": [r.pk], "touchpoint": tp.pk}
    # The derived touchpoint is not activity and is never scored itself.
    assert ScoreChange.objects.count() == 1


def test_filters_page_subtree_form_utm_and_properties(home_page, article):
    rule(kind="page_view", points=1, page=home_page, include_subpages=True)
    rule(kind="page_view", points=10, page=home_page)  # exact page only
    rule(kind="form_submitted", points=7, form="newsletter")
    rule(kind="page_view", points=100, utm_source="news", utm_campaign="spring")
    rule(kind="order_completed", points=50, property_name="plan", property_value="pro")
    c = record("page_view", email="b@example.com", page=article).contact
    assert score_of(c) == 1
    record("page_view", contact=c, page=home_page)
    assert score_of(c) == 12
    record("form_submitted", contact=c, properties={"form": "other"})
    record("form_submitted", contact=c, properties={"form": "newsletter"})
    assert score_of(c) == 19
    record("page_view", contact=c, utm={"utm_source": "news", "utm_campaign": "spring"})
    assert score_of(c) == 119
    record("order_completed", contact=c, properties={"plan": "basic"})
    record("order_completed", contact=c, properties={"plan": "pro"})
    assert score_of(c) == 169


def test_negative_points_inactive_rules_and_anonymous_touchpoints():
    rule(kind="unsubscribed", points=-30)
    rule(kind="unsubscribed", points=99, active=False)
    c = record("unsubscribed", email="c@example.com").contact
    assert score_of(c) == -30
    from wagtail_journey.models import Visitor

    record("unsubscribed", visitor=Visitor.objects.create())  # no contact: nothing to score
    assert ScoreChange.objects.count() == 1


def test_caps_ever_and_per_period():
    rule(kind="email_opened", points=2, cap_count=3)
    rule(kind="page_view", points=1, cap_count=2, cap_period="day")
    c = record("email_opened", email="d@example.com").contact
    for _ in range(5):
        record("email_opened", contact=c)
    assert score_of(c) == 6
    now = timezone.now()
    for days_ago in (3, 3, 3, 0, 0, 0):
        record("page_view", contact=c, occurred_at=now - timedelta(days=days_ago, minutes=1))
    assert score_of(c) == 6 + 2 + 2


def test_rule_can_tag_the_contact():
    rule(kind="form_submitted", points=0, add_tag="newsletter")
    c = record("form_submitted", email="e@example.com").contact
    assert list(c.tags.names()) == ["newsletter"]
    assert Touchpoint.objects.filter(contact=c, kind="tag_added").count() == 1
    assert not Touchpoint.objects.filter(kind="score_changed").exists()  # 0 points


def test_a_deleted_page_marks_the_rule_instead_of_matching_every_page(home_page, article):
    r = rule(kind="page_view", points=5, page=article)
    article.delete()
    r.refresh_from_db()
    assert r.page_id is None and r.page_deleted
    assert "deleted" in r.problem
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as err:
        r.full_clean()
    assert "page" in err.value.message_dict
    c = record("page_view", email="f@example.com", page=home_page).contact
    assert score_of(c) == 0  # not silently "any page"
    r.page = home_page
    r.save()
    assert not r.page_deleted and r.problem == ""


def test_rebuild_command_restores_scores_from_the_ledger(capsys):
    rule(kind="page_view", points=3)
    c = record("page_view", email="g@example.com").contact
    Contact.objects.filter(pk=c.pk).update(score=999)
    call_command("rebuild_scores")
    assert score_of(c) == 3
    ScoreChange.objects.all().delete()
    call_command("rebuild_scores", "--replay")
    assert score_of(c) == 3
    assert ScoreChange.objects.filter(contact=c, reason="rule").count() == 1


def test_decay_halves_inactive_scores_once_per_period():
    rule(kind="page_view", points=41)
    now = timezone.now()
    old = record("page_view", email="h@example.com", occurred_at=now - timedelta(days=100)).contact
    fresh = record("page_view", email="i@example.com", occurred_at=now).contact
    cfg = {"mode": "halve", "days": 90}
    assert apply_decay(now, cfg) == 1
    assert apply_decay(now, cfg) == 0  # idempotent within the period
    assert score_of(old) == 20 and score_of(fresh) == 41  # 41 // 2
    row = ScoreChange.objects.get(contact=old, reason="decay")
    assert row.delta == -21
    assert row.explanation == "Halved after 90 days without activity"
    # The ledger still explains the score.
    Contact.objects.update(score=0)
    sync_scores_from_ledger()
    assert score_of(old) == 20


def test_decay_subtract_never_goes_below_zero():
    rule(kind="page_view", points=3)
    now = timezone.now()
    c = record("page_view", email="j@example.com", occurred_at=now - timedelta(days=40)).contact
    assert apply_decay(now, {"mode": "subtract", "points": 5, "days": 30}) == 1
    assert score_of(c) == 0


def test_decay_schedule_setting(settings):
    settings.WAGTAIL_JOURNEY = {"SCORE_DECAY": {"mode": "halve", "days": 90}}
    from wagtail_journey.scoring import run_decay

    assert run_decay() == 0
    settings.WAGTAIL_JOURNEY = {"SCORE_DECAY": {"mode": "nope", "days": 1}}
    with pytest.raises(ValueError):
        run_decay()


# --- property: incremental scoring == rebuild from the ledger == replay ------------

events = st.lists(
    st.tuples(
        st.integers(0, 2),  # contact
        st.sampled_from(["page_view", "email_opened", "form_submitted", "order_completed"]),
        st.integers(0, 20),  # days ago (may go back in time: out of order)
        st.sampled_from([None, "pro", "basic"]),
    ),
    max_size=25,
)


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(events=events)
def test_rebuild_equals_incremental_scoring(events):
    Contact.objects.all().delete()
    ScoringRule.objects.all().delete()
    rule(kind="page_view", points=1)
    rule(kind="page_view", points=2, cap_count=2, cap_period="week")
    rule(kind="email_opened", points=3, cap_count=1)
    rule(kind="form_submitted", points=-4)
    rule(kind="order_completed", points=10, property_name="plan", property_value="pro")
    contacts = [Contact.objects.create(email=f"p{i}@example.com") for i in range(3)]
    now = timezone.now()
    for who, kind, days, plan in events:
        record(
            kind,
            contact=contacts[who],
            occurred_at=now - timedelta(days=days),
            properties={"plan": plan} if plan else None,
        )
    incremental = dict(Contact.objects.values_list("pk", "score"))
    ledger = sorted(
        ScoreChange.objects.values_list("contact_id", "rule_id", "touchpoint_id", "delta")
    )
    Contact.objects.update(score=12345)
    sync_scores_from_ledger()
    assert dict(Contact.objects.values_list("pk", "score")) == incremental
    Contact.objects.update(score=-1)
    replay_rules()
    assert dict(Contact.objects.values_list("pk", "score")) == incremental
    assert (
        sorted(ScoreChange.objects.values_list("contact_id", "rule_id", "touchpoint_id", "delta"))
        == ledger
    )


def test_schedules_are_created_once(settings):
    from django_q.models import Schedule

    call_command("journey_schedules")
    settings.WAGTAIL_JOURNEY = {"SEGMENT_REBUILD_MINUTES": 15}
    call_command("journey_schedules")
    assert Schedule.objects.filter(name__startswith="journey-").count() == 2
    assert Schedule.objects.get(name="journey-segment-rebuild").minutes == 15
    assert Schedule.objects.get(name="journey-score-decay").func.endswith("run_decay")
