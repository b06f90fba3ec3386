"""Shared set-up of the scoring/segment benchmarks: a PostgreSQL database of
its own (``<--pg-name>_scoring``, chosen by bench/run.py), filled with
set-based SQL (generate_series), never a Python loop.

Contacts: 1,000,000 x scale; touchpoints: 10 per contact. Re-running with the
same scale reuses the data (generation is the slow part).
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time
from pathlib import Path

#: How the results of the statement benchmarks name their two sides.
LABELS = {"feature_label": "feature", "baseline_label": "hand SQL"}
#: The settings of the child processes (DEBUG off).
SETTINGS = "bench.settings_journey"


def run_child(ctx, script: Path) -> dict:
    """Runner side: run ``script``'s main() on the scoring database; its JSON result.

    ``ctx`` is bench/run.py's Context; the child gets --scale and --repeat.
    """
    from bench.database import run_script

    db = ctx.postgres("scoring")
    ctx.log(f"{script.name} on {db.label}, scale {ctx.scale:g}, repeat {ctx.repeat}")
    args = ("--scale", str(ctx.scale), "--repeat", str(ctx.repeat))
    return run_script(db, SETTINGS, script, *args, timeout=7200, echo=ctx.log)


def timed_figure(metric: str, feature_runs, baseline_runs, **kwargs):
    """Runner side: median seconds of the feature vs the hand-written SQL, run by run."""
    from bench.stats import Figure, paired_interval

    return Figure(
        metric,
        "s",
        statistics.median(feature_runs),
        statistics.median(baseline_runs),
        higher_is_better=False,
        interval=paired_interval(feature_runs, baseline_runs),
        **kwargs,
    )


def setup_django() -> None:
    """Django on the database bench/run.py chose for this benchmark (its environment)."""
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def machine() -> str:
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute("SHOW server_version")
        pg = cur.fetchone()[0]
    return (
        f"{platform.node()} / {os.cpu_count()} CPUs / Python {platform.python_version()} / "
        f"PostgreSQL {pg}"
    )


def timed(fn, *args, **kwargs) -> tuple[float, object]:
    start = time.perf_counter()
    result = fn(*args, **kwargs)
    return time.perf_counter() - start, result


def median(xs) -> float:
    return statistics.median(xs)


def execute(sql: str, params=None) -> int:
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute(sql, params)
        return cur.rowcount


def scalar(sql: str, params=None):
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute(sql, params)
        row = cur.fetchone()
        return row[0] if row else None


def ensure_data(scale: float, log=print) -> dict:
    """Generate (once per scale) contacts and touchpoints; returns facts."""
    n = max(1000, int(1_000_000 * scale))
    execute("CREATE TABLE IF NOT EXISTS bench_meta (k text PRIMARY KEY, v text)")
    have = scalar("SELECT v FROM bench_meta WHERE k = 'contacts'")
    page_id = scalar("SELECT id FROM wagtailcore_page WHERE depth = 2 ORDER BY id LIMIT 1")
    if have in (f"{n}:v2", f"{n}:v3"):
        # Cheap when nothing changed (all-visible pages are skipped).
        vacuum("wagtail_journey_contact", "wagtail_journey_touchpoint")
        log(f"Reusing {n:,} contacts / {10 * n:,} touchpoints already generated.")
        return {"contacts": n, "touchpoints": 10 * n, "page_id": page_id}
    log(f"Generating {n:,} contacts and {10 * n:,} touchpoints (set-based SQL)...")
    start = time.perf_counter()
    execute("DELETE FROM bench_meta")
    execute(
        "TRUNCATE wagtail_journey_segmentmembership, wagtail_journey_scorechange, "
        "wagtail_journey_touchpoint, wagtail_journey_taggedcontact, "
        "wagtail_journey_contact RESTART IDENTITY CASCADE"
    )
    execute(
        """
        INSERT INTO wagtail_journey_contact
            (email, first_name, last_name, phone, score, lifecycle_stage, journey_stage,
             first_touch, last_touch, created_at, updated_at, last_activity_at)
        SELECT 'c' || g || '@bench.example', '', '', '', (g * 37) %% 100,
               (ARRAY['subscriber','lead','mql','sql','customer'])[1 + g %% 5],
               (ARRAY['','awareness','consideration','conversion'])[1 + g %% 4],
               '{}'::jsonb, '{}'::jsonb,
               now() - ((g %% 730) || ' days')::interval, now(),
               now() - ((g %% 400) || ' days')::interval
        FROM generate_series(1, %s::bigint) g
        """,
        [n],
    )
    # Ten touchpoints per contact (round robin); kind, day and page come from
    # independent hashes of the row number, so they do not correlate.
    execute(
        """
        INSERT INTO wagtail_journey_touchpoint
            (kind, occurred_at, contact_id, page_id, journey_stage, properties, audience_only)
        SELECT k.kind,
               now() - ((abs(hashint8(-g)) %% 365) || ' days')::interval,
               1 + (g %% %s),
               CASE WHEN k.kind = 'page_view' AND abs(hashint8(g * 3)) %% 3 = 0 THEN %s END,
               '',
               CASE WHEN k.kind = 'order_completed'
                    THEN jsonb_build_object('total', (g %% 200)) END,
               false
        FROM generate_series(1, %s::bigint) g
        CROSS JOIN LATERAL (
            SELECT (ARRAY['page_view','page_view','page_view','page_view','email_opened',
                          'email_clicked','form_submitted','order_completed','page_view',
                          'email_opened'])[1 + abs(hashint8(g)) %% 10] AS kind
        ) k
        """,
        [n, page_id, 10 * n],
    )
    execute("INSERT INTO taggit_tag (name, slug) VALUES ('vip', 'vip') ON CONFLICT DO NOTHING")
    execute(
        """
        INSERT INTO wagtail_journey_taggedcontact (content_object_id, tag_id)
        SELECT id, (SELECT id FROM taggit_tag WHERE slug = 'vip')
        FROM wagtail_journey_contact WHERE id % 10 = 0
        """
    )
    # VACUUM sets hint bits and the visibility map now, so the first timed
    # statement does not pay for the bulk load.
    vacuum("wagtail_journey_contact", "wagtail_journey_touchpoint", "wagtail_journey_taggedcontact")
    execute("INSERT INTO bench_meta VALUES ('contacts', %s)", [f"{n}:v3"])
    log(f"Generated in {time.perf_counter() - start:.0f} s.")
    return {"contacts": n, "touchpoints": 10 * n, "page_id": page_id}


def vacuum(*tables: str) -> None:
    from django.db import connection

    old = connection.get_autocommit()
    connection.set_autocommit(True)
    try:
        for t in tables:
            execute(f"VACUUM ANALYZE {t}")
    finally:
        connection.set_autocommit(old)


def start(argv, description: str) -> tuple[argparse.Namespace, dict]:
    """Command line (--scale, --repeat), Django and the generated data of a scoring bench."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--scale", type=float, default=1.0, help="1.0 = 1,000,000 contacts")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    setup_django()
    return args, ensure_data(args.scale)
