"""Page-view latency and throughput: the example site with wagtail_journey vs without it.

Two gunicorn processes serve the same pages from the same database: one with
bench/settings_journey.py (wagtail_journey installed, tracking consent mode
``exempt``, so every view is recorded), one with bench/settings_baseline.py
(the package removed, its template tags stubbed). A bounded client sends
browser-like GETs over keep-alive connections, rotating through every live
page both sites serve (not wagtail_journey's own LandingPage), in alternating
rounds (ABBA), so noise on this machine hits both sides alike. Afterwards the
page_view touchpoints are counted: each journey answer must have recorded one.
Issue 4 asks the tracked page view for at least 0.85 of the baseline's
throughput (on PostgreSQL).
"""

from __future__ import annotations

import http.client

from bench.context import Context
from bench.database import count_touchpoints, prepare
from bench.load import LoadResult, merge, rotate, run_load
from bench.rounds import error_notes, errors, load_figures, round_notes, run_rounds
from bench.server import HOST, Server, Worker
from bench.stats import BASELINE, FEATURE, BenchResult

NAME = "pageview"
TITLE = "Page view of a Wagtail page: wagtail_journey installed vs the same site without it"
THROUGHPUT_TARGET = 0.9  # issue 9 item 28 (issue 4 asked 0.85)

JOURNEY_SETTINGS = "bench.settings_journey"
BASELINE_SETTINGS = "bench.settings_baseline"


def add_arguments(parser) -> None:
    group = parser.add_argument_group("pageview")
    group.add_argument(
        "--path",
        action="append",
        dest="pageview_paths",
        metavar="PATH",
        help="page path to request (repeatable; default: every live page of the demo site)",
    )
    group.add_argument(
        "--aa",
        action="store_true",
        dest="pageview_aa",
        help="A/A check: both servers run the baseline; the ratio's distance from 1 is noise",
    )


def _status(port: int, path: str, host: str) -> int:
    conn = http.client.HTTPConnection(HOST, port, timeout=10)
    try:
        conn.request("GET", path, headers={"Host": host})
        response = conn.getresponse()
        response.read()
        return response.status
    finally:
        conn.close()


def _check_sites(servers: dict[str, Server], paths: list[str], host: str) -> list[str]:
    """Every page answers 200 on both sites; only the journey site has journey/ URLs."""
    for server in servers.values():
        for path in paths:
            status = _status(server.port, path, host)
            if status != 200:
                raise RuntimeError(
                    f"{server.name} site answers {status} for {path}; log tail:\n"
                    f"{server.log_tail()}"
                )
    health = {side: _status(s.port, "/journey/health/", host) for side, s in servers.items()}
    if health[BASELINE] == 200:
        raise RuntimeError("The baseline site serves /journey/health/: wagtail_journey is in it.")
    return [
        f"/journey/health/ answers {health[FEATURE]} ({servers[FEATURE].name}) "
        f"and {health[BASELINE]} ({servers[BASELINE].name})"
    ]


def run(ctx: Context) -> BenchResult:
    aa = bool(ctx.args.pageview_aa)
    settings = {FEATURE: BASELINE_SETTINGS if aa else JOURNEY_SETTINGS, BASELINE: BASELINE_SETTINGS}
    labels = {FEATURE: "baseline-a" if aa else "journey", BASELINE: "baseline"}
    workers, threads = ctx.args.workers, ctx.args.threads
    servers = {
        side: Server(
            labels[side], settings[side], ctx.db, ctx.results_dir, workers=workers, threads=threads
        )
        for side in (FEATURE, BASELINE)
    }
    worker = None if aa else Worker.if_buffered("pageview", JOURNEY_SETTINGS, ctx)
    buffered = worker is not None
    answered = {FEATURE: 0, BASELINE: 0}
    try:
        # Gunicorn boots Django without touching the database, so both servers
        # boot while the database is prepared; they are used only afterwards.
        for side, server in servers.items():
            ctx.log(f"starting {labels[side]} server on {HOST}:{server.port}")
            server.start(ready_path=None)
        ctx.log(f"preparing {ctx.db.label} (migrate, cache table, demo content)")
        facts = prepare(ctx.db, JOURNEY_SETTINGS)
        if worker is not None:
            worker.start(ctx.log)
        paths = ctx.args.pageview_paths or facts["paths"]
        host = facts["hostname"] or "localhost"
        ctx.log(f"pages: {' '.join(paths)}; journey only, left out: {facts['journey_only_paths']}")
        for server in servers.values():
            server.wait_ready(paths[0])
        ctx.log("both servers answer; checking every page, then warming up")
        notes = _check_sites(servers, paths, host)
        views_before = count_touchpoints(ctx.db, JOURNEY_SETTINGS).get("page_view", 0)
        make_request = rotate(paths)
        worker_cpu = {FEATURE: 0.0, BASELINE: 0.0}

        def cpu(side: str) -> float:
            # The worker stores what the journey site buffered: its CPU counts.
            return servers[side].cpu_seconds() + (worker.cpu_of(side) if worker else 0.0)

        def load(side: str, seconds: float) -> LoadResult:
            cpu_before = cpu(side)
            worker_before = worker.cpu_of(side) if worker else 0.0
            result = run_load(
                servers[side].port,
                make_request,
                concurrency=ctx.concurrency,
                duration=seconds,
                host_header=host,
            )
            result.server_cpu_s = cpu(side) - cpu_before
            if worker is not None:
                worker_cpu[side] += worker.cpu_of(side) - worker_before
            answered[side] += result.requests
            return result

        per_side, rounds = run_rounds(ctx, load, labels)
        if worker is not None:
            worker.wait_drained()
    finally:
        for server in servers.values():
            server.terminate()
        for server in servers.values():
            server.stop()
        if worker is not None:
            worker.stop()

    recorded = count_touchpoints(ctx.db, JOURNEY_SETTINGS).get("page_view", 0) - views_before
    notes.append(
        f"page_view touchpoints recorded during the load: {recorded:,} for "
        f"{answered[FEATURE]:,} answers of the {labels[FEATURE]} site (warm-up included)"
    )
    if not aa and recorded < answered[FEATURE]:
        raise RuntimeError(
            f"Tracking is not on: {recorded} page views recorded for {answered[FEATURE]} "
            "answers of the journey site (consent mode, bot detection, settings?)"
        )
    notes += round_notes(rounds) + error_notes(per_side, labels)
    if buffered:
        share = worker_cpu[FEATURE] * 1000 / max(answered[FEATURE], 1)
        notes.append(
            "tracking buffered (TRACKING_BUFFER): server CPU includes the qcluster "
            f"({share:.2f} ms per answer of the {labels[FEATURE]} site)"
        )
    if aa:
        notes.append("A/A check: both sides are the baseline site; the ratio shows the noise")
    return BenchResult(
        name=f"{NAME}-aa" if aa else NAME,
        title=TITLE + (" (A/A check)" if aa else ""),
        figures=load_figures(per_side, target=None if aa else THROUGHPUT_TARGET),
        feature_label=labels[FEATURE],
        baseline_label=labels[BASELINE],
        params={
            "database": facts["db_vendor"],
            "database_version": facts["db_version"],
            "paths": paths,
            "journey_only_paths_left_out": facts["journey_only_paths"],
            "page_views_recorded": recorded,
            "host_header": host,
            "client_connections": ctx.concurrency,
            "server": f"gunicorn gthread, {workers} workers x {threads} threads",
            "tracking_buffer": buffered,
            "rounds": ctx.rounds,
            "seconds_per_side_and_round": ctx.duration,
            "warmup_seconds_per_side": ctx.warmup,
            "settings": {labels[s]: m for s, m in settings.items()},
            "totals": {labels[s]: merge(r).summary() for s, r in per_side.items()},
        },
        rounds=rounds,
        notes=notes,
        errors=errors(per_side),
    )
