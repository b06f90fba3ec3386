"""Scoring: editor-defined rules, the score ledger and lifecycle transitions."""

from __future__ import annotations

from datetime import timedelta

import swapper
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

CAP_PERIODS = {
    "": None,
    "day": timedelta(days=1),
    "week": timedelta(days=7),
    "month": timedelta(days=30),
    "year": timedelta(days=365),
}


def mark_page_deleted(collector, field, sub_objs, using) -> None:
    """on_delete for a rule's page: clear the link *and* flag the rule as broken,
    so the admin says so instead of the rule quietly matching every page."""
    collector.add_field_update(field, None, sub_objs)
    collector.add_field_update(sub_objs[0]._meta.get_field("page_deleted"), True, sub_objs)


class ScoringRule(models.Model):
    """When a touchpoint of ``kind`` matches the filters, add ``points`` (at most
    ``cap_count`` times per contact, per ``cap_period`` or ever)."""

    class CapPeriod(models.TextChoices):
        EVER = "", _("in total")
        DAY = "day", _("per day")
        WEEK = "week", _("per 7 days")
        MONTH = "month", _("per 30 days")
        YEAR = "year", _("per 365 days")

    name = models.CharField(_("name"), max_length=200)
    active = models.BooleanField(_("active"), default=True)
    kind = models.CharField(
        _("touchpoint kind"),
        max_length=64,
        help_text=_(
            "e.g. page_view, form_submitted, email_opened, email_clicked, order_completed, "
            "unsubscribed, email_bounced, or a custom event name."
        ),
    )
    page = models.ForeignKey(
        swapper.get_model_name("wagtailcore", "Page"),
        verbose_name=_("page"),
        null=True,
        blank=True,
        on_delete=mark_page_deleted,
        related_name="+",
        help_text=_("Only touchpoints on this page (optional)."),
    )
    include_subpages = models.BooleanField(_("include subpages"), default=False)
    page_deleted = models.BooleanField(_("page was deleted"), default=False, editable=False)
    form = models.CharField(
        _("form"), max_length=100, blank=True, help_text=_("Only this form (its key).")
    )
    email = models.CharField(
        _("email"), max_length=100, blank=True, help_text=_("Only this email (its key).")
    )
    utm_source = models.CharField(_("UTM source"), max_length=100, blank=True)
    utm_campaign = models.CharField(_("UTM campaign"), max_length=100, blank=True)
    property_name = models.CharField(_("event property"), max_length=64, blank=True)
    property_value = models.CharField(_("property value"), max_length=200, blank=True)
    points = models.IntegerField(_("points"), help_text=_("Negative to subtract."))
    cap_count = models.PositiveIntegerField(
        _("at most (times)"),
        null=True,
        blank=True,
        help_text=_("Score at most this many times per contact (empty: no limit)."),
    )
    cap_period = models.CharField(
        _("cap period"), max_length=8, choices=CapPeriod.choices, default="", blank=True
    )
    add_tag = models.CharField(
        _("add tag"), max_length=100, blank=True, help_text=_("Also tag the contact.")
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("scoring rule")
        verbose_name_plural = _("scoring rules")
        ordering = ["kind", "name"]
        indexes = [models.Index(fields=["kind", "active"], name="wj_rule_kind")]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs) -> None:
        if self.page_id is not None:
            self.page_deleted = False
        super().save(*args, **kwargs)

    @property
    def cap_window(self) -> timedelta | None:
        return CAP_PERIODS.get(self.cap_period or "")

    @property
    def problem(self) -> str:
        """Why this rule cannot match anything, for the admin ('' when fine)."""
        if self.page_deleted and self.page_id is None:
            return str(
                _(
                    "The page this rule filtered on was deleted: it scores nothing until "
                    "you choose another page or delete the rule."
                )
            )
        return ""

    def clean(self) -> None:
        errors = {}
        if self.points == 0 and not self.add_tag:
            errors["points"] = _("A rule must add or subtract points, or add a tag.")
        if self.problem:
            errors["page"] = self.problem
        if self.property_value and not self.property_name:
            errors["property_name"] = _("Name the property the value applies to.")
        if errors:
            raise ValidationError(errors)


class ScoreChange(models.Model):
    """The ledger: one row per rule or manual change of a contact's score, each
    saying why. Decay is not a row per contact: a DecayRun records each run and
    the contact row keeps its total (``Contact.decay_total``), so a contact's
    score is the sum of its rows plus that total."""

    class Reason(models.TextChoices):
        RULE = "rule", _("scoring rule")
        MANUAL = "manual", _("manual")
        FLOW = "flow", _("flow")

    contact = models.ForeignKey(
        "wagtail_journey.Contact",
        verbose_name=_("contact"),
        on_delete=models.CASCADE,
        related_name="score_changes",
        db_index=False,  # covered by wj_score_contact_rule
    )
    rule = models.ForeignKey(
        ScoringRule,
        verbose_name=_("rule"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="changes",
        db_index=False,  # the partial unique (rule, touchpoint) below indexes it
    )
    touchpoint = models.ForeignKey(
        "wagtail_journey.Touchpoint",
        verbose_name=_("touchpoint"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,  # partial index below: manual rows have no touchpoint
    )
    reason = models.CharField(_("reason"), max_length=8, choices=Reason.choices)
    label = models.CharField(_("why"), max_length=200, blank=True)
    delta = models.IntegerField(_("points"))
    occurred_at = models.DateTimeField(_("when"))
    # The last DecayRun applied to the contact when this row was written (read
    # under the contact's row lock; 0: none yet). It places the row between the
    # decay runs, so a replay applies each run to the score it really saw.
    after_decay_run = models.PositiveIntegerField(_("after decay run"), default=0, editable=False)
    created_at = models.DateTimeField(_("recorded"), auto_now_add=True)

    class Meta:
        verbose_name = _("score change")
        verbose_name_plural = _("score changes")
        ordering = ["-occurred_at", "-id"]
        indexes = [
            models.Index(fields=["contact", "rule", "occurred_at"], name="wj_score_contact_rule"),
            # Only rows that have one (manual corrections have none).
            models.Index(
                fields=["touchpoint"],
                name="wj_score_touchpoint",
                condition=Q(touchpoint__isnull=False),
            ),
        ]
        constraints = [
            # A rule scores a touchpoint at most once, whoever scores it (the
            # reaction, an identified visitor's history, a replay). It is also
            # the index on rule (manual rows have none: partial).
            models.UniqueConstraint(
                fields=["rule", "touchpoint"],
                name="wj_score_rule_touchpoint",
                condition=Q(rule__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.delta:+d} {self.label}"

    @property
    def explanation(self) -> str:
        return self.label


class DecayRun(models.Model):
    """One score-decay run: its parameters and how many contacts it touched.

    A run writes this row and one UPDATE of the contacts (which appends the
    run's id to ``Contact.decay_runs``). ``period`` names the configuration and
    its time bucket: a contact decays at most once per period, however often
    the daily schedule runs (a run that decays nobody leaves no row).
    """

    class Mode(models.TextChoices):
        HALVE = "halve", _("halve")
        SUBTRACT = "subtract", _("subtract")

    period = models.CharField(_("period"), max_length=64, db_index=True)
    mode = models.CharField(_("mode"), max_length=8, choices=Mode.choices)
    days = models.PositiveIntegerField(_("days without activity"))
    points = models.PositiveIntegerField(_("points"), null=True, blank=True)
    cutoff = models.DateTimeField(_("inactive since before"))
    ran_at = models.DateTimeField(_("ran at"))
    contacts = models.PositiveIntegerField(_("contacts decayed"), default=0)
    created_at = models.DateTimeField(_("recorded"), auto_now_add=True)

    class Meta:
        verbose_name = _("decay run")
        verbose_name_plural = _("decay runs")
        ordering = ["id"]

    def __str__(self) -> str:
        return self.explanation

    @property
    def explanation(self) -> str:
        """What the run did, in the reader's language."""
        if self.mode == self.Mode.HALVE:
            return _("Halved after %(days)s days without activity") % {"days": self.days}
        return _("%(points)s points off after %(days)s days without activity") % {
            "points": self.points,
            "days": self.days,
        }

    def share_of(self, score: int) -> int:
        """The points (<= 0) this run takes from a contact whose score is ``score``;
        the same arithmetic as the SQL in wagtail_journey.decay."""
        if score <= 0:
            return 0
        if self.mode == self.Mode.HALVE:
            return -(score - score // 2)
        return -min(score, self.points or 0)


class LifecycleTransition(models.Model):
    """Move contacts forward to ``stage`` when their score reaches
    ``min_score`` or when a touchpoint of ``kind`` arrives."""

    stage = models.CharField(_("stage"), max_length=32)
    min_score = models.IntegerField(_("when the score reaches"), null=True, blank=True)
    kind = models.CharField(
        _("or when this touchpoint arrives"),
        max_length=64,
        blank=True,
        help_text=_("e.g. order_completed"),
    )
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("lifecycle transition")
        verbose_name_plural = _("lifecycle transitions")
        ordering = ["min_score", "kind"]

    def __str__(self) -> str:
        # Labels, not slugs: this is the transition's name in the admin.
        from wagtail_journey.kinds import kind_label
        from wagtail_journey.stages import lifecycle_choices

        stage = dict(lifecycle_choices()).get(self.stage, self.stage)
        if self.kind:
            return _("%(kind)s → %(stage)s") % {"kind": kind_label(self.kind), "stage": stage}
        return _("Score ≥ %(score)s → %(stage)s") % {"score": self.min_score, "stage": stage}

    def clean(self) -> None:
        from wagtail_journey.stages import lifecycle_stages

        if self.stage not in lifecycle_stages():
            raise ValidationError({"stage": _("Unknown lifecycle stage.")})
        if (self.min_score is None) == (not self.kind):
            raise ValidationError(_("Give either a score threshold or a touchpoint kind."))
