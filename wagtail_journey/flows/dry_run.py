"""A dry run: the path a contact would take through a flow, with timings, sending nothing.

Steps run with ``dry_run=True`` (they read, never write: no email is queued,
no tag, score or owner changes, no webhook is called), inside a transaction
that is rolled back anyway. Waits move a simulated clock; a "wait for an
event" assumes the event does not come (the timeout branch), since it has not
happened yet; conditions read the contact as it is now.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext

from wagtail_journey.flows.plan import Plan
from wagtail_journey.flows.steps import StepContext, get_step
from wagtail_journey.models.flows import Enrollment, ExitReason, PauseReason


@dataclass
class DryStep:
    id: str
    label: str
    at: datetime
    notes: list[str] = field(default_factory=list)
    template_id: int | None = None
    outcome: str = ""


@dataclass
class DryRun:
    steps: list[DryStep]
    end: str


def dry_run(plan: Plan, contact: Any, *, start: datetime | None = None, limit: int = 100) -> DryRun:
    now = start or timezone.now()
    enrollment = Enrollment(pk=0, flow_id=plan.flow_id, contact=contact, visit=0)
    steps: list[DryStep] = []
    end = gettext("Reaches the end of the flow")
    with transaction.atomic():
        step_id = plan.first
        for _ in range(limit):
            if step_id is None:
                break
            node = plan.nodes[step_id]
            step = get_step(node.type)
            if step is None:
                end = gettext("Stops at an unknown step")
                break
            ctx = StepContext(enrollment, contact, plan, node, now, dry_run=True)
            outcome = step.run(ctx)
            row = DryStep(node.id, str(step.describe(node.value)), now, ctx.notes)
            row.template_id = ctx.detail.get("preview")
            steps.append(row)
            if outcome.kind == "wait":
                now = outcome.at or now
                outcome = step.resume(
                    StepContext(enrollment, contact, plan, node, now, dry_run=True)
                )
                if node.type == "wait_event":
                    row.notes.append(gettext("Assumes the event does not come in time"))
            row.outcome = outcome.branch or outcome.kind
            if outcome.kind == "exit":
                end = str(ExitReason(outcome.reason).label)
                break
            if outcome.kind == "pause":
                end = gettext("Would pause: %(reason)s") % {
                    "reason": PauseReason(outcome.reason).label
                }
                break
            enrollment.visit += 1
            step_id = plan.target(node, outcome.branch) if outcome.kind == "branch" else node.next
        else:
            end = gettext("Stops after %(count)s steps (a loop?)") % {"count": limit}
        transaction.set_rollback(True)
    return DryRun(steps, end)
