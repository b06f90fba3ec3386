"""The funnel: contacts per lifecycle and journey stage, conversion between
stages and the median time it took.

- *Contacts* at a stage and *reached* (at that stage or a later one) come from
  the contacts themselves (one ``GROUP BY`` per scheme on an indexed column):
  automatic transitions only move forward, so "reached" is "got at least this
  far". The *conversion* of a stage is its reached count over the previous
  stage's.
- *Entered in the period* sums the roll-up's daily stage entries.
- The *median time* from the previous stage (the nearest earlier one anybody
  is at or entered: stages nobody uses are skipped) is taken over the
  contacts who first reached the stage during the period, from their first
  entries (``StageEntry``): one query per stage, a fixed number.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.db import connection
from django.db.models import Count, Sum

from wagtail_journey.models import Contact, DailyMetric, JourneyStage, StageEntry
from wagtail_journey.reports.rollup import local_bounds
from wagtail_journey.reports.sql import seconds_between, table
from wagtail_journey.reports.topn import percent
from wagtail_journey.stages import lifecycle_choices


@dataclass
class StageRow:
    scheme: str
    stage: str
    label: str
    contacts: int = 0
    reached: int = 0
    entered: int = 0
    conversion: float | None = None  # % of the previous stage's reached count
    median_seconds: float | None = None  # from the previous stage in use, first entries
    timed: int = 0  # contacts the median is taken over

    @property
    def median_days(self) -> float | None:
        return None if self.median_seconds is None else round(self.median_seconds / 86400, 1)


def _median_seconds(scheme: str, before: str, after: str, start: date, end: date):
    """(median seconds, count) from the first entry of ``before`` to the first of ``after``."""
    se = table(StageEntry)
    since, until = local_bounds(start, end)
    ops = connection.ops
    secs = seconds_between("a.t", "b.t")
    with connection.cursor() as cursor:
        cursor.execute(
            "WITH f AS ("  # noqa: S608
            f" SELECT contact_id, stage, MIN(entered_at) AS t FROM {se}"
            " WHERE scheme = %s AND stage IN (%s, %s) GROUP BY contact_id, stage),"
            f" d AS (SELECT {secs} AS secs FROM f a JOIN f b ON a.contact_id = b.contact_id"
            "  WHERE a.stage = %s AND b.stage = %s AND b.t >= a.t AND b.t >= %s AND b.t < %s),"
            " r AS (SELECT secs, ROW_NUMBER() OVER (ORDER BY secs) AS rn,"
            "  COUNT(*) OVER () AS n FROM d)"
            " SELECT secs, n FROM r WHERE rn = (n + 1) / 2 OR rn = (n + 2) / 2",
            [
                scheme,
                before,
                after,
                before,
                after,
                ops.adapt_datetimefield_value(since),
                ops.adapt_datetimefield_value(until),
            ],
        )
        found = cursor.fetchall()
    if not found:
        return None, 0
    return sum(float(s) for s, _n in found) / len(found), int(found[0][1])


def _funnel(scheme: str, choices, counts: dict[str, int], entered: dict, start, end):
    rows = [StageRow(scheme, stage, str(label)) for stage, label in choices]
    total = 0
    for row in reversed(rows):
        row.contacts = counts.get(row.stage, 0)
        total += row.contacts
        row.reached = total
        row.entered = entered.get(row.stage, 0)
    # Contacts skip stages nobody uses (no "opportunity" step in a shop): the
    # median runs from the nearest earlier stage that anyone is at or entered.
    timed_from = None
    for previous, row in zip([None, *rows], rows, strict=False):
        if previous is not None:
            row.conversion = percent(row.reached, previous.reached)
        if timed_from is not None:
            row.median_seconds, row.timed = _median_seconds(
                scheme, timed_from.stage, row.stage, start, end
            )
        if row.contacts or row.entered:
            timed_from = row
    return rows


def _entered(start: date, end: date) -> dict[str, dict[str, int]]:
    result: dict[str, dict[str, int]] = {"lifecycle_entered": {}, "journey_entered": {}}
    for row in (
        DailyMetric.objects.filter(
            day__range=(start, end), metric__in=["lifecycle_entered", "journey_entered"]
        )
        .values("metric", "dimension")
        .annotate(total=Sum("value"))
        .order_by()
    ):
        result[row["metric"]][row["dimension"]] = row["total"] or 0
    return result


def _counts(field: str) -> dict[str, int]:
    return {
        r[field]: r["n"] for r in Contact.objects.values(field).annotate(n=Count("id")).order_by()
    }


def lifecycle_funnel(start: date, end: date) -> list[StageRow]:
    return _funnel(
        StageEntry.Scheme.LIFECYCLE,
        lifecycle_choices(),
        _counts("lifecycle_stage"),
        _entered(start, end)["lifecycle_entered"],
        start,
        end,
    )


def journey_funnel(start: date, end: date) -> list[StageRow]:
    return _funnel(
        StageEntry.Scheme.JOURNEY,
        JourneyStage.choices,
        _counts("journey_stage"),
        _entered(start, end)["journey_entered"],
        start,
        end,
    )


def contacts_without_journey_stage() -> int:
    return Contact.objects.filter(journey_stage="").count()
