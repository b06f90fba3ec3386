"""Benchmark: score decay over every contact vs the same hand-written UPDATE.

    make bench BENCH_ARGS="--only decay [--scale 1.0] [--repeat 3]"   # PostgreSQL

bench/run.py runs this file as a script (main()) on its scoring database.

The feature (scoring.apply_decay, mode "halve") writes one DecayRun row and
runs one UPDATE with the hand-written WHERE plus "not decayed in this period",
which also keeps Contact.decay_total, decay_runs and last_decay_run (what the
contact page and the rebuild derive each contact's share from). Baselines: the
bare hand-written UPDATE (the issue's target, <= 1.2x), and the same UPDATE
writing the same extra columns by hand (equal work: what the DecayRun row and
Python around it cost). Scores are restored and tables vacuumed
between runs, outside the timings.
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
RUNS = "wagtail_journey_decayrun"
WHERE = "WHERE score > 0 AND COALESCE(last_activity_at, created_at) < %s"


def restore() -> None:
    data.execute(f"DELETE FROM {RUNS}")
    data.execute(
        f"UPDATE {CONTACT} c SET score = b.score, decay_total = 0, decay_runs = '', "
        "last_decay_run = 0 "
        "FROM bench_scores b WHERE b.id = c.id AND (c.score <> b.score OR c.decay_runs <> '')"
    )
    data.vacuum(CONTACT, RUNS)


def feature(now):
    from wagtail_journey.scoring import apply_decay

    return apply_decay(now, {"mode": "halve", "days": DAYS})


def baseline_update(now):
    return data.execute(
        f"UPDATE {CONTACT} SET score = score / 2 {WHERE}", [now - timedelta(days=DAYS)]
    )


def baseline_update_same_columns(now):
    return data.execute(
        f"UPDATE {CONTACT} SET score = score / 2, decay_total = decay_total - (score - score / 2), "
        f"decay_runs = decay_runs || ',1', last_decay_run = 1 {WHERE} AND last_decay_run < 1",
        [now - timedelta(days=DAYS)],
    )


def main(argv=None) -> dict:
    args, facts = data.start(argv, __doc__.splitlines()[0])
    from django.utils import timezone

    data.execute("DROP TABLE IF EXISTS bench_scores")
    data.execute(f"CREATE TABLE bench_scores AS SELECT id, score FROM {CONTACT}")
    data.execute("ALTER TABLE bench_scores ADD PRIMARY KEY (id)")
    times = {"feature": [], "update": [], "update+columns": []}
    counts = {}
    runs = [
        ("feature", feature),
        ("update", baseline_update),
        ("update+columns", baseline_update_same_columns),
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
        "update_columns_s": med["update+columns"],
        "ratio_vs_update": med["feature"] / med["update"],
        "ratio_vs_update_columns": med["feature"] / med["update+columns"],
        "runs": times,
    }
    assert counts["feature"] == counts["update"], counts
    print(f"bench_decay  {result['machine']}")
    print(
        f"  {facts['contacts']:,} contacts, {counts['feature']:,} decayed "
        f"(halve after {DAYS} days), median of {args.repeat}"
    )
    print(f"  feature (DecayRun row + UPDATE):           {med['feature']:.2f} s")
    print(f"  hand-written UPDATE:                       {med['update']:.2f} s")
    print(f"  hand-written UPDATE of the same columns:   {med['update+columns']:.2f} s")
    print(f"  ratio vs UPDATE:              {result['ratio_vs_update']:.2f}x (target <= 1.2x)")
    print(f"  ratio vs UPDATE same columns: {result['ratio_vs_update_columns']:.2f}x")
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
                "decay vs UPDATE of the same columns",
                runs["feature"],
                runs["update+columns"],
                note="the same work by hand: score, decay_total and decay_runs",
            ),
        ],
        params=r,
        notes=[f"{r['contacts']:,} contacts, {r['decayed']:,} decayed (halve after {DAYS} days)"],
    )


if __name__ == "__main__":
    main()
