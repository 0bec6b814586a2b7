"""The arithmetic of the benchmark: percentiles, latency summaries, ratios, CPU per request.

Pure functions, unit-tested (tests/test_bench_figures.py): every number in the report is made here.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0-100) by linear interpolation between the closest ranks (the
    method numpy calls "linear"): p50 of [1, 2, 3, 4] is 2.5, p100 is the maximum."""
    if not values:
        raise ValueError("percentile of no values")
    if not 0 <= q <= 100:
        raise ValueError(f"percentile {q} is not within 0-100")
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100
    low = math.floor(rank)
    high = math.ceil(rank)
    if low == high:
        return float(ordered[low])
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


@dataclass(frozen=True)
class Latency:
    """Latencies in milliseconds."""

    count: int
    mean: float
    p50: float
    p90: float
    p99: float
    max: float

    @classmethod
    def of(cls, seconds: Sequence[float]) -> Latency | None:
        if not seconds:
            return None
        millis = [s * 1000 for s in seconds]
        return cls(
            count=len(millis),
            mean=sum(millis) / len(millis),
            p50=percentile(millis, 50),
            p90=percentile(millis, 90),
            p99=percentile(millis, 99),
            max=max(millis),
        )

    def as_dict(self) -> dict[str, float]:
        return {
            "count": self.count,
            "mean_ms": round(self.mean, 2),
            "p50_ms": round(self.p50, 2),
            "p90_ms": round(self.p90, 2),
            "p99_ms": round(self.p99, 2),
            "max_ms": round(self.max, 2),
        }


def ratio(measured: float, baseline: float) -> float | None:
    """measured / baseline; None when the baseline is zero (nothing to compare with)."""
    if baseline == 0:
        return None
    return measured / baseline


def per_second(count: int, seconds: float) -> float:
    if seconds <= 0:
        raise ValueError("a rate needs a positive duration")
    return count / seconds


def cpu_ms_per_request(cpu_seconds: float, requests: int) -> float | None:
    """Milliseconds of CPU (summed over all cores) spent per request."""
    if requests <= 0:
        return None
    return cpu_seconds * 1000 / requests


def cores_busy(cpu_seconds: float, wall_seconds: float) -> float:
    """How many cores were busy on average (CPU seconds per wall second)."""
    if wall_seconds <= 0:
        raise ValueError("needs a positive duration")
    return cpu_seconds / wall_seconds


def verdict(value: float | None, target: float, *, higher_is_better: bool) -> str:
    """'met', 'missed', or 'n/a' for a figure against its target."""
    if value is None:
        return "n/a"
    good = value >= target if higher_is_better else value <= target
    return "met" if good else "missed"
