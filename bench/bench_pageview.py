"""Page-view latency and throughput: the example site with wagtail_journey vs without it.

Two gunicorn processes serve the same pages from the same database: one with
bench/settings_journey.py (wagtail_journey installed, tracking consent mode
``exempt``), one with bench/settings_baseline.py (the package removed). A
bounded client sends browser-like GETs over keep-alive connections, rotating
through every live page of the demo site, in alternating rounds (ABBA), so
noise on this machine hits both sides alike. Issue 4 asks the tracked page
view for at least 0.85 of the baseline's throughput (on PostgreSQL).
"""

from __future__ import annotations

import http.client
import statistics
from collections.abc import Callable

from bench.context import Context
from bench.database import prepare
from bench.load import LoadResult, merge, rotate, run_load
from bench.server import HOST, Server
from bench.stats import (
    BASELINE,
    FEATURE,
    BenchResult,
    Figure,
    alternating_order,
    ratio,
    ratio_interval,
)

NAME = "pageview"
TITLE = "Page view of a Wagtail page: wagtail_journey installed vs the same site without it"
THROUGHPUT_TARGET = 0.85  # issue 4: tracked page view >= 0.85 of the untracked one

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


def _interval(
    per_side: dict[str, list[LoadResult]], value: Callable[[LoadResult], float | None]
) -> tuple[float, float] | None:
    """95 % interval of the per-round feature/baseline ratios of ``value``."""
    pairs = zip(per_side[FEATURE], per_side[BASELINE], strict=True)
    ratios = [ratio(value(f), value(b)) for f, b in pairs]
    return ratio_interval([r for r in ratios if r is not None])


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
    per_side: dict[str, list[LoadResult]] = {FEATURE: [], BASELINE: []}
    rounds: list[dict] = []
    try:
        # Gunicorn boots Django without touching the database, so both servers
        # boot while the database is prepared; they are used only afterwards.
        for side, server in servers.items():
            ctx.log(f"starting {labels[side]} server on {HOST}:{server.port}")
            server.start(ready_path=None)
        ctx.log(f"preparing {ctx.db.label} (migrate, cache table, demo content)")
        facts = prepare(ctx.db, JOURNEY_SETTINGS)
        paths = ctx.args.pageview_paths or facts["paths"]
        host = facts["hostname"] or "localhost"
        ctx.log(f"pages: {' '.join(paths)}")
        for server in servers.values():
            server.wait_ready(paths[0])
        ctx.log("both servers answer; checking every page, then warming up")
        notes = _check_sites(servers, paths, host)
        make_request = rotate(paths)

        def load(side: str, seconds: float) -> LoadResult:
            cpu_before = servers[side].cpu_seconds()
            result = run_load(
                servers[side].port,
                make_request,
                concurrency=ctx.concurrency,
                duration=seconds,
                host_header=host,
            )
            result.server_cpu_s = servers[side].cpu_seconds() - cpu_before
            return result

        for side in (FEATURE, BASELINE):
            load(side, ctx.warmup)
        ctx.log(f"{ctx.rounds} rounds of {ctx.duration:g} s per side")
        for n, order in enumerate(alternating_order(ctx.rounds), start=1):
            row: dict = {"round": n, "order": [labels[s] for s in order]}
            rps = {}
            for side in order:
                result = load(side, ctx.duration)
                per_side[side].append(result)
                row[labels[side]] = result.summary()
                rps[side] = result.throughput
            r = ratio(rps[FEATURE], rps[BASELINE])
            row["throughput_ratio"] = None if r is None else round(r, 4)
            rounds.append(row)
            ctx.log(
                f"round {n}/{ctx.rounds}: {labels[FEATURE]} {rps[FEATURE]:.1f} req/s, "
                f"{labels[BASELINE]} {rps[BASELINE]:.1f} req/s, ratio {row['throughput_ratio']}"
            )
    finally:
        for server in servers.values():
            server.terminate()
        for server in servers.values():
            server.stop()

    total = {side: merge(results) for side, results in per_side.items()}
    feature, baseline = total[FEATURE], total[BASELINE]
    figures = [
        Figure(
            "throughput",
            "req/s",
            feature.throughput,
            baseline.throughput,
            higher_is_better=True,
            target=None if aa else THROUGHPUT_TARGET,
            interval=_interval(per_side, lambda r: r.throughput),
        ),
        Figure(
            "latency p50",
            "ms",
            feature.latency(50),
            baseline.latency(50),
            higher_is_better=False,
            interval=_interval(per_side, lambda r: r.latency(50)),
        ),
        Figure(
            "latency p95",
            "ms",
            feature.latency(95),
            baseline.latency(95),
            higher_is_better=False,
            interval=_interval(per_side, lambda r: r.latency(95)),
        ),
        Figure(
            "server CPU per request",
            "ms",
            feature.cpu_ms_per_request,
            baseline.cpu_ms_per_request,
            higher_is_better=False,
            interval=_interval(per_side, lambda r: r.cpu_ms_per_request),
            note="user+system CPU of gunicorn's processes / requests served",
        ),
    ]
    round_ratios = [row["throughput_ratio"] for row in rounds if row["throughput_ratio"]]
    if round_ratios:
        notes.append(
            f"per-round throughput ratio: min {min(round_ratios):.3f}, "
            f"median {statistics.median(round_ratios):.3f}, max {max(round_ratios):.3f}"
        )
    errors = feature.errors + baseline.errors
    for side, result in total.items():
        for sample in result.error_samples:
            notes.append(f"{labels[side]} error: {sample}")
    if aa:
        notes.append("A/A check: both sides are the baseline site; the ratio shows the noise")
    return BenchResult(
        name=f"{NAME}-aa" if aa else NAME,
        title=TITLE + (" (A/A check)" if aa else ""),
        figures=figures,
        feature_label=labels[FEATURE],
        baseline_label=labels[BASELINE],
        params={
            "database": facts["db_vendor"],
            "database_version": facts["db_version"],
            "paths": paths,
            "host_header": host,
            "client_connections": ctx.concurrency,
            "server": f"gunicorn gthread, {workers} workers x {threads} threads",
            "rounds": ctx.rounds,
            "seconds_per_side_and_round": ctx.duration,
            "warmup_seconds_per_side": ctx.warmup,
            "settings": {labels[s]: m for s, m in settings.items()},
            "totals": {labels[s]: r.summary() for s, r in total.items()},
        },
        rounds=rounds,
        notes=notes,
        errors=errors,
    )
