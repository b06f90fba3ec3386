"""Keyset pages and bounded counts for listings over millions of rows.

``OFFSET 500000`` reads and throws away half a million rows, and ``COUNT(*)``
over a filtered million-row table reads all of them: the contact list would
get slower with every contact. Instead:

- a page is fetched *after* (or *before*) the last row shown, by its sort
  value and primary key: ``WHERE (score, id) < (40, 1234) ORDER BY score
  DESC, id DESC LIMIT 51``, which an index walks directly whatever the depth;
- a count is exact up to :data:`EXACT_COUNT_LIMIT` (a ``COUNT`` over a
  ``LIMIT`` subquery, so it stops reading there); past that the listing says
  "more than 10,000 (about 1,2 million)" from PostgreSQL's planner estimate.

The cursor in the URL is plain data (a sort value and an id, base64 JSON):
a broken or forged one shows the first page, never an error.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from datetime import date, datetime

from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.db import connections
from django.db.models import F, Model, Q, QuerySet

#: Counts up to this are exact; above it the listing shows an estimate.
EXACT_COUNT_LIMIT = 10_000


@dataclass(frozen=True)
class Count:
    """How many rows a listing has: ``value`` is exact when ``exact`` is True,
    else at least ``EXACT_COUNT_LIMIT`` and ``estimate`` is the planner's guess."""

    value: int
    exact: bool
    estimate: int = 0


def bounded_count(queryset: QuerySet, limit: int | None = None) -> Count:
    """The exact count when it is at most ``limit`` (default :data:`EXACT_COUNT_LIMIT`);
    otherwise ``limit`` and an estimate.

    Reads at most ``limit + 1`` matching rows (one query); the estimate is one
    ``EXPLAIN`` on PostgreSQL (no rows read) and 0 elsewhere.
    """
    if limit is None:
        limit = EXACT_COUNT_LIMIT
    # COUNT(*) over a LIMIT subquery: the database stops reading at limit + 1.
    found = queryset.order_by().values("pk")[: limit + 1].count()
    if found <= limit:
        return Count(found, True)
    estimate = planner_estimate(queryset)  # 0 where there is no planner to ask
    return Count(limit, False, max(estimate, limit + 1) if estimate else 0)


def planner_estimate(queryset: QuerySet) -> int:
    """PostgreSQL's estimate of the rows ``queryset`` returns (0 on other databases)."""
    connection = connections[queryset.db]
    if connection.vendor != "postgresql":
        return 0
    sql, params = queryset.order_by().values("pk").query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (FORMAT JSON) " + sql, params)
        plan = cursor.fetchone()[0]
    if isinstance(plan, str):
        plan = json.loads(plan)
    return int(plan[0]["Plan"]["Plan Rows"])


@dataclass
class KeysetPage:
    """One page of a keyset-paginated listing, shaped like Django's ``Page``
    where Wagtail's listing templates read it."""

    object_list: list
    count: Count
    next_cursor: str = ""
    previous_cursor: str = ""
    number: int = 1  # Wagtail's templates print it; keyset pages have no number
    extra: dict = field(default_factory=dict)

    def get_elided_page_range(self, number=None) -> list:
        return []  # no page numbers: previous and next only

    def has_next(self) -> bool:
        return bool(self.next_cursor)

    def has_previous(self) -> bool:
        return bool(self.previous_cursor)

    def has_other_pages(self) -> bool:
        return self.has_next() or self.has_previous()

    def __iter__(self):
        return iter(self.object_list)

    def __len__(self) -> int:
        return len(self.object_list)


def encode_cursor(value, pk, order: str) -> str:
    """A URL-safe token for the row (sort value, pk) in the listing order ``order``."""
    if isinstance(value, datetime | date):
        value = value.isoformat()
    raw = json.dumps([order, value, pk], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(model: type[Model], field_name: str, token: str, order: str):
    """(value, pk) from a token, converted by the model's fields; None when invalid
    or made for another order (a sort link keeps the cursor of the old order)."""
    if not token or len(token) > 500:
        return None
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        made_for, value, pk = json.loads(raw)
        if made_for != order:
            return None
        pk = model._meta.pk.to_python(pk)
        if not isinstance(pk, int) or isinstance(pk, bool):
            return None
        if value is not None:
            value = model._meta.get_field(field_name).to_python(value)
    except (ValueError, TypeError, ValidationError, FieldDoesNotExist):
        return None
    return value, pk


def _after(field_name: str, value, pk, descending: bool, nullable: bool) -> Q:
    """Rows after (value, pk) in the order ``field DESC|ASC NULLS LAST, pk DESC|ASC``."""
    op = "lt" if descending else "gt"
    if value is None:  # among the nulls, at the end
        return Q(**{f"{field_name}__isnull": True, f"pk__{op}": pk})
    q = Q(**{f"{field_name}__{op}": value}) | Q(**{field_name: value, f"pk__{op}": pk})
    return q | Q(**{f"{field_name}__isnull": True}) if nullable else q


def _before(field_name: str, value, pk, descending: bool, nullable: bool) -> Q:
    """Rows before (value, pk) in the same order (the mirror of :func:`_after`)."""
    op = "gt" if descending else "lt"
    if value is None:  # every non-null row, and the nulls before this one
        return Q(**{f"{field_name}__isnull": False}) | Q(
            **{f"{field_name}__isnull": True, f"pk__{op}": pk}
        )
    return Q(**{f"{field_name}__{op}": value}) | Q(**{field_name: value, f"pk__{op}": pk})


def _reverse_order(field_name: str, descending: bool) -> list:
    expr = (
        F(field_name).asc(nulls_first=True) if descending else F(field_name).desc(nulls_first=True)
    )
    return [expr, "pk" if descending else "-pk"]


def keyset_order(field_name: str, descending: bool) -> list:
    """The order keyset pages walk: the field (nulls last), then the pk the same way."""
    expr = F(field_name).desc(nulls_last=True) if descending else F(field_name).asc(nulls_last=True)
    return [expr, "-pk" if descending else "pk"]


def keyset_page(
    queryset: QuerySet,
    field_name: str,
    *,
    descending: bool,
    size: int,
    after: str = "",
    before: str = "",
    count: Count | None = None,
) -> KeysetPage:
    """The page of ``queryset`` (already filtered) after or before a cursor.

    One query for the rows (``size + 1`` read to know whether more follow),
    plus the bounded count unless ``count`` is given.
    """
    model = queryset.model
    nullable = model._meta.get_field(field_name).null
    if count is None:
        count = bounded_count(queryset)
    order = ("-" if descending else "") + field_name
    after_key = decode_cursor(model, field_name, after, order)
    before_key = decode_cursor(model, field_name, before, order) if after_key is None else None
    if before_key is not None:
        # Walk backwards from the cursor, then show the rows in the listing's order.
        rows = list(
            queryset.filter(_before(field_name, *before_key, descending, nullable)).order_by(
                *_reverse_order(field_name, descending)
            )[: size + 1]
        )
        more_before = len(rows) > size
        rows = list(reversed(rows[:size]))
        if not rows:
            return keyset_page(queryset, field_name, descending=descending, size=size, count=count)
        page = KeysetPage(rows, count)
        page.next_cursor = _cursor(rows[-1], field_name, order)
        page.previous_cursor = _cursor(rows[0], field_name, order) if more_before else ""
        return page
    filtered = queryset
    if after_key is not None:
        filtered = queryset.filter(_after(field_name, *after_key, descending, nullable))
    rows = list(filtered.order_by(*keyset_order(field_name, descending))[: size + 1])
    page = KeysetPage(rows[:size], count)
    if len(rows) > size:
        page.next_cursor = _cursor(rows[size - 1], field_name, order)
    if after_key is not None and rows:
        page.previous_cursor = _cursor(rows[0], field_name, order)
    return page


def _cursor(row: Model, field_name: str, order: str) -> str:
    return encode_cursor(getattr(row, field_name), row.pk, order)
