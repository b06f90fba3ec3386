"""Touchpoint: the append-only event log everything else is derived from."""

from __future__ import annotations

import swapper
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from wagtail_journey.models.contacts import JourneyStage


class DeviceClass(models.IntegerChoices):
    DESKTOP = 1, _("Desktop")
    MOBILE = 2, _("Mobile")
    TABLET = 3, _("Tablet")


class Touchpoint(models.Model):
    """One fact: who did what, when, where.

    Hot columns are small and fixed-width (the table grows by millions of rows);
    rare data (UTM, event properties) lives in nullable JSON so it costs nothing
    when absent. Rows are never updated, except to attach a contact when an
    anonymous visitor is identified.
    """

    id = models.BigAutoField(primary_key=True)
    kind = models.CharField(_("kind"), max_length=64)
    occurred_at = models.DateTimeField(_("when"), default=timezone.now)
    contact = models.ForeignKey(
        "wagtail_journey.Contact",
        verbose_name=_("contact"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="touchpoints",
        db_index=False,  # covered by wj_tp_contact_time
    )
    visitor = models.ForeignKey(
        "wagtail_journey.Visitor",
        verbose_name=_("visitor"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="touchpoints",
    )
    page = models.ForeignKey(
        swapper.get_model_name("wagtailcore", "Page"),
        verbose_name=_("page"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,  # covered by the partial wj_tp_page
    )
    session = models.BigIntegerField(_("session"), null=True, blank=True)
    # Device class of page views and browser events (see DeviceClass).
    device = models.PositiveSmallIntegerField(
        _("device"), choices=DeviceClass.choices, null=True, blank=True
    )
    # Exempt-mode audience measurement: never stitched, scored or segmented,
    # and reactions do not run for it (see docs/tracking.md).
    audience_only = models.BooleanField(_("audience statistics only"), default=False)
    journey_stage = models.CharField(
        _("journey stage"), max_length=16, choices=JourneyStage.choices, blank=True
    )
    utm = models.JSONField(_("UTM parameters"), null=True, blank=True)
    properties = models.JSONField(_("properties"), null=True, blank=True)
    # Set for facts that must be stored once (an order id, a provider event id):
    # record() returns the existing row instead of inserting a second one.
    dedupe_key = models.CharField(_("deduplication key"), max_length=128, null=True, blank=True)

    # Wagtail indexes every saved model's references to pages (a SELECT and an
    # INSERT per save, "where is this page used"); an event log is not a usage.
    wagtail_reference_index_ignore = True

    class Meta:
        verbose_name = _("touchpoint")
        verbose_name_plural = _("touchpoints")
        indexes = [
            models.Index(
                fields=["contact", "occurred_at"],
                name="wj_tp_contact_time",
                condition=Q(contact__isnull=False),
            ),
            # Time alone, not (kind, time): a report reads a recent time range and
            # filters kinds on the heap. Together with the page index below this
            # keeps a row at ~187 bytes with indexes (docs/performance.md, storage).
            models.Index(fields=["occurred_at"], name="wj_tp_time"),
            models.Index(
                fields=["page"],
                name="wj_tp_page",
                condition=Q(page__isnull=False),
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["dedupe_key"],
                name="wj_tp_dedupe_key",
                condition=Q(dedupe_key__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        from django.utils import formats, timezone

        from wagtail_journey.kinds import kind_label

        when = self.occurred_at
        if when is not None and timezone.is_aware(when):
            when = timezone.localtime(when)
        return f"{kind_label(self.kind)} · {formats.date_format(when, 'DATETIME_FORMAT')}"
