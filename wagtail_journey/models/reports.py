"""Report roll-ups: daily tables recomputed from the touchpoint log.

Every row belongs to one site-local day (``TIME_ZONE``) and is rewritten by
:mod:`wagtail_journey.reports.rollup` as a whole day at a time (delete and
insert in one transaction), so a roll-up can run any number of times. Reports
read these tables instead of the raw log, so their cost follows the number of
days, sessions and converting contacts, not the number of touchpoints.

- ``DailyMetric``: additive sums (page views, sessions, submissions, orders,
  stage entries ...) per day, metric and dimension. New capabilities (email)
  add metric names, not tables.
- ``ReportSession``: one row per session and day, for exact unique visitors
  over any range and for entry/exit pages and sources.
- ``ReportContactDay``: one row per converting contact and day, for exact
  unique customers over any range (average orders per customer).
- ``StageEntry``: when a contact first reached a stage on a day, for the
  funnel's median times.

The report permissions live here (on ``DailyMetric``): one per report family.
"""

from __future__ import annotations

import swapper
from django.db import models
from django.utils.translation import gettext_lazy as _


class DailyMetric(models.Model):
    """One additive figure of one day: summing rows over days gives the period's figure."""

    day = models.DateField(_("day"))
    metric = models.CharField(_("metric"), max_length=32)
    # "" for a total; otherwise a scope, a page id, a source, a stage ...
    dimension = models.CharField(_("dimension"), max_length=200, blank=True, default="")
    value = models.BigIntegerField(_("value"), default=0)

    class Meta:
        verbose_name = _("daily report figure")
        verbose_name_plural = _("daily report figures")
        constraints = [
            models.UniqueConstraint(
                fields=["day", "metric", "dimension"], name="wj_daily_metric_key"
            ),
        ]
        indexes = [models.Index(fields=["metric", "day"], name="wj_daily_metric_day")]
        permissions = [
            (
                "view_traffic_reports",
                _("Can view the dashboard, landing page and attribution reports"),
            ),
            (
                "view_funnel_reports",
                _("Can view the funnel, drop-off and journey map reports"),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.metric}[{self.dimension}] = {self.value}"


class ReportSession(models.Model):
    """A session's page views on one day: where it came from, entered and ended.

    A session that crosses midnight is two rows (one per local day), as a
    day is recomputed on its own.
    """

    day = models.DateField(_("day"))
    session = models.BigIntegerField(_("session"))
    # Named (not "+") relations: retention and erasure find rows to delete
    # through Visitor's and Contact's related objects, which skip hidden ones.
    visitor = models.ForeignKey(
        "wagtail_journey.Visitor",
        verbose_name=_("visitor"),
        on_delete=models.CASCADE,
        related_name="report_sessions",
        db_index=False,  # wj_rs_visitor
    )
    audience_only = models.BooleanField(_("audience statistics only"), default=False)
    source = models.CharField(_("source"), max_length=128, blank=True)
    medium = models.CharField(_("medium"), max_length=64, blank=True)
    entry_page = models.ForeignKey(
        swapper.get_model_name("wagtailcore", "Page"),
        verbose_name=_("landing page"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
        db_constraint=False,  # a deleted page must not block the roll-up's INSERT ... SELECT
    )
    exit_page = models.ForeignKey(
        swapper.get_model_name("wagtailcore", "Page"),
        verbose_name=_("exit page"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )
    page_views = models.PositiveIntegerField(_("page views"), default=0)

    wagtail_reference_index_ignore = True

    class Meta:
        verbose_name = _("report session")
        verbose_name_plural = _("report sessions")
        constraints = [
            models.UniqueConstraint(fields=["day", "session"], name="wj_rs_day_session"),
        ]
        indexes = [models.Index(fields=["visitor", "day"], name="wj_rs_visitor")]

    def __str__(self) -> str:
        return f"{self.day} {self.session}"


class ReportContactDay(models.Model):
    """A contact's conversions on one day (only contacts that converted or filled a cart)."""

    day = models.DateField(_("day"))
    contact = models.ForeignKey(
        "wagtail_journey.Contact",
        verbose_name=_("contact"),
        on_delete=models.CASCADE,
        related_name="report_days",
        db_index=False,  # wj_rcd_contact
    )
    submissions = models.PositiveIntegerField(_("form submissions"), default=0)
    orders = models.PositiveIntegerField(_("orders"), default=0)
    # Order amounts in cents, currencies added up (one shop, one currency in practice).
    revenue_cents = models.BigIntegerField(_("revenue (cents)"), default=0)
    cart_updates = models.PositiveIntegerField(_("cart updates"), default=0)

    class Meta:
        verbose_name = _("contact conversions of a day")
        verbose_name_plural = _("contact conversions per day")
        constraints = [
            models.UniqueConstraint(fields=["day", "contact"], name="wj_rcd_day_contact"),
        ]
        indexes = [models.Index(fields=["contact", "day"], name="wj_rcd_contact")]

    def __str__(self) -> str:
        return f"{self.day} {self.contact_id}"


class StageEntry(models.Model):
    """The first moment of a day at which a contact reached a lifecycle or journey stage."""

    class Scheme(models.TextChoices):
        LIFECYCLE = "lifecycle", _("Lifecycle stage")
        JOURNEY = "journey", _("Journey stage")

    day = models.DateField(_("day"))
    contact = models.ForeignKey(
        "wagtail_journey.Contact",
        verbose_name=_("contact"),
        on_delete=models.CASCADE,
        related_name="stage_entries",
        db_index=False,  # wj_se_contact
    )
    scheme = models.CharField(_("scheme"), max_length=16, choices=Scheme.choices)
    stage = models.CharField(_("stage"), max_length=32)
    entered_at = models.DateTimeField(_("entered"))

    class Meta:
        verbose_name = _("stage entry")
        verbose_name_plural = _("stage entries")
        constraints = [
            models.UniqueConstraint(
                fields=["day", "contact", "scheme", "stage"], name="wj_se_day_contact_stage"
            ),
        ]
        indexes = [models.Index(fields=["contact", "scheme", "stage"], name="wj_se_contact")]

    def __str__(self) -> str:
        return f"{self.contact_id} {self.scheme}:{self.stage} @ {self.entered_at}"
