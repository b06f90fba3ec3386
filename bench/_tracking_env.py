"""Shared set-up of the tracking benchmarks: a PostgreSQL database of their own."""

from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PG_ADMIN_URL = os.environ.get("BENCH_PG_URL", "postgres://postgres@127.0.0.1:5432/postgres")
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/12")


def database_url(name: str) -> str:
    return PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name


def recreate_database(name: str) -> str:
    import psycopg

    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    return database_url(name)


def setup_django(db_name: str, **env: str) -> None:
    """Point the example site at ``db_name`` (and Redis) and set Django up."""
    sys.path[:0] = [str(ROOT), str(ROOT / "example_site"), str(ROOT / "bench")]
    os.environ["DATABASE_URL"] = database_url(db_name)
    os.environ.setdefault("REDIS_URL", REDIS_URL)
    os.environ.update(env)
    os.environ["DJANGO_SETTINGS_MODULE"] = "bench_tracking_settings"
    import django

    django.setup()
