"""Attribution: which sources and campaigns earned the conversions, by five models.

For each conversion of a day (a contact's form submission or order), the
*touches* are the contact's touchpoints that said where they came from (UTM
parameters or an external referrer, as for first/last touch) from
``LOOKBACK_DAYS`` before the conversion's day up to the conversion. Their
channel is "source / medium / campaign" (a referrer is "domain / referral").
A conversion without a touch is credited to "(direct)". The credit of one
conversion (1, and its order value) is split by:

- ``first``: all to the first touch; ``last``: all to the last;
- ``linear``: evenly;
- ``u_shaped``: 40% first, 40% last, 20% shared by the touches between
  (one touch: 100%; two: 50/50);
- ``time_decay``: weights halving every ``HALF_LIFE_DAYS`` before the conversion.

The roll-up step reads a day's conversions with their touches in one query
(the contact-and-time index) and writes ``DailyMetric`` rows
(``attr_<kind>_<model>`` and ``attrv_<kind>_<model>``, credit and value in
thousandths, dimension = channel): reports sum them over any period.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, timedelta

from django.db import connection
from django.utils.dateparse import parse_datetime

from wagtail_journey.models import DailyMetric, Touchpoint
from wagtail_journey.reports.sql import json_number, json_text, table

LOOKBACK_DAYS = 90
HALF_LIFE_DAYS = 7
MODELS = ("first", "last", "linear", "u_shaped", "time_decay")
KINDS = {"form_submitted": "submission", "order_completed": "order"}
DIRECT = "(direct)"
#: Credits are stored in thousandths (DailyMetric holds whole numbers).
SCALE = 1000


def split(model: str, times: list[datetime], at: datetime) -> list[float]:
    """Shares (adding up to 1) of touches at ``times`` (oldest first) of a conversion at ``at``."""
    n = len(times)
    if n == 1 or model == "first":
        return [1.0] + [0.0] * (n - 1)
    if model == "last":
        return [0.0] * (n - 1) + [1.0]
    if model == "linear":
        return [1.0 / n] * n
    if model == "u_shaped":
        if n == 2:
            return [0.5, 0.5]
        middle = 0.2 / (n - 2)
        return [0.4] + [middle] * (n - 2) + [0.4]
    weights = [0.5 ** ((at - t).total_seconds() / (HALF_LIFE_DAYS * 86400)) for t in times]
    total = sum(weights)
    return [w / total for w in weights]


def channel(source: str | None, medium: str | None, campaign: str | None, ref: str | None) -> str:
    if source or medium or campaign:
        parts = [source or "", medium or "", campaign or ""]
    elif ref:
        parts = [ref, "referral", ""]
    else:
        return DIRECT
    return " / ".join(p for p in parts if p)[:200] or DIRECT


def _as_datetime(value) -> datetime:
    return value if isinstance(value, datetime) else parse_datetime(str(value))


def credit_day(cursor, day, since, until) -> None:
    """The roll-up step: credit the day's conversions to channels, by every model."""
    tp = table(Touchpoint)
    ref = json_text("t.properties", "ref")
    from wagtail_journey.reports.rollup import local_bounds

    first_day = date.fromisoformat(str(day)) - timedelta(days=LOOKBACK_DAYS)
    lookback = connection.ops.adapt_datetimefield_value(local_bounds(first_day)[0])
    cursor.execute(
        f"SELECT c.id, c.kind, c.occurred_at, {json_number('c.properties', 'amount')}, "  # noqa: S608
        f"t.occurred_at, {json_text('t.utm', 'source')}, {json_text('t.utm', 'medium')}, "
        f"{json_text('t.utm', 'campaign')}, {ref} "
        f"FROM {tp} c LEFT JOIN {tp} t ON t.contact_id = c.contact_id "
        "AND t.occurred_at >= %s AND t.occurred_at <= c.occurred_at "
        f"AND (t.utm IS NOT NULL OR {ref} IS NOT NULL) "
        "WHERE c.contact_id IS NOT NULL AND c.kind IN (%s, %s) "
        "AND c.occurred_at >= %s AND c.occurred_at < %s "
        "ORDER BY c.id, t.occurred_at, t.id",
        [lookback, *KINDS, since, until],
    )
    conversions: dict[int, dict] = {}
    for cid, kind, at, amount, touched, source, medium, campaign, referrer in cursor.fetchall():
        conv = conversions.setdefault(
            cid,
            {
                "kind": KINDS[kind],
                "at": _as_datetime(at),
                "value": float(amount or 0),
                "touches": [],
            },
        )
        if touched is not None:
            conv["touches"].append(
                (_as_datetime(touched), channel(source, medium, campaign, referrer))
            )
    totals: dict[tuple[str, str], float] = defaultdict(float)
    for conv in conversions.values():
        touches = conv["touches"] or [(conv["at"], DIRECT)]
        times = [t for t, _c in touches]
        for model in MODELS:
            for (_t, name), share in zip(touches, split(model, times, conv["at"]), strict=True):
                totals[(f"attr_{conv['kind']}_{model}", name)] += share
                if conv["value"]:
                    totals[(f"attrv_{conv['kind']}_{model}", name)] += share * conv["value"]
    rows = [
        (day, metric, dimension, round(value * SCALE))
        for (metric, dimension), value in totals.items()
        if round(value * SCALE)
    ]
    if rows:
        cursor.executemany(
            f"INSERT INTO {table(DailyMetric)} (day, metric, dimension, value) "  # noqa: S608
            "VALUES (%s, %s, %s, %s)",
            rows,
        )


def credits(start: date, end: date, kind: str) -> list[dict]:
    """Per channel, the credited conversions and value of each model over the period.

    One query; rows sorted by linear credit, each with ``channel``, ``<model>``
    (conversions) and ``<model>_value`` for every model. Every model's column
    adds up to the period's conversions of ``kind``.
    """
    from django.db.models import Sum

    rows: dict[str, dict] = {}
    names = {f"attr_{kind}_{m}": (m, False) for m in MODELS}
    names |= {f"attrv_{kind}_{m}": (m, True) for m in MODELS}
    for r in (
        DailyMetric.objects.filter(day__range=(start, end), metric__in=list(names))
        .values("metric", "dimension")
        .annotate(total=Sum("value"))
        .order_by()
    ):
        model, is_value = names[r["metric"]]
        row = rows.setdefault(
            r["dimension"],
            {"channel": r["dimension"], **dict.fromkeys(MODELS, 0.0)}
            | {f"{m}_value": 0.0 for m in MODELS},
        )
        row[f"{model}_value" if is_value else model] = round((r["total"] or 0) / SCALE, 2)
    return sorted(rows.values(), key=lambda row: (-row["linear"], row["channel"]))
