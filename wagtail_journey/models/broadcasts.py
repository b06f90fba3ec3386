"""One-off sends of a template to a segment, optionally with an A/B test.

A broadcast freezes its audience when it starts: one OutboundEmail row per
contact of the segment at that moment, created in one INSERT ... SELECT in the
transaction that marks it started (a second start finds it started and does
nothing). From then on the rows go through the normal pipeline (gate, claims,
sweep); pausing holds them, cancelling skips the ones not sent yet.

With two or more variants the broadcast is an A/B test: a random share of the
audience (``ab_test_share`` percent) is split between the variants and sent at
once; the other rows wait (status "held") until the winner is picked, by
human opens or clicks, ``ab_wait_minutes`` after the start (or when an editor
picks it), and are then sent the winning variant. emails/ab_tests.py holds the
logic.
"""

from __future__ import annotations

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from modelcluster.fields import ParentalKey
from modelcluster.models import ClusterableModel
from wagtail.models import Orderable

from wagtail_journey.emails.merge_tags import validate_plain


class Broadcast(ClusterableModel):
    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        SCHEDULED = "scheduled", _("Scheduled")
        SENDING = "sending", _("Sending")
        PAUSED = "paused", _("Paused")
        CANCELLED = "cancelled", _("Cancelled")

    class Metric(models.TextChoices):
        OPENS = "opens", _("Opens (by people, not machines)")
        CLICKS = "clicks", _("Clicks (by people, not machines)")

    name = models.CharField(_("name"), max_length=120)
    template = models.ForeignKey(
        "wagtail_journey.EmailTemplate",
        verbose_name=_("email template"),
        on_delete=models.PROTECT,  # Wagtail then refuses the template's deletion, saying why
        related_name="broadcasts",
    )
    segment = models.ForeignKey(
        "wagtail_journey.Segment",
        verbose_name=_("segment"),
        on_delete=models.PROTECT,
        related_name="broadcasts",
    )
    rate_per_minute = models.PositiveIntegerField(
        _("messages per minute"),
        default=0,
        help_text=_("0 sends as fast as the workers can; otherwise the sends are spread out."),
    )
    send_at = models.DateTimeField(
        _("start at"),
        null=True,
        blank=True,
        help_text=_(
            "Set a time, then choose “Schedule” on the broadcast's page; "
            "or leave it empty and choose “Send now”."
        ),
    )
    ab_test_share = models.PositiveSmallIntegerField(
        _("A/B test share (%)"),
        default=20,
        validators=[MinValueValidator(1), MaxValueValidator(100)],
        help_text=_(
            "With two or more variants: the share of the audience, chosen at random, that "
            "receives the variants first. The rest receive the winner."
        ),
    )
    ab_metric = models.CharField(
        _("winner picked by"), max_length=8, choices=Metric.choices, default=Metric.OPENS
    )
    ab_wait_minutes = models.PositiveIntegerField(
        _("minutes before the winner is picked"),
        default=240,
        validators=[MinValueValidator(1)],
    )
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.DRAFT, editable=False
    )
    audience = models.PositiveIntegerField(_("audience"), default=0, editable=False)
    created_at = models.DateTimeField(_("created"), default=timezone.now, editable=False)
    started_at = models.DateTimeField(_("started"), null=True, blank=True, editable=False)
    test_ends_at = models.DateTimeField(_("A/B test ends"), null=True, blank=True, editable=False)
    winner = models.ForeignKey(
        "wagtail_journey.BroadcastVariant",
        verbose_name=_("winning variant"),
        null=True,
        blank=True,
        editable=False,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    winner_picked_at = models.DateTimeField(
        _("winner picked"), null=True, blank=True, editable=False
    )

    class Meta:
        verbose_name = _("broadcast")
        verbose_name_plural = _("broadcasts")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.name


class BroadcastVariant(Orderable):
    """One version of an A/B-tested broadcast: another subject and/or another template.

    Left empty, a field means "as the broadcast's template": a variant with
    neither is the control. Its letter (A, B, ...) and the template revision it
    sends are frozen when the broadcast starts.
    """

    broadcast = ParentalKey(Broadcast, on_delete=models.CASCADE, related_name="variants")
    subject = models.CharField(
        _("subject"),
        max_length=200,
        blank=True,
        validators=[validate_plain],
        help_text=_("Empty: the template's subject. Merge tags work as in the template."),
    )
    template = models.ForeignKey(
        "wagtail_journey.EmailTemplate",
        verbose_name=_("other email template"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="broadcast_variants",
        help_text=_("Empty: the broadcast's template."),
    )
    label = models.CharField(_("variant"), max_length=4, blank=True, editable=False)
    revision = models.ForeignKey(
        "wagtailcore.Revision",
        verbose_name=_("template revision"),
        null=True,
        blank=True,
        editable=False,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta(Orderable.Meta):
        verbose_name = _("A/B variant")
        verbose_name_plural = _("A/B variants")

    def __str__(self) -> str:
        return str(_("Variant %(label)s")) % {"label": self.label or "?"}

    def email_template(self):
        """The template this variant sends (its own, or the broadcast's)."""
        return self.template if self.template_id is not None else self.broadcast.template
