"""Flows: editor-built journeys (``Flow``), contacts inside them (``Enrollment``)
and the steps each enrollment ran (``StepRun``).

A flow is a Wagtail snippet with drafts, revisions and locking. Its live
revision is what triggers read; an enrollment keeps the revision it entered
on, so publishing a change never re-runs a step for contacts already inside
(flows/engine.py decides what happens to them, as the editor chose).

The database holds the state, workers only execute (docs/flows.md):

- ``Enrollment`` says where a contact is (``step_id``, a StreamField block id
  that stays the same across revisions), when it next needs a worker
  (``next_run_at``), and why it ended. Two constraints make entering a flow
  safe under concurrent triggers: one running enrollment per contact and flow,
  and for "once ever" flows one enrollment at all (``entry_key``).
- ``StepRun`` is unique per enrollment, step and visit: a step's effects and
  its row commit together, so a task delivered twice runs nothing twice.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from wagtail.models import DraftStateMixin, LockableMixin, RevisionMixin

from wagtail_journey.models.fields import LazyStreamField


class FlowTriggerField(LazyStreamField):
    """What enrols a contact: one trigger block (flows/blocks.py)."""

    block_factory = "wagtail_journey.flows.blocks.trigger_block"


class FlowGoalsField(LazyStreamField):
    """Events that end the flow for a contact (flows/blocks.py)."""

    block_factory = "wagtail_journey.flows.blocks.goals_block"


class FlowStepsField(LazyStreamField):
    """The steps, with branches nested in the steps that branch (flows/blocks.py)."""

    block_factory = "wagtail_journey.flows.blocks.steps_block"


class FlowEntryRulesField(LazyStreamField):
    """Who may enter: groups of segment rules (the segment rule registry)."""

    block_factory = "wagtail_journey.segment_rules.rules_stream_block"


class ReEntry(models.TextChoices):
    ONCE = "once", _("Once ever")
    AFTER_DAYS = "after_days", _("Again after a number of days")
    ANY_TIME = "any_time", _("Any time (once the previous run has ended)")


class Flow(DraftStateMixin, LockableMixin, RevisionMixin, models.Model):
    """A journey: a trigger, who may enter, goals, and the steps."""

    name = models.CharField(_("name"), max_length=120)
    description = models.TextField(_("description"), blank=True)
    trigger = FlowTriggerField(verbose_name=_("trigger"), blank=True)
    entry_match = models.CharField(
        _("contacts must match"),
        max_length=4,
        choices=[("all", _("all groups (AND)")), ("any", _("any group (OR)"))],
        default="all",
    )
    entry_rules = FlowEntryRulesField(
        verbose_name=_("entry filter"),
        blank=True,
        help_text=_("Only contacts matching these rules enter; empty lets everyone in."),
    )
    reentry = models.CharField(
        _("re-entry"), max_length=16, choices=ReEntry.choices, default=ReEntry.ONCE
    )
    reentry_days = models.PositiveIntegerField(
        _("days before re-entry"),
        default=30,
        help_text=_("Used with “Again after a number of days”."),
    )
    marketing = models.BooleanField(
        _("marketing flow"),
        default=True,
        help_text=_(
            "A marketing flow ends for a contact who unsubscribes, withdraws consent or "
            "objects to direct marketing."
        ),
    )
    goals = FlowGoalsField(
        verbose_name=_("goals"),
        blank=True,
        help_text=_("A contact who reaches a goal leaves the flow (a conversion)."),
    )
    steps = FlowStepsField(verbose_name=_("steps"), blank=True)
    # Paused by an editor: enrollments keep their place, nothing runs.
    paused = models.BooleanField(_("paused"), default=False, editable=False)
    # Date triggers: contacts whose date fell before this were looked at.
    dates_checked_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("flow")
        verbose_name_plural = _("flows")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs):
        self.ensure_step_ids()
        super().save(*args, **kwargs)

    def save_revision(self, *args, **kwargs):
        self.ensure_step_ids()
        return super().save_revision(*args, **kwargs)

    def clean(self) -> None:
        from wagtail_journey.flows.validation import validate_flow

        super().clean()
        validate_flow(self)

    def ensure_step_ids(self) -> None:
        """Give every step, nested ones included, a stable id before it is stored.

        The admin's editor sends ids for every block; steps built in code (presets,
        tests) get theirs here, once, so enrollments can point at them.
        """
        from wagtail_journey.flows.plan import with_ids

        raw = [dict(item) for item in self.steps.raw_data] if self.steps else []
        if with_ids(raw):
            self.steps = raw


class EnrollmentStatus(models.IntegerChoices):
    ACTIVE = 0, _("Active")
    PAUSED = 1, _("Paused")
    COMPLETED = 2, _("Completed")
    EXITED = 3, _("Exited")


class ExitReason(models.IntegerChoices):
    """Why an enrollment ended; the label is what editors read."""

    NONE = 0, "—"
    COMPLETED = 1, _("Reached the end of the flow")
    GOAL = 2, _("Reached a goal")
    EXIT_STEP = 3, _("An exit step")
    MANUAL = 4, _("Removed by an editor")
    UNSUBSCRIBED = 5, _("Unsubscribed")
    NO_CONSENT = 6, _("No valid consent for the email's purpose (withdrawn?)")
    RESTRICTED = 7, _("Processing is restricted for this contact")
    OBJECTED = 8, _("The contact objects to direct marketing")
    ERASED = 9, _("The contact was erased")
    FOLLOWED_UP = 10, _("The awaited follow-up happened (nothing was abandoned)")
    MOVED = 11, _("Moved out by an editor when a step was removed")


class PauseReason(models.IntegerChoices):
    """Why an enrollment waits for a person; the label is what editors read."""

    NONE = 0, "—"
    MANUAL = 1, _("Paused by an editor")
    TEMPLATE_GONE = 2, _("The email template was deleted")
    TEMPLATE_NOT_LIVE = 3, _("The email template is not published")
    STEP_MISSING = 4, _("The step this contact was at no longer exists")
    SEGMENT_GONE = 5, _("A rule refers to something that was deleted")
    ERROR = 6, _("A step failed")


class Enrollment(models.Model):
    """One contact in one flow: where it is, when it next runs, how it ended."""

    Status = EnrollmentStatus
    Exit = ExitReason
    Pause = PauseReason

    flow = models.ForeignKey(
        Flow, verbose_name=_("flow"), on_delete=models.CASCADE, related_name="enrollments"
    )
    contact = models.ForeignKey(
        "wagtail_journey.Contact",
        verbose_name=_("contact"),
        on_delete=models.CASCADE,
        related_name="flow_enrollments",
    )
    # The flow revision the contact entered on (moved on when the editor said so).
    revision = models.ForeignKey(
        "wagtailcore.Revision",
        verbose_name=_("flow revision"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
    )
    status = models.PositiveSmallIntegerField(
        _("status"), choices=EnrollmentStatus.choices, default=EnrollmentStatus.ACTIVE
    )
    # Block id of the current step; '' before the first step (entry, or an
    # abandonment trigger waiting to see whether the follow-up comes).
    step_id = models.CharField(_("step"), max_length=36, blank=True)
    # Counts the moves: a step entered twice (a loop, a move back) is two visits.
    visit = models.PositiveIntegerField(default=0)
    # The current step started and waits (a wait, an event, a webhook retry).
    waiting = models.BooleanField(default=False)
    next_run_at = models.DateTimeField(_("next run"), null=True, blank=True)
    step_entered_at = models.DateTimeField(_("at this step since"), default=timezone.now)
    enrolled_at = models.DateTimeField(_("entered"), default=timezone.now)
    ended_at = models.DateTimeField(_("ended"), null=True, blank=True)
    exit_reason = models.PositiveSmallIntegerField(
        _("exit reason"), choices=ExitReason.choices, default=ExitReason.NONE
    )
    pause_reason = models.PositiveSmallIntegerField(
        _("pause reason"), choices=PauseReason.choices, default=PauseReason.NONE
    )
    detail = models.CharField(_("detail"), max_length=200, blank=True)
    # "once" for once-ever flows (unique with flow and contact); unique otherwise.
    entry_key = models.CharField(max_length=32, editable=False)
    # How the contact entered: trigger, manual, date, flow.
    source = models.CharField(_("source"), max_length=16, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)

    class Meta:
        verbose_name = _("flow enrollment")
        verbose_name_plural = _("flow enrollments")
        constraints = [
            # Two triggers at once enrol once: one running enrollment per flow and contact.
            models.UniqueConstraint(
                fields=["flow", "contact"],
                condition=Q(ended_at__isnull=True),
                name="wj_enrollment_running",
            ),
            models.UniqueConstraint(
                fields=["flow", "contact", "entry_key"], name="wj_enrollment_entry"
            ),
        ]
        indexes = [
            # Work to do: only active rows are in it.
            models.Index(
                fields=["next_run_at"],
                name="wj_enrollment_due",
                condition=Q(status=EnrollmentStatus.ACTIVE),
            ),
            # A contact's running enrollments (goals, waits for an event, exits).
            models.Index(
                fields=["contact"], name="wj_enrollment_contact", condition=Q(ended_at__isnull=True)
            ),
        ]

    def __str__(self) -> str:
        # No personal data: Wagtail's audit log keeps this title.
        return str(_("Enrollment #%(id)s")) % {"id": self.pk}

    @property
    def is_running(self) -> bool:
        return self.ended_at is None


class StepRun(models.Model):
    """A step an enrollment ran, once per visit: the idempotency key of its effects."""

    enrollment = models.ForeignKey(
        Enrollment, on_delete=models.CASCADE, related_name="step_runs", db_index=False
    )
    flow = models.ForeignKey(Flow, on_delete=models.CASCADE, related_name="+", db_index=False)
    step_id = models.CharField(max_length=36)
    visit = models.PositiveIntegerField()
    ran_at = models.DateTimeField(default=timezone.now)
    # next, branch name, wait, exit, pause
    outcome = models.CharField(max_length=16, blank=True)
    outbound_email = models.ForeignKey(
        "wagtail_journey.OutboundEmail",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
    )
    # Small facts about the run (the owner assigned, a webhook's status): no personal data.
    detail = models.JSONField(default=dict, blank=True)

    class Meta:
        verbose_name = _("flow step run")
        verbose_name_plural = _("flow step runs")
        constraints = [
            models.UniqueConstraint(
                fields=["enrollment", "step_id", "visit"], name="wj_steprun_once"
            )
        ]
        indexes = [models.Index(fields=["flow", "step_id"], name="wj_steprun_flow_step")]

    def __str__(self) -> str:
        return f"#{self.pk}"
