"""Tracking throughput against a real server process on PostgreSQL (+ Redis cache).

1. Page views: requests/s of a Wagtail page with tracking on (consented
   visitors, one touchpoint INSERT per view) vs the same page with tracking off
   (JOURNEY_TRACKING=0). Rounds alternate off/on to even out noise. Target >= 0.85.
2. Collect endpoint: events/s of journey.js beacons (one event each) vs a bare
   Django view doing one INSERT, in the same server. Target >= 0.7. The collect
   run lasts --sustain seconds (60 by default) and every accepted event is then
   counted in the database: lost events must be 0.

    .venv/bin/python bench/bench_tracking.py [--seconds 15] [--sustain 60] [--clients 8]

The server is Django's threaded runserver (one process, --noreload): the ratio
compares the same server with and without the feature.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import subprocess
import sys
import threading
import time
from http.cookies import SimpleCookie

from _tracking_env import ROOT, database_url, recreate_database, setup_django

DB = "wj_tracking_bench"
PORT = int(os.environ.get("BENCH_PORT", "8765"))
UA = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131 Safari/537.36"
)


def start_server(tracking: bool) -> subprocess.Popen:
    env = {
        **os.environ,
        "DATABASE_URL": database_url(DB),
        "DJANGO_SETTINGS_MODULE": "bench_tracking_settings",
        "JOURNEY_TRACKING": "1" if tracking else "0",
        "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "example_site"), str(ROOT / "bench")]),
    }
    proc = subprocess.Popen(
        [
            sys.executable,
            str(ROOT / "example_site" / "manage.py"),
            "runserver",
            f"127.0.0.1:{PORT}",
            "--noreload",
            "--skip-checks",
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    for _ in range(200):
        try:
            request("GET", "/journey/health/")
            return proc
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError("server did not start")


def request(method, path, body=None, cookies="", headers=None):
    conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=30)
    hdrs = {"User-Agent": UA, "Host": f"127.0.0.1:{PORT}", **(headers or {})}
    if cookies:
        hdrs["Cookie"] = cookies
    conn.request(method, path, body=body, headers=hdrs)
    resp = conn.getresponse()
    resp.read()
    conn.close()
    return resp


def consented_cookies() -> str:
    resp = request(
        "POST",
        "/journey/collect/",
        json.dumps({"consent": True}),
        headers={"Content-Type": "application/json", "Origin": f"http://127.0.0.1:{PORT}"},
    )
    jar = SimpleCookie()
    for header in resp.headers.get_all("Set-Cookie") or []:
        jar.load(header)
    return "; ".join(f"{k}={m.value}" for k, m in jar.items())


def load(seconds: float, clients: int, make_call) -> tuple[int, int]:
    """Run ``clients`` threads for ``seconds``; returns (ok, failed) responses."""
    ok, failed = [0] * clients, [0] * clients
    stop = time.monotonic() + seconds

    def worker(i):
        call = make_call()
        while time.monotonic() < stop:
            try:
                if call():
                    ok[i] += 1
                else:
                    failed[i] += 1
            except OSError:
                failed[i] += 1

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return sum(ok), sum(failed)


def page_view_round(tracking: bool, path: str, seconds: float, clients: int) -> float:
    proc = start_server(tracking)
    try:

        def make_call():
            cookies = consented_cookies() if tracking else ""
            return lambda: request("GET", path, cookies=cookies).status == 200

        load(2, clients, make_call)  # warm-up
        ok, failed = load(seconds, clients, make_call)
    finally:
        proc.terminate()
        proc.wait()
    if failed:
        print(f"    ({failed} failed requests)")
    return ok / seconds


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--sustain", type=float, default=60)
    parser.add_argument("--clients", type=int, default=8)
    args = parser.parse_args(argv)

    recreate_database(DB)
    setup_django(DB)
    from django.core.cache import cache
    from django.core.management import call_command

    from demo.models import ArticlePage
    from wagtail_journey.models import Touchpoint

    call_command("migrate", verbosity=0)
    call_command("load_demo", verbosity=0)
    cache.clear()
    article = ArticlePage.objects.live().first()
    path = article.url
    print(f"bench_tracking: page {path}, {args.clients} clients, {os.cpu_count()} CPUs")

    rates = {True: [], False: []}
    for tracking in (False, True, False, True):
        rate = page_view_round(tracking, path, args.seconds, args.clients)
        rates[tracking].append(rate)
        print(f"  page views, tracking {'on ' if tracking else 'off'}: {rate:8.1f} req/s")
    views = Touchpoint.objects.filter(kind="page_view").count()
    off, on = sum(rates[False]) / 2, sum(rates[True]) / 2
    pv_ratio = on / off
    print(
        f"  page-view ratio (on/off): {pv_ratio:.2f}  (target >= 0.85); {views} page views stored"
    )

    proc = start_server(True)
    try:
        origin = {"Content-Type": "application/json", "Origin": f"http://127.0.0.1:{PORT}"}
        body = json.dumps({"page": article.pk, "events": [{"kind": "bench_event"}]})

        def bare():
            return lambda: request("POST", "/bench/bare-insert/", b"").status == 204

        def beacon():
            cookies = consented_cookies()
            return lambda: (
                request("POST", "/journey/collect/", body, cookies=cookies, headers=origin).status
                == 204
            )

        load(2, args.clients, bare)
        b_ok, _ = load(args.seconds, args.clients, bare)
        bare_rate = b_ok / args.seconds
        before = Touchpoint.objects.filter(kind="bench_event").count()
        c_ok, c_failed = load(args.sustain, args.clients, beacon)
        stored = Touchpoint.objects.filter(kind="bench_event").count() - before
    finally:
        proc.terminate()
        proc.wait()
    collect_rate = c_ok / args.sustain
    c_ratio = collect_rate / bare_rate
    lost = c_ok - stored
    print(f"  bare one-INSERT view:  {bare_rate:8.1f} req/s")
    print(
        f"  collect ({args.sustain:.0f} s sustained): {collect_rate:8.1f} events/s, "
        f"{c_ok} accepted, {c_failed} refused/failed, {stored} stored, lost {lost}"
    )
    print(f"  collect ratio (collect/bare): {c_ratio:.2f}  (target >= 0.70)")
    return {"page_view_ratio": pv_ratio, "collect_ratio": c_ratio, "lost_events": lost}


if __name__ == "__main__":
    main()
