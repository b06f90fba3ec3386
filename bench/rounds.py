"""Alternating load rounds of a feature and its baseline, and the figures they give.

Shared by the HTTP benchmarks (pageview, collect): warm both sides up, run
ABBA rounds of ``ctx.duration`` seconds per side, then turn the per-side
results into throughput, latency and server-CPU figures with 95 % intervals
of the per-round ratios.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable

from bench.context import Context
from bench.load import LoadResult, merge
from bench.stats import BASELINE, FEATURE, Figure, alternating_order, paired_interval, ratio

#: load(side, seconds) -> LoadResult, with server_cpu_s filled in
Load = Callable[[str, float], LoadResult]


def run_rounds(
    ctx: Context, load: Load, labels: dict[str, str], unit: str = "req/s"
) -> tuple[dict[str, list[LoadResult]], list[dict]]:
    """Warm-up, then ``ctx.rounds`` ABBA rounds; (results per side, one row per round)."""
    for side in (FEATURE, BASELINE):
        load(side, ctx.warmup)
    ctx.log(f"{ctx.rounds} rounds of {ctx.duration:g} s per side")
    per_side: dict[str, list[LoadResult]] = {FEATURE: [], BASELINE: []}
    rounds: list[dict] = []
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
            f"round {n}/{ctx.rounds}: {labels[FEATURE]} {rps[FEATURE]:.1f} {unit}, "
            f"{labels[BASELINE]} {rps[BASELINE]:.1f} {unit}, ratio {row['throughput_ratio']}"
        )
    return per_side, rounds


def load_figures(
    per_side: dict[str, list[LoadResult]], *, unit: str = "req/s", target: float | None = None
) -> list[Figure]:
    """Throughput (with the issue's target), p50/p95 latency and server CPU per request."""
    totals = {side: merge(results) for side, results in per_side.items()}

    def figure(metric, unit, value, higher_is_better=False, **kwargs) -> Figure:
        return Figure(
            metric,
            unit,
            value(totals[FEATURE]),
            value(totals[BASELINE]),
            higher_is_better=higher_is_better,
            interval=paired_interval(
                [value(r) for r in per_side[FEATURE]], [value(r) for r in per_side[BASELINE]]
            ),
            **kwargs,
        )

    return [
        figure("throughput", unit, lambda r: r.throughput, True, target=target),
        figure("latency p50", "ms", lambda r: r.latency(50)),
        figure("latency p95", "ms", lambda r: r.latency(95)),
        figure(
            "server CPU per request",
            "ms",
            lambda r: r.cpu_ms_per_request,
            note="user+system CPU of gunicorn's processes / requests served",
        ),
    ]


def round_notes(rounds: list[dict]) -> list[str]:
    """The spread of the per-round throughput ratios, for the notes of a result."""
    ratios = [row["throughput_ratio"] for row in rounds if row["throughput_ratio"]]
    if not ratios:
        return []
    return [
        f"per-round throughput ratio: min {min(ratios):.3f}, "
        f"median {statistics.median(ratios):.3f}, max {max(ratios):.3f}"
    ]


def error_notes(per_side: dict[str, list[LoadResult]], labels: dict[str, str]) -> list[str]:
    return [
        f"{labels[side]} error: {sample}"
        for side, results in per_side.items()
        for sample in merge(results).error_samples
    ]


def errors(per_side: dict[str, list[LoadResult]]) -> int:
    return sum(r.errors for results in per_side.values() for r in results)
