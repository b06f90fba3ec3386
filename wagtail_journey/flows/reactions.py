"""The flows reaction: what a touchpoint means for flows, and the date schedule.

One deferred reaction per touchpoint of a known contact (never polling):

1. ``unsubscribed`` ends the contact's marketing flows at once;
2. the contact's running enrollments: a goal reached ends one; an event a
   "wait for an event" step awaits moves it onto the event branch;
3. every live flow whose trigger the touchpoint fires enrols the contact.

Date triggers ("30 days after the last order") are not events: the schedule
:func:`run_date_triggers` enrols the contacts whose date came since its last
run, in set-based statements. Its first run after publishing only starts the
clock: no backlog of old dates fires.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.db.models import F, Max, OuterRef, Subquery
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from wagtail_journey.emails import messages
from wagtail_journey.events import reaction
from wagtail_journey.flows.engine import jump
from wagtail_journey.flows.enrol import end_enrollments, enrol, enrol_many, exit_contact, live_plan
from wagtail_journey.flows.plan import plan_for_revision
from wagtail_journey.flows.steps import get_step
from wagtail_journey.flows.triggers import get_trigger
from wagtail_journey.models import Contact, Touchpoint
from wagtail_journey.models.flows import Enrollment, EnrollmentStatus, ExitReason, Flow
from wagtail_journey.segment_rules import RuleError

logger = logging.getLogger(__name__)

DATES_SCHEDULE = "journey-flow-dates"
DATES_TASK = "wagtail_journey.flows.reactions.run_date_triggers"

# Owner and team notifications (flows/owners.py), built in code and sent as
# transactional messages to staff.
messages.register(
    "flow_notice", "wagtail_journey.flows.owners.build_notice", _("Flow notification")
)


@reaction("flows", order=60, deferred=True, needs_contact=True)
def flows_reaction(touchpoint: Touchpoint) -> None:
    contact = touchpoint.contact
    if contact is None:
        return
    if touchpoint.kind == "unsubscribed":
        exit_contact(contact.pk, ExitReason.UNSUBSCRIBED)
    running_enrollments(touchpoint)
    if contact.erased_at is not None or contact.restricted_at is not None:
        return
    live = Flow.objects.filter(live=True, paused=False, live_revision__isnull=False).values_list(
        "pk", "live_revision_id"
    )
    for flow_id, revision_id in live:
        plan = plan_for_revision(revision_id)
        if plan is None or plan.trigger is None:
            continue
        trigger = get_trigger(plan.trigger[0])
        if trigger is not None and trigger.matches(plan.trigger[1], touchpoint):
            enrol(Flow(pk=flow_id), contact, at=touchpoint.occurred_at, plan=plan)


def running_enrollments(touchpoint: Touchpoint) -> None:
    """Goals and awaited events of the contact's running enrollments."""
    rows = Enrollment.objects.filter(
        contact_id=touchpoint.contact_id, ended_at__isnull=True
    ).values_list("pk", "revision_id", "step_id", "visit", "waiting", "step_entered_at", "status")
    for pk, revision_id, step_id, visit, waiting, since, status in rows:
        plan = plan_for_revision(revision_id) if revision_id else None
        if plan is None:
            continue
        if any(
            (t := get_trigger(name)) is not None and t.matches(value, touchpoint)
            for name, value in plan.goals
        ):
            end_enrollments(Enrollment.objects.filter(pk=pk), ExitReason.GOAL)
            continue
        if not waiting or status != EnrollmentStatus.ACTIVE:
            continue
        node = plan.nodes.get(step_id)
        step = get_step(node.type) if node is not None else None
        if (
            step is not None
            and hasattr(step, "matches")
            and touchpoint.occurred_at >= since
            and step.matches(node.value, touchpoint)
        ):
            jump(pk, expect_step=step_id, expect_visit=visit, target=plan.target(node, "event"))


def _dated(source: str):
    """Contacts annotated with the date a date trigger counts from."""
    if source == "signup":
        return Contact.objects.annotate(trigger_date=F("created_at"))
    if source == "last_activity":
        return Contact.objects.annotate(trigger_date=F("last_activity_at"))
    last_order = (
        Touchpoint.objects.filter(contact=OuterRef("pk"), kind="order_completed")
        .order_by()
        .values("contact")
        .annotate(m=Max("occurred_at"))
        .values("m")
    )
    return Contact.objects.annotate(trigger_date=Subquery(last_order))


def run_date_triggers() -> dict[int, int]:
    """Schedule: enrol contacts whose trigger date came since the last run."""
    now = timezone.now()
    done: dict[int, int] = {}
    for flow in Flow.objects.filter(live=True, paused=False):
        plan = live_plan(flow)
        if plan is None or plan.trigger is None or plan.trigger[0] != "date":
            continue
        value = plan.trigger[1]
        days = timedelta(days=int(value.get("days") or 0))
        since = flow.dates_checked_at or now  # first run: start the clock, no backlog
        contacts = _dated(value.get("source") or "last_order").filter(
            trigger_date__gt=since - days, trigger_date__lte=now - days
        )
        try:
            done[flow.pk] = enrol_many(flow, contacts, source="date") if since < now else 0
        except RuleError as exc:
            logger.warning("Flow %s: entry filter cannot be compiled: %s", flow.pk, exc)
            continue
        Flow.objects.filter(pk=flow.pk).update(dates_checked_at=now)
    return done
