"""Daily roll-ups: the report tables of one day, rebuilt from the touchpoint log.

:func:`rollup_day` deletes a day's rows of every report table and inserts
them again, in one transaction, with a fixed number of set-based
``INSERT ... SELECT`` statements: running it twice, or while touchpoints
arrive, leaves a consistent day. The schedule (``journey-report-rollup``)
rebuilds today and yesterday (late buffered batches and visitors identified
after midnight land in yesterday); ``manage.py journey_rollup`` rebuilds any
range, e.g. after an import or a retention purge.

Days are the site's local days (``TIME_ZONE``, Django's default time zone),
as for the Audience report's aggregates.

Other capabilities add their figures with :func:`register_step`: a step gets
the cursor, the day and its bounds, and inserts ``DailyMetric`` rows under its
own metric names (the day's rows were deleted before the steps run).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import date, datetime, time, timedelta

from django.db import connection, transaction
from django.utils import timezone

from wagtail_journey.models import (
    Contact,
    DailyMetric,
    ReportContactDay,
    ReportSession,
    StageEntry,
    Touchpoint,
)
from wagtail_journey.reports.sql import json_number, json_text, table

logger = logging.getLogger(__name__)

SCHEDULE_NAME = "journey-report-rollup"
TASK = "wagtail_journey.reports.rollup.rollup_recent"

#: Order kinds and form kinds the reports count as conversions.
SUBMITTED, ORDERED, CART = "form_submitted", "order_completed", "cart_updated"

Step = Callable[..., None]
_steps: list[Step] = []


def register_step(step: Step) -> Step:
    """Add a roll-up step (``step(cursor, day, since, until)``); usable as a decorator."""
    if step not in _steps:
        _steps.append(step)
    return step


def local_bounds(start: date, end: date | None = None) -> tuple[datetime, datetime]:
    """The first instant of ``start`` and of the day after ``end``, in the site's time zone."""
    tz = timezone.get_default_timezone()
    end = end or start
    return (
        timezone.make_aware(datetime.combine(start, time.min), tz),
        timezone.make_aware(datetime.combine(end + timedelta(days=1), time.min), tz),
    )


def local_today() -> date:
    return timezone.localdate(timezone=timezone.get_default_timezone())


def _sessions(cursor, day, since, until) -> None:
    """One row per session of the day: entry and exit page, source, page views."""
    tp = table(Touchpoint)
    ref = json_text("properties", "ref")
    source = f"COALESCE(NULLIF({json_text('utm', 'source')}, ''), NULLIF({ref}, ''))"
    medium = (
        f"COALESCE(NULLIF({json_text('utm', 'medium')}, ''), "
        f"CASE WHEN NULLIF({ref}, '') IS NOT NULL THEN 'referral' END)"
    )
    cursor.execute(
        f"INSERT INTO {table(ReportSession)} (day, session, visitor_id, audience_only, "
        "source, medium, entry_page_id, exit_page_id, page_views) "
        "SELECT %s, session, MIN(visitor_id), "
        "MAX(CASE WHEN audience_only THEN 1 ELSE 0 END) = 1, "
        "SUBSTR(COALESCE(MAX(CASE WHEN rn = 1 THEN src END), ''), 1, 128), "
        "SUBSTR(COALESCE(MAX(CASE WHEN rn = 1 THEN med END), ''), 1, 64), "
        "MAX(CASE WHEN rn = 1 THEN page_id END), "
        "MAX(CASE WHEN rn_desc = 1 THEN page_id END), "
        "COUNT(*) "
        "FROM ("
        f"  SELECT session, visitor_id, audience_only, page_id, {source} AS src, {medium} AS med,"
        "   ROW_NUMBER() OVER (PARTITION BY session ORDER BY occurred_at, id) AS rn,"
        "   ROW_NUMBER() OVER (PARTITION BY session ORDER BY occurred_at DESC, id DESC) AS rn_desc"
        f"  FROM {tp} WHERE kind = 'page_view' AND session IS NOT NULL"
        "   AND visitor_id IS NOT NULL AND occurred_at >= %s AND occurred_at < %s"
        ") views GROUP BY session",
        [day, since, until],
    )


def _contact_days(cursor, day, since, until) -> None:
    """One row per contact who submitted a form, ordered or filled a cart that day."""
    amount = f"COALESCE({json_number('properties', 'amount')}, 0)"
    cursor.execute(
        f"INSERT INTO {table(ReportContactDay)} (day, contact_id, submissions, orders, "
        "revenue_cents, cart_updates) "
        "SELECT %s, contact_id, "
        "SUM(CASE WHEN kind = %s THEN 1 ELSE 0 END), "
        "SUM(CASE WHEN kind = %s THEN 1 ELSE 0 END), "
        f"CAST(ROUND(SUM(CASE WHEN kind = %s THEN {amount} ELSE 0 END) * 100) AS BIGINT), "
        "SUM(CASE WHEN kind = %s THEN 1 ELSE 0 END) "
        f"FROM {table(Touchpoint)} WHERE contact_id IS NOT NULL AND kind IN (%s, %s, %s) "
        "AND occurred_at >= %s AND occurred_at < %s GROUP BY contact_id",
        [day, SUBMITTED, ORDERED, ORDERED, CART, SUBMITTED, ORDERED, CART, since, until],
    )


def _stage_entries(cursor, day, since, until) -> None:
    """Lifecycle entries (stage_changed, and the first stage at creation) and the
    first-ever entry of each journey stage."""
    from wagtail_journey.stages import lifecycle_stages

    se, tp = table(StageEntry), table(Touchpoint)
    to = json_text("properties", "to")
    cursor.execute(
        f"INSERT INTO {se} (day, contact_id, scheme, stage, entered_at) "
        f"SELECT %s, contact_id, 'lifecycle', SUBSTR({to}, 1, 32), MIN(occurred_at) FROM {tp} "
        f"WHERE kind = 'stage_changed' AND contact_id IS NOT NULL AND {to} IS NOT NULL "
        f"AND occurred_at >= %s AND occurred_at < %s GROUP BY contact_id, {to}",
        [day, since, until],
    )
    first = lifecycle_stages()[0]
    cursor.execute(
        f"INSERT INTO {se} (day, contact_id, scheme, stage, entered_at) "
        f"SELECT %s, id, 'lifecycle', %s, created_at FROM {table(Contact)} c "
        "WHERE created_at >= %s AND created_at < %s AND NOT EXISTS ("
        f" SELECT 1 FROM {se} e WHERE e.day = %s AND e.contact_id = c.id"
        " AND e.scheme = 'lifecycle' AND e.stage = %s)",
        [day, first, since, until, day, first],
    )
    # Journey stages: only a contact's first entry of a stage is kept (a page
    # of a stage is viewed again and again); the funnel reads the earliest.
    cursor.execute(
        f"INSERT INTO {se} (day, contact_id, scheme, stage, entered_at) "
        f"SELECT %s, contact_id, 'journey', journey_stage, MIN(occurred_at) FROM {tp} t "
        "WHERE contact_id IS NOT NULL AND journey_stage <> '' "
        "AND occurred_at >= %s AND occurred_at < %s AND NOT EXISTS ("
        f" SELECT 1 FROM {se} e WHERE e.contact_id = t.contact_id AND e.scheme = 'journey'"
        " AND e.stage = t.journey_stage AND e.day < %s) "
        "GROUP BY contact_id, journey_stage",
        [day, since, until, day],
    )


def _metrics(cursor, day, since, until) -> None:
    """The additive figures of the day, from the rows above and the log."""
    from wagtail_journey.stages import lifecycle_stages

    dm, rs, tp = table(DailyMetric), table(ReportSession), table(Touchpoint)
    rcd, se = table(ReportContactDay), table(StageEntry)
    first = lifecycle_stages()[0]
    insert = f"INSERT INTO {dm} (day, metric, dimension, value) "
    scope = "CASE WHEN audience_only THEN 'audience' ELSE 'consented' END"
    page = "COALESCE(CAST({} AS TEXT), '')"
    statements = [
        # Per scope: consented visitors vs exempt-mode audience-only visitors.
        (
            f"SELECT %s, 'sessions', {scope}, COUNT(*) FROM {rs} WHERE day = %s GROUP BY {scope}",
            [day, day],
        ),
        (
            f"SELECT %s, 'bounces', {scope}, COUNT(*) FROM {rs} "
            f"WHERE day = %s AND page_views = 1 GROUP BY {scope}",
            [day, day],
        ),
        (
            f"SELECT %s, 'page_views', {scope}, SUM(page_views) FROM {rs} "
            f"WHERE day = %s GROUP BY {scope}",
            [day, day],
        ),
        (
            f"SELECT %s, 'visitors', {scope}, COUNT(DISTINCT visitor_id) FROM {rs} "
            f"WHERE day = %s GROUP BY {scope}",
            [day, day],
        ),
        # Per page: landing (entries, bounces), exits, views, sessions that saw it.
        (
            f"SELECT %s, 'entries', {page.format('entry_page_id')}, COUNT(*) FROM {rs} "
            f"WHERE day = %s GROUP BY {page.format('entry_page_id')}",
            [day, day],
        ),
        (
            f"SELECT %s, 'entry_bounces', {page.format('entry_page_id')}, COUNT(*) FROM {rs} "
            f"WHERE day = %s AND page_views = 1 GROUP BY {page.format('entry_page_id')}",
            [day, day],
        ),
        (
            f"SELECT %s, 'exits', {page.format('exit_page_id')}, COUNT(*) FROM {rs} "
            f"WHERE day = %s GROUP BY {page.format('exit_page_id')}",
            [day, day],
        ),
        (
            f"SELECT %s, 'views', {page.format('page_id')}, COUNT(*) FROM {tp} "
            "WHERE kind = 'page_view' AND page_id IS NOT NULL "
            f"AND occurred_at >= %s AND occurred_at < %s GROUP BY {page.format('page_id')}",
            [day, since, until],
        ),
        (
            f"SELECT %s, 'page_sessions', {page.format('page_id')}, COUNT(DISTINCT session) "
            f"FROM {tp} WHERE kind = 'page_view' AND session IS NOT NULL AND page_id IS NOT NULL "
            f"AND occurred_at >= %s AND occurred_at < %s GROUP BY {page.format('page_id')}",
            [day, since, until],
        ),
        # Conversions, whoever made them (a form can be sent without analytics consent).
        (
            f"SELECT %s, 'submissions', '', COUNT(*) FROM {tp} WHERE kind = %s "
            "AND occurred_at >= %s AND occurred_at < %s GROUP BY kind",
            [day, SUBMITTED, since, until],
        ),
        (
            f"SELECT %s, 'form_submissions', {page.format('page_id')}, COUNT(*) FROM {tp} "
            "WHERE kind = %s AND page_id IS NOT NULL AND occurred_at >= %s AND occurred_at < %s "
            f"GROUP BY {page.format('page_id')}",
            [day, SUBMITTED, since, until],
        ),
        (
            f"SELECT %s, 'orders', '', COUNT(*) FROM {tp} WHERE kind = %s "
            "AND occurred_at >= %s AND occurred_at < %s GROUP BY kind",
            [day, ORDERED, since, until],
        ),
        (
            f"SELECT %s, 'revenue_cents', '', SUM(revenue_cents) FROM {rcd} WHERE day = %s "
            "AND orders > 0 GROUP BY day",
            [day, day],
        ),
        # Carts: contacts who updated a cart that day, and those of them who did not order.
        (
            f"SELECT %s, 'carts', '', COUNT(*) FROM {rcd} WHERE day = %s AND cart_updates > 0 "
            "GROUP BY day",
            [day, day],
        ),
        (
            f"SELECT %s, 'carts_abandoned', '', COUNT(*) FROM {rcd} WHERE day = %s "
            "AND cart_updates > 0 AND orders = 0 GROUP BY day",
            [day, day],
        ),
        # Contacts: created, and entries into lifecycle and journey stages.
        (
            f"SELECT %s, 'contacts_created', '', COUNT(*) FROM {se} "
            "WHERE day = %s AND scheme = 'lifecycle' AND stage = %s GROUP BY day",
            [day, day, first],
        ),
        (
            f"SELECT %s, 'lifecycle_entered', stage, COUNT(*) FROM {se} "
            "WHERE day = %s AND scheme = 'lifecycle' GROUP BY stage",
            [day, day],
        ),
        (
            f"SELECT %s, 'journey_entered', stage, COUNT(*) FROM {se} "
            "WHERE day = %s AND scheme = 'journey' GROUP BY stage",
            [day, day],
        ),
    ]
    for select, params in statements:
        cursor.execute(insert + select, params)


def _attribution(cursor, day, since, until) -> None:
    from wagtail_journey.reports.attribution import credit_day

    credit_day(cursor, day, since, until)


def rollup_day(day: date) -> None:
    """Rebuild every report table for one site-local day, in one transaction."""
    since, until = local_bounds(day)
    ops = connection.ops
    params = (
        ops.adapt_datefield_value(day),
        ops.adapt_datetimefield_value(since),
        ops.adapt_datetimefield_value(until),
    )
    with transaction.atomic(), connection.cursor() as cursor:
        for model in (DailyMetric, ReportSession, ReportContactDay, StageEntry):
            cursor.execute(f"DELETE FROM {table(model)} WHERE day = %s", [params[0]])
        for step in (_sessions, _contact_days, _stage_entries, _metrics, _attribution, *_steps):
            step(cursor, *params)


def rollup_range(start: date, end: date) -> int:
    """Rebuild every day from ``start`` to ``end`` (oldest first); returns the number of days."""
    days = (end - start).days + 1
    for i in range(days):
        rollup_day(start + timedelta(days=i))
    return max(days, 0)


def rollup_recent() -> int:
    """The scheduled task: today and yesterday (site-local days)."""
    today = local_today()
    return rollup_range(today - timedelta(days=1), today)
