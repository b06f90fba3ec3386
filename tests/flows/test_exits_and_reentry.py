"""Who may be in a flow: re-entry policies, consent, unsubscribes, rights."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from tests.flows.conftest import consented
from tests.flows.helpers import make_flow, send, step, trigger, wait
from tests.segment_helpers import group, make_segment, r
from wagtail_journey.events import record
from wagtail_journey.flows.engine import run_batch, run_due
from wagtail_journey.flows.enrol import enrol, enrol_many, remove
from wagtail_journey.models import ConsentRecord, Contact, Enrollment, OutboundEmail
from wagtail_journey.models.flows import EnrollmentStatus, ExitReason
from wagtail_journey.privacy.consent import record_consent

pytestmark = pytest.mark.django_db


def later(**kw):
    return timezone.now() + timedelta(**kw)


def test_once_ever_enrols_once(purpose):
    flow = make_flow(trigger=trigger("manual"), steps=[step("add_tag", tag="x")])
    contact = consented(purpose)
    assert enrol(flow, contact) is not None
    assert enrol(flow, contact) is None  # still inside
    run_due()
    assert enrol(flow, contact) is None  # finished, and once means once
    assert Enrollment.objects.count() == 1


def test_any_time_re_enters_after_the_previous_run_ended(purpose):
    flow = make_flow(trigger=trigger("manual"), steps=[wait(1)], reentry="any_time")
    contact = consented(purpose)
    assert enrol(flow, contact) is not None
    assert enrol(flow, contact) is None
    run_due()
    run_batch(now=later(days=1, minutes=1))
    assert enrol(flow, contact) is not None
    assert Enrollment.objects.count() == 2


def test_again_after_days_waits_that_long(purpose):
    flow = make_flow(trigger=trigger("manual"), steps=[], reentry="after_days", reentry_days=30)
    contact = consented(purpose)
    first = enrol(flow, contact)
    run_due()
    assert enrol(flow, contact) is None
    Enrollment.objects.filter(pk=first.pk).update(enrolled_at=later(days=-31))
    assert enrol(flow, contact) is not None


def test_the_entry_filter_keeps_others_out(purpose):
    flow = make_flow(
        trigger=trigger("manual"),
        steps=[],
        entry_rules=[group(r("tag", tag="customer"))],
    )
    outsider = consented(purpose, "out@example.com")
    insider = consented(purpose, "in@example.com")
    insider.tags.add("customer")
    assert enrol(flow, outsider) is None
    assert enrol(flow, insider) is not None


def test_unsubscribing_ends_marketing_flows_before_the_next_email(
    purpose, template, django_capture_on_commit_callbacks
):
    flow = make_flow(trigger=trigger("manual"), steps=[wait(1), send(template)])
    contact = consented(purpose)
    enrol(flow, contact)
    run_due()
    with django_capture_on_commit_callbacks(execute=True):
        record("unsubscribed", contact=contact, properties={"purpose": purpose.key})
    enrollment = Enrollment.objects.get()
    assert enrollment.status == EnrollmentStatus.EXITED
    assert enrollment.exit_reason == ExitReason.UNSUBSCRIBED
    run_batch(now=later(days=2))
    assert not OutboundEmail.objects.exists()


def test_withdrawn_consent_exits_at_the_next_email_with_that_reason(purpose, template):
    flow = make_flow(trigger=trigger("manual"), steps=[wait(1), send(template)])
    contact = consented(purpose)
    enrol(flow, contact)
    run_due()
    record_consent(contact, purpose, ConsentRecord.Action.WITHDRAWN, method="admin")
    run_batch(now=later(days=1, minutes=1))
    enrollment = Enrollment.objects.get()
    assert enrollment.exit_reason == ExitReason.NO_CONSENT
    assert not OutboundEmail.objects.exists()


@pytest.mark.parametrize(
    "field,reason",
    [
        ("restricted_at", ExitReason.RESTRICTED),
        ("objects_to_marketing_at", ExitReason.OBJECTED),
        ("erased_at", ExitReason.ERASED),
    ],
)
def test_rights_end_the_flow_at_its_next_step(purpose, template, field, reason):
    flow = make_flow(trigger=trigger("manual"), steps=[wait(1), send(template)])
    contact = consented(purpose)
    enrol(flow, contact)
    run_due()
    Contact.objects.filter(pk=contact.pk).update(**{field: timezone.now()})
    run_batch(now=later(days=1, minutes=1))
    enrollment = Enrollment.objects.get()
    assert (enrollment.status, enrollment.exit_reason) == (EnrollmentStatus.EXITED, reason)
    assert not OutboundEmail.objects.exists()
    assert enrol(flow, Contact.objects.get(pk=contact.pk)) is None


def test_manual_enrolment_of_a_segment_and_removal(purpose):
    flow = make_flow(trigger=trigger("manual"), steps=[wait(1)], reentry="any_time")
    for i in range(5):
        c = consented(purpose, f"c{i}@example.com")
        if i % 2:
            c.tags.add("vip")
    Contact.objects.filter(email="c3@example.com").update(restricted_at=timezone.now())
    segment = make_segment("VIP", group(r("tag", tag="vip")))
    from wagtail_journey.segments import segment_queryset

    assert enrol_many(flow, segment_queryset(segment)) == 1  # c1 (c3 is restricted)
    assert enrol_many(flow, segment_queryset(segment)) == 0  # already inside
    assert remove(Enrollment.objects.values_list("pk", flat=True)) == 1
    assert Enrollment.objects.get().exit_reason == ExitReason.MANUAL


def test_date_triggers_start_the_clock_then_enrol_whose_date_came(purpose):
    from wagtail_journey.flows.reactions import run_date_triggers

    flow = make_flow(
        "Re-activation",
        trigger=trigger("date", source="last_order", days=30),
        steps=[wait(1)],
    )
    old = consented(purpose, "old@example.com")
    due = consented(purpose, "due@example.com")
    record("order_completed", contact=old, occurred_at=later(days=-90))
    assert run_date_triggers() == {flow.pk: 0}  # publishing fires no backlog
    record("order_completed", contact=due, occurred_at=later(days=-30, minutes=-5))
    flow.refresh_from_db()
    type(flow).objects.filter(pk=flow.pk).update(dates_checked_at=later(minutes=-10))
    assert run_date_triggers() == {flow.pk: 1}
    assert list(Enrollment.objects.values_list("contact_id", flat=True)) == [due.pk]
    assert run_date_triggers() == {flow.pk: 0}
