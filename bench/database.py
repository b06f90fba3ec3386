"""The benchmark's own database: never the developer's db.sqlite3 or dev PostgreSQL database.

SQLite (the default) lives in bench/results/data/ (gitignored). PostgreSQL is
used when ``--db postgres`` is given or DATABASE_URL is set: the server and
credentials come from DATABASE_URL, the database name is always the bench's own
(``wj_bench`` unless ``--pg-name`` says otherwise), created when missing.
"""

from __future__ import annotations

import ipaddress
import json
import os
import sqlite3
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

BENCH_DIR = Path(__file__).resolve().parent
REPO = BENCH_DIR.parent
EXAMPLE_SITE = REPO / "example_site"
DEFAULT_PG_URL = "postgres://postgres@127.0.0.1:5432/postgres"
DEFAULT_PG_NAME = "wj_bench"


@dataclass
class BenchDatabase:
    vendor: str  # "sqlite" or "postgresql"
    label: str  # for people: no password in it
    env: dict[str, str] = field(default_factory=dict)  # what the example site's settings read
    version: str = ""  # of the database engine

    def django_env(self, settings_module: str) -> dict[str, str]:
        """Environment of a Django process of the example site on this database."""
        env = dict(os.environ)
        env.update(self.env)
        env["DJANGO_SETTINGS_MODULE"] = settings_module
        env["PYTHONPATH"] = os.pathsep.join(
            [str(REPO), str(EXAMPLE_SITE), *filter(None, [os.environ.get("PYTHONPATH")])]
        )
        env["PYTHONDONTWRITEBYTECODE"] = "1"
        return env


def _is_local(host: str | None) -> bool:
    if not host or host.startswith("/") or host == "localhost":
        return True  # a Unix socket or the loopback name
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def postgres_url(base_url: str, name: str) -> str:
    """``base_url`` with its database name replaced by ``name``; local servers only."""
    parts = urlsplit(base_url)
    if parts.scheme not in ("postgres", "postgresql", "pgsql"):
        raise SystemExit(f"DATABASE_URL is not a PostgreSQL URL: {parts.scheme}://...")
    if not _is_local(parts.hostname):
        raise SystemExit(
            f"The bench only talks to a PostgreSQL server on this machine, not {parts.hostname}."
        )
    return urlunsplit(parts._replace(path="/" + name))


def _redacted(url: str) -> str:
    parts = urlsplit(url)
    if parts.password:
        netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
        parts = parts._replace(netloc=netloc)
    return urlunsplit(parts)


def _create_pg_database(url: str) -> str:
    """Create the bench database if it is missing; return the server's version."""
    import psycopg
    from psycopg import sql

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    admin_url = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin_url, autocommit=True, connect_timeout=10) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not exists:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        return conn.execute("SHOW server_version").fetchone()[0]


def choose(kind: str | None, pg_name: str, results_dir: Path) -> BenchDatabase:
    """The bench database for ``--db`` (default: postgres when DATABASE_URL is set)."""
    kind = kind or ("postgres" if os.environ.get("DATABASE_URL") else "sqlite")
    if kind == "sqlite":
        path = results_dir / "data" / "bench.sqlite3"
        path.parent.mkdir(parents=True, exist_ok=True)
        # An empty DATABASE_URL keeps an inherited one from switching the site to it.
        env = {"SQLITE_PATH": str(path), "DATABASE_URL": ""}
        return BenchDatabase("sqlite", f"SQLite {path}", env, sqlite3.sqlite_version)
    url = postgres_url(os.environ.get("DATABASE_URL") or DEFAULT_PG_URL, pg_name)
    version = _create_pg_database(url)
    label = f"PostgreSQL {_redacted(url)}"
    return BenchDatabase("postgresql", label, {"DATABASE_URL": url}, version)


def run_script(
    db: BenchDatabase, settings_module: str, script: Path, *args: str, timeout: float = 600
) -> dict:
    """Run a Django script of bench/ in a child process; return the JSON of its last line.

    The runner never imports Django itself: each benchmark's Django work (setup,
    data generation, timed statements) runs in a child with the site's settings
    on the bench database, and reports back on stdout.
    """
    proc = subprocess.run(
        [sys.executable, str(script), *args],
        env=db.django_env(settings_module),
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"{script.name} failed on {db.label}:\n{proc.stdout}\n{proc.stderr}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def prepare(db: BenchDatabase, settings_module: str) -> dict:
    """Migrate, create the cache table and load the demo content; return the site's facts."""
    return run_script(db, settings_module, BENCH_DIR / "prepare_site.py", timeout=300)
