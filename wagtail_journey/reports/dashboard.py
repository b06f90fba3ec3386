"""The dashboard's figures for a period, read from the roll-up tables.

Additive figures (sessions, bounces, conversions, stage entries) are sums of
``DailyMetric`` rows; unique visitors and customers over the period are exact
``COUNT(DISTINCT ...)`` over the compact per-session and per-contact-day
tables, never sums of daily uniques. Every function runs a fixed number of
queries whatever the number of rows.

Two audiences are kept apart and labelled: *consented* visitors (analytics
consent) and, in ``exempt`` mode, *audience-only* visitors (a cookie for
statistics only); visitors without any cookie are in the Audience report's
anonymous aggregates (``DailyPageStat``: unique per page and day only).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

import swapper
from django.db import connection
from django.db.models import Count, Q, Sum
from django.utils.translation import gettext as _

from wagtail_journey.models import DailyMetric, DailyPageStat, ReportContactDay, ReportSession
from wagtail_journey.reports.sql import table
from wagtail_journey.reports.topn import TOP_N, Row, percent, top_with_other

#: The lifecycle stages whose new entries the dashboard shows.
DASHBOARD_STAGES = ("lead", "mql", "sql", "customer")


def previous_period(start: date, end: date) -> tuple[date, date]:
    """The period of the same length just before ``start``."""
    length = (end - start).days + 1
    return start - timedelta(days=length), start - timedelta(days=1)


@dataclass
class Figures:
    """The headline numbers of one period."""

    start: date
    end: date
    visitors: int = 0
    consented_visitors: int = 0
    audience_visitors: int = 0
    sessions: int = 0
    bounces: int = 0
    page_views: int = 0
    anonymous_views: int = 0
    anonymous_visitors: int = 0
    submissions: int = 0
    orders: int = 0
    revenue_cents: int = 0
    customers: int = 0
    carts: int = 0
    carts_abandoned: int = 0
    contacts_created: int = 0
    stages: dict[str, int] = field(default_factory=dict)

    @property
    def conversions(self) -> int:
        return self.submissions + self.orders

    @property
    def bounce_rate(self) -> float | None:
        return percent(self.bounces, self.sessions)

    @property
    def conversion_rate(self) -> float | None:
        """Conversions (form submissions and orders) per 100 sessions."""
        return percent(self.conversions, self.sessions)

    @property
    def orders_per_customer(self) -> float | None:
        return round(self.orders / self.customers, 2) if self.customers else None

    @property
    def cart_abandonment_rate(self) -> float | None:
        return percent(self.carts_abandoned, self.carts)

    @property
    def revenue(self) -> float:
        return self.revenue_cents / 100


_SCOPED = {"sessions", "bounces", "page_views"}
_TOTALS = {
    "submissions",
    "orders",
    "revenue_cents",
    "carts",
    "carts_abandoned",
    "contacts_created",
}


def figures(start: date, end: date) -> Figures:
    """The headline numbers of ``start``..``end`` (site-local days): four queries."""
    result = Figures(start=start, end=end)
    rows = (
        DailyMetric.objects.filter(
            day__range=(start, end), metric__in=[*_SCOPED, *_TOTALS, "lifecycle_entered"]
        )
        .values("metric", "dimension")
        .annotate(total=Sum("value"))
        .order_by()
    )
    for row in rows:
        metric, total = row["metric"], row["total"] or 0
        if metric == "lifecycle_entered":
            result.stages[row["dimension"]] = total
        elif metric in _SCOPED or metric in _TOTALS:
            setattr(result, metric, getattr(result, metric) + total)
    visitors = ReportSession.objects.filter(day__range=(start, end)).aggregate(
        all=Count("visitor", distinct=True),
        consented=Count("visitor", distinct=True, filter=Q(audience_only=False)),
        audience=Count("visitor", distinct=True, filter=Q(audience_only=True)),
    )
    result.visitors = visitors["all"]
    result.consented_visitors = visitors["consented"]
    result.audience_visitors = visitors["audience"]
    result.customers = ReportContactDay.objects.filter(
        day__range=(start, end), orders__gt=0
    ).aggregate(n=Count("contact", distinct=True))["n"]
    anonymous = DailyPageStat.objects.filter(day__range=(start, end)).aggregate(
        views=Sum("views"), visitors=Sum("visitors")
    )
    result.anonymous_views = anonymous["views"] or 0
    result.anonymous_visitors = anonymous["visitors"] or 0
    return result


def daily_series(start: date, end: date, metrics: tuple[str, ...]) -> list[dict]:
    """One dict per day (zeros included, oldest first): ``day`` and each metric's total."""
    days = {
        start + timedelta(days=i): {"day": start + timedelta(days=i), **dict.fromkeys(metrics, 0)}
        for i in range((end - start).days + 1)
    }
    rows = (
        DailyMetric.objects.filter(day__range=(start, end), metric__in=metrics)
        .values("day", "metric")
        .annotate(total=Sum("value"))
        .order_by()
    )
    for row in rows:
        if row["day"] in days:
            days[row["day"]][row["metric"]] = row["total"] or 0
    return list(days.values())


def source_label(source: str, medium: str) -> str:
    if not source and not medium:
        return _("(direct)")
    return f"{source or _('(none)')} / {medium or _('(none)')}"


def sources(start: date, end: date, n: int = TOP_N) -> list[Row]:
    """Sessions and visitors per source / medium (referrers as "domain / referral").

    Each visitor is counted once, on the source of their first session of the
    period, so visitors add up to the period's unique visitors; the "other"
    row holds the rest. Two queries.
    """
    rows: dict[tuple[str, str], Row] = {}

    def row_for(source: str, medium: str) -> Row:
        key = (source, medium)
        if key not in rows:
            rows[key] = Row(key=f"{source}|{medium}", label=source_label(source, medium))
        return rows[key]

    sessions = (
        ReportSession.objects.filter(day__range=(start, end))
        .values("source", "medium")
        .annotate(n=Count("id"), bounces=Count("id", filter=Q(page_views=1)))
        .order_by()
    )
    for r in sessions:
        row = row_for(r["source"], r["medium"])
        row.values.update(sessions=r["n"], bounces=r["bounces"])
    rs, ops = table(ReportSession), connection.ops
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT source, medium, COUNT(*) FROM ("  # noqa: S608
            "  SELECT source, medium, ROW_NUMBER() OVER "
            "  (PARTITION BY visitor_id ORDER BY day, id) AS rn"
            f"  FROM {rs} WHERE day >= %s AND day <= %s"
            ") firsts WHERE rn = 1 GROUP BY source, medium",
            [ops.adapt_datefield_value(start), ops.adapt_datefield_value(end)],
        )
        for source, medium, count in cursor.fetchall():
            row_for(source, medium).values["visitors"] = count
    return top_with_other(
        rows.values(), "sessions", ("sessions", "bounces", "visitors"), n, _("Other sources")
    )


def _page_titles(ids) -> dict[str, str]:
    Page = swapper.load_model("wagtailcore", "Page")
    wanted = [int(i) for i in ids if str(i).isdigit()]
    pages = Page.objects.filter(pk__in=wanted).values_list("pk", "title")
    return {str(pk): title for pk, title in pages}


def page_metrics(start: date, end: date, metrics: tuple[str, ...]) -> dict[str, Row]:
    """Per-page sums of ``metrics`` (keyed by page id as text; "" = unknown page), titled."""
    rows: dict[str, Row] = {}
    for r in (
        DailyMetric.objects.filter(day__range=(start, end), metric__in=metrics)
        .values("metric", "dimension")
        .annotate(total=Sum("value"))
        .order_by()
    ):
        row = rows.setdefault(r["dimension"], Row(key=r["dimension"], label=""))
        row.values[r["metric"]] = r["total"] or 0
    titles = _page_titles(rows)
    for key, row in rows.items():
        row.label = titles.get(key) or (_("(deleted page)") if key else _("(unknown page)"))
    return rows


def landing_pages(start: date, end: date, n: int = TOP_N) -> list[Row]:
    """Sessions that started on each page, their bounces and bounce rate: two queries."""
    rows = page_metrics(start, end, ("entries", "entry_bounces"))
    return top_with_other(
        rows.values(), "entries", ("entries", "entry_bounces"), n, _("Other pages")
    )


def exit_pages(start: date, end: date, n: int = TOP_N) -> list[Row]:
    """Where sessions end (the drop-off pages): exits per page, with the page's sessions."""
    rows = page_metrics(start, end, ("exits", "page_sessions"))
    rows = {k: r for k, r in rows.items() if r.get("exits")}
    return top_with_other(rows.values(), "exits", ("exits", "page_sessions"), n, _("Other pages"))


def form_pages(start: date, end: date, n: int = TOP_N) -> list[Row]:
    """Form abandonment: sessions that saw a page with a form vs submissions on it.

    A page counts as a form page when it received a submission in the period
    or is one of the package's landing pages (a form that nobody sent still shows).
    """
    rows = page_metrics(start, end, ("page_sessions", "form_submissions"))
    form_ids = _form_page_ids()
    rows = {k: r for k, r in rows.items() if r.get("form_submissions") or k in form_ids}
    for row in rows.values():
        row.values["abandoned"] = max(0, row.get("page_sessions") - row.get("form_submissions"))
    return top_with_other(
        rows.values(),
        "page_sessions",
        ("page_sessions", "form_submissions", "abandoned"),
        n,
        _("Other forms"),
    )


def _form_page_ids() -> set[str]:
    """Pages of every type that can carry a form block (not only landing pages): one query."""
    from django.contrib.contenttypes.models import ContentType
    from wagtail.models import Page

    from wagtail_journey.pages import form_page_types

    types = ContentType.objects.get_for_models(*form_page_types()).values()
    return {
        str(pk) for pk in Page.objects.filter(content_type__in=types).values_list("pk", flat=True)
    }
