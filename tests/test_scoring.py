"""Scoring rules, the ledger, caps, rebuild and decay."""

from datetime import UTC, datetime, timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from wagtail_journey import record
from wagtail_journey.models import Contact, DecayRun, ScoreChange, ScoringRule, Touchpoint
from wagtail_journey.scoring import (
    add_manual_change,
    apply_decay,
    explain_score,
    replay_rules,
    sync_scores_from_ledger,
)

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


def explained(contact):
    """The contact page's parts, as (delta, why) oldest first, and their sum."""
    contact.refresh_from_db()
    parts = explain_score(contact).parts
    return [(p.delta, p.why) for p in reversed(parts)], sum(p.delta for p in parts)


def test_decay_halves_inactive_scores_once_per_period():
    rule(kind="page_view", points=41, name="Visit")
    now = timezone.now()
    old = record("page_view", email="h@example.com", occurred_at=now - timedelta(days=100)).contact
    fresh = record("page_view", email="i@example.com", occurred_at=now).contact
    cfg = {"mode": "halve", "days": 90}
    assert apply_decay(now, cfg) == 1
    assert apply_decay(now, cfg) == 0  # idempotent within the period
    assert score_of(old) == 20 and score_of(fresh) == 41  # 41 // 2
    run = DecayRun.objects.get()
    assert (run.mode, run.days, run.contacts, run.cutoff) == ("halve", 90, 1, now - timedelta(90))
    # No ledger row per decayed contact: the contact page derives its share.
    assert ScoreChange.objects.count() == 2
    parts, total = explained(old)
    assert parts == [(41, "Visit"), (-21, "Halved after 90 days without activity")]
    assert total == 20
    assert explained(fresh) == ([(41, "Visit")], 41)
    # The ledger and the runs still rebuild the score.
    Contact.objects.update(score=0, decay_total=0)
    sync_scores_from_ledger()
    assert score_of(old) == 20 and score_of(fresh) == 41


def test_a_contact_decays_once_per_period_however_often_the_schedule_runs():
    """The daily schedule runs many times in a 90-day period: contacts that
    become inactive mid-period decay on the next run, the others not again."""
    rule(kind="page_view", points=40)
    cfg = {"mode": "halve", "days": 90}
    period_days = timedelta(days=90)
    start = datetime.fromtimestamp(  # the first instant of the current period
        timezone.now().timestamp() // period_days.total_seconds() * period_days.total_seconds(),
        tz=UTC,
    )
    early = record("page_view", email="m@example.com", occurred_at=start - timedelta(100)).contact
    late = record("page_view", email="n@example.com", occurred_at=start - timedelta(50)).contact
    assert apply_decay(start + timedelta(days=1), cfg) == 1  # early only
    assert apply_decay(start + timedelta(days=1), cfg) == 0  # twice changes nothing
    assert apply_decay(start + timedelta(days=2), cfg) == 0
    assert apply_decay(start + timedelta(days=45), cfg) == 1  # late: 90 days idle now
    assert (score_of(early), score_of(late)) == (20, 20)
    assert apply_decay(start + timedelta(days=89), cfg) == 0
    assert DecayRun.objects.count() == 2  # runs that decay nobody leave no row
    assert apply_decay(start + timedelta(days=91), cfg) == 2  # next period: both again
    assert (score_of(early), score_of(late)) == (10, 10)
    for c in (early, late):
        assert explained(c)[1] == 10


def test_decay_subtract_never_goes_below_zero():
    rule(kind="page_view", points=3)
    now = timezone.now()
    c = record("page_view", email="j@example.com", occurred_at=now - timedelta(days=40)).contact
    assert apply_decay(now, {"mode": "subtract", "points": 5, "days": 30}) == 1
    assert score_of(c) == 0
    assert explained(c)[0][-1] == (-3, "5 points off after 30 days without activity")


def test_each_run_takes_its_share_of_the_score_it_saw(admin_user):
    """Rules, a correction and two runs interleaved: every point is explained,
    in the order it was applied, and a second period decays again."""
    rule(kind="page_view", points=41, name="Visit")
    now = timezone.now()
    long_ago = now - timedelta(days=300)
    c = record("page_view", email="k@example.com", occurred_at=long_ago).contact
    halve = {"mode": "halve", "days": 90}
    assert apply_decay(now, halve) == 1  # 41 -> 20
    record("page_view", contact=c, occurred_at=long_ago)  # 20 + 41 = 61, still inactive
    add_manual_change(c, 3, "Met at a fair")  # 64
    assert apply_decay(now, halve) == 0
    assert (
        apply_decay(now + timedelta(days=90), {"mode": "subtract", "points": 10, "days": 90}) == 1
    )
    assert apply_decay(now + timedelta(days=90), halve) == 1  # 54 -> 27
    assert score_of(c) == 27
    parts, total = explained(c)
    assert parts == [
        (41, "Visit"),
        (-21, "Halved after 90 days without activity"),
        (41, "Visit"),
        (3, "Met at a fair"),
        (-10, "10 points off after 90 days without activity"),
        (-27, "Halved after 90 days without activity"),
    ]
    assert total == c.score
    c.refresh_from_db()
    assert c.decay_total == -58 and len(c.decay_run_ids) == 3


def test_rules_added_later_are_replayed_between_the_runs_by_when_they_happened():
    """A touchpoint that no rule scored before a run, scored by a new rule on
    replay, takes its place by its time: before the run it is decayed."""
    now = timezone.now()
    c = Contact.objects.create(email="l@example.com")
    record("form_submitted", contact=c, occurred_at=now - timedelta(days=200))
    rule(kind="page_view", points=8)
    record("page_view", contact=c, occurred_at=now - timedelta(days=150))
    assert apply_decay(now, {"mode": "halve", "days": 90}) == 1  # 8 -> 4
    record("form_submitted", contact=c, occurred_at=now + timedelta(days=1))  # after the run
    rule(kind="form_submitted", points=10)
    replay_rules()
    # 10 (before the run) + 8 = 18 halved = 9, then + 10 after the run.
    assert score_of(c) == 19
    assert explained(c)[1] == 19


def test_decay_schedule_setting(settings):
    settings.WAGTAIL_JOURNEY = {"SCORE_DECAY": {"mode": "halve", "days": 90}}
    from wagtail_journey.scoring import run_decay

    assert run_decay() == 0
    settings.WAGTAIL_JOURNEY = {"SCORE_DECAY": {"mode": "nope", "days": 1}}
    with pytest.raises(ValueError):
        run_decay()


# --- property: incremental scoring == rebuild from the ledger == replay ------------

touchpoint_events = st.tuples(
    st.integers(0, 2),  # contact
    st.sampled_from(["page_view", "email_opened", "form_submitted", "order_completed"]),
    st.integers(0, 20),  # days ago (may go back in time: out of order)
    st.sampled_from([None, "pro", "basic"]),
)
manual_events = st.tuples(st.just("manual"), st.integers(0, 2), st.integers(-5, 8))
decay_events = st.tuples(
    st.just("decay"),
    st.sampled_from(["halve", "subtract"]),
    st.integers(0, 1),  # 0: a run in the same period as the last one (changes nothing)
)
events = st.lists(st.one_of(touchpoint_events, manual_events, decay_events), max_size=25)
LEDGER_FIELDS = ("contact_id", "rule_id", "touchpoint_id", "delta", "after_decay_run")


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(events=events, in_order=st.booleans())
def test_rebuild_equals_incremental_scoring(events, in_order):
    """The rebuild from the ledger always gives the incremental scores; the rule
    replay does when touchpoints arrive in time order (live traffic). Out of
    order, caps may keep other rows (the replay counts them in time order), but
    the replay is then a fixed point: replaying again changes nothing."""
    Contact.objects.all().delete()
    ScoringRule.objects.all().delete()
    DecayRun.objects.all().delete()
    rule(kind="page_view", points=1)
    rule(kind="page_view", points=2, cap_count=2, cap_period="week")
    rule(kind="email_opened", points=3, cap_count=1)
    rule(kind="form_submitted", points=-4)
    rule(kind="order_completed", points=10, property_name="plan", property_value="pro")
    contacts = [Contact.objects.create(email=f"p{i}@example.com") for i in range(3)]
    now = timezone.now()
    when = now - timedelta(days=20)
    period = 0
    for event in events:
        if event[0] == "manual":
            add_manual_change(contacts[event[1]], event[2], "by hand")
        elif event[0] == "decay":
            # Runs move forward in 30-day periods; every contact is inactive by then.
            period += event[2]
            cfg = {"mode": event[1], "points": 3, "days": 30}
            apply_decay(now + timedelta(days=30 * (period + 1)), cfg)
        else:
            who, kind, days, plan = event
            # In order: 0-2 days after the previous touchpoint; else anywhere back.
            when = when + timedelta(days=days % 3) if in_order else now - timedelta(days=days)
            record(
                kind,
                contact=contacts[who],
                occurred_at=when,
                properties={"plan": plan} if plan else None,
            )
    incremental = dict(Contact.objects.values_list("pk", "score"))
    for c in Contact.objects.all():  # the contact page explains every point
        assert explain_score(c).total == c.score
    ledger = sorted(ScoreChange.objects.values_list(*LEDGER_FIELDS), key=repr)
    Contact.objects.update(score=12345, decay_total=-777)
    sync_scores_from_ledger()
    assert dict(Contact.objects.values_list("pk", "score")) == incremental
    Contact.objects.update(score=-1, decay_total=0)
    replay_rules()
    if in_order:
        assert dict(Contact.objects.values_list("pk", "score")) == incremental
        assert sorted(ScoreChange.objects.values_list(*LEDGER_FIELDS), key=repr) == ledger
    replayed = dict(Contact.objects.values_list("pk", "score"))
    replayed_ledger = sorted(ScoreChange.objects.values_list(*LEDGER_FIELDS), key=repr)
    for c in Contact.objects.all():
        assert explain_score(c).total == c.score
    replay_rules()
    assert dict(Contact.objects.values_list("pk", "score")) == replayed
    assert sorted(ScoreChange.objects.values_list(*LEDGER_FIELDS), key=repr) == replayed_ledger


def test_schedules_are_created_once(settings):
    from django_q.models import Schedule

    call_command("journey_schedules")
    settings.WAGTAIL_JOURNEY = {"SEGMENT_REBUILD_MINUTES": 15}
    call_command("journey_schedules")
    # decay, segment rebuild, email sweep, flow sweep, flow dates, report roll-up,
    # privacy retention and export files (the anonymous-data purge has its own name)
    assert Schedule.objects.filter(name__startswith="journey-").count() == 8
    assert Schedule.objects.get(name="journey-segment-rebuild").minutes == 15
    assert Schedule.objects.get(name="journey-email-sweep").minutes == 1
    assert Schedule.objects.get(name="journey-report-rollup").minutes == 15
    assert Schedule.objects.get(name="journey-score-decay").func.endswith("run_decay")


# --- caps are greedy: the order touchpoints are taken in matters -------------------


def scored(contact) -> set[int]:
    return set(
        ScoreChange.objects.filter(contact=contact, rule__isnull=False).values_list(
            "touchpoint_id", flat=True
        )
    )


def test_a_late_history_can_make_the_replay_keep_other_rows_than_live_scoring():
    """Cap 1 per day. Live: 13h scores, 26h is blocked; the visitor's history then
    brings 0h, blocked by 13h. The replay, in time order, keeps 0h and 26h: one
    more point with no rule change. The plain rebuild never changes the score."""
    from wagtail_journey.identity import identify_visitor
    from wagtail_journey.models import Visitor

    rule(kind="page_view", points=1, cap_count=1, cap_period="day")
    start = timezone.now() - timedelta(days=10)
    visitor = Visitor.objects.create()
    early = record("page_view", visitor=visitor, occurred_at=start)
    contact = Contact.objects.create(email="late@example.com")
    noon = record("page_view", contact=contact, occurred_at=start + timedelta(hours=13))
    later = record("page_view", contact=contact, occurred_at=start + timedelta(hours=26))
    assert scored(contact) == {noon.pk}
    identify_visitor(visitor, contact)
    assert Touchpoint.objects.get(pk=early.pk).contact_id == contact.pk
    assert scored(contact) == {noon.pk} and score_of(contact) == 1
    sync_scores_from_ledger()
    assert score_of(contact) == 1
    replay_rules()
    assert scored(contact) == {early.pk, later.pk} and score_of(contact) == 2
    sync_scores_from_ledger()
    replay_rules()  # from then on the replay is stable
    assert scored(contact) == {early.pk, later.pk} and score_of(contact) == 2


def test_the_replay_takes_touchpoints_in_time_order_like_history_scoring():
    """A history recorded out of time order (a back-dated event) is scored in time
    order; the replay takes the same order, so it keeps the same rows."""
    from wagtail_journey.identity import identify_visitor
    from wagtail_journey.models import Visitor

    rule(kind="page_view", points=1, cap_count=1, cap_period="day")
    start = timezone.now() - timedelta(days=10)
    visitor = Visitor.objects.create()
    later = record("page_view", visitor=visitor, occurred_at=start + timedelta(hours=10))
    earlier = record("page_view", visitor=visitor, occurred_at=start)  # back-dated
    assert later.pk < earlier.pk
    contact = Contact.objects.create(email="history@example.com")
    identify_visitor(visitor, contact)
    assert scored(contact) == {earlier.pk}
    replay_rules()
    assert scored(contact) == {earlier.pk} and score_of(contact) == 1
