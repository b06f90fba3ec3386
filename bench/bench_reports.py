"""Benchmark: the journey dashboard from the roll-ups vs the same figures from the raw log.

    make bench BENCH_ARGS="--only reports [--scale 1.0] [--repeat 3]"   # PostgreSQL

bench/run.py runs this file as a script (main()) on a PostgreSQL database of
its own (``<--pg-name>_reports``). Scale 1.0 is 10,000,000 touchpoints over
365 days (about 27,000 a day: 90% page views in sessions of one to five pages
from a million visitors, the rest form submissions, carts and orders of
200,000 contacts), generated once with set-based SQL and reused.

Feature: what the dashboard page computes for the last 30 days and the 30
before (headline figures, daily series, sources, landing pages) from the
roll-up tables. Baseline: the same figures with hand-written SQL over the raw
touchpoints (the report one would write without roll-ups). Also printed: the
roll-up job's time for one day and the touchpoints of that day.
"""

from __future__ import annotations

import json
import statistics
import sys
from datetime import timedelta
from pathlib import Path

if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import scoring_data as data  # noqa: E402
from bench.stats import BenchResult  # noqa: E402

NAME = "reports"
TITLE = "Journey dashboard from the daily roll-ups vs the same figures from raw touchpoints"
TP = "wagtail_journey_touchpoint"
DAYS = 365
SOURCES = "(ARRAY['', 'google', 'newsletter', 'facebook', 'partner'])"


def ensure_data(scale: float, log=print) -> dict:
    """Visitors, sessions and conversions over DAYS days (once per scale)."""
    n = max(20_000, int(10_000_000 * scale))
    visitors, contacts = max(n // 10, 100), max(n // 50, 100)
    data.execute("CREATE TABLE IF NOT EXISTS bench_meta (k text PRIMARY KEY, v text)")
    if data.scalar("SELECT v FROM bench_meta WHERE k = 'reports'") == f"{n}:v1":
        log(f"Reusing {n:,} touchpoints already generated.")
        return {"touchpoints": n}
    log(f"Generating {n:,} touchpoints (set-based SQL)...")
    data.execute("DELETE FROM bench_meta")
    data.execute(
        "TRUNCATE wagtail_journey_touchpoint, wagtail_journey_visitor, wagtail_journey_contact, "
        "wagtail_journey_dailymetric, wagtail_journey_reportsession, "
        "wagtail_journey_reportcontactday, wagtail_journey_stageentry RESTART IDENTITY CASCADE"
    )
    data.execute(
        "INSERT INTO wagtail_journey_visitor (key, audience_only, consented_at, created_at, "
        "last_seen_at) SELECT 'bench' || g, g %% 4 = 0, now(), now(), now() "
        "FROM generate_series(1, %s) g",
        [visitors],
    )
    data.execute(
        "INSERT INTO wagtail_journey_contact (email, first_name, last_name, phone, score, "
        "lifecycle_stage, journey_stage, first_touch, last_touch, created_at, updated_at) "
        "SELECT 'r' || g || '@bench.example', '', '', '', 0, 'lead', '', '{}', '{}', "
        "now() - ((g %% 365) || ' days')::interval, now() FROM generate_series(1, %s) g",
        [contacts],
    )
    pages = [r for (r,) in _rows("SELECT id FROM wagtailcore_page WHERE depth >= 2 LIMIT 5")]
    pages = pages or [1]
    # A session is 1 to 5 consecutive rows; its first row carries the source.
    data.execute(
        f"""
        INSERT INTO {TP} (kind, occurred_at, visitor_id, contact_id, page_id, session,
                          audience_only, journey_stage, utm)
        SELECT CASE WHEN r < 90 THEN 'page_view' WHEN r < 95 THEN 'form_submitted'
                    WHEN r < 98 THEN 'cart_updated' ELSE 'order_completed' END,
               now() - ((s %% {DAYS}) || ' days')::interval + (pos || ' minutes')::interval,
               CASE WHEN r < 90 THEN 1 + s %% %s END,
               CASE WHEN r >= 90 THEN 1 + s %% %s END,
               (%s::int[])[1 + (s + pos) %% %s],
               CASE WHEN r < 90 THEN s END,
               false, '',
               CASE WHEN pos = 0 AND s %% 5 > 0 THEN jsonb_build_object(
                   'source', {SOURCES}[1 + s %% 5], 'medium', 'cpc') END
        FROM (
            SELECT g, g / 3 AS s, g %% 3 AS pos, abs(hashint8(g)) %% 100 AS r
            FROM generate_series(1, %s::bigint) g
        ) x
        WHERE pos = 0 OR abs(hashint8(g / 3)) %% 5 > 1
        """,
        [visitors, contacts, pages, len(pages), n],
    )
    data.vacuum(TP, "wagtail_journey_visitor", "wagtail_journey_contact")
    data.execute("INSERT INTO bench_meta VALUES ('reports', %s)", [f"{n}:v1"])
    return {"touchpoints": data.scalar(f"SELECT COUNT(*) FROM {TP}")}


def _rows(sql: str, params=None) -> list:
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute(sql, params)
        return cur.fetchall()


def feature(start, end, previous) -> dict:
    """The dashboard page's numbers, from the roll-ups (what DashboardView computes)."""
    from wagtail_journey.reports import dashboard

    current = dashboard.figures(start, end)
    before = dashboard.figures(*previous)
    metrics = ("sessions", "submissions", "orders")
    dashboard.daily_series(start, end, metrics)
    dashboard.daily_series(*previous, metrics)
    dashboard.sources(start, end)
    dashboard.landing_pages(start, end)
    return {"visitors": current.visitors, "sessions": current.sessions, "prev": before.sessions}


def _raw_period(since, until) -> dict:
    views = f"FROM {TP} WHERE kind = 'page_view' AND occurred_at >= %s AND occurred_at < %s"
    visitors, sessions = _rows(
        f"SELECT COUNT(DISTINCT visitor_id), COUNT(DISTINCT session) {views}", [since, until]
    )[0]
    _rows(
        f"SELECT COUNT(*) FILTER (WHERE n = 1), COUNT(*) FROM "
        f"(SELECT session, COUNT(*) n {views} GROUP BY session) s",
        [since, until],
    )
    _rows(
        f"SELECT kind, COUNT(*) FROM {TP} WHERE kind IN ('form_submitted', 'order_completed', "
        "'cart_updated') AND occurred_at >= %s AND occurred_at < %s GROUP BY kind",
        [since, until],
    )
    _rows(
        f"SELECT COUNT(DISTINCT contact_id) FROM {TP} WHERE kind = 'order_completed' "
        "AND occurred_at >= %s AND occurred_at < %s",
        [since, until],
    )
    _rows(
        f"SELECT (occurred_at AT TIME ZONE 'UTC')::date d, kind, COUNT(*) FROM {TP} "
        "WHERE kind IN ('page_view', 'form_submitted', 'order_completed') "
        "AND occurred_at >= %s AND occurred_at < %s GROUP BY 1, 2",
        [since, until],
    )
    return {"visitors": visitors, "sessions": sessions}


def baseline(start, end, previous) -> dict:
    """The same figures by hand from the raw touchpoints."""
    from wagtail_journey.reports.rollup import local_bounds

    since, until = local_bounds(start, end)
    current = _raw_period(since, until)
    before = _raw_period(*local_bounds(*previous))
    views = f"FROM {TP} WHERE kind = 'page_view' AND occurred_at >= %s AND occurred_at < %s"
    firsts = (
        f"SELECT DISTINCT ON (session) session, visitor_id, page_id, utm->>'source' src {views} "
        "ORDER BY session, occurred_at, id"
    )
    _rows(
        f"SELECT src, COUNT(*), COUNT(DISTINCT visitor_id) FROM ({firsts}) f GROUP BY src",
        [since, until],
    )
    _rows(
        f"SELECT f.page_id, COUNT(*), COUNT(*) FILTER (WHERE c.n = 1) FROM ({firsts}) f "
        f"JOIN (SELECT session, COUNT(*) n {views} GROUP BY session) c USING (session) "
        "GROUP BY f.page_id",
        [since, until, since, until],
    )
    return {**current, "prev": before["sessions"]}


def main(argv=None) -> dict:
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0, help="1.0 = 10,000,000 touchpoints")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    data.setup_django()
    facts = ensure_data(args.scale)
    from django.utils import timezone

    from wagtail_journey.reports.dashboard import previous_period
    from wagtail_journey.reports.rollup import local_bounds, local_today, rollup_day, rollup_range

    today = local_today()
    data.execute("TRUNCATE wagtail_journey_dailymetric, wagtail_journey_reportsession")
    seconds_all, _ = data.timed(rollup_range, today - timedelta(days=DAYS), today)
    day = today - timedelta(days=3)
    one_day = [data.timed(rollup_day, day)[0] for _ in range(args.repeat)]
    day_tps = data.scalar(
        f"SELECT COUNT(*) FROM {TP} WHERE occurred_at >= %s AND occurred_at < %s",
        list(local_bounds(day)),
    )
    data.vacuum(
        "wagtail_journey_dailymetric",
        "wagtail_journey_reportsession",
        "wagtail_journey_reportcontactday",
    )
    results = {}
    for days in (30, 365):
        start, end = today - timedelta(days=days - 1), today
        previous = previous_period(start, end)
        times = {"feature": [], "baseline": []}
        answers = {}
        feature(start, end, previous)  # warm-up: imports, caches, first plans
        baseline(start, end, previous)
        for i in range(args.repeat):
            order = [("feature", feature), ("baseline", baseline)]
            for name, fn in order if i % 2 == 0 else reversed(order):
                seconds, answer = data.timed(fn, start, end, previous)
                times[name].append(seconds)
                answers[name] = answer
        # Same visitors; sessions may differ by the few that cross midnight (two session-days).
        f, b = answers["feature"], answers["baseline"]
        assert f["visitors"] == b["visitors"], answers
        assert abs(f["sessions"] - b["sessions"]) <= 0.01 * b["sessions"] + 1, answers
        results[days] = times
    med = {d: {k: statistics.median(v) for k, v in t.items()} for d, t in results.items()}
    result = {
        "machine": data.machine(),
        "touchpoints": facts["touchpoints"],
        "rollup_all_days_s": seconds_all,
        "rollup_one_day_s": statistics.median(one_day),
        "one_day_touchpoints": day_tps,
        "runs": {str(d): t for d, t in results.items()},
        "now": timezone.now().isoformat(),
    }
    print(f"bench_reports  {result['machine']}")
    print(f"  {facts['touchpoints']:,} touchpoints over {DAYS} days, median of {args.repeat}")
    print(
        f"  roll-up of every day: {seconds_all:.1f} s; one day ({day_tps:,} touchpoints): "
        f"{result['rollup_one_day_s']:.2f} s"
    )
    for d, m in med.items():
        print(
            f"  dashboard {d} days: roll-ups {m['feature'] * 1000:.0f} ms, raw "
            f"{m['baseline'] * 1000:.0f} ms, ratio {m['feature'] / m['baseline']:.3f}"
        )
    print(json.dumps(result))
    return result


def run(ctx) -> BenchResult:
    from bench.database import run_script

    db = ctx.postgres("reports")
    ctx.log(f"bench_reports on {db.label}, scale {ctx.scale:g}, repeat {ctx.repeat}")
    args = ("--scale", str(ctx.scale), "--repeat", str(ctx.repeat))
    r = run_script(db, data.SETTINGS, Path(__file__), *args, timeout=7200, echo=ctx.log)
    runs = r["runs"]
    return BenchResult(
        name=NAME,
        title=TITLE,
        feature_label="roll-ups",
        baseline_label="raw touchpoints",
        figures=[
            data.timed_figure(
                f"dashboard, {d} days vs previous", runs[d]["feature"], runs[d]["baseline"]
            )
            for d in ("30", "365")
        ],
        params=r,
        notes=[
            f"{r['touchpoints']:,} touchpoints; roll-up of one day "
            f"({r['one_day_touchpoints']:,} touchpoints): {r['rollup_one_day_s']:.2f} s"
        ],
    )


if __name__ == "__main__":
    main()
