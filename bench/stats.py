"""The arithmetic of a benchmark: percentiles, ratios, figures and round order.

Pure functions and small data classes, no I/O, so tests/test_bench_harness.py
can check them on given numbers.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

FEATURE = "feature"
BASELINE = "baseline"


def percentile(values: Sequence[float], p: float) -> float:
    """The p-th percentile (0..100) with linear interpolation between ranks.

    The same definition as numpy's default ("linear"): p=50 of [1, 2, 3, 4] is 2.5.
    """
    if not values:
        raise ValueError("percentile() of no values")
    if not 0 <= p <= 100:
        raise ValueError(f"percentile must be within 0..100, not {p}")
    ordered = sorted(values)
    rank = (len(ordered) - 1) * p / 100
    low = math.floor(rank)
    high = math.ceil(rank)
    if low == high:
        return float(ordered[low])
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def ratio(feature: float | None, baseline: float | None) -> float | None:
    """feature / baseline, or None when either is missing or the baseline is 0."""
    if feature is None or baseline is None or baseline == 0:
        return None
    return feature / baseline


# Two-sided 95 % quantiles of Student's t for 1..30 degrees of freedom.
_T975 = (
    12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228,
    2.201, 2.179, 2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086,
    2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042,
)  # fmt: skip


def ratio_interval(ratios: Sequence[float]) -> tuple[float, float] | None:
    """95 % confidence interval of the typical per-round ratio (geometric mean).

    Ratios are averaged on a log scale (0.8 and 1.25 are the same distance
    from 1), with Student's t over the rounds. An interval that contains 1.0
    means this run cannot tell the two sides apart. None with fewer than two
    rounds or a non-positive ratio.
    """
    if len(ratios) < 2 or any(r <= 0 for r in ratios):
        return None
    logs = [math.log(r) for r in ratios]
    df = len(logs) - 1
    t = _T975[df - 1] if df <= len(_T975) else 1.96
    half = t * statistics.stdev(logs) / math.sqrt(len(logs))
    centre = statistics.fmean(logs)
    return math.exp(centre - half), math.exp(centre + half)


def paired_interval(
    features: Sequence[float | None], baselines: Sequence[float | None]
) -> tuple[float, float] | None:
    """ratio_interval() of feature/baseline, run by run (pairs of one round or repeat)."""
    ratios = [ratio(f, b) for f, b in zip(features, baselines, strict=True)]
    return ratio_interval([r for r in ratios if r is not None])


def alternating_order(rounds: int) -> list[tuple[str, str]]:
    """Which side runs first in each round: ABBA, so slow drift hits both sides alike.

    Round 0 runs feature then baseline, round 1 baseline then feature, and so on.
    """
    if rounds < 1:
        raise ValueError("at least one round is needed")
    return [(FEATURE, BASELINE) if i % 2 == 0 else (BASELINE, FEATURE) for i in range(rounds)]


@dataclass
class Figure:
    """One measured quantity for the feature and its baseline, from the same run.

    ``ratio`` is always feature / baseline. ``higher_is_better`` says how to read
    it: for throughput a ratio of 0.9 means the feature serves 10 % fewer
    requests; for a latency or a duration a ratio of 1.1 means it takes 10 %
    longer. ``target`` is the ratio an issue asks for; it is reported, never
    asserted. A figure without a baseline (an absolute size, say) has no ratio.
    """

    metric: str
    unit: str
    feature: float | None
    baseline: float | None = None
    higher_is_better: bool = True
    target: float | None = None
    note: str = ""
    #: 95 % confidence interval of the ratio over the rounds (see ratio_interval()).
    interval: tuple[float, float] | None = None

    @property
    def ratio(self) -> float | None:
        return ratio(self.feature, self.baseline)

    @property
    def target_met(self) -> bool | None:
        r = self.ratio
        if self.target is None or r is None:
            return None
        return r >= self.target if self.higher_is_better else r <= self.target

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "ratio": self.ratio, "target_met": self.target_met}


@dataclass
class BenchResult:
    """What a benchmark module's ``run()`` returns to bench/run.py."""

    name: str
    title: str
    figures: list[Figure]
    feature_label: str = FEATURE
    baseline_label: str = BASELINE
    params: dict[str, Any] = field(default_factory=dict)
    rounds: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    errors: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "title": self.title,
            "feature_label": self.feature_label,
            "baseline_label": self.baseline_label,
            "figures": [f.as_dict() for f in self.figures],
            "params": self.params,
            "rounds": self.rounds,
            "notes": self.notes,
            "errors": self.errors,
        }


def spread(values: Sequence[float]) -> tuple[float, float]:
    """(min, max) of per-round values: how far one round strays from another."""
    if not values:
        raise ValueError("spread() of no values")
    return min(values), max(values)


def format_number(value: float | None) -> str:
    """A figure with three significant-ish digits, or '-' when missing."""
    if value is None:
        return "-"
    magnitude = abs(value)
    if magnitude >= 100:
        return f"{value:,.0f}"
    if magnitude >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"
