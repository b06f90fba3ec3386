"""Step types: what each step of a flow does. A registry other apps extend.

A step type turns one step (its raw block value) and the contact into an
:class:`Outcome`: go on, take a branch, wait until a time, exit or pause for
a person. ``run`` is called once per visit of the step (the engine inserts
the visit's ``StepRun`` in the transaction that applies the effects, so a
step never runs twice); ``resume`` when a waiting step's time has come.
With ``ctx.dry_run`` a step must change nothing: it says what it would do
(``ctx.note``) and returns the outcome it would have.

A custom step (developer guide, docs/flows.md)::

    from wagtail_journey.flows.steps import NEXT, StepType, register_step

    @register_step
    class SlackPing(StepType):
        name = "slack_ping"
        label = _("Post to Slack")
        def fields(self): return [("channel", blocks.CharBlock())]
        def run(self, ctx):
            if not ctx.dry_run:
                post_to_slack(ctx.value["channel"], ctx.contact.pk)
            return NEXT
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from wagtail import blocks

from wagtail_journey.flows.timing import duration, next_window, parse_time, zone_of
from wagtail_journey.flows.triggers import (
    _stage_choices,
    duration_block,
    filters_block,
    filters_match,
    kind_block,
)
from wagtail_journey.models.flows import ExitReason, PauseReason


@dataclass(frozen=True)
class Outcome:
    kind: str  # next, branch, wait, exit, pause
    branch: str = ""
    at: datetime | None = None
    reason: int = 0
    detail: str = ""


NEXT = Outcome("next")


def branch(name: str) -> Outcome:
    return Outcome("branch", branch=name)


def wait_until(at: datetime) -> Outcome:
    return Outcome("wait", at=at)


def exit_flow(reason: int, detail: str = "") -> Outcome:
    return Outcome("exit", reason=reason, detail=detail[:200])


def pause(reason: int, detail: str = "") -> Outcome:
    return Outcome("pause", reason=reason, detail=detail[:200])


@dataclass
class StepContext:
    """What a step sees: the enrollment, its contact, the plan and the step."""

    enrollment: Any
    contact: Any
    plan: Any
    node: Any
    now: datetime
    dry_run: bool = False
    #: Facts kept on the StepRun row (no personal data).
    detail: dict = field(default_factory=dict)
    outbound_email: Any = None
    notes: list[str] = field(default_factory=list)

    @property
    def value(self) -> dict:
        return self.node.value

    @property
    def key(self) -> str:
        """Idempotency key of this visit of this step (at most 64 characters)."""
        return f"flow:{self.enrollment.pk}:{self.node.id}:{self.enrollment.visit}"[:64]

    def note(self, text: str) -> None:
        self.notes.append(str(text))


class StepType:
    name: str = ""
    label: Any = ""
    icon: str = "arrow-right"
    #: (name, label) of the step's branches; each holds its own list of steps.
    branches: tuple[tuple[str, Any], ...] = ()

    def fields(self) -> list[tuple[str, blocks.Block]]:
        return []

    def run(self, ctx: StepContext) -> Outcome:
        return NEXT

    def resume(self, ctx: StepContext) -> Outcome:
        """The step waited (``wait_until``) and its time has come."""
        return NEXT

    def describe(self, value: dict) -> str:
        return str(self.label)


_steps: dict[str, StepType] = {}


def register_step(cls: type[StepType]) -> type[StepType]:
    """Class decorator: make a step type available to flows (replaces the same name)."""
    _steps[cls.name] = cls()
    return cls


def step_types() -> dict[str, StepType]:
    return dict(_steps)


def get_step(name: str) -> StepType | None:
    return _steps.get(name)


def _weekday_choices():
    return [
        ("0", _("Monday")),
        ("1", _("Tuesday")),
        ("2", _("Wednesday")),
        ("3", _("Thursday")),
        ("4", _("Friday")),
        ("5", _("Saturday")),
        ("6", _("Sunday")),
    ]


def _group_choices():
    from django.contrib.auth.models import Group

    return [(str(pk), name) for pk, name in Group.objects.values_list("pk", "name")]


# --- waits ---------------------------------------------------------------------------


@register_step
class Wait(StepType):
    name = "wait"
    label = _("Wait")
    icon = "time"

    def fields(self):
        return [
            ("duration", duration_block(_("Wait for"))),
            (
                "weekdays",
                blocks.MultipleChoiceBlock(
                    choices=_weekday_choices,
                    required=False,
                    label=_("Then until one of these days"),
                    help_text=_("In the contact's time zone. Empty: any day."),
                ),
            ),
            ("start", blocks.TimeBlock(required=False, label=_("between"))),
            ("end", blocks.TimeBlock(required=False, label=_("and"))),
        ]

    def due(self, ctx: StepContext) -> datetime:
        value = ctx.value
        return next_window(
            ctx.now + duration(value.get("duration")),
            zone_of(ctx.contact),
            [int(d) for d in value.get("weekdays") or []],
            parse_time(value.get("start")),
            parse_time(value.get("end")),
        )

    def run(self, ctx):
        at = self.due(ctx)
        ctx.note(gettext("Waits until %(at)s") % {"at": at.isoformat(timespec="minutes")})
        return wait_until(at)


@register_step
class WaitForEvent(StepType):
    """Waits for a touchpoint (reactions.py moves the contact on at once when it
    comes) or for the timeout, with a branch for each."""

    name = "wait_event"
    label = _("Wait for an event")
    icon = "time"
    branches = (("event", _("If it happens")), ("no_event", _("If it does not")))

    def fields(self):
        return [
            ("kind", kind_block(label=_("Event"))),
            ("filters", filters_block()),
            ("timeout", duration_block(_("Give up after"))),
        ]

    def matches(self, value: dict, touchpoint: Any) -> bool:
        return touchpoint.kind == value.get("kind") and filters_match(
            value.get("filters"), touchpoint.properties
        )

    def run(self, ctx):
        at = ctx.now + duration(ctx.value.get("timeout"))
        ctx.note(
            gettext("Waits for the event until %(at)s") % {"at": at.isoformat(timespec="minutes")}
        )
        return wait_until(at)

    def resume(self, ctx):
        return branch("no_event")


# --- email -----------------------------------------------------------------------------


def marketing_block_reason(contact: Any) -> int:
    """Why no marketing may reach ``contact`` now (0: nothing in the way)."""
    if contact.erased_at is not None:
        return ExitReason.ERASED
    if contact.restricted_at is not None:
        return ExitReason.RESTRICTED
    if contact.objects_to_marketing_at is not None:
        return ExitReason.OBJECTED
    return 0


@register_step
class SendEmail(StepType):
    name = "send_email"
    label = _("Send an email")
    icon = "mail"

    def fields(self):
        from wagtail.snippets.blocks import SnippetChooserBlock

        return [
            ("template", SnippetChooserBlock("wagtail_journey.EmailTemplate", label=_("Email")))
        ]

    def run(self, ctx):
        from wagtail_journey.emails.sending import queue_template
        from wagtail_journey.models import EmailTemplate
        from wagtail_journey.privacy.consent import has_consent

        template = (
            EmailTemplate.objects.select_related("purpose")
            .filter(pk=ctx.value.get("template"))
            .first()
        )
        if template is None:
            return pause(PauseReason.TEMPLATE_GONE)
        if not template.live or template.live_revision_id is None:
            return pause(PauseReason.TEMPLATE_NOT_LIVE, template.name)
        if not template.transactional:
            blocked = marketing_block_reason(ctx.contact)
            if blocked:
                return exit_flow(blocked)
            if template.purpose_id is None or not has_consent(ctx.contact, template.purpose.key):
                # The send-time gate would skip it; the flow ends here, saying why.
                return exit_flow(
                    ExitReason.NO_CONSENT, template.purpose.key if template.purpose_id else ""
                )
        ctx.note(gettext("Sends “%(name)s”") % {"name": template.name})
        ctx.detail["template"] = template.pk
        if ctx.dry_run:
            ctx.detail["preview"] = template.pk
            return NEXT
        row, _created = queue_template(template, ctx.contact, idempotency_key=ctx.key)
        ctx.outbound_email = row
        return NEXT

    def describe(self, value):
        from wagtail_journey.models import EmailTemplate

        name = EmailTemplate.objects.filter(pk=value.get("template")).values_list("name", flat=True)
        found = next(iter(name), None)
        return f"{self.label}: {found}" if found else str(self.label)


# --- branching ------------------------------------------------------------------------


@register_step
class Condition(StepType):
    name = "condition"
    label = _("Condition")
    icon = "help"
    branches = (("yes", _("Yes")), ("no", _("No")))

    def fields(self):
        from wagtail_journey.segment_rules import rules_stream_block

        return [
            (
                "match",
                blocks.ChoiceBlock(
                    choices=[("all", _("all groups (AND)")), ("any", _("any group (OR)"))],
                    default="all",
                    label=_("Contacts must match"),
                ),
            ),
            ("rules", rules_stream_block()),
        ]

    def run(self, ctx):
        from wagtail_journey.models import Contact
        from wagtail_journey.segment_rules import RuleError

        try:
            q = ctx.plan.condition_q(ctx.node)
        except RuleError as exc:
            return pause(PauseReason.SEGMENT_GONE, str(exc))
        yes = Contact.objects.filter(q, pk=ctx.contact.pk).exists()
        ctx.note(
            gettext("Condition: %(answer)s") % {"answer": gettext("yes") if yes else gettext("no")}
        )
        return branch("yes" if yes else "no")


@register_step
class Split(StepType):
    name = "split"
    label = _("Random split")
    icon = "resubmit"
    branches = (("a", _("Path A")), ("b", _("Path B")))

    def fields(self):
        return [
            (
                "percent_a",
                blocks.IntegerBlock(
                    min_value=0, max_value=100, default=50, label=_("Share of path A (%)")
                ),
            )
        ]

    def run(self, ctx):
        share = int(ctx.value.get("percent_a") or 0)
        path = "a" if random.random() * 100 < share else "b"  # noqa: S311 (not security)
        ctx.detail["path"] = path
        return branch(path)


# --- contact changes -----------------------------------------------------------------


@register_step
class AddTag(StepType):
    name = "add_tag"
    label = _("Add a tag")
    icon = "tag"

    def fields(self):
        return [("tag", blocks.CharBlock(max_length=100, label=_("Tag")))]

    def run(self, ctx):
        ctx.note(gettext("Adds the tag “%(tag)s”") % {"tag": ctx.value.get("tag", "")})
        if not ctx.dry_run:
            from wagtail_journey.tags import add_tags

            add_tags(ctx.contact, ctx.value.get("tag") or "", source="flow")
        return NEXT

    def describe(self, value):
        return f"{self.label}: {value.get('tag', '')}"


@register_step
class RemoveTag(AddTag):
    name = "remove_tag"
    label = _("Remove a tag")

    def run(self, ctx):
        ctx.note(gettext("Removes the tag “%(tag)s”") % {"tag": ctx.value.get("tag", "")})
        if not ctx.dry_run:
            from wagtail_journey.tags import remove_tags

            remove_tags(ctx.contact, ctx.value.get("tag") or "", source="flow")
        return NEXT


@register_step
class ChangeScore(StepType):
    name = "change_score"
    label = _("Change the score")
    icon = "plus"

    def fields(self):
        return [("points", blocks.IntegerBlock(label=_("Points (negative to subtract)")))]

    def run(self, ctx):
        points = int(ctx.value.get("points") or 0)
        ctx.note(gettext("Score %(points)+d") % {"points": points})
        if points and not ctx.dry_run:
            from wagtail_journey.models import ScoreChange
            from wagtail_journey.scoring import add_manual_change

            add_manual_change(
                ctx.contact,
                points,
                ctx.plan.name,
                reason=ScoreChange.Reason.FLOW,
                properties={"flow": ctx.plan.flow_id},
            )
        return NEXT

    def describe(self, value):
        return f"{self.label}: {int(value.get('points') or 0):+d}"


@register_step
class SetStage(StepType):
    name = "set_stage"
    label = _("Set the lifecycle stage")
    icon = "order"

    def fields(self):
        return [("stage", blocks.ChoiceBlock(choices=_stage_choices, label=_("Stage")))]

    def run(self, ctx):
        stage = ctx.value.get("stage") or ""
        ctx.note(gettext("Moves to the stage %(stage)s") % {"stage": stage})
        if not ctx.dry_run:
            from wagtail_journey.stages import set_lifecycle_stage

            try:
                set_lifecycle_stage(ctx.contact, stage, reason="flow")
            except ValueError as exc:  # a stage removed from the settings
                return pause(PauseReason.ERROR, str(exc))
        return NEXT

    def describe(self, value):
        return f"{self.label}: {value.get('stage', '')}"


@register_step
class AssignOwner(StepType):
    name = "assign_owner"
    label = _("Assign an owner")
    icon = "user"

    def fields(self):
        return [
            ("group", blocks.ChoiceBlock(choices=_group_choices, label=_("Among the users of"))),
            (
                "method",
                blocks.ChoiceBlock(
                    choices=[
                        ("round_robin", _("in turn (round-robin)")),
                        ("least_loaded", _("the one with the fewest contacts")),
                    ],
                    default="round_robin",
                    label=_("Choose"),
                ),
            ),
            (
                "notify",
                blocks.BooleanBlock(
                    required=False, default=True, label=_("Email the owner a link to the contact")
                ),
            ),
        ]

    def run(self, ctx):
        from wagtail_journey.flows.owners import assign_owner

        return assign_owner(ctx)


@register_step
class NotifyTeam(StepType):
    name = "notify_team"
    label = _("Notify the team")
    icon = "mail"

    def fields(self):
        return [
            ("group", blocks.ChoiceBlock(choices=_group_choices, label=_("Users of"))),
            ("message", blocks.TextBlock(required=False, max_length=500, label=_("Message"))),
        ]

    def run(self, ctx):
        from wagtail_journey.flows.owners import notify_team

        return notify_team(ctx)


@register_step
class Webhook(StepType):
    name = "webhook"
    label = _("Call a webhook")
    icon = "link"

    def fields(self):
        return [
            ("url", blocks.URLBlock(label=_("URL"), help_text=_("Receives a signed JSON POST.")))
        ]

    def run(self, ctx):
        from wagtail_journey.flows.webhooks import call

        return call(ctx)

    def resume(self, ctx):
        from wagtail_journey.flows.webhooks import call

        return call(ctx)


@register_step
class EnrolInFlow(StepType):
    name = "enrol_flow"
    label = _("Enrol in another flow")
    icon = "redirect"

    def fields(self):
        from wagtail.snippets.blocks import SnippetChooserBlock

        return [("flow", SnippetChooserBlock("wagtail_journey.Flow", label=_("Flow")))]

    def run(self, ctx):
        from wagtail_journey.flows.enrol import enrol
        from wagtail_journey.models import Flow

        target = Flow.objects.filter(pk=ctx.value.get("flow"), live=True).first()
        if target is None:
            ctx.note(gettext("The other flow is not published: nobody is enrolled"))
            return NEXT
        ctx.note(gettext("Enrols in “%(name)s”") % {"name": target.name})
        if not ctx.dry_run:
            enrol(target, ctx.contact, source="flow")
        return NEXT


@register_step
class Exit(StepType):
    name = "exit"
    label = _("Exit the flow")
    icon = "cross"

    def run(self, ctx):
        return exit_flow(ExitReason.EXIT_STEP)
