"""Moments of truth: how long contacts took to a first submission, a first
order and a repeat order, and what the best customers did before their first.

Times are whole days from the contact's creation to the day of the moment,
read from the roll-up's per-contact days (``ReportContactDay``), for the
contacts whose moment fell in the period; shown as a median and a
distribution in fixed buckets. The best customers are the top decile by
orders (ever, from the same table); what they did before their first order
is one ``GROUP BY`` over their touchpoints before it.
"""

from __future__ import annotations

import statistics
from collections import Counter
from dataclasses import dataclass, field
from datetime import date

import swapper
from django.db.models import Min, OuterRef, Q, Subquery, Sum
from django.utils import timezone

from wagtail_journey.models import Contact, ReportContactDay, Touchpoint
from wagtail_journey.reports.journey_map import BOOKKEEPING

#: Upper bounds (days) of the distribution's buckets; the last is open.
BUCKETS = (0, 1, 7, 30, 90)


@dataclass
class Moment:
    key: str
    contacts: int = 0
    median_days: float | None = None
    buckets: list[tuple[str, int]] = field(default_factory=list)


def _bucket_label(i: int) -> str:
    if i == 0:
        return "0"
    if i == len(BUCKETS):
        return f"> {BUCKETS[-1]}"
    low = BUCKETS[i - 1] + 1
    return str(low) if low == BUCKETS[i] else f"{low}–{BUCKETS[i]}"


def _moment(key: str, days: list[int]) -> Moment:
    counts = Counter()
    for d in days:
        i = next((n for n, bound in enumerate(BUCKETS) if d <= bound), len(BUCKETS))
        counts[i] += 1
    return Moment(
        key,
        contacts=len(days),
        median_days=statistics.median(days) if days else None,
        buckets=[(_bucket_label(i), counts[i]) for i in range(len(BUCKETS) + 1)],
    )


def moments(start: date, end: date) -> list[Moment]:
    """First submission, first order and repeat order of contacts, for moments in the period."""
    days = ReportContactDay.objects.filter(contact=OuterRef("pk"))
    first_sub = days.filter(submissions__gt=0).order_by("day").values("day")[:1]
    first_order = days.filter(orders__gt=0).order_by("day").values("day")[:1]
    # The repeat order: a second order on the first order's day, or the next day with one.
    rows = (
        Contact.objects.annotate(
            first_sub=Subquery(first_sub),
            first_order=Subquery(first_order),
            first_day_orders=Subquery(
                days.filter(orders__gt=0).order_by("day").values("orders")[:1]
            ),
            second_order=Subquery(days.filter(orders__gt=0).order_by("day").values("day")[1:2]),
        )
        .filter(Q(first_sub__isnull=False) | Q(first_order__isnull=False))
        .values_list("created_at", "first_sub", "first_order", "first_day_orders", "second_order")
    )
    subs, orders, repeats = [], [], []
    for created, sub, order, first_day_orders, second in rows.iterator():
        created_day = timezone.localdate(created, timezone.get_default_timezone())
        if sub and start <= sub <= end:
            subs.append(max((sub - created_day).days, 0))
        if order and start <= order <= end:
            orders.append(max((order - created_day).days, 0))
        repeat = order if first_day_orders and first_day_orders > 1 else second
        if repeat and order and start <= repeat <= end:
            repeats.append((repeat - order).days)
    return [
        _moment("first_submission", subs),
        _moment("first_order", orders),
        _moment("repeat_order", repeats),
    ]


def best_customers_before_first_order(limit: int = 10) -> tuple[int, list[tuple[str, int]]]:
    """(number of best customers, [(what they did before their first order, contacts)])."""
    totals = (
        ReportContactDay.objects.filter(orders__gt=0)
        .values("contact")
        .annotate(orders=Sum("orders"), first=Min("day"))
        .order_by("-orders", "contact")
    )
    customers = totals.count()
    top = list(totals[: max(customers // 10, 1)]) if customers else []
    if not top:
        return 0, []
    firsts = {r["contact"]: r["first"] for r in top}
    latest = max(firsts.values())
    Page = swapper.load_model("wagtailcore", "Page")
    rows = (
        Touchpoint.objects.filter(contact_id__in=list(firsts))
        .exclude(kind__in=[*BOOKKEEPING, "order_completed"])
        .filter(occurred_at__date__lte=latest)
        .values("contact_id", "kind", "page_id", "occurred_at")
        .order_by()
    )
    done: dict[tuple[str, int | None], set[int]] = {}
    for r in rows.iterator():
        if r["occurred_at"].date() <= firsts[r["contact_id"]]:
            done.setdefault((r["kind"], r["page_id"]), set()).add(r["contact_id"])
    pages = {pid for _k, pid in done if pid}
    titles = dict(Page.objects.filter(pk__in=pages).values_list("pk", "title"))
    named = Counter()
    for (kind, pid), contacts in done.items():
        label = f"{kind}: {titles.get(pid, pid)}" if pid else kind
        named[label] += len(contacts)
    return len(top), named.most_common(limit)
