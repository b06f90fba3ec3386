"""Editing a live flow: what happens to the contacts inside when a new revision goes live.

Enrollments keep the revision they entered on, so by default ("stay")
publishing changes nothing for them: the new revision applies to new
enrollments. "Move" carries them to the same step id in the new revision
(block ids are stable), keeping their place and their wait: nothing already
passed runs again. Contacts at a step the new revision no longer has go
where the editor chose: on to the next step that still exists, out of the
flow, or paused for a person to decide.
"""

from __future__ import annotations

from django.db.models import F, Q
from django.utils import timezone

from wagtail_journey.flows.enrol import end_enrollments
from wagtail_journey.flows.plan import Plan, plan_for_revision
from wagtail_journey.models.flows import Enrollment, EnrollmentStatus, ExitReason, PauseReason

STAY, MOVE = "stay", "move"
REMOVED_NEXT, REMOVED_EXIT, REMOVED_PAUSE = "next", "exit", "pause"


def surviving_next(old: Plan, new: Plan, step_id: str) -> str | None:
    """The first step after ``step_id`` (in the old revision) that the new one still has."""
    node = old.nodes.get(step_id)
    seen = set()
    while node is not None and node.next is not None and node.next not in seen:
        seen.add(node.next)
        if node.next in new.nodes:
            return node.next
        node = old.nodes.get(node.next)
    return None


def waiting_at_removed_steps(flow_id: int, new_plan: Plan) -> int:
    """How many running enrollments sit at a step the new revision removes."""
    return (
        Enrollment.objects.filter(flow_id=flow_id, ended_at__isnull=True)
        .exclude(step_id="")
        .exclude(step_id__in=list(new_plan.nodes))
        .count()
    )


def apply_publish(
    flow_id: int, new_revision_id: int, inside: str = STAY, removed: str = REMOVED_NEXT
) -> dict[str, int]:
    """Apply the editor's choice for the contacts inside; returns counts by outcome."""
    if inside != MOVE:
        return {}
    new = plan_for_revision(new_revision_id)
    if new is None:
        return {}
    now = timezone.now()
    running = Enrollment.objects.filter(flow_id=flow_id, ended_at__isnull=True).exclude(
        revision_id=new_revision_id
    )
    kept = Q(step_id="") | Q(step_id__in=list(new.nodes))
    counts = {"moved": running.filter(kept).update(revision_id=new_revision_id)}
    gone = running.exclude(kept)
    if removed == REMOVED_EXIT:
        counts["exited"] = end_enrollments(gone, ExitReason.MOVED)
    elif removed == REMOVED_PAUSE:
        counts["paused"] = gone.update(
            revision_id=new_revision_id,
            status=EnrollmentStatus.PAUSED,
            pause_reason=PauseReason.STEP_MISSING,
        )
    else:
        counts["continued"] = 0
        pairs = set(gone.values_list("revision_id", "step_id"))
        for revision_id, step_id in pairs:
            old = plan_for_revision(revision_id) if revision_id else None
            target = surviving_next(old, new, step_id) if old else None
            same = gone.filter(revision_id=revision_id, step_id=step_id)
            if target is None:
                counts["continued"] += end_enrollments(same, ExitReason.COMPLETED)
                continue
            counts["continued"] += same.update(
                revision_id=new_revision_id,
                step_id=target,
                visit=F("visit") + 1,
                waiting=False,
                attempts=0,
                step_entered_at=now,
                next_run_at=now,
            )
        if counts["continued"]:
            from wagtail_journey.flows.engine import schedule_sweep

            schedule_sweep()
    return counts


def move_to_step(enrollment_ids: list[int], revision_id: int, step_id: str) -> int:
    """An editor moves (paused or waiting) contacts to a step of a revision; they run at once."""
    now = timezone.now()
    done = Enrollment.objects.filter(pk__in=enrollment_ids, ended_at__isnull=True).update(
        revision_id=revision_id,
        step_id=step_id,
        visit=F("visit") + 1,
        waiting=False,
        attempts=0,
        status=EnrollmentStatus.ACTIVE,
        pause_reason=PauseReason.NONE,
        detail="",
        step_entered_at=now,
        next_run_at=now,
    )
    if done:
        from wagtail_journey.flows.engine import schedule_sweep

        schedule_sweep()
    return done
