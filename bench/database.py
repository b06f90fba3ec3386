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
import threading
from collections.abc import Callable
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
    url: str = ""  # PostgreSQL only: the bench database's URL

    def sibling(self, suffix: str) -> BenchDatabase:
        """Another bench database on the same PostgreSQL server, created when missing."""
        parts = urlsplit(self.url)
        url = urlunsplit(parts._replace(path=f"{parts.path}_{suffix}"))
        version = _create_pg_database(url)
        env = {**self.env, "DATABASE_URL": url}
        return BenchDatabase("postgresql", f"PostgreSQL {_redacted(url)}", env, version, url)

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


def redis_env(redis_url: str | None) -> dict[str, str]:
    """REDIS_URL for the site (cache, rate limits, django-q2 broker); local servers only.

    Without one the site keeps its embedded default (local-memory cache, ORM
    broker); an empty REDIS_URL keeps an inherited one from switching it.
    """
    if not redis_url:
        return {"REDIS_URL": ""}
    parts = urlsplit(redis_url)
    if parts.scheme not in ("redis", "rediss") or not _is_local(parts.hostname):
        raise SystemExit(f"The bench only uses a Redis server on this machine: {redis_url}")
    return {"REDIS_URL": redis_url}


def choose(
    kind: str | None, pg_name: str, results_dir: Path, redis_url: str | None = None
) -> BenchDatabase:
    """The bench database for ``--db`` (default: postgres when DATABASE_URL is set)."""
    kind = kind or ("postgres" if os.environ.get("DATABASE_URL") else "sqlite")
    redis = redis_env(redis_url)
    if kind == "sqlite":
        path = results_dir / "data" / "bench.sqlite3"
        path.parent.mkdir(parents=True, exist_ok=True)
        # An empty DATABASE_URL keeps an inherited one from switching the site to it.
        env = {"SQLITE_PATH": str(path), "DATABASE_URL": "", **redis}
        return BenchDatabase("sqlite", f"SQLite {path}", env, sqlite3.sqlite_version)
    url = postgres_url(os.environ.get("DATABASE_URL") or DEFAULT_PG_URL, pg_name)
    version = _create_pg_database(url)
    label = f"PostgreSQL {_redacted(url)}"
    return BenchDatabase("postgresql", label, {"DATABASE_URL": url, **redis}, version, url)


def run_script(
    db: BenchDatabase,
    settings_module: str,
    script: Path,
    *args: str,
    timeout: float = 600,
    echo: Callable[[str], None] | None = None,
) -> dict:
    """Run a Django script of bench/ in a child process; return the JSON of its last line.

    The runner never imports Django itself: each benchmark's Django work (setup,
    data generation, timed statements) runs in a child with the site's settings
    on the bench database, and reports back on stdout. ``echo`` gets every
    other line of the child's output as it comes (progress of long runs).
    """
    with subprocess.Popen(
        [sys.executable, str(script), *args],
        env=db.django_env(settings_module),
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    ) as proc:
        timer = threading.Timer(timeout, proc.kill)
        timer.start()
        lines = []
        try:
            for line in proc.stdout:
                lines.append(line.rstrip("\n"))
                if echo is not None and not line.startswith("{"):
                    echo(line.rstrip())
            stderr = proc.stderr.read()
            proc.wait()
        finally:
            timer.cancel()
    if proc.returncode != 0:
        output = "\n".join(lines[-20:])
        raise RuntimeError(f"{script.name} failed on {db.label}:\n{output}\n{stderr[-4000:]}")
    if not lines or not lines[-1].startswith("{"):
        raise RuntimeError(f"{script.name} printed no JSON result on {db.label}")
    return json.loads(lines[-1])


def prepare(db: BenchDatabase, settings_module: str) -> dict:
    """Migrate, create the cache table and load the demo content; return the site's facts."""
    return run_script(db, settings_module, BENCH_DIR / "prepare_site.py", timeout=300)


def count_touchpoints(db: BenchDatabase, settings_module: str) -> dict[str, int]:
    """Touchpoints in the bench database, by kind (what a run really recorded)."""
    facts = run_script(db, settings_module, BENCH_DIR / "prepare_site.py", "--count", timeout=120)
    return facts["touchpoints"]
