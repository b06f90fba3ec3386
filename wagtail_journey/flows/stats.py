"""Numbers for the flow admin: contacts at each step, and per-step statistics.

A fixed number of queries per flow, whatever its size: one GROUP BY over the
running enrollments, one over the step runs (with the emails' outcomes and
the human opens and clicks of each email as EXISTS subqueries), one over how
enrollments ended.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db.models import BigIntegerField, Count, Exists, OuterRef, Q
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Cast

from wagtail_journey.events import NOT_MACHINE_MADE
from wagtail_journey.flows.plan import Plan
from wagtail_journey.flows.steps import get_step
from wagtail_journey.models import Touchpoint
from wagtail_journey.models.flows import Enrollment, EnrollmentStatus, ExitReason, Flow, StepRun
from wagtail_journey.models.outbound import ACCEPTED_STATUSES, OutboundStatus


@dataclass
class StepRow:
    """One step of the diagram: where it sits, what it does, its numbers."""

    id: str
    label: str
    depth: int
    branch: str  # the branch label of the parent, '' at the top level
    type: str
    at: int = 0  # running enrollments at this step now
    paused: int = 0
    entered: int = 0
    emails: dict[str, int] = field(default_factory=dict)


def _human(kind: str) -> Exists:
    return Exists(
        Touchpoint.objects.annotate(
            ob=Cast(KeyTextTransform("outbound_email", "properties"), BigIntegerField())
        ).filter(
            NOT_MACHINE_MADE,
            kind=kind,
            contact_id=OuterRef("enrollment__contact_id"),
            ob=OuterRef("outbound_email_id"),
        )
    )


def step_numbers(flow: Flow) -> dict[str, dict[str, Any]]:
    """step id -> {at, paused, entered, sent, skipped, opened, clicked}."""
    numbers: dict[str, dict[str, Any]] = {}
    running = (
        Enrollment.objects.filter(flow=flow, ended_at__isnull=True)
        .values("step_id")
        .annotate(
            at=Count("pk", filter=Q(status=EnrollmentStatus.ACTIVE)),
            paused=Count("pk", filter=Q(status=EnrollmentStatus.PAUSED)),
        )
        .order_by()
    )
    for row in running:
        numbers.setdefault(row["step_id"], {}).update(at=row["at"], paused=row["paused"])
    runs = (
        StepRun.objects.filter(flow=flow)
        .values("step_id")
        .annotate(
            entered=Count("pk"),
            sent=Count(
                "pk", filter=Q(outbound_email__status__in=[int(s) for s in ACCEPTED_STATUSES])
            ),
            skipped=Count("pk", filter=Q(outbound_email__status=OutboundStatus.SKIPPED)),
            opened=Count("pk", filter=Q(outbound_email__isnull=False) & Q(_human("email_opened"))),
            clicked=Count(
                "pk", filter=Q(outbound_email__isnull=False) & Q(_human("email_clicked"))
            ),
        )
        .order_by()
    )
    for row in runs:
        step_id = row.pop("step_id")
        numbers.setdefault(step_id, {}).update(row)
    return numbers


def outcomes(flow: Flow) -> dict[str, int]:
    """How the flow's enrollments stand: running, paused, and each exit reason."""
    rows = (
        Enrollment.objects.filter(flow=flow)
        .values("status", "exit_reason")
        .annotate(n=Count("pk"))
        .order_by()
    )
    result: dict[str, int] = {}
    labels = dict(ExitReason.choices)
    for row in rows:
        if row["status"] == EnrollmentStatus.ACTIVE:
            key = str(EnrollmentStatus.ACTIVE.label)
        elif row["status"] == EnrollmentStatus.PAUSED:
            key = str(EnrollmentStatus.PAUSED.label)
        else:
            key = str(labels.get(row["exit_reason"], row["exit_reason"]))
        result[key] = result.get(key, 0) + row["n"]
    return result


def diagram(plan: Plan, numbers: dict[str, dict[str, Any]] | None = None) -> list[StepRow]:
    """The steps in reading order, indented by branch, with their numbers."""
    numbers = numbers or {}
    rows = []
    for node_id in plan.order:
        node = plan.nodes[node_id]
        step = get_step(node.type)
        label = step.describe(node.value) if step else node.type
        branch = ""
        if node.parent:
            parent = get_step(plan.nodes[node.parent].type)
            branch = str(dict(parent.branches).get(node.branch, node.branch)) if parent else ""
        n = numbers.get(node_id, {})
        rows.append(
            StepRow(
                id=node_id,
                label=str(label),
                depth=node.depth,
                branch=branch,
                type=node.type,
                at=n.get("at", 0),
                paused=n.get("paused", 0),
                entered=n.get("entered", 0),
                emails={k: n.get(k, 0) for k in ("sent", "skipped", "opened", "clicked")}
                if node.type == "send_email"
                else {},
            )
        )
    return rows
