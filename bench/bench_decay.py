"""Benchmark: score decay over every contact vs the same hand-written UPDATE.

    make bench BENCH_ARGS="--only decay [--scale 1.0] [--repeat 3]"   # PostgreSQL

bench/run.py runs this file as a script (main()) on its scoring database.

The feature (scoring.apply_decay, mode "halve") writes a ledger row per
decayed contact: on PostgreSQL one UPDATE ... RETURNING feeding an INSERT
(data-modifying CTE). Baselines: the bare hand-written UPDATE (the issue's target, <= 1.2x),
and the same UPDATE plus a hand-written ledger INSERT (equal work).
Scores are restored and tables vacuumed between runs, outside the timings.
"""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

from bench import scoring_data as data
from bench.stats import BenchResult

NAME = "decay"
TITLE = "Score decay over every contact vs the same hand-written UPDATE"
TARGET = 1.2  # issue 5

DAYS = 90
CONTACT = "wagtail_journey_contact"
LEDGER = "wagtail_journey_scorechange"


def restore() -> None:
    data.execute(f"DELETE FROM {LEDGER} WHERE reason = 'decay'")
    data.execute(
        f"UPDATE {CONTACT} c SET score = b.score FROM bench_scores b "
        "WHERE b.id = c.id AND c.score <> b.score"
    )
    data.vacuum(CONTACT, LEDGER)


def feature(now):
    from wagtail_journey.scoring import apply_decay

    return apply_decay(now, {"mode": "halve", "days": DAYS})


def baseline_update(now):
    return data.execute(
        f"UPDATE {CONTACT} SET score = score / 2 WHERE score > 0 "
        "AND COALESCE(last_activity_at, created_at) < %s",
        [now - timedelta(days=DAYS)],
    )


def baseline_update_and_ledger(now):
    cutoff = now - timedelta(days=DAYS)
    from django.db import transaction

    with transaction.atomic():
        data.execute(
            f"""
            INSERT INTO {LEDGER} (contact_id, reason, label, delta, occurred_at, period,
                                  created_at)
            SELECT id, 'decay', 'hand', -(score - score / 2), %s, 'hand', %s
            FROM {CONTACT} WHERE score > 0 AND COALESCE(last_activity_at, created_at) < %s
            """,
            [now, now, cutoff],
        )
        return baseline_update(now)


def main(argv=None) -> dict:
    args, facts = data.start(argv, __doc__.splitlines()[0])
    from django.utils import timezone

    data.execute("DROP TABLE IF EXISTS bench_scores")
    data.execute(f"CREATE TABLE bench_scores AS SELECT id, score FROM {CONTACT}")
    data.execute("ALTER TABLE bench_scores ADD PRIMARY KEY (id)")
    times = {"feature": [], "update": [], "update+ledger": []}
    counts = {}
    runs = [
        ("feature", feature),
        ("update", baseline_update),
        ("update+ledger", baseline_update_and_ledger),
    ]
    for i in range(args.repeat):
        order = runs if i % 2 == 0 else list(reversed(runs))
        for name, fn in order:
            restore()
            seconds, n = data.timed(fn, timezone.now())
            times[name].append(seconds)
            counts[name] = n
    restore()
    med = {k: data.median(v) for k, v in times.items()}
    result = {
        "machine": data.machine(),
        "contacts": facts["contacts"],
        "decayed": counts["feature"],
        "feature_s": med["feature"],
        "update_s": med["update"],
        "update_ledger_s": med["update+ledger"],
        "ratio_vs_update": med["feature"] / med["update"],
        "ratio_vs_update_ledger": med["feature"] / med["update+ledger"],
        "runs": times,
    }
    assert counts["feature"] == counts["update"], counts
    print(f"bench_decay  {result['machine']}")
    print(
        f"  {facts['contacts']:,} contacts, {counts['feature']:,} decayed "
        f"(halve after {DAYS} days), median of {args.repeat}"
    )
    print(f"  feature (UPDATE ... RETURNING -> ledger): {med['feature']:.2f} s")
    print(f"  hand-written UPDATE:                       {med['update']:.2f} s")
    print(f"  hand-written UPDATE + ledger INSERT:       {med['update+ledger']:.2f} s")
    print(f"  ratio vs UPDATE:          {result['ratio_vs_update']:.2f}x (target <= 1.2x)")
    print(f"  ratio vs UPDATE + ledger: {result['ratio_vs_update_ledger']:.2f}x")
    print(json.dumps(result))
    return result


def run(ctx) -> BenchResult:
    r = data.run_child(ctx, Path(__file__))
    runs = r["runs"]
    vs_update = "decay vs bare UPDATE (median)"
    return BenchResult(
        name=NAME,
        title=TITLE,
        **data.LABELS,
        figures=[
            data.timed_figure(vs_update, runs["feature"], runs["update"], target=TARGET),
            data.timed_figure(
                "decay vs UPDATE + ledger INSERT",
                runs["feature"],
                runs["update+ledger"],
                note="the same work by hand: the feature writes a ledger row per contact",
            ),
        ],
        params=r,
        notes=[f"{r['contacts']:,} contacts, {r['decayed']:,} decayed (halve after {DAYS} days)"],
    )


if __name__ == "__main__":
    main()
