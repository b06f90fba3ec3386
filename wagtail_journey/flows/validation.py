"""Checks run when an editor saves a flow: clear, translated errors, never a 500."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _


def validate_flow(flow: Any) -> None:
    from wagtail_journey.flows.plan import compile_plan
    from wagtail_journey.segment_rules import RuleError

    errors: dict[str, list[str]] = {}
    try:
        plan = compile_plan(flow)
        plan.entry_q()
    except RuleError as exc:
        errors.setdefault("entry_rules", []).append(str(exc))
        plan = None
    if plan is not None:
        for node in plan.nodes.values():
            if node.type == "condition":
                try:
                    plan.condition_q(node)
                except RuleError as exc:
                    errors.setdefault("steps", []).append(str(exc))
        trigger = plan.trigger
        if (
            trigger
            and trigger[0] == "abandonment"
            and trigger[1].get("kind") == trigger[1].get("unless")
        ):
            errors.setdefault("trigger", []).append(
                _("The follow-up event must differ from the event that starts the wait.")
            )
    if flow.reentry == "after_days" and not flow.reentry_days:
        errors.setdefault("reentry_days", []).append(_("Enter at least one day."))
    if errors:
        raise ValidationError(errors)
