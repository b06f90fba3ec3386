"""A real ``qcluster`` process works through a burst of tasks while the web side writes.

The embedded default (SQLite file + django-q2's ORM broker) is known to fail
with "database is locked" under load (django-q2 issue 144); the example site
configures SQLite for it (WAL, busy timeout, IMMEDIATE transactions, one
worker). This test runs that configuration as `make demo` does: migrate in a
subprocess, start `manage.py qcluster`, then two "web" processes each enqueue
half the burst and record() touchpoints of their own meanwhile.

Under `make test-postgres` the same burst also runs on PostgreSQL with Redis as
the broker (the production configuration), against the test database.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import pytest

from tests.worker_burst import CONTACTS

pytestmark = pytest.mark.worker

REPO = Path(__file__).resolve().parent.parent
EXAMPLE_SITE = REPO / "example_site"
TASKS = 200
# Bounds of each step, in seconds: generous for a busy machine. On an idle one
# the burst takes a few seconds once enqueued, the whole test about 30.
TIMEOUT = 240
LOCKED = "database is locked"


@dataclass
class Site:
    env: dict[str, str]
    group: str
    logs: Path


def _env(cluster_name: str, **extra: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DATABASE_URL", "REDIS_URL", "SQLITE_PATH", "DJANGO_SETTINGS_MODULE"}
    }
    env.update(
        DJANGO_SETTINGS_MODULE="demo.settings.dev",  # what `make demo` runs
        PYTHONPATH=os.pathsep.join([str(REPO), str(EXAMPLE_SITE)]),
        PYTHONUNBUFFERED="1",
        Q_CLUSTER_NAME=cluster_name,
        **extra,
    )
    return env


def _manage(env: dict[str, str], *args: str, timeout: float = 300) -> None:
    done = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=EXAMPLE_SITE,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert done.returncode == 0, f"manage.py {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}"


def _postgres_url() -> str:
    """The test database pytest-django created, as a URL for the subprocesses."""
    from django.db import connection

    s = connection.settings_dict
    auth = quote(s["USER"] or "", safe="")
    if s.get("PASSWORD"):
        auth += ":" + quote(s["PASSWORD"], safe="")
    return f"postgres://{auth}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


@pytest.fixture(
    params=[
        "sqlite-orm",
        # The subprocesses share pytest-django's test database (already
        # migrated); transaction=True lets them see its rows and empties it afterwards.
        pytest.param(
            "postgres-redis",
            marks=[
                # Deselected by `make test`, run by `make test-postgres` (which sets
                # DATABASE_URL and REDIS_URL): never silently skipped.
                pytest.mark.postgres,
                pytest.mark.django_db(transaction=True),
            ],
        ),
    ]
)
def site(request, tmp_path) -> Iterator[Site]:
    name = f"burst-{uuid.uuid4().hex[:8]}"
    logs = tmp_path / "logs"
    logs.mkdir()
    if request.param == "sqlite-orm":
        env = _env(name, SQLITE_PATH=str(tmp_path / "burst.sqlite3"))
        _manage(env, "migrate", "--noinput")
        _manage(env, "createcachetable")  # the demo's cache, where django-q2 keeps its stats
        yield Site(env, name, logs)
        return
    env = _env(name, DATABASE_URL=_postgres_url(), REDIS_URL=os.environ["REDIS_URL"])
    yield Site(env, name, logs)
    import redis

    client = redis.Redis.from_url(os.environ["REDIS_URL"])
    keys = list(client.scan_iter(f"django_q:{name}:*"))
    if keys:
        client.delete(*keys)


@pytest.fixture
def cluster(site: Site):
    """A real `manage.py qcluster`, always stopped afterwards (whatever happened)."""
    with (
        open(site.logs / "qcluster.out", "wb") as out,
        open(site.logs / "qcluster.err", "wb") as err,
    ):
        proc = subprocess.Popen(
            [sys.executable, "manage.py", "qcluster"],
            cwd=EXAMPLE_SITE,
            env=site.env,
            stdout=out,
            stderr=err,
            start_new_session=True,  # its own process group: its workers go with it
        )
        try:
            yield proc
        finally:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)  # graceful: it stops its workers
                with contextlib.suppress(subprocess.TimeoutExpired):
                    proc.wait(timeout=20)
            # Whatever of the cluster's own process group is still alive (stuck workers).
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)


def _logs(site: Site) -> str:
    return "\n".join(
        f"--- {p.name}\n{p.read_text(errors='replace')[-4000:]}"
        for p in sorted(site.logs.iterdir())
    )


def _kill_if_running(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.kill()


def test_a_burst_of_tasks_completes_without_database_is_locked(site: Site, cluster):
    started = time.monotonic()
    half = TASKS // 2
    with contextlib.ExitStack() as stack:
        web = []
        for first in (0, half):
            err = stack.enter_context(open(site.logs / f"web-{first}.err", "wb"))
            proc = stack.enter_context(
                subprocess.Popen(
                    [sys.executable, "-m", "tests.worker_burst", "enqueue", site.group]
                    + [str(first), str(half)],
                    cwd=REPO,
                    env=site.env,
                    stdout=subprocess.DEVNULL,
                    stderr=err,
                )
            )
            stack.callback(_kill_if_running, proc)  # on the way out, before Popen waits
            web.append(proc)
        for proc in web:
            proc.wait(timeout=TIMEOUT)
    assert [proc.returncode for proc in web] == [0, 0], _logs(site)
    enqueued = time.monotonic() - started

    waiter = subprocess.run(
        [sys.executable, "-m", "tests.worker_burst", "wait", site.group]
        + [str(TASKS), str(TIMEOUT)],
        cwd=REPO,
        env=site.env,
        capture_output=True,
        text=True,
        timeout=TIMEOUT + 30,
    )
    assert waiter.returncode == 0, waiter.stderr
    status = json.loads(waiter.stdout)
    print(f"burst of {TASKS}: enqueued in {enqueued:.1f}s, all done {status['waited']}s later")
    assert cluster.poll() is None, f"qcluster died\n{_logs(site)}"

    worker_stderr = (site.logs / "qcluster.err").read_text(errors="replace")
    assert LOCKED not in worker_stderr, _logs(site)
    assert LOCKED not in _logs(site)
    assert status["failed"] == [], _logs(site)
    assert status["succeeded"] == TASKS, (status, _logs(site))
    assert status["results"] == list(range(TASKS))  # each task ran and stored its result once
    assert status["task_indexes"] == list(range(TASKS))  # the rows the tasks wrote
    assert status["web_touchpoints"] == TASKS  # and the web side's own writes
    assert status["contacts"] == 2 * CONTACTS
    assert status["queued"] == 0  # every task acknowledged


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("site", ["postgres-redis"], indirect=True)
def test_the_worker_stores_every_buffered_touchpoint_exactly_once(site: Site, cluster):
    """TRACKING_BUFFER (on in the example site with Redis): two web processes
    push tracked events while the real cluster's two workers flush them."""
    from wagtail_journey.models import Touchpoint

    kind, per_web = f"buffered_{site.group.replace('-', '_')}", 1500
    with contextlib.ExitStack() as stack:
        web = []
        for n in range(2):
            err = stack.enter_context(open(site.logs / f"track-{n}.err", "wb"))
            proc = stack.enter_context(
                subprocess.Popen(
                    [sys.executable, "-m", "tests.worker_burst", "track", kind, str(per_web)],
                    cwd=REPO,
                    env=site.env,
                    stdout=subprocess.DEVNULL,
                    stderr=err,
                )
            )
            stack.callback(_kill_if_running, proc)
            web.append(proc)
        codes = [proc.wait(timeout=TIMEOUT) for proc in web]
    assert codes == [0, 0], _logs(site)
    waiter = subprocess.run(
        [sys.executable, "manage.py", "journey_flush", "--wait", str(TIMEOUT)],
        cwd=EXAMPLE_SITE,
        env=site.env,
        capture_output=True,
        text=True,
        timeout=TIMEOUT + 30,
    )
    assert waiter.returncode == 0, waiter.stderr + _logs(site)
    assert cluster.poll() is None, f"qcluster died\n{_logs(site)}"
    stored = Touchpoint.objects.filter(kind=kind)
    indexes = sorted(p["i"] for p in stored.values_list("properties", flat=True))
    assert indexes == sorted(list(range(per_web)) * 2)  # each pushed item once, none lost
    assert "Traceback" not in (site.logs / "qcluster.err").read_text(errors="replace")
