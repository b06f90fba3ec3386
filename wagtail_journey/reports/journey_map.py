"""The journey map: what contacts did next after a starting point.

The *starting point* is a touchpoint kind (an email opened, a form sent, an
order) or a page viewed. For every contact whose first such touchpoint falls
in the period (optionally only members of a segment, or contacts whose first
touch came from a source), the map follows their next ``STEPS`` touchpoints
(bookkeeping kinds such as score and stage changes left out) within
``WINDOW_DAYS`` after the period: a step-indexed flow with, per step, how many
contacts did what, per edge the count and the median time it took, and how
many stopped there.

Read from the log at request time, in one query (the contact-and-time index
narrows it to the starting contacts); rows fetched are at most ``STEPS`` per
starting contact.
"""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import swapper
from django.db import connection
from django.utils.dateparse import parse_datetime

from wagtail_journey.models import Contact, SegmentMembership, Touchpoint
from wagtail_journey.reports.rollup import local_bounds
from wagtail_journey.reports.sql import json_text, table

STEPS = 4
WINDOW_DAYS = 30
#: Kinds the app records about itself: not something a contact did.
BOOKKEEPING = (
    "score_changed",
    "stage_changed",
    "segment_entered",
    "segment_left",
    "tag_added",
    "tag_removed",
    "identified",
    "engagement",
)


@dataclass
class Edge:
    source: str
    target: str
    step: int
    contacts: int = 0
    seconds: list[float] = field(default_factory=list)

    @property
    def median_hours(self) -> float | None:
        return round(statistics.median(self.seconds) / 3600, 1) if self.seconds else None


@dataclass
class JourneyMap:
    contacts: int = 0
    steps: list[list[tuple[str, int]]] = field(default_factory=list)  # (node, contacts)
    edges: list[Edge] = field(default_factory=list)
    stopped: list[int] = field(default_factory=list)  # contacts with no step k


def _when(value) -> datetime:
    return value if isinstance(value, datetime) else parse_datetime(str(value))


def journey_map(
    start: date,
    end: date,
    kind: str,
    *,
    page_id: int | None = None,
    segment_id: int | None = None,
    source: str | None = None,
) -> JourneyMap:
    """The flow after the first ``kind`` (on ``page_id``) of each contact in the period."""
    tp, ops = table(Touchpoint), connection.ops
    since, until = local_bounds(start, end)
    filters, params = "", [kind, ops.adapt_datetimefield_value(since)]
    params.append(ops.adapt_datetimefield_value(until))
    if page_id is not None:
        filters += " AND page_id = %s"
        params.append(page_id)
    if segment_id is not None:
        filters += (
            f" AND contact_id IN (SELECT contact_id FROM {table(SegmentMembership)}"  # noqa: S608
            " WHERE segment_id = %s)"
        )
        params.append(segment_id)
    if source:
        filters += (
            f" AND contact_id IN (SELECT id FROM {table(Contact)}"  # noqa: S608
            f" WHERE {json_text('first_touch', 'source')} = %s)"
        )
        params.append(source)
    ignored = ", ".join(["%s"] * len(BOOKKEEPING))
    params += [ops.adapt_datetimefield_value(until + timedelta(days=WINDOW_DAYS)), *BOOKKEEPING]
    params.append(STEPS)
    with connection.cursor() as cursor:
        cursor.execute(
            "WITH starts AS ("  # noqa: S608
            f" SELECT contact_id, MIN(occurred_at) AS t0 FROM {tp}"
            " WHERE contact_id IS NOT NULL AND kind = %s AND occurred_at >= %s"
            f" AND occurred_at < %s{filters} GROUP BY contact_id),"
            " nexts AS ("
            "  SELECT s.contact_id, s.t0, t.kind, t.page_id, t.occurred_at,"
            "  ROW_NUMBER() OVER (PARTITION BY s.contact_id ORDER BY t.occurred_at, t.id) AS step"
            f"  FROM starts s LEFT JOIN {tp} t ON t.contact_id = s.contact_id"
            "  AND t.occurred_at > s.t0 AND t.occurred_at < %s"
            f"  AND t.kind NOT IN ({ignored}))"
            " SELECT contact_id, t0, step, kind, page_id, occurred_at FROM nexts"
            " WHERE step <= %s ORDER BY contact_id, step",
            params,
        )
        rows = cursor.fetchall()
    return _build(rows, kind, page_id)


def _build(rows, kind: str, page_id: int | None) -> JourneyMap:
    pages = {pid for *_rest, pid, _at in rows if pid}
    if page_id:
        pages.add(page_id)
    Page = swapper.load_model("wagtailcore", "Page")
    titles = dict(Page.objects.filter(pk__in=pages).values_list("pk", "title"))

    def node(k: str, pid: int | None) -> str:
        if k == "page_view" and pid:
            return f"{k}: {titles.get(pid, pid)}"
        return k

    start_node = node(kind, page_id)
    paths: dict[int, list[tuple[str, datetime]]] = defaultdict(list)
    starts: dict[int, datetime] = {}
    for contact_id, t0, _step, k, pid, at in rows:
        starts[contact_id] = _when(t0)
        if k is not None:
            paths[contact_id].append((node(k, pid), _when(at)))
    result = JourneyMap(contacts=len(starts))
    result.steps.append([(start_node, len(starts))])
    edges: dict[tuple[int, str, str], Edge] = {}
    for step in range(1, STEPS + 1):
        counts: Counter = Counter()
        for contact_id, t0 in starts.items():
            path = paths.get(contact_id, [])
            if len(path) < step:
                continue
            target, at = path[step - 1]
            before, prev_at = (start_node, t0) if step == 1 else path[step - 2]
            counts[target] += 1
            edge = edges.setdefault((step, before, target), Edge(before, target, step))
            edge.contacts += 1
            edge.seconds.append((at - prev_at).total_seconds())
        previous = sum(c for _n, c in result.steps[-1])
        result.stopped.append(previous - sum(counts.values()))
        result.steps.append(counts.most_common())
    result.edges = sorted(edges.values(), key=lambda e: (e.step, -e.contacts, e.source, e.target))
    return result
