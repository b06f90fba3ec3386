"""Collect endpoint (journey.js beacons) vs a bare Django view doing one INSERT.

One gunicorn process of the journey site (bench/settings_collect.py: rate
limits raised, plus /bench/bare-insert/) serves both sides, so the ratio
compares the endpoint with the cheapest possible write on the same server.
Each client thread is a visitor: its first beacon grants analytics consent
(journey.js's consent call), every beacon carries one custom event. Rounds
alternate (ABBA); then the endpoint runs alone for ``--collect-sustain``
seconds (60; 10 with --quick) and every event answered 204 during the whole
benchmark is looked for in the database: lost events must be 0. Issue 4 asks
for at least 0.7 of the bare view's throughput.
"""

from __future__ import annotations

import json

from bench.context import Context
from bench.database import count_touchpoints, prepare
from bench.load import LoadResult, Request, merge, run_load
from bench.rounds import error_notes, errors, load_figures, round_notes, run_rounds
from bench.server import HOST, Server, Worker
from bench.stats import BASELINE, FEATURE, BenchResult, Figure

NAME = "collect"
TITLE = "Collect endpoint (one custom event per beacon) vs a bare Django view doing one INSERT"
THROUGHPUT_TARGET = 0.8  # issue 9 item 28 (issue 4 asked 0.7)
SETTINGS = "bench.settings_collect"
EVENT_KIND = "bench_event"
BARE_KIND = "bench_bare_insert"  # bench/urls_collect.py
SUSTAIN = (60.0, 10.0)  # (full, --quick) seconds


def add_arguments(parser) -> None:
    group = parser.add_argument_group("collect")
    group.add_argument(
        "--collect-sustain",
        type=float,
        metavar="SECONDS",
        help=f"sustained run of the endpoint, then count lost events "
        f"(default {SUSTAIN[0]:g}, --quick {SUSTAIN[1]:g})",
    )


def beacons(page_id: int | None, host: str):
    """A Request factory: journey.js beacons, the first of each visitor granting consent."""
    headers = {"Content-Type": "application/json", "Origin": f"http://{host}"}
    event = {"page": page_id, "events": [{"kind": EVENT_KIND}]}
    first = json.dumps({**event, "consent": True}).encode()
    then = json.dumps(event).encode()

    def make(thread: int, i: int) -> Request:
        return Request("POST", "/journey/collect/", first if i == 0 else then, headers)

    return make


def bare(thread: int, i: int) -> Request:
    return Request("POST", "/bench/bare-insert/", b"")


def run(ctx: Context) -> BenchResult:
    sustain = ctx.args.collect_sustain or SUSTAIN[ctx.quick]
    workers, threads = ctx.args.workers, ctx.args.threads
    labels = {FEATURE: "collect", BASELINE: "bare-insert"}
    server = Server("collect", SETTINGS, ctx.db, ctx.results_dir, workers=workers, threads=threads)
    worker = Worker.if_buffered("collect", SETTINGS, ctx)
    buffered = worker is not None
    accepted = {FEATURE: 0, BASELINE: 0}
    try:
        ctx.log(f"starting the server on {HOST}:{server.port}")
        server.start(ready_path=None)
        ctx.log(f"preparing {ctx.db.label} (migrate, cache table, demo content)")
        facts = prepare(ctx.db, SETTINGS)
        if worker is not None:
            worker.start(ctx.log)
        host = facts["hostname"] or "localhost"
        server.wait_ready("/journey/health/")
        before = count_touchpoints(ctx.db, SETTINGS)
        factories = {FEATURE: beacons(facts["home_page_id"], host), BASELINE: bare}

        def cpu(side: str) -> float:
            # The worker stores what the endpoint buffered: its CPU is the endpoint's cost too.
            return server.cpu_seconds() + (worker.cpu_of(side) if worker else 0.0)

        def load(side: str, seconds: float) -> LoadResult:
            cpu_before = cpu(side)
            result = run_load(
                server.port,
                factories[side],
                concurrency=ctx.concurrency,
                duration=seconds,
                ok_statuses=(204,),
                host_header=host,
            )
            result.server_cpu_s = cpu(side) - cpu_before
            accepted[side] += result.requests
            return result

        per_side, rounds = run_rounds(ctx, load, labels, unit="events/s")
        ctx.log(f"collect alone for {sustain:g} s")
        sustained = load(FEATURE, sustain)
        ctx.log(
            f"sustained: {sustained.throughput:.1f} events/s, {sustained.requests:,} accepted, "
            f"{sustained.errors} failed"
        )
        if worker is not None:
            ctx.log("waiting for the worker to store what is still buffered")
            worker.wait_drained()
    finally:
        server.stop()
        if worker is not None:
            worker.stop()

    after = count_touchpoints(ctx.db, SETTINGS)
    stored = {
        FEATURE: after.get(EVENT_KIND, 0) - before.get(EVENT_KIND, 0),
        BASELINE: after.get(BARE_KIND, 0) - before.get(BARE_KIND, 0),
    }
    lost = accepted[FEATURE] - stored[FEATURE]
    bare_total = merge(per_side[BASELINE])
    figures = load_figures(per_side, unit="events/s", target=THROUGHPUT_TARGET)
    figures += [
        Figure(
            f"sustained {sustain:g} s",
            "events/s",
            sustained.throughput,
            bare_total.throughput,
            higher_is_better=True,
            target=THROUGHPUT_TARGET,
            note="the endpoint alone after the rounds, against the bare view's rounds",
        ),
        Figure(
            "events lost",
            "events",
            float(lost),
            higher_is_better=False,
            note="answered 204 but not stored",
        ),
    ]
    notes = [
        f"events answered 204: {accepted[FEATURE]:,}, stored: {stored[FEATURE]:,}, "
        f"lost: {lost} (target 0); bare inserts answered {accepted[BASELINE]:,}, "
        f"stored {stored[BASELINE]:,}",
        *round_notes(rounds),
        *(
            ["tracking buffered (TRACKING_BUFFER): server CPU includes the qcluster that stored it"]
            if buffered
            else []
        ),
        *error_notes({**per_side, FEATURE: [*per_side[FEATURE], sustained]}, labels),
    ]
    return BenchResult(
        name=NAME,
        title=TITLE,
        figures=figures,
        feature_label=labels[FEATURE],
        baseline_label=labels[BASELINE],
        params={
            "database": facts["db_vendor"],
            "database_version": facts["db_version"],
            "redis": ctx.args.redis_url,
            "client_connections": ctx.concurrency,
            "server": f"gunicorn gthread, {workers} workers x {threads} threads",
            "tracking_buffer": buffered,
            "rounds": ctx.rounds,
            "seconds_per_side_and_round": ctx.duration,
            "warmup_seconds_per_side": ctx.warmup,
            "sustain_seconds": sustain,
            "events_accepted": accepted[FEATURE],
            "events_stored": stored[FEATURE],
            "events_lost": lost,
            "sustained": sustained.summary(),
            "totals": {labels[s]: merge(r).summary() for s, r in per_side.items()},
        },
        rounds=rounds,
        notes=notes,
        errors=errors(per_side) + sustained.errors,
    )
