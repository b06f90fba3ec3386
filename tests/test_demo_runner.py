"""Ctrl-C on `make demo` stops the web server and the worker at once (issue 9, item 26)."""

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.worker

EXAMPLE = Path(__file__).resolve().parents[1] / "example_site"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def alive(pgid: int) -> list[str]:
    out = subprocess.run(["ps", "-eo", "pid,pgid,stat,args"], capture_output=True, text=True)
    return [
        line
        for line in out.stdout.splitlines()[1:]
        if line.split()[1] == str(pgid) and not line.split()[2].startswith("Z")
    ]


def test_ctrl_c_stops_the_demo_and_its_worker_within_seconds(tmp_path):
    port = free_port()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "demo.settings.dev",
        "SQLITE_PATH": str(tmp_path / "demo.sqlite3"),
    }
    env.pop("REDIS_URL", None)
    env.pop("DATABASE_URL", None)
    for command in (["migrate", "-v0"], ["createcachetable"]):  # as `make demo` does
        subprocess.run([sys.executable, "manage.py", *command], cwd=EXAMPLE, env=env, check=True)
    # As a terminal starts it: its own process group, SIGINT not ignored.
    runner = subprocess.Popen(
        ["./run_demo.sh", sys.executable, f"127.0.0.1:{port}"],
        cwd=EXAMPLE,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=(tmp_path / "demo.log").open("w"),
        start_new_session=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    try:
        deadline = time.time() + 120
        # The cluster says it runs once its sentinel, worker, monitor and pusher are up.
        while " running." not in (tmp_path / "demo.log").read_text():
            assert time.time() < deadline, (tmp_path / "demo.log").read_text()[-2000:]
            time.sleep(0.5)
        time.sleep(1)
        started = time.time()
        os.killpg(runner.pid, signal.SIGINT)  # what Ctrl-C does
        while alive(runner.pid) and time.time() - started < 30:
            runner.poll()
            time.sleep(0.2)
        left = alive(runner.pid)
        log = (tmp_path / "demo.log").read_text()[-3000:]
        assert not left, f"still running {time.time() - started:.0f} s after Ctrl-C: {left}\n{log}"
        assert time.time() - started < 15  # it used to hang until killed
    finally:
        if alive(runner.pid):
            os.killpg(runner.pid, signal.SIGKILL)
