"""Benchmark: full segment rebuild vs a hand-written SQL statement applying the
same membership diff, and the incremental update when one touchpoint arrives.

    make bench BENCH_ARGS="--only segments [--scale 1.0] [--repeat 3]"   # PostgreSQL

bench/run.py runs this file as a script (main()) on its scoring database.

Segment: score >= 40 AND visited a page within 90 days AND at least 2 orders,
over 1,000,000 x scale contacts and 10 touchpoints each. The feature
(segments.rebuild_segment) and the hand-written INSERT ... SELECT / DELETE
maintain two segments side by side; their memberships are checked equal.
Steady state: 1% of contacts change score between rebuilds. Target <= 1.5x.
"""

from __future__ import annotations

import json
import statistics
import time
from pathlib import Path

from bench import scoring_data as data
from bench.stats import BenchResult, Figure

NAME = "segments"
TITLE = "Full rebuild of a 3-rule segment vs hand-written SQL giving the same membership diff"
TARGET = 1.5  # issue 5

M = "wagtail_journey_segmentmembership"
COND = """
    c.score >= 40
    AND EXISTS (SELECT 1 FROM wagtail_journey_touchpoint t
                WHERE t.contact_id = c.id AND t.kind = 'page_view' AND t.page_id = %(page)s
                  AND t.occurred_at >= now() - interval '90 days')
    AND (SELECT count(*) FROM wagtail_journey_touchpoint t
         WHERE t.contact_id = c.id AND t.kind = 'order_completed') >= 2
"""


def baseline(segment_id: int, page_id: int) -> tuple[int, int]:
    """The hand-written statements producing the same membership diff."""
    from django.db import connection, transaction

    p = {"seg": segment_id, "page": page_id}
    with transaction.atomic(), connection.cursor() as cur:
        cur.execute(
            f"""
            INSERT INTO {M} (segment_id, contact_id, entered_at)
            SELECT %(seg)s, c.id, now() FROM wagtail_journey_contact c
            WHERE {COND}
              AND NOT EXISTS (SELECT 1 FROM {M} x
                              WHERE x.segment_id = %(seg)s AND x.contact_id = c.id)
            """,
            p,
        )
        entered = cur.rowcount
        cur.execute(
            f"""
            DELETE FROM {M} m WHERE m.segment_id = %(seg)s AND NOT EXISTS (
                SELECT 1 FROM wagtail_journey_contact c WHERE c.id = m.contact_id AND {COND})
            """,
            p,
        )
        return entered, cur.rowcount


def same_members(a: int, b: int) -> bool:
    q = f"""SELECT count(*) FROM (
        (SELECT contact_id FROM {M} WHERE segment_id = %s
         EXCEPT SELECT contact_id FROM {M} WHERE segment_id = %s)
        UNION ALL
        (SELECT contact_id FROM {M} WHERE segment_id = %s
         EXCEPT SELECT contact_id FROM {M} WHERE segment_id = %s)) d"""
    return data.scalar(q, [a, b, b, a]) == 0


def flip_scores(step: int) -> int:
    """Move 1% of contacts across the score threshold (a different 1% each step)."""
    return data.execute(
        "UPDATE wagtail_journey_contact SET score = CASE WHEN score >= 40 THEN score - 40 "
        "ELSE score + 40 END WHERE abs(hashint8(id)) %% 100 = %s",
        [step % 100],
    )


def incremental(page_id: int, iterations: int = 30) -> dict:
    """record() one page view, then the deferred segment update, with 50 segments
    and 20 scoring rules defined."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from wagtail_journey import record
    from wagtail_journey.models import Contact, ScoringRule, Segment, Touchpoint
    from wagtail_journey.segments import update_contact_segments

    first_tp = data.scalar("SELECT coalesce(max(id), 0) FROM wagtail_journey_touchpoint")
    rules = [
        ScoringRule.objects.create(
            name=f"bench rule {i}", kind=["page_view", "email_opened"][i % 2], points=1 + i
        )
        for i in range(20)
    ]
    segs = []
    for i in range(50):
        rules_data = [
            {"type": "group", "value": {"match": "any", "rules": [
                {"type": "score", "value": {"min": i * 2, "max": None, "negate": False}},
                {"type": "visited_page", "value": {"page": page_id, "include_subpages": False,
                                                   "within_days": 30, "negate": False}},
                {"type": "tag", "value": {"tag": "vip", "negate": i % 2 == 0}},
            ]}},
            {"type": "group", "value": {"match": "all", "rules": [
                {"type": "event_count", "value": {"kind": "order_completed", "at_least": 2,
                                                  "within_days": None, "negate": False}},
            ]}},
        ]  # fmt: skip
        segs.append(Segment.objects.create(name=f"bench inc {i}", rules=rules_data, match="any"))
    contacts = list(Contact.objects.order_by("?").values_list("pk", flat=True)[:iterations])
    record_ms, update_ms, queries = [], [], set()
    try:
        update_contact_segments(contacts[0])  # compile the 50 segments once
        for pk in contacts:
            contact = Contact.objects.get(pk=pk)
            update_contact_segments(pk)  # start from its settled memberships
            t0 = time.perf_counter()
            record("page_view", contact=contact)
            t1 = time.perf_counter()
            with CaptureQueriesContext(connection) as ctx:
                update_contact_segments(pk)
            t2 = time.perf_counter()
            record_ms.append((t1 - t0) * 1000)
            update_ms.append((t2 - t1) * 1000)
            queries.add(len(ctx.captured_queries))
    finally:
        Segment.objects.filter(pk__in=[s.pk for s in segs]).delete()
        ScoringRule.objects.filter(pk__in=[r.pk for r in rules]).delete()
        Touchpoint.objects.filter(pk__gt=first_tp).delete()
        data.execute("DELETE FROM wagtail_journey_scorechange")
        data.execute("DELETE FROM django_q_ormq")
    return {
        "record_ms": statistics.median(record_ms),
        "update_ms": statistics.median(update_ms),
        "queries": sorted(queries),
    }


def main(argv=None) -> dict:
    args, facts = data.start(argv, __doc__.splitlines()[0])
    from wagtail_journey.models import Segment
    from wagtail_journey.segments import rebuild_segment

    page = facts["page_id"]
    Segment.objects.filter(name__startswith="bench ").delete()  # earlier runs
    rules = [
        {"type": "group", "value": {"match": "all", "rules": [
            {"type": "score", "value": {"min": 40, "max": None, "negate": False}},
            {"type": "visited_page", "value": {"page": page, "include_subpages": False,
                                               "within_days": 90, "negate": False}},
            {"type": "event_count", "value": {"kind": "order_completed", "at_least": 2,
                                              "within_days": None, "negate": False}},
        ]}}
    ]  # fmt: skip
    feature_seg = Segment.objects.create(name="bench feature", rules=rules)
    base_seg = Segment.objects.create(name="bench baseline", rules=rules)

    def feature(record: bool = False):
        return rebuild_segment(Segment.objects.get(pk=feature_seg.pk), record=record)

    # First build from empty; the order alternates with --repeat parity so
    # neither side always runs on the colder cache.
    if args.repeat % 2:
        first_f, (entered, _left) = data.timed(feature)
        first_b, _ = data.timed(baseline, base_seg.pk, page)
    else:
        first_b, _ = data.timed(baseline, base_seg.pk, page)
        first_f, (entered, _left) = data.timed(feature)
    assert same_members(feature_seg.pk, base_seg.pk), "memberships differ after the first build"
    data.vacuum(M)
    steady_f, steady_b, steady_rec, diffs = [], [], [], []
    for step in range(args.repeat):
        flip_scores(step)
        runs = [("f", feature), ("b", lambda: baseline(base_seg.pk, page))]
        for name, fn in runs if step % 2 == 0 else runs[::-1]:
            seconds, diff = data.timed(fn)
            (steady_f if name == "f" else steady_b).append(seconds)
            if name == "f":
                diffs.append(diff)
        assert same_members(feature_seg.pk, base_seg.pk), f"memberships differ at step {step}"
        flip_scores(step)  # back: the recording run below applies the reverse diff
        seconds, _ = data.timed(feature, True)
        steady_rec.append(seconds)
        baseline(base_seg.pk, page)
    inc = incremental(page)
    members = data.scalar(f"SELECT count(*) FROM {M} WHERE segment_id = %s", [feature_seg.pk])
    data.execute("DELETE FROM django_q_ormq")
    result = {
        "machine": data.machine(),
        "contacts": facts["contacts"],
        "touchpoints": facts["touchpoints"],
        "members": members,
        "first_feature_s": first_f,
        "first_baseline_s": first_b,
        "first_ratio": first_f / first_b,
        "steady_feature_s": data.median(steady_f),
        "steady_baseline_s": data.median(steady_b),
        "steady_ratio": data.median(steady_f) / data.median(steady_b),
        "steady_feature_runs": steady_f,
        "steady_baseline_runs": steady_b,
        "steady_with_touchpoints_s": data.median(steady_rec),
        "incremental": inc,
    }
    print(f"bench_segments  {result['machine']}")
    print(
        f"  {facts['contacts']:,} contacts, {facts['touchpoints']:,} touchpoints; segment of "
        f"3 rules with {members:,} members"
    )
    print(
        f"  first build ({entered:,} enter): feature {first_f:.2f} s, "
        f"hand-written SQL {first_b:.2f} s, ratio {result['first_ratio']:.2f}x"
    )
    print(
        f"  rebuild after 1% score changes (diffs {diffs}), median of {args.repeat}: "
        f"feature {result['steady_feature_s']:.2f} s, hand-written SQL "
        f"{result['steady_baseline_s']:.2f} s, ratio {result['steady_ratio']:.2f}x "
        "(target <= 1.5x)"
    )
    print(
        f"  same rebuild also recording segment_entered/left touchpoints: "
        f"{result['steady_with_touchpoints_s']:.2f} s"
    )
    print(
        f"  incremental, 50 segments + 20 scoring rules: record() {inc['record_ms']:.1f} ms, "
        f"segment update {inc['update_ms']:.1f} ms, queries per update {inc['queries']}"
    )
    print(json.dumps(result))
    return result


def run(ctx) -> BenchResult:
    r = data.run_child(ctx, Path(__file__))
    inc = r["incremental"]
    steady = "rebuild after 1% changes (median)"
    first = "first build from empty"
    return BenchResult(
        name=NAME,
        title=TITLE,
        **data.LABELS,
        figures=[
            data.timed_figure(
                steady, r["steady_feature_runs"], r["steady_baseline_runs"], target=TARGET
            ),
            data.timed_figure(first, [r["first_feature_s"]], [r["first_baseline_s"]]),
            Figure(
                "rebuild recording touchpoints",
                "s",
                r["steady_with_touchpoints_s"],
                higher_is_better=False,
            ),
            Figure("incremental: record()", "ms", inc["record_ms"], higher_is_better=False),
            Figure("incremental: segment update", "ms", inc["update_ms"], higher_is_better=False),
            Figure(
                "incremental: queries per update",
                "queries",
                max(inc["queries"]),
                higher_is_better=False,
            ),
        ],
        params=r,
        notes=[
            f"{r['contacts']:,} contacts, {r['touchpoints']:,} touchpoints, "
            f"{r['members']:,} members; queries per incremental update {inc['queries']} "
            "(50 segments, 20 scoring rules)"
        ],
    )


if __name__ == "__main__":
    main()
