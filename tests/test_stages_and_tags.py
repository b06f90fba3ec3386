"""Lifecycle stages, journey stages and tags."""

import pytest
from django.core.management import call_command

from wagtail_journey import record
from wagtail_journey.models import Contact, LifecycleTransition, ScoringRule, Touchpoint
from wagtail_journey.stages import lifecycle_choices, set_lifecycle_stage
from wagtail_journey.tags import add_tags, remove_tags

pytestmark = pytest.mark.django_db


@pytest.fixture
def transitions():
    LifecycleTransition.objects.create(stage="mql", min_score=50)
    LifecycleTransition.objects.create(stage="sql", min_score=100)
    LifecycleTransition.objects.create(stage="customer", kind="order_completed")
    LifecycleTransition.objects.create(stage="lead", kind="form_submitted")


def stage_changes(contact):
    return [
        (t.properties["from"], t.properties["to"], t.properties["reason"])
        for t in Touchpoint.objects.filter(contact=contact, kind="stage_changed").order_by("id")
    ]


def test_score_threshold_moves_forward_and_records_stage_changed(transitions):
    ScoringRule.objects.create(name="demo", kind="demo_requested", points=60)
    c = record("demo_requested", email="a@example.com").contact
    c.refresh_from_db()
    assert c.lifecycle_stage == "mql"
    record("demo_requested", contact=c)  # 120: straight to the furthest reached stage
    c.refresh_from_db()
    assert c.lifecycle_stage == "sql"
    assert stage_changes(c) == [("subscriber", "mql", "score"), ("mql", "sql", "score")]


def test_event_transition_and_automatic_moves_never_go_back(transitions):
    c = record("order_completed", email="b@example.com").contact
    c.refresh_from_db()
    assert c.lifecycle_stage == "customer"
    record("form_submitted", contact=c)  # "lead" is behind "customer": no change
    c.refresh_from_db()
    assert c.lifecycle_stage == "customer"
    assert stage_changes(c) == [("subscriber", "customer", "event")]


def test_editors_may_move_a_contact_backwards(admin_user, transitions):
    c = record("order_completed", email="c@example.com").contact
    assert set_lifecycle_stage(c, "lead", user=admin_user)
    c.refresh_from_db()
    assert c.lifecycle_stage == "lead"
    last = Touchpoint.objects.filter(contact=c, kind="stage_changed").last()
    assert last.properties == {"from": "customer", "to": "lead", "reason": "manual", "by": "admin"}
    assert not set_lifecycle_stage(c, "lead")  # unchanged: nothing recorded
    with pytest.raises(ValueError):
        set_lifecycle_stage(c, "nonsense")


def test_stage_list_is_configurable(settings):
    settings.WAGTAIL_JOURNEY = {"LIFECYCLE_STAGES": ["visitor", "buyer"]}
    assert [s for s, _label in lifecycle_choices()] == ["visitor", "buyer"]


def test_journey_stage_follows_the_furthest_touchpoint_stage():
    c = record("page_view", email="d@example.com", journey_stage="consideration").contact
    record("page_view", contact=c, journey_stage="awareness")
    c.refresh_from_db()
    assert c.journey_stage == "consideration"
    record("order_completed", contact=c, journey_stage="conversion")
    Contact.objects.filter(pk=c.pk).update(journey_stage="")
    call_command("rebuild_scores")
    c.refresh_from_db()
    assert c.journey_stage == "conversion"


def test_tags_record_touchpoints_and_are_not_activity(admin_user):
    c = record("page_view", email="e@example.com").contact
    c.refresh_from_db()
    activity = c.last_activity_at
    assert add_tags(c, "vip", "vip", " beta ", user=admin_user) == ["vip", "beta"]
    assert add_tags(c, "vip") == []
    assert remove_tags(c, "beta", "unknown", source="flow") == ["beta"]
    assert sorted(c.tags.names()) == ["vip"]
    kinds = list(
        Touchpoint.objects.filter(contact=c, kind__startswith="tag_")
        .order_by("id")
        .values_list("kind", "properties")
    )
    assert kinds == [
        ("tag_added", {"tag": "vip", "by": "admin"}),
        ("tag_added", {"tag": "beta", "by": "admin"}),
        ("tag_removed", {"tag": "beta", "source": "flow"}),
    ]
    c.refresh_from_db()
    assert c.last_activity_at == activity


def test_a_manual_score_correction_can_cross_a_threshold(transitions):
    from wagtail_journey.scoring import add_manual_change

    c = Contact.objects.create(email="f@example.com")
    add_manual_change(c, 55, "met at the fair")
    c.refresh_from_db()
    assert (c.score, c.lifecycle_stage) == (55, "mql")
