"""Running flows: claim due enrollments, run their steps exactly once, move them on.

The database holds the state (``Enrollment``: current step, next run time);
django-q2 executes:

1. :func:`run_batch` claims due enrollments in one transaction
   (``SELECT ... FOR UPDATE SKIP LOCKED`` on PostgreSQL, so several workers on
   several machines share them; SQLite has one writer) and runs each one's
   steps until it waits, ends or pauses, each enrollment in its own savepoint:
   a step's effects (a queued email, a tag, a score change) and its ``StepRun``
   row (unique per enrollment, step and visit) commit together with the
   enrollment's new position, or not at all.
2. After commit, enrollments due within ``FLOW_NEAR_SECONDS`` are handed to a
   task at once (:func:`schedule_run`), so a step runs within seconds of being
   due, not at the next scheduler tick.
3. :func:`sweep` (django-q2 schedule every minute) re-drives whatever is due,
   whatever a lost task left behind, and for ``FLOW_SWEEP_LOOKAHEAD_SECONDS``
   keeps running what falls due meanwhile.

A task delivered twice finds its enrollments moved on (or locked by the other
worker) and does nothing. Emails are queued with an idempotency key per
enrollment, step and visit, so even a re-run could not send twice.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone

from wagtail_journey.conf import journey_settings
from wagtail_journey.flows.enrol import end_enrollments, may_run
from wagtail_journey.flows.plan import Node, Plan, plan_for_revision
from wagtail_journey.flows.steps import Outcome, StepContext, get_step
from wagtail_journey.flows.triggers import get_trigger
from wagtail_journey.models import Touchpoint
from wagtail_journey.models.flows import (
    Enrollment,
    EnrollmentStatus,
    ExitReason,
    PauseReason,
    StepRun,
)

logger = logging.getLogger(__name__)

SWEEP_SCHEDULE = "journey-flow-sweep"
SWEEP_TASK = "wagtail_journey.flows.engine.sweep"
#: Steps one enrollment may run in one go (a loop of instant steps stops here).
MAX_STEPS_PER_RUN = 50
_SAVED = (
    "step_id",
    "visit",
    "waiting",
    "next_run_at",
    "step_entered_at",
    "status",
    "exit_reason",
    "ended_at",
    "pause_reason",
    "detail",
    "attempts",
)


# --- queueing work ---------------------------------------------------------------


def _enqueue(func: str, *args) -> None:
    from django_q.tasks import async_task

    async_task(func, *args, group="wagtail_journey.flows", save=False)


def schedule_run(ids: list[int], due_at: datetime | None) -> None:
    """After commit, run ``ids`` now (or in a few seconds) if they are due soon."""
    if not ids or due_at is None:
        return
    near = timedelta(seconds=journey_settings.FLOW_NEAR_SECONDS)
    if due_at > timezone.now() + near:
        return  # the sweep takes it
    stamp = due_at.timestamp()
    # robust: a broker that is down never fails the caller; the sweep catches up.
    transaction.on_commit(
        lambda: _enqueue("wagtail_journey.flows.engine.run_enrollments", list(ids), stamp),
        robust=True,
    )


def schedule_sweep() -> None:
    transaction.on_commit(lambda: _enqueue("wagtail_journey.flows.engine.run_due"), robust=True)


def run_enrollments(ids: list[int], not_before: float | None = None) -> dict[str, int]:
    """Task: run these enrollments once due (waits at most FLOW_NEAR_SECONDS)."""
    if not_before:
        delay = min(not_before - time.time(), journey_settings.FLOW_NEAR_SECONDS)
        if delay > 0:
            time.sleep(delay)
    return run_batch(ids=ids)


def run_due(max_batches: int = 1000, max_seconds: float | None = None) -> dict[str, int]:
    """Run every due enrollment, batch after batch; returns summed counts."""
    totals: dict[str, int] = {}
    started = time.monotonic()
    for _ in range(max_batches):
        counts = run_batch()
        for key, value in counts.items():
            totals[key] = totals.get(key, 0) + value
        if not counts.get("claimed"):
            break
        if max_seconds is not None and time.monotonic() - started > max_seconds:
            break
    return totals


def sweep() -> dict[str, int]:
    """Schedule (every minute): run what is due, then what falls due in the next
    FLOW_SWEEP_LOOKAHEAD_SECONDS, so long waits end within seconds too."""
    lookahead = float(journey_settings.FLOW_SWEEP_LOOKAHEAD_SECONDS)
    started = time.monotonic()
    totals = run_due(max_seconds=max(lookahead, 30))
    while lookahead > 0:
        left = lookahead - (time.monotonic() - started)
        if left <= 0:
            break
        now = timezone.now()
        # Only what falls due later: rows due now that no batch claimed belong
        # to a paused flow or another worker, and must not make this loop spin.
        upcoming = (
            Enrollment.objects.filter(
                status=EnrollmentStatus.ACTIVE,
                next_run_at__gt=now,
                next_run_at__lte=now + timedelta(seconds=left),
            )
            .exclude(flow__paused=True)
            .order_by("next_run_at")
            .values_list("next_run_at", flat=True)
            .first()
        )
        if upcoming is None:
            break
        delay = (upcoming - now).total_seconds()
        if delay > 0:
            time.sleep(min(delay, left))
        for key, value in run_due(max_seconds=left).items():
            totals[key] = totals.get(key, 0) + value
    return totals


# --- one batch -------------------------------------------------------------------


def run_batch(ids: Iterable[int] | None = None, *, now: datetime | None = None) -> dict[str, int]:
    """Claim up to FLOW_BATCH_SIZE due enrollments and run them; returns counts."""
    now = now or timezone.now()
    qs = Enrollment.objects.filter(status=EnrollmentStatus.ACTIVE, next_run_at__lte=now).exclude(
        flow__paused=True
    )
    if ids is not None:
        qs = qs.filter(pk__in=list(ids))
    counts = {"claimed": 0, "steps": 0, "failed": 0}
    follow: list[Enrollment] = []
    with transaction.atomic():
        rows = list(
            qs.select_related("contact")
            .select_for_update(skip_locked=True, of=("self",))
            .order_by("next_run_at", "pk")[: journey_settings.FLOW_BATCH_SIZE]
        )
        counts["claimed"] = len(rows)
        for enrollment in rows:
            try:
                with transaction.atomic():
                    counts["steps"] += advance(enrollment, now)
            except IntegrityError:
                # Another run already ran this visit of the step (SQLite has no
                # row locks): its effects stand, ours were rolled back.
                logger.info("Enrollment %s: step already run", enrollment.pk)
            except Exception as exc:
                logger.exception("Enrollment %s: a step failed", enrollment.pk)
                counts["failed"] += 1
                Enrollment.objects.filter(pk=enrollment.pk).update(
                    status=EnrollmentStatus.PAUSED,
                    pause_reason=PauseReason.ERROR,
                    detail=(" ".join(str(exc).split()) or type(exc).__name__)[:200],
                )
                continue
            if enrollment.status == EnrollmentStatus.ACTIVE and enrollment.ended_at is None:
                follow.append(enrollment)
    soon = [e for e in follow if e.next_run_at is not None]
    if soon:
        first = min(e.next_run_at for e in soon)
        near = [
            e.pk
            for e in soon
            if e.next_run_at <= now + timedelta(seconds=journey_settings.FLOW_NEAR_SECONDS)
        ]
        if near:
            schedule_run(near, first)
    return counts


def advance(enrollment: Enrollment, now: datetime, *, save: bool = True) -> int:
    """Run ``enrollment``'s steps that are due; returns how many steps ran.

    Call inside a transaction that holds the enrollment's row (run_batch).
    """
    plan = _plan(enrollment)
    if plan is None:
        _pause(enrollment, PauseReason.STEP_MISSING, "revision")
        return _save(enrollment, save, 0)
    reason = may_run(enrollment.contact, plan)
    if reason:
        _end(enrollment, reason, now)
        return _save(enrollment, save, 0)
    steps = 0
    for _ in range(MAX_STEPS_PER_RUN):
        if enrollment.step_id == "":
            if _followed_up(enrollment, plan):
                _end(enrollment, ExitReason.FOLLOWED_UP, now)
                break
            _move(enrollment, plan.first, now)
        else:
            node = plan.nodes.get(enrollment.step_id)
            step = get_step(node.type) if node is not None else None
            if node is None or step is None:
                _pause(enrollment, PauseReason.STEP_MISSING, enrollment.step_id)
                break
            ctx = StepContext(enrollment, enrollment.contact, plan, node, now)
            if enrollment.waiting:
                outcome = step.resume(ctx)
            elif (outcome := step.run(ctx)).kind != "pause":
                # A pausing step did nothing: it runs again when resumed.
                StepRun.objects.create(
                    enrollment_id=enrollment.pk,
                    flow_id=enrollment.flow_id,
                    step_id=node.id,
                    visit=enrollment.visit,
                    ran_at=now,
                    outcome=(outcome.branch or outcome.kind)[:16],
                    outbound_email=ctx.outbound_email,
                    detail=ctx.detail,
                )
                steps += 1
            _apply(enrollment, plan, node, outcome, now)
        if (
            enrollment.ended_at is not None
            or enrollment.status != EnrollmentStatus.ACTIVE
            or (enrollment.next_run_at is not None and enrollment.next_run_at > now)
        ):
            break
    return _save(enrollment, save, steps)


def _save(enrollment: Enrollment, save: bool, steps: int) -> int:
    if save:
        Enrollment.objects.filter(pk=enrollment.pk).update(
            **{name: getattr(enrollment, name) for name in _SAVED}
        )
    return steps


def _plan(enrollment: Enrollment) -> Plan | None:
    if enrollment.revision_id is None:
        from wagtail_journey.models.flows import Flow

        live = Flow.objects.filter(pk=enrollment.flow_id).values_list("live_revision_id", flat=True)
        revision_id = next(iter(live), None)
        if revision_id is None:
            return None
        enrollment.revision_id = revision_id
        Enrollment.objects.filter(pk=enrollment.pk).update(revision_id=revision_id)
    return plan_for_revision(enrollment.revision_id)


def _followed_up(enrollment: Enrollment, plan: Plan) -> bool:
    """An abandonment flow's entry: did the awaited follow-up come after the trigger?"""
    if plan.trigger is None or get_trigger(plan.trigger[0]) is None:
        return False
    unless = (
        plan.trigger[1].get("unless")
        if get_trigger(plan.trigger[0]).hold(plan.trigger[1])
        else None
    )
    if not unless:
        return False
    return Touchpoint.objects.filter(
        contact_id=enrollment.contact_id, kind=unless, occurred_at__gte=enrollment.step_entered_at
    ).exists()


def _apply(enrollment: Enrollment, plan: Plan, node: Node, outcome: Outcome, now: datetime) -> None:
    if outcome.kind == "next":
        _move(enrollment, node.next, now)
    elif outcome.kind == "branch":
        _move(enrollment, plan.target(node, outcome.branch), now)
    elif outcome.kind == "wait":
        enrollment.waiting = True
        enrollment.next_run_at = outcome.at or now
    elif outcome.kind == "exit":
        _end(enrollment, outcome.reason or ExitReason.EXIT_STEP, now, outcome.detail)
    elif outcome.kind == "pause":
        _pause(enrollment, outcome.reason or PauseReason.ERROR, outcome.detail)
    else:
        raise ValueError(f"Unknown step outcome {outcome.kind!r}")


def _move(enrollment: Enrollment, target: str | None, now: datetime) -> None:
    if target is None:
        _end(enrollment, ExitReason.COMPLETED, now)
        return
    enrollment.step_id = target
    enrollment.visit += 1
    enrollment.waiting = False
    enrollment.attempts = 0
    enrollment.step_entered_at = now
    enrollment.next_run_at = now


def _end(enrollment: Enrollment, reason: int, now: datetime, detail: str = "") -> None:
    done = reason in (ExitReason.COMPLETED, ExitReason.GOAL)
    enrollment.status = EnrollmentStatus.COMPLETED if done else EnrollmentStatus.EXITED
    enrollment.exit_reason = reason
    enrollment.ended_at = now
    enrollment.next_run_at = None
    enrollment.waiting = False
    enrollment.detail = detail[:200]


def _pause(enrollment: Enrollment, reason: int, detail: str = "") -> None:
    enrollment.status = EnrollmentStatus.PAUSED
    enrollment.pause_reason = reason
    enrollment.detail = str(detail)[:200]


# --- moves from outside a run (events, editors) ------------------------------------


def jump(enrollment_id: int, *, expect_step: str, expect_visit: int, target: str | None) -> bool:
    """Move a waiting enrollment to ``target`` if it is still where it was seen
    (one conditional UPDATE: a concurrent run or event wins, nothing repeats).
    Returns whether it moved; the step then runs at once."""
    now = timezone.now()
    qs = Enrollment.objects.filter(
        pk=enrollment_id,
        step_id=expect_step,
        visit=expect_visit,
        waiting=True,
        ended_at__isnull=True,
    )
    if target is None:
        return bool(end_enrollments(qs, ExitReason.COMPLETED))
    from django.db.models import F

    moved = qs.update(
        step_id=target,
        visit=F("visit") + 1,
        waiting=False,
        attempts=0,
        step_entered_at=now,
        next_run_at=now,
    )
    if moved:
        schedule_run([enrollment_id], now)
    return bool(moved)


def resume(enrollment_ids: Iterable[int]) -> int:
    """Resume paused enrollments (an editor fixed the cause): they run at once."""
    ids = list(enrollment_ids)
    now = timezone.now()
    done = Enrollment.objects.filter(
        pk__in=ids, status=EnrollmentStatus.PAUSED, ended_at__isnull=True
    ).update(
        status=EnrollmentStatus.ACTIVE, pause_reason=PauseReason.NONE, detail="", next_run_at=now
    )
    if done:
        schedule_run(ids, now)
    return done
