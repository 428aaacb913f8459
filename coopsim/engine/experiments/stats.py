"""Paired comparisons of a variant against the baseline, over common random numbers.

Replication *i* of every variant runs with the same seed, so each entity draws
the same random numbers wherever the variants are alike. The fair comparison
is then **paired**: the per-replication difference (variant minus baseline),
whose spread is far smaller than that of either side alone.

For each metric :func:`paired` reports the mean difference with a 95%
confidence interval (Student's t; a percentile bootstrap when the differences
are strongly skewed), the relative change, the probability that the variant is
better in a replication, and whether the interval includes zero, in which case
reports say nothing about the difference.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Mapping
from dataclasses import dataclass

from coopsim.engine.scenario.metric_names import better

SKEW_LIMIT = 1.0
"""Above this absolute sample skewness the bootstrap interval replaces the t-interval."""


@dataclass(frozen=True, slots=True)
class Interval:
    mean: float
    low: float
    high: float
    method: str  # "t" or "bootstrap"

    @property
    def includes_zero(self) -> bool:
        return self.low <= 0.0 <= self.high


@dataclass(frozen=True, slots=True)
class Paired:
    """A variant against the baseline on one metric."""

    metric: str
    n: int
    baseline_mean: float
    variant_mean: float
    difference: Interval
    relative_change: float | None
    p_improvement: float  # share of replications in which the variant was better


def mean_ci(xs: list[float], confidence: float = 0.95, seed: int = 0) -> Interval:
    """Mean with a confidence interval: t-interval, or a percentile bootstrap for skewed data."""
    n = len(xs)
    mean = statistics.fmean(xs)
    if n < 2:
        return Interval(mean, mean, mean, "t")
    sd = statistics.stdev(xs)
    if sd == 0:
        return Interval(mean, mean, mean, "t")
    from scipy import stats  # imported here: scipy is slow to import and only comparisons need it

    if abs(float(stats.skew(xs))) > SKEW_LIMIT and n >= 10:
        boot = stats.bootstrap(
            (xs,), statistics.fmean, n_resamples=2000, confidence_level=confidence, method="percentile", vectorized=False, rng=seed
        )
        return Interval(mean, float(boot.confidence_interval.low), float(boot.confidence_interval.high), "bootstrap")
    half = float(stats.t.ppf(1 - (1 - confidence) / 2, n - 1)) * sd / math.sqrt(n)
    return Interval(mean, mean - half, mean + half, "t")


def paired_by_replication(metric: str, baseline: Mapping[int, float | None], variant: Mapping[int, float | None]) -> Paired | None:
    """Pair two arms replication by replication (common random numbers): over the replications that measured both, or None under two."""
    common = sorted(i for i, v in baseline.items() if v is not None and variant.get(i) is not None)
    if len(common) < 2:
        return None
    return paired(metric, [baseline[i] for i in common], [variant[i] for i in common], better(metric) == "lower")


def paired(metric: str, baseline: list[float], variant: list[float], lower_is_better: bool) -> Paired:
    """Compare paired samples (same replication order in both lists)."""
    diffs = [v - b for b, v in zip(baseline, variant, strict=True)]
    base_mean = statistics.fmean(baseline)
    better = [(d < 0) if lower_is_better else (d > 0) for d in diffs]
    return Paired(
        metric=metric,
        n=len(diffs),
        baseline_mean=base_mean,
        variant_mean=statistics.fmean(variant),
        difference=mean_ci(diffs),
        relative_change=(statistics.fmean(diffs) / base_mean) if base_mean else None,
        p_improvement=sum(better) / len(better),
    )
