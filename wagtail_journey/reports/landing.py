"""The landing page report: per page, how sessions that started there went.

One row per page that started a session or received a form submission in
the period: sessions that landed on it, their exact unique visitors, bounces,
all views of the page, sessions that saw it, form submissions on it and the
conversion rate (submissions per session that saw the page), its first source
and the anonymous views of visitors without consent (``DailyPageStat``).
Five queries whatever the number of pages or rows.
"""

from __future__ import annotations

from datetime import date

from django.db.models import Count, Sum

from wagtail_journey.models import DailyPageStat, ReportSession
from wagtail_journey.reports.dashboard import page_metrics, source_label
from wagtail_journey.reports.topn import Row

FIELDS = (
    "entries",
    "visitors",
    "entry_bounces",
    "views",
    "page_sessions",
    "form_submissions",
    "anonymous_views",
)


def landing_page_rows(start: date, end: date) -> list[Row]:
    """Every page with sessions or submissions, most landings first."""
    rows = page_metrics(
        start, end, ("entries", "entry_bounces", "views", "page_sessions", "form_submissions")
    )
    rows = {k: r for k, r in rows.items() if k and (r.get("entries") or r.get("form_submissions"))}
    sessions = ReportSession.objects.filter(day__range=(start, end), entry_page__isnull=False)
    for r in (
        sessions.values("entry_page_id").annotate(n=Count("visitor", distinct=True)).order_by()
    ):
        row = rows.get(str(r["entry_page_id"]))
        if row is not None:
            row.values["visitors"] = r["n"]
    best: dict[str, tuple[int, str]] = {}
    for r in (
        sessions.exclude(source="", medium="")
        .values("entry_page_id", "source", "medium")
        .annotate(n=Count("id"))
        .order_by()
    ):
        key = str(r["entry_page_id"])
        if r["n"] > best.get(key, (0, ""))[0]:
            best[key] = (r["n"], source_label(r["source"], r["medium"]))
    for r in (
        DailyPageStat.objects.filter(day__range=(start, end))
        .values("page_id")
        .annotate(views=Sum("views"))
        .order_by()
    ):
        row = rows.get(str(r["page_id"]))
        if row is not None:
            row.values["anonymous_views"] = r["views"] or 0
    for key, row in rows.items():
        for name in FIELDS:
            row.values.setdefault(name, 0)
        row.values["bounce_rate"] = row.rate("entry_bounces", "entries")
        row.values["conversion_rate"] = row.rate("form_submissions", "page_sessions")
        row.values["top_source"] = best.get(key, (0, ""))[1]
        row.values["page_id"] = int(key)
    return sorted(rows.values(), key=lambda r: (-r.get("entries"), r.label))
