"""The numbers of the Audience report, summed in SQL.

Editors read two kinds of page views side by side:

- the anonymous daily aggregates (``DailyPageStat``) of visitors who have not
  consented (``required`` mode) or whose browser opts out (GPC/DNT); their
  unique visitors come from a daily-salted hash, so they are unique per page
  and day only;
- the per-visitor ``page_view`` touchpoints: of visitors who consented, and,
  in ``exempt`` mode, of audience-only visitors (a visitor cookie, never a
  contact).

Every function here runs a fixed number of set-based queries whatever the
number of rows; the admin view only renders what they return.

Days are the site's local days (``TIME_ZONE``, Django's *default* time zone),
never the *current* one: in the Wagtail admin the current time zone is the
editor's profile time zone, while ``DailyPageStat.day`` is counted on the
public site in ``TIME_ZONE``. Cutting touchpoints into the editor's days would
put them in a different row from the aggregates of the same day.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from django.db.models import Count, F, Q, QuerySet, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

from wagtail_journey.models import DailyPageStat, Touchpoint

DEFAULT_DAYS = 30
#: The longest period the report shows at once (one row per day in the series).
MAX_DAYS = 366


def default_period(today: date | None = None, days: int = DEFAULT_DAYS) -> tuple[date, date]:
    """The last ``days`` days, today included (today in the site's time zone)."""
    end = today or timezone.localdate(timezone=timezone.get_default_timezone())
    return end - timedelta(days=days - 1), end


def clamp_period(start: date | None, end: date | None) -> tuple[date, date]:
    """A period the report can show: defaults for missing ends, at most MAX_DAYS long.

    A period with only one end is read as the default length before or after it;
    a longer one keeps its end and loses its oldest days.
    """
    if start is None and end is None:
        return default_period()
    if end is None:
        end = start + timedelta(days=DEFAULT_DAYS - 1)
    if start is None:
        start = end - timedelta(days=DEFAULT_DAYS - 1)
    if start > end:
        start, end = end, start
    return max(start, end - timedelta(days=MAX_DAYS - 1)), end


def page_day_rows(start: date, end: date, page_id: int | None = None) -> QuerySet:
    """Anonymous views and unique visitors per day and page, sources added up.

    One ``GROUP BY`` over the aggregate table; rows are dicts with ``day``,
    ``page_id``, ``page_title``, ``views`` and ``visitors``, busiest first
    within each day, newest day first.
    """
    rows = DailyPageStat.objects.filter(day__range=(start, end))
    if page_id is not None:
        rows = rows.filter(page_id=page_id)
    return (
        rows.values("day", "page_id")
        .annotate(page_title=F("page__title"), views=Sum("views"), visitors=Sum("visitors"))
        .order_by("-day", "-views", "page_id")
    )


@dataclass
class DayTotals:
    """One day of the report (or the whole period, for the totals row)."""

    day: date | None = None
    anonymous_views: int = 0
    anonymous_visitors: int = 0
    consented_views: int = 0
    audience_views: int = 0

    @property
    def all_views(self) -> int:
        return self.anonymous_views + self.consented_views + self.audience_views


@dataclass
class AudienceSummary:
    start: date
    end: date
    days: list[DayTotals] = field(default_factory=list)
    totals: DayTotals = field(default_factory=DayTotals)

    @property
    def busiest(self) -> int:
        """The highest daily view count, for scaling the chart (at least 1)."""
        return max([d.all_views for d in self.days] + [1])


def _local_bounds(start: date, end: date) -> tuple[datetime, datetime]:
    """The first instant of ``start`` and of the day after ``end``, in the site's time zone."""
    tz = timezone.get_default_timezone()
    return (
        timezone.make_aware(datetime.combine(start, time.min), tz),
        timezone.make_aware(datetime.combine(end + timedelta(days=1), time.min), tz),
    )


def _touchpoint_days(start: date, end: date, page_id: int | None) -> Iterable[dict]:
    """Per-visitor page views per day: consented and audience-only, in one GROUP BY."""
    since, until = _local_bounds(start, end)
    views = Touchpoint.objects.filter(
        occurred_at__gte=since, occurred_at__lt=until, kind="page_view"
    )
    if page_id is not None:
        views = views.filter(page_id=page_id)
    return (
        views.annotate(day=TruncDate("occurred_at", tzinfo=timezone.get_default_timezone()))
        .values("day")
        .annotate(
            audience=Count("id", filter=Q(audience_only=True)),
            # The view on which consent was given was already counted, before
            # the choice (collect.py records it again for the visitor's history).
            consented=Count(
                "id", filter=Q(audience_only=False, properties__on_consent__isnull=True)
            ),
        )
        .order_by()
    )


def summary(start: date, end: date, page_id: int | None = None) -> AudienceSummary:
    """Every day of the period (zeros included) and the period's totals: two queries.

    Days are the site's local days (``TIME_ZONE``), the same days the
    aggregates are counted in, whatever the editor's profile time zone.
    """
    anonymous = (
        DailyPageStat.objects.filter(day__range=(start, end))
        .filter(**({"page_id": page_id} if page_id is not None else {}))
        .values("day")
        .annotate(views=Sum("views"), visitors=Sum("visitors"))
        .order_by()
    )
    by_day = {
        start + timedelta(days=i): DayTotals(day=start + timedelta(days=i))
        for i in range((end - start).days + 1)
    }
    for row in anonymous:
        day = by_day.get(row["day"])
        if day is not None:
            day.anonymous_views, day.anonymous_visitors = row["views"], row["visitors"]
    for row in _touchpoint_days(start, end, page_id):
        day = by_day.get(row["day"])
        if day is not None:
            day.consented_views, day.audience_views = row["consented"], row["audience"]
    days = sorted(by_day.values(), key=lambda d: d.day, reverse=True)
    totals = DayTotals(
        anonymous_views=sum(d.anonymous_views for d in days),
        anonymous_visitors=sum(d.anonymous_visitors for d in days),
        consented_views=sum(d.consented_views for d in days),
        audience_views=sum(d.audience_views for d in days),
    )
    return AudienceSummary(start=start, end=end, days=days, totals=totals)
