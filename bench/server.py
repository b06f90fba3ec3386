"""A real WSGI server process (gunicorn) serving the example site on 127.0.0.1.

Started in its own process group so it and its workers are stopped by id when
the benchmark ends, however it ends.
"""

from __future__ import annotations

import contextlib
import http.client
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from bench.database import REPO, BenchDatabase

HOST = "127.0.0.1"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def process_group_cpu_seconds(pgid: int, proc_dir: Path = Path("/proc")) -> float:
    """CPU seconds (utime + stime) of the living processes in process group ``pgid``."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for stat in proc_dir.glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue  # the process ended meanwhile
        if int(fields[2]) == pgid:  # fields[0] is the state, [2] the process group
            total += int(fields[11]) + int(fields[12])  # utime, stime in clock ticks
    return total / ticks


def stop_group(proc: subprocess.Popen, grace: float) -> None:
    """Wait ``grace`` s for a process asked to stop, then kill it and its process group.

    Children left behind by a parent that died (gunicorn or qcluster workers)
    are in its process group.
    """
    try:
        proc.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=10)
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)


class Server:
    """``gunicorn demo.wsgi`` with the given settings module, workers and threads.

    The gthread worker keeps connections alive, so the client reuses one
    connection per thread (no port exhaustion on long runs).
    """

    def __init__(
        self,
        name: str,
        settings_module: str,
        db: BenchDatabase,
        log_dir: Path,
        *,
        workers: int = 2,
        threads: int = 2,
    ) -> None:
        self.name = name
        self.settings_module = settings_module
        self.db = db
        self.workers = workers
        self.threads = threads
        self.port = free_port()
        self.log_path = log_dir / f"server-{name}.log"
        self.proc: subprocess.Popen | None = None

    @property
    def command(self) -> list[str]:
        return [
            sys.executable,
            "-m",
            "gunicorn",
            "demo.wsgi:application",
            "--bind",
            f"{HOST}:{self.port}",
            "--workers",
            str(self.workers),
            "--worker-class",
            "gthread",
            "--threads",
            str(self.threads),
            "--keep-alive",
            "30",
            "--timeout",
            "60",
            "--graceful-timeout",
            "5",
            "--error-logfile",
            "-",
            "--log-level",
            "warning",
        ]

    def start(self, ready_path: str | None = "/", timeout: float = 60) -> None:
        """Start gunicorn; wait until ``ready_path`` answers (None: don't wait)."""
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        log = self.log_path.open("w")
        self.proc = subprocess.Popen(
            self.command,
            env=self.db.django_env(self.settings_module),
            cwd=REPO,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()
        if ready_path is not None:
            self.wait_ready(ready_path, timeout)

    def wait_ready(self, path: str = "/", timeout: float = 60) -> None:
        """Poll ``path`` until the server answers anything, or fail with its log."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc is not None and self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} server exited at start:\n{self.log_tail()}")
            try:
                conn = http.client.HTTPConnection(HOST, self.port, timeout=5)
                conn.request("GET", path)
                conn.getresponse().read()
                conn.close()
                return
            except OSError:
                time.sleep(0.2)
        raise RuntimeError(f"{self.name} server not ready after {timeout}s:\n{self.log_tail()}")

    def cpu_seconds(self) -> float:
        """User + system CPU time used so far by gunicorn's master and workers.

        Per request, this is what a feature costs the server, and far less
        disturbed than wall-clock throughput by other work on a shared machine.
        Linux only (reads /proc); 0.0 elsewhere.
        """
        if self.proc is None:
            return 0.0
        return process_group_cpu_seconds(self.proc.pid)

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text().splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def terminate(self) -> None:
        """Ask gunicorn to stop (SIGTERM: the master stops its workers); don't wait."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)

    def stop(self) -> None:
        """Stop and wait; SIGKILL to the process group if it takes over 10 s.

        Call terminate() on every server first to stop several at once.
        """
        if self.proc is None or self.proc.returncode is not None:
            return  # never started, or already stopped and reaped here
        self.terminate()
        stop_group(self.proc, 10)

    def __enter__(self) -> Server:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


class Worker:
    """``manage.py qcluster`` beside a server, for sites that buffer tracking.

    With ``TRACKING_BUFFER`` (the example site turns it on with Redis) the
    server only pushes items to Redis; this worker stores them, so its CPU is
    part of what a tracked request costs and the benchmark counts it.
    """

    def __init__(self, name: str, settings_module: str, db: BenchDatabase, log_dir: Path) -> None:
        self.name = name
        self.settings_module = settings_module
        self.db = db
        self.log_path = log_dir / f"worker-{name}.log"
        self.proc: subprocess.Popen | None = None

    @classmethod
    def if_buffered(cls, name: str, settings_module: str, ctx) -> Worker | None:
        """A worker when the journey site buffers tracking (bench/settings_journey.py:
        with Redis, unless BENCH_TRACKING_BUFFER=off), else None."""
        if not ctx.args.redis_url or os.environ.get("BENCH_TRACKING_BUFFER") == "off":
            return None
        return cls(name, settings_module, ctx.db, ctx.results_dir)

    def cpu_of(self, side: str) -> float:
        """The worker's CPU, charged to the feature side only (it idles otherwise)."""
        from bench.stats import FEATURE

        return self.cpu_seconds() if side == FEATURE else 0.0

    def start(self, log=None) -> None:
        if log is not None:
            log("tracking is buffered: starting a qcluster to store it")
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        log = self.log_path.open("w")
        env = self.db.django_env(self.settings_module)
        self.proc = subprocess.Popen(
            [sys.executable, "manage.py", "qcluster"],
            env=env,
            cwd=REPO / "example_site",
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()

    def cpu_seconds(self) -> float:
        return 0.0 if self.proc is None else process_group_cpu_seconds(self.proc.pid)

    def wait_drained(self, timeout: float = 300) -> None:
        """Until the worker stored everything buffered (``journey_flush --wait``)."""
        env = self.db.django_env(self.settings_module)
        done = subprocess.run(
            [sys.executable, "manage.py", "journey_flush", "--wait", str(timeout)],
            env=env,
            cwd=REPO / "example_site",
            capture_output=True,
            text=True,
            timeout=timeout + 60,
        )
        if done.returncode != 0:
            raise RuntimeError(f"the buffer did not drain: {done.stderr}")

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)  # graceful: qcluster stops its workers
        stop_group(self.proc, 20)
