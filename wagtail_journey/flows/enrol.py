"""Entering and leaving flows: eligibility, the entry filter, the re-entry policy.

Entering is safe under concurrent triggers without locks: the database's
constraints decide (one running enrollment per flow and contact; one at all
for "once ever" flows), and the loser of a race simply enrols nobody.
Unpublished flows enrol nobody; publishing one later fires no backlog (a
trigger is a touchpoint reacted to when it happens, not a query of the past).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from wagtail_journey.flows.plan import Plan, plan_for_revision
from wagtail_journey.flows.triggers import get_trigger
from wagtail_journey.models import Contact
from wagtail_journey.models.flows import (
    Enrollment,
    EnrollmentStatus,
    ExitReason,
    Flow,
    ReEntry,
)
from wagtail_journey.segment_rules import RuleError

logger = logging.getLogger(__name__)

#: Contacts enrolled per INSERT by enrol_many (memory stays flat).
CHUNK = 1000


def may_run(contact: Any, plan: Plan) -> int:
    """0 when flows may process ``contact``; else the exit reason that applies."""
    if contact.erased_at is not None:
        return ExitReason.ERASED
    if contact.restricted_at is not None:
        return ExitReason.RESTRICTED
    if plan.marketing and contact.objects_to_marketing_at is not None:
        return ExitReason.OBJECTED
    return 0


def live_plan(flow: Flow) -> Plan | None:
    if not flow.live or flow.live_revision_id is None:
        return None
    return plan_for_revision(flow.live_revision_id)


def _hold(plan: Plan) -> timedelta | None:
    if plan.trigger is None:
        return None
    trigger = get_trigger(plan.trigger[0])
    return trigger.hold(plan.trigger[1]) if trigger else None


def enrol(
    flow: Flow,
    contact: Contact,
    *,
    source: str = "trigger",
    at: datetime | None = None,
    plan: Plan | None = None,
) -> Enrollment | None:
    """Enrol ``contact`` in the live revision of ``flow``; the new enrollment, or
    None when the flow is not live, the contact may not enter (entry filter,
    re-entry policy, restriction) or is already inside.

    An abandonment trigger firing again for a contact still waiting to see
    whether the follow-up comes restarts that wait from ``at``.
    """
    plan = plan or live_plan(flow)
    if plan is None or may_run(contact, plan):
        return None
    try:
        entry = plan.entry_q()
    except RuleError as exc:
        logger.warning("Flow %s: entry filter cannot be compiled: %s", flow.pk, exc)
        return None
    if entry is not None and not Contact.objects.filter(entry, pk=contact.pk).exists():
        return None
    now = timezone.now()
    at = at or now
    hold = _hold(plan)
    mine = Enrollment.objects.filter(flow_id=flow.pk, contact_id=contact.pk)
    running = mine.filter(ended_at__isnull=True).values_list("pk", "step_id", "status").first()
    if running is not None:
        pk, step_id, status = running
        if hold and step_id == "" and status == EnrollmentStatus.ACTIVE:
            mine.filter(pk=pk, step_id="", step_entered_at__lt=at).update(
                step_entered_at=at, next_run_at=at + hold
            )
        return None
    if plan.reentry == ReEntry.ONCE and mine.exists():
        return None
    if (
        plan.reentry == ReEntry.AFTER_DAYS
        and mine.filter(enrolled_at__gte=now - timedelta(days=plan.reentry_days)).exists()
    ):
        return None
    enrollment = Enrollment(
        flow_id=flow.pk,
        contact_id=contact.pk,
        revision_id=plan.revision_id,
        step_entered_at=at,
        enrolled_at=now,
        next_run_at=(at + hold) if hold else now,
        entry_key="once" if plan.reentry == ReEntry.ONCE else uuid.uuid4().hex,
        source=source[:16],
    )
    try:
        with transaction.atomic():
            enrollment.save(force_insert=True)
    except IntegrityError:
        return None  # a concurrent trigger enrolled the contact first
    from wagtail_journey.flows.engine import schedule_run

    schedule_run([enrollment.pk], enrollment.next_run_at)
    return enrollment


def candidates(flow: Flow, plan: Plan, contacts: QuerySet, now: datetime) -> QuerySet:
    """``contacts`` that may enter ``flow`` now, as one query (raises RuleError)."""
    qs = contacts.filter(erased_at__isnull=True, restricted_at__isnull=True)
    if plan.marketing:
        qs = qs.filter(objects_to_marketing_at__isnull=True)
    entry = plan.entry_q()
    if entry is not None:
        qs = qs.filter(entry)
    theirs = Enrollment.objects.filter(flow_id=flow.pk, contact=OuterRef("pk"))
    if plan.reentry == ReEntry.ONCE:
        qs = qs.filter(~Exists(theirs))
    else:
        blocking = Q(ended_at__isnull=True)
        if plan.reentry == ReEntry.AFTER_DAYS:
            blocking |= Q(enrolled_at__gte=now - timedelta(days=plan.reentry_days))
        qs = qs.filter(~Exists(theirs.filter(blocking)))
    return qs


def enrol_many(flow: Flow, contacts: QuerySet, *, source: str = "manual") -> int:
    """Enrol every contact of ``contacts`` that may enter, in chunked INSERTs
    (memory flat whatever the number); returns how many were enrolled. The
    first steps run at once (one task), the rest through the sweep."""
    plan = live_plan(flow)
    if plan is None:
        return 0
    now = timezone.now()
    ids = candidates(flow, plan, contacts, now).order_by().values_list("pk", flat=True)
    hold = _hold(plan)
    once = plan.reentry == ReEntry.ONCE
    created = 0
    chunk: list[Enrollment] = []

    def flush() -> int:
        made = Enrollment.objects.bulk_create(chunk, ignore_conflicts=True)
        chunk.clear()
        return len(made)

    for contact_id in ids.iterator(chunk_size=CHUNK):
        chunk.append(
            Enrollment(
                flow_id=flow.pk,
                contact_id=contact_id,
                revision_id=plan.revision_id,
                step_entered_at=now,
                enrolled_at=now,
                next_run_at=(now + hold) if hold else now,
                entry_key="once" if once else uuid.uuid4().hex,
                source=source[:16],
            )
        )
        if len(chunk) >= CHUNK:
            created += flush()
    if chunk:
        created += flush()
    if created:
        from wagtail_journey.flows.engine import schedule_sweep

        schedule_sweep()
    return created


def end_enrollments(qs: QuerySet, reason: int, *, detail: str = "") -> int:
    """End the running enrollments of ``qs`` with ``reason`` (one UPDATE)."""
    status = (
        EnrollmentStatus.COMPLETED
        if reason in (ExitReason.COMPLETED, ExitReason.GOAL)
        else EnrollmentStatus.EXITED
    )
    return qs.filter(ended_at__isnull=True).update(
        status=status,
        exit_reason=reason,
        ended_at=timezone.now(),
        next_run_at=None,
        waiting=False,
        detail=detail[:200],
    )


def exit_contact(contact_id: int, reason: int, *, marketing_only: bool = True) -> int:
    """End ``contact_id``'s running enrollments (its marketing flows only, by default).

    Called when the contact unsubscribes, objects to marketing, is restricted
    or erased, so no further email of those flows is even queued.
    """
    qs = Enrollment.objects.filter(contact_id=contact_id)
    if marketing_only:
        qs = qs.filter(flow__marketing=True)
    return end_enrollments(qs, reason)


def remove(enrollment_ids: Iterable[int]) -> int:
    """An editor removes contacts from a flow."""
    return end_enrollments(
        Enrollment.objects.filter(pk__in=list(enrollment_ids)), ExitReason.MANUAL
    )
