"""Tracking configuration and anonymous aggregates.

``PageJourneyStage``: the journey stage editors give a page or a whole section.
``DailyPageStat``: anonymous daily counts (no visitor, no cookie) for visitors
who have not consented in ``required`` mode or who opted out with GPC/DNT.
"""

from __future__ import annotations

import swapper
from django.db import models
from django.utils.translation import gettext_lazy as _

from wagtail_journey.models.contacts import JourneyStage


class PageJourneyStage(models.Model):
    """A journey stage assigned to a page and, unless switched off, its descendants.

    The nearest ancestor-or-self with a stage wins, so a section can be
    "consideration" while one page inside it is "conversion".
    """

    page = models.OneToOneField(
        swapper.get_model_name("wagtailcore", "Page"),
        verbose_name=_("page"),
        on_delete=models.CASCADE,
        related_name="+",
    )
    stage = models.CharField(_("journey stage"), max_length=16, choices=JourneyStage.choices)
    include_descendants = models.BooleanField(
        _("applies to the pages below"),
        default=True,
        help_text=_("Pages below this one get the same stage unless they have their own."),
    )

    class Meta:
        verbose_name = _("page journey stage")
        verbose_name_plural = _("page journey stages")

    def __str__(self) -> str:
        return f"{self.page} · {self.get_stage_display()}"


class DailyPageStat(models.Model):
    """Anonymous daily counts per page and traffic source.

    Holds no identifier of any kind: unique visitors are counted with a salted
    hash kept only in the cache for the day (the salt is random, rotates daily
    and is never stored in the database).
    """

    day = models.DateField(_("day"))
    page = models.ForeignKey(
        swapper.get_model_name("wagtailcore", "Page"),
        verbose_name=_("page"),
        on_delete=models.CASCADE,
        related_name="+",
        db_index=False,  # leads no index; (day, page, source) covers day queries
    )
    source = models.CharField(_("source"), max_length=64, blank=True)
    views = models.PositiveIntegerField(_("page views"), default=0)
    visitors = models.PositiveIntegerField(_("unique visitors"), default=0)

    class Meta:
        verbose_name = _("daily page statistic")
        verbose_name_plural = _("daily page statistics")
        constraints = [
            models.UniqueConstraint(fields=["day", "page", "source"], name="wj_daily_page_source"),
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.page_id} {self.source}: {self.views}"


class TrackingBatch(models.Model):
    """A batch of buffered tracking items that has been stored (tracking/buffer.py).

    Written in the same transaction as the batch's touchpoints: its unique key
    is what makes a retried or recovered batch commit exactly once. Rows older
    than a day are purged by the retention schedule.
    """

    key = models.CharField(_("batch id"), max_length=32, unique=True)
    stored_at = models.DateTimeField(_("stored"), auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("tracking batch")
        verbose_name_plural = _("tracking batches")

    def __str__(self) -> str:
        return self.key
