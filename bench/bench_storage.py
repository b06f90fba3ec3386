"""Touchpoint storage cost on PostgreSQL: bytes per row, indexes included.

Generates 1,000,000 touchpoints with a realistic mix in one set-based INSERT
(80 % page views, 30 % attributed to a contact, 5 % with UTM, 10 % with a
referrer, half with a journey stage) and divides pg_total_relation_size by the
row count. Target: <= 200 bytes; Mautic's page_hits runs at about 2 KB a row.

    .venv/bin/python bench/bench_storage.py [--rows N]
"""

from __future__ import annotations

import argparse
import time

from _tracking_env import recreate_database, setup_django

DB = "wj_tracking_bench_storage"
MAUTIC_BYTES_PER_ROW = 2048
TARGET = 200


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    args = parser.parse_args(argv)
    recreate_database(DB)
    setup_django(DB)
    from django.core.management import call_command
    from django.db import connection

    from wagtail_journey.models import Contact, Touchpoint, Visitor

    call_command("migrate", verbosity=0)
    tp = Touchpoint._meta.db_table
    n = args.rows
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
    per_row = total / rows
    print(f"bench_storage: {rows:,} touchpoints generated in {time.perf_counter() - t0:.1f} s")
    print(
        f"  total {total / 2**20:.1f} MiB = heap {heap / 2**20:.1f} MiB + "
        f"indexes {indexes / 2**20:.1f} MiB (+ TOAST/FSM/VM)"
    )
    for name, size in per_index:
        print(f"    {name}: {size / rows:.1f} B/row")
    print(f"  bytes per touchpoint (incl. indexes): {per_row:.1f}  (target <= {TARGET})")
    print(f"  ratio vs target: {per_row / TARGET:.2f}  (<= 1.00 passes)")
    print(
        f"  ratio vs Mautic page_hits (~{MAUTIC_BYTES_PER_ROW} B/row): "
        f"{per_row / MAUTIC_BYTES_PER_ROW:.3f}"
    )
    return {"bytes_per_row": per_row, "target": TARGET, "passes": per_row <= TARGET}


if __name__ == "__main__":
    main()
