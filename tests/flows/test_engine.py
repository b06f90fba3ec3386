"""The flow engine: steps run once each, in order, when due; branches; exits."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from tests.emails.helpers import make_template
from tests.flows.conftest import consented
from tests.flows.helpers import event, make_flow, send, step, trigger, wait
from tests.segment_helpers import group, r
from wagtail_journey.events import record
from wagtail_journey.flows.engine import run_batch, run_due
from wagtail_journey.flows.enrol import enrol
from wagtail_journey.models import Enrollment, OutboundEmail, ScoreChange, StepRun
from wagtail_journey.models.flows import EnrollmentStatus, ExitReason, PauseReason

pytestmark = pytest.mark.django_db


def later(**kw):
    return timezone.now() + timedelta(**kw)


def test_a_welcome_flow_sends_its_emails_once_each_when_due(purpose, template):
    second = make_template(name="Day two", subject="Day two")
    flow = make_flow(trigger=trigger("manual"), steps=[send(template), wait(2), send(second)])
    contact = consented(purpose)
    enrollment = enrol(flow, contact)
    assert run_batch()["steps"] == 2  # the email, then the wait starts
    assert list(OutboundEmail.objects.values_list("template_id", flat=True)) == [template.pk]
    enrollment.refresh_from_db()
    assert enrollment.waiting and enrollment.next_run_at > later(days=1, hours=23)
    # Nothing is due yet: a second run (a re-delivered task) does nothing.
    assert run_batch() == {"claimed": 0, "steps": 0, "failed": 0}
    assert run_batch(now=later(days=2, minutes=1))["steps"] == 1
    assert OutboundEmail.objects.count() == 2
    enrollment.refresh_from_db()
    assert enrollment.status == EnrollmentStatus.COMPLETED
    assert enrollment.exit_reason == ExitReason.COMPLETED
    assert run_batch(now=later(days=3)) == {"claimed": 0, "steps": 0, "failed": 0}
    assert StepRun.objects.filter(enrollment=enrollment).count() == 3


def test_a_step_runs_once_per_visit(purpose, template):
    flow = make_flow(trigger=trigger("manual"), steps=[send(template)])
    enrollment = enrol(flow, consented(purpose))
    run_due()
    run_ = StepRun.objects.get(enrollment=enrollment)
    with pytest.raises(IntegrityError), transaction.atomic():
        StepRun.objects.create(
            enrollment=enrollment, flow=flow, step_id=run_.step_id, visit=run_.visit
        )
    # The email's idempotency key names the enrollment, step and visit.
    assert OutboundEmail.objects.get().idempotency_key == (
        f"flow:{enrollment.pk}:{run_.step_id}:{run_.visit}"
    )


def test_an_unpublished_flow_enrols_nobody(purpose, django_capture_on_commit_callbacks):
    flow = make_flow(trigger=trigger("tag_added", tag="vip"), publish=False)
    contact = consented(purpose)
    with django_capture_on_commit_callbacks(execute=True):
        record("tag_added", contact=contact, properties={"tag": "vip"})
    assert not Enrollment.objects.exists()
    assert enrol(flow, contact) is None


def test_a_trigger_enrols_and_the_first_steps_run_at_once(
    purpose, template, django_capture_on_commit_callbacks
):
    make_flow(trigger=trigger("tag_added", tag="VIP"), steps=[send(template), wait(1)])
    contact = consented(purpose)
    with django_capture_on_commit_callbacks(execute=True):
        record("tag_added", contact=contact, properties={"tag": "vip"})
    enrollment = Enrollment.objects.get()
    assert enrollment.source == "trigger" and enrollment.waiting
    assert OutboundEmail.objects.filter(contact=contact).count() == 1


def test_conditions_branch_and_then_rejoin(purpose):
    flow = make_flow(
        trigger=trigger("manual"),
        steps=[
            step(
                "condition",
                match="all",
                rules=[group(r("tag", tag="vip"))],
                yes=[step("add_tag", tag="gold")],
                no=[step("add_tag", tag="silver")],
            ),
            step("add_tag", tag="after"),
        ],
    )
    vip = consented(purpose, "vip@example.com")
    vip.tags.add("vip")
    plain = consented(purpose, "plain@example.com")
    enrol(flow, vip)
    enrol(flow, plain)
    run_due()
    assert sorted(vip.tags.names()) == ["after", "gold", "vip"]
    assert sorted(plain.tags.names()) == ["after", "silver"]
    assert set(Enrollment.objects.values_list("status", flat=True)) == {EnrollmentStatus.COMPLETED}


def test_contact_steps_use_the_ledger_and_stages(purpose):
    flow = make_flow(
        "Nurture",
        trigger=trigger("manual"),
        steps=[step("change_score", points=15), step("set_stage", stage="mql"), step("exit")],
    )
    contact = consented(purpose)
    enrol(flow, contact)
    run_due()
    contact.refresh_from_db()
    assert contact.score == 15 and contact.lifecycle_stage == "mql"
    change = ScoreChange.objects.get(contact=contact)
    assert change.reason == ScoreChange.Reason.FLOW and change.label == "Nurture"
    enrollment = Enrollment.objects.get()
    assert enrollment.exit_reason == ExitReason.EXIT_STEP


def test_wait_for_an_event_takes_the_event_branch_when_it_comes(
    purpose, django_capture_on_commit_callbacks
):
    flow = make_flow(
        trigger=trigger("manual"),
        steps=[
            step(
                "wait_event",
                kind="order_completed",
                filters=[],
                timeout={"amount": 3, "unit": "days"},
                event=[step("add_tag", tag="bought")],
                no_event=[],
            )
        ],
    )
    contact = consented(purpose)
    enrol(flow, contact)
    run_due()
    assert Enrollment.objects.get().waiting
    with django_capture_on_commit_callbacks(execute=True):
        record("order_completed", contact=contact, properties={"total": 10})
    assert "bought" in contact.tags.names()
    assert Enrollment.objects.get().status == EnrollmentStatus.COMPLETED


def test_wait_for_an_event_times_out_onto_its_other_branch(purpose):
    flow = make_flow(
        trigger=trigger("manual"),
        steps=[
            step(
                "wait_event",
                kind="order_completed",
                filters=[],
                timeout={"amount": 3, "unit": "days"},
                event=[],
                no_event=[step("add_tag", tag="no-order")],
            )
        ],
    )
    contact = consented(purpose)
    enrol(flow, contact)
    run_due()
    run_batch(now=later(days=2))
    assert list(contact.tags.names()) == []
    run_batch(now=later(days=3, minutes=1))
    assert list(contact.tags.names()) == ["no-order"]


def test_a_goal_ends_the_flow(purpose, template, django_capture_on_commit_callbacks):
    flow = make_flow(
        trigger=trigger("manual"),
        steps=[wait(1), send(template)],
        goals=[event("order_completed")],
    )
    contact = consented(purpose)
    enrol(flow, contact)
    run_due()
    with django_capture_on_commit_callbacks(execute=True):
        record("order_completed", contact=contact)
    enrollment = Enrollment.objects.get()
    assert enrollment.status == EnrollmentStatus.COMPLETED
    assert enrollment.exit_reason == ExitReason.GOAL
    run_batch(now=later(days=2))
    assert not OutboundEmail.objects.exists()


def test_abandonment_waits_then_reminds_unless_the_follow_up_came(
    purpose, template, django_capture_on_commit_callbacks
):
    make_flow(
        "Cart",
        trigger=trigger(
            "abandonment",
            kind="cart_updated",
            filters=[],
            unless="order_completed",
            within={"amount": 2, "unit": "hours"},
        ),
        steps=[send(template)],
    )
    buyer = consented(purpose, "buyer@example.com")
    leaver = consented(purpose, "leaver@example.com")
    with django_capture_on_commit_callbacks(execute=True):
        record("cart_updated", contact=buyer, properties={"items": 1})
        record("cart_updated", contact=leaver, properties={"items": 2})
    assert Enrollment.objects.count() == 2
    assert not OutboundEmail.objects.exists()  # held for two hours
    with django_capture_on_commit_callbacks(execute=True):
        record("order_completed", contact=buyer)
    run_batch(now=later(hours=2, minutes=1))
    assert list(OutboundEmail.objects.values_list("contact_id", flat=True)) == [leaver.pk]
    assert Enrollment.objects.get(contact=buyer).exit_reason == ExitReason.FOLLOWED_UP


def test_property_filters_select_the_touchpoints_that_trigger(
    purpose, django_capture_on_commit_callbacks
):
    make_flow(trigger=event("cart_updated", ("total", "gt", "100")), steps=[wait(1)])
    contact = consented(purpose)
    with django_capture_on_commit_callbacks(execute=True):
        record("cart_updated", contact=contact, properties={"total": 50})
    assert not Enrollment.objects.exists()
    with django_capture_on_commit_callbacks(execute=True):
        record("cart_updated", contact=contact, properties={"total": 150})
    assert Enrollment.objects.count() == 1


def test_a_deleted_template_pauses_the_enrollment_with_a_reason(purpose, template):
    flow = make_flow(trigger=trigger("manual"), steps=[send(template)])
    enrol(flow, consented(purpose))
    template.delete()
    run_due()
    enrollment = Enrollment.objects.get()
    assert enrollment.status == EnrollmentStatus.PAUSED
    assert enrollment.pause_reason == PauseReason.TEMPLATE_GONE
    assert not StepRun.objects.exists()  # nothing ran: resuming runs the step then


def test_a_removed_step_pauses_waiting_contacts(purpose):
    flow = make_flow(trigger=trigger("manual"), steps=[wait(1), step("add_tag", tag="x")])
    enrollment = enrol(flow, consented(purpose))
    run_due()
    enrollment.refresh_from_db()
    Enrollment.objects.filter(pk=enrollment.pk).update(step_id="gone", next_run_at=timezone.now())
    run_due()
    enrollment.refresh_from_db()
    assert enrollment.status == EnrollmentStatus.PAUSED
    assert enrollment.pause_reason == PauseReason.STEP_MISSING


def test_enrollments_keep_the_revision_they_entered_on(purpose):
    from tests.flows.helpers import republish

    flow = make_flow(trigger=trigger("manual"), steps=[wait(1), step("add_tag", tag="old")])
    first = consented(purpose, "first@example.com")
    enrol(flow, first)
    run_due()
    steps = list(flow.steps.raw_data)
    steps[1] = {**steps[1], "value": {"tag": "new"}}
    flow = republish(flow, steps=steps)
    second = consented(purpose, "second@example.com")
    enrol(flow, second)
    run_due()
    run_batch(now=later(days=1, minutes=1))
    assert list(first.tags.names()) == ["old"]
    assert list(second.tags.names()) == ["new"]


def test_random_split_sends_everyone_down_one_path(purpose):
    flow = make_flow(
        trigger=trigger("manual"),
        steps=[
            step("split", percent_a=100, a=[step("add_tag", tag="a")], b=[step("add_tag", tag="b")])
        ],
    )
    contact = consented(purpose)
    enrol(flow, contact)
    run_due()
    assert list(contact.tags.names()) == ["a"]
    assert StepRun.objects.get(outcome="a").detail == {"path": "a"}


def test_the_sweep_runs_what_falls_due_within_its_lookahead(purpose, settings):
    import time as clock

    settings.WAGTAIL_JOURNEY = {"FLOW_SWEEP_LOOKAHEAD_SECONDS": 3}
    flow = make_flow(trigger=trigger("manual"), steps=[step("add_tag", tag="now")])
    contact = consented(purpose)
    enrollment = enrol(flow, contact)
    Enrollment.objects.filter(pk=enrollment.pk).update(next_run_at=later(seconds=1))
    paused = make_flow("Paused", trigger=trigger("manual"), steps=[step("add_tag", tag="p")])
    enrol(paused, contact)
    type(paused).objects.filter(pk=paused.pk).update(paused=True)
    from wagtail_journey.flows.engine import sweep

    started = clock.monotonic()
    sweep()
    assert clock.monotonic() - started < 3  # no spinning on the paused flow's due row
    assert list(contact.tags.names()) == ["now"]
