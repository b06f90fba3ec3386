"""Touchpoint storage cost on PostgreSQL: bytes per row, indexes included.

Generates 1,000,000 x ``--scale`` touchpoints with a realistic mix in one
set-based INSERT (80 % page views, 30 % attributed to a contact, 5 % with UTM,
10 % with a referrer, half with a journey stage) in a database of its own
(``<--pg-name>_storage``) and divides pg_total_relation_size by the row count.
Issue 4's budget: at most 200 bytes a row; Mautic's page_hits runs at about
2 KB a row. The figure's "baseline" is that budget, so the ratio reads as
"share of the budget used" (lower is better, target <= 1.0).

The Django side runs in a child process: this file run as a script (main()).
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from bench.context import Context
from bench.database import run_script
from bench.stats import BenchResult, Figure

NAME = "storage"
TITLE = "Touchpoint storage on PostgreSQL: bytes per row, indexes included, vs issue 4's budget"
TARGET_BYTES = 200  # issue 4
MAUTIC_BYTES_PER_ROW = 2048
SETTINGS = "bench.settings_journey"


def run(ctx: Context) -> BenchResult:
    db = ctx.postgres("storage")
    rows = max(1000, int(1_000_000 * ctx.scale))
    ctx.log(f"generating {rows:,} touchpoints in {db.label}")
    facts = run_script(db, SETTINGS, Path(__file__), str(rows), timeout=1800, echo=ctx.log)
    per_row = facts["total_bytes"] / facts["rows"]
    figures = [
        Figure(
            "touchpoint row, indexes included",
            "bytes",
            per_row,
            TARGET_BYTES,
            higher_is_better=False,
            target=1.0,
            note="pg_total_relation_size / rows; baseline = issue 4's budget of 200 B",
        ),
        Figure("heap", "bytes", facts["heap_bytes"] / facts["rows"], higher_is_better=False),
        *(
            Figure(f"index {name}", "bytes", size / facts["rows"], higher_is_better=False)
            for name, size in facts["indexes"]
        ),
    ]
    return BenchResult(
        name=NAME,
        title=TITLE,
        figures=figures,
        feature_label="touchpoint",
        baseline_label="budget",
        params={"database": "postgresql", "database_version": db.version, **facts},
        notes=[
            f"{facts['rows']:,} rows generated in {facts['generate_s']:.1f} s; "
            f"{per_row / MAUTIC_BYTES_PER_ROW:.3f} of Mautic's page_hits (~2 KB a row)"
        ],
    )


def main(argv: list[str]) -> None:
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from wagtail_journey.models import Contact, Touchpoint, Visitor

    call_command("migrate", verbosity=0)
    tp = Touchpoint._meta.db_table
    # The database is the storage benchmark's own: start from empty tables.
    with connection.cursor() as c:
        c.execute(
            f"TRUNCATE {tp}, {Visitor._meta.db_table}, {Contact._meta.db_table} "
            "RESTART IDENTITY CASCADE"
        )
    n = int(argv[0])
    t0 = time.perf_counter()
    with connection.cursor() as c:
        c.execute(
            f"INSERT INTO {Contact._meta.db_table} (email, first_name, last_name, phone, score, "
            "lifecycle_stage, journey_stage, first_touch, last_touch, created_at, updated_at) "
            "SELECT 'c' || g || '@example.com', '', '', '', 0, 'lead', '', '{}', '{}', "
            "now(), now() "
            "FROM generate_series(1, %s) g",
            [max(1, n // 50)],
        )
        c.execute(
            f"INSERT INTO {Visitor._meta.db_table} (key, audience_only, created_at, last_seen_at) "
            "SELECT substr(md5(g::text), 1, 22), false, now(), now() "
            "FROM generate_series(1, %s) g",
            [max(1, n // 10)],
        )
        c.execute("SELECT min(id), max(id) FROM wagtailcore_page")
        pmin, pmax = c.fetchone()
        c.execute(f"SELECT min(id), count(*) FROM {Visitor._meta.db_table}")
        vmin, vcount = c.fetchone()
        c.execute(f"SELECT min(id), count(*) FROM {Contact._meta.db_table}")
        cmin, ccount = c.fetchone()
        c.execute(
            f"""
            INSERT INTO {tp} (kind, occurred_at, contact_id, visitor_id, page_id, session,
                              device, audience_only, journey_stage, utm, properties, dedupe_key)
            SELECT
              CASE WHEN r < 0.80 THEN 'page_view' WHEN r < 0.90 THEN 'engagement'
                   WHEN r < 0.95 THEN 'cta_click' WHEN r < 0.98 THEN 'form_submitted'
                   ELSE 'email_opened' END,
              now() - ((%s - g) || ' seconds')::interval,  -- in time order, as in life
              CASE WHEN g %% 10 < 3 THEN %s + (g %% %s) END,
              %s + (g %% %s),
              CASE WHEN r < 0.95 THEN %s + (g %% (%s - %s + 1)) END,
              (g / 7)::bigint * 2654435761,
              1 + g %% 3,
              false,
              CASE WHEN g %% 2 = 0 THEN 'consideration' ELSE '' END,
              CASE WHEN g %% 20 = 0 THEN
                '{{"source": "newsletter", "medium": "email", "campaign": "spring-2026"}}'::jsonb
              END,
              CASE WHEN g %% 10 = 1 THEN '{{"ref": "google.com"}}'::jsonb END,
              NULL
            FROM (SELECT g, random() AS r FROM generate_series(1, %s) g) s
            """,
            [n, cmin, ccount, vmin, vcount, pmin, pmax, pmin, n],
        )
        c.execute(f"VACUUM ANALYZE {tp}")
        c.execute(
            "SELECT pg_total_relation_size(%s), pg_relation_size(%s), pg_indexes_size(%s), "
            "(SELECT count(*) FROM " + tp + ")",
            [tp, tp, tp],
        )
        total, heap, indexes, rows = c.fetchone()
        c.execute(
            "SELECT indexrelid::regclass::text, pg_relation_size(indexrelid) "
            "FROM pg_index WHERE indrelid = %s::regclass ORDER BY 2 DESC",
            [tp],
        )
        per_index = c.fetchall()
    result = {
        "rows": rows,
        "total_bytes": total,
        "heap_bytes": heap,
        "index_bytes": indexes,
        "indexes": per_index,
        "generate_s": round(time.perf_counter() - t0, 1),
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main(sys.argv[1:])
