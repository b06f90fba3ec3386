"""One-off sends of a template to a segment.

A broadcast freezes its audience when it starts: one OutboundEmail row per
contact of the segment at that moment, created in one INSERT ... SELECT in the
transaction that marks it started (a second start finds it started and does
nothing). From then on the rows go through the normal pipeline (gate, claims,
sweep); pausing holds them, cancelling skips the ones not sent yet.
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Broadcast(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        SENDING = "sending", _("Sending")
        PAUSED = "paused", _("Paused")
        CANCELLED = "cancelled", _("Cancelled")

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
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.DRAFT, editable=False
    )
    audience = models.PositiveIntegerField(_("audience"), default=0, editable=False)
    created_at = models.DateTimeField(_("created"), default=timezone.now, editable=False)
    started_at = models.DateTimeField(_("started"), null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("broadcast")
        verbose_name_plural = _("broadcasts")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.name
