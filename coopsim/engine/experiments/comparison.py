"""Comparisons: the baseline against variants, sweeps and counterfactuals, with paired statistics.

:func:`compare` runs a scenario's variants, :func:`sweep` a full-factorial
design over settings, :func:`counterfactuals` each alternative option of the
decisions a tabletop session took. Each returns a :class:`Comparison`: tidy
rows and paired statistics against the first arm (the baseline, or the option
actually chosen).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass
from typing import Any

from coopsim.engine.experiments.archive import Archive
from coopsim.engine.experiments.design import Replication, ReplicationResult, factorial, plan, point_label, variant_names
from coopsim.engine.experiments.executors import execute
from coopsim.engine.experiments.stats import Paired, paired_by_replication
from coopsim.engine.scenario.model import Scenario


@dataclass(frozen=True, slots=True)
class Comparison:
    """The results of an experiment: tidy rows, and paired statistics against the baseline."""

    variants: tuple[str, ...]
    replications: int
    outcomes: tuple[ReplicationResult, ...]
    reused: int

    @property
    def rows(self) -> list[dict[str, Any]]:
        """One row per (variant, replication, metric), for a DataFrame."""
        return [
            {"variant": o.job.variant, "replication": o.job.replication, "seed": o.job.seed, "metric": m, "value": v}
            for o in self.outcomes
            if o.metrics
            for m, v in o.metrics.items()
        ]

    def to_pandas(self):
        """The rows as a pandas DataFrame; raises PandasMissing (a ModuleNotFoundError) with the install line if pandas is absent."""
        from coopsim.engine.experiments.export import to_pandas

        return to_pandas(self)

    @property
    def errors(self) -> list[ReplicationResult]:
        return [o for o in self.outcomes if o.error]

    def values(self, variant: str, metric: str) -> dict[int, float]:
        """Replication -> value of ``metric`` in ``variant`` (replications that measured it)."""
        return {
            o.job.replication: o.metrics[metric]
            for o in self.outcomes
            if o.job.variant == variant and o.metrics and o.metrics.get(metric) is not None
        }

    def restricted(self, variant: str, metric: str, horizon: float) -> tuple[dict[int, float], int]:
        """Replication -> time to the event of ``metric``, a replication that never reached it counting as ``horizon``.

        This is the restricted mean's sample: every run in which the event did not
        happen is censored at the run's end, the same ``horizon`` for all, and with
        all censoring at one horizon the Kaplan-Meier estimate is the share of runs
        that reached the event by each time. Returns the values and how many
        replications reached the event.
        """
        runs = [o for o in self.outcomes if o.job.variant == variant and o.metrics is not None]
        values = {o.job.replication: min(o.metrics[metric], horizon) if o.metrics.get(metric) is not None else horizon for o in runs}
        return values, sum(o.metrics.get(metric) is not None for o in runs)

    def paired_restricted(self, variant: str, metric: str, horizon: float) -> Paired | None:
        """``variant`` against the baseline on the restricted time to the event (unreached runs count as ``horizon``)."""
        return paired_by_replication(
            metric, self.restricted(self.variants[0], metric, horizon)[0], self.restricted(variant, metric, horizon)[0]
        )

    def paired(self, variant: str, metric: str) -> Paired | None:
        """``variant`` against the baseline (the first variant) on ``metric``, over replications where both measured it."""
        return paired_by_replication(metric, self.values(self.variants[0], metric), self.values(variant, metric))  # the baseline first


def compare(
    scenario: Scenario,
    variants: Sequence[str] | None = None,
    replications: int = 30,
    *,
    executor: Executor | None = None,
    workers: int | None = None,
    archive: Archive | None = None,
    base_seed: int | None = None,
    progress: Callable[[int, int], None] | None = None,
    keep_logs: str | os.PathLike | None = None,
) -> Comparison:
    """Run ``scenario``'s baseline and variants for ``replications`` each.

    Args:
        scenario: the base scenario (no variant applied; overrides may be).
        variants: variant names (default: all of the scenario's).
        replications: replications per variant.
        executor: where jobs run (default: a local process pool).
        workers: processes in the default pool (default: the core count);
            ``workers=1`` runs the jobs here, one after another.
        archive: keeps each result as it finishes, and supplies those already kept.
        base_seed: seed of replication 0 (default: the scenario's seed).
        progress: called as ``progress(done, total)`` after each job.
        keep_logs: a directory to keep every replication's full run directory in (off by default).
    """
    names = variant_names(scenario, variants)
    seed0 = scenario.scenario.seed if base_seed is None else base_seed
    todo = plan(names, replications, seed0)
    return Comparison(tuple(names), replications, *execute(scenario, todo, executor, workers, archive, progress, keep_logs))


def sweep(
    scenario: Scenario,
    params: Mapping[str, Sequence[Any]],
    replications: int = 10,
    *,
    executor: Executor | None = None,
    workers: int | None = None,
    archive: Archive | None = None,
    base_seed: int | None = None,
    progress: Callable[[int, int], None] | None = None,
    keep_logs: str | os.PathLike | None = None,
) -> Comparison:
    """Run every point of the full-factorial design over ``params`` (dotted paths to values).

    Each point is the scenario with those settings; replication *i* has the same
    seed at every point. The first point plays the baseline in paired statistics.
    """
    points = factorial(params)
    labels = [point_label(p) for p in points]
    seed0 = scenario.scenario.seed if base_seed is None else base_seed
    todo = [
        Replication(label, i, seed0 + i, tuple(f"{k}={v}" for k, v in point.items()))
        for i in range(replications)
        for label, point in zip(labels, points, strict=True)
    ]
    return Comparison(tuple(labels), replications, *execute(scenario, todo, executor, workers, archive, progress, keep_logs))


def counterfactuals(
    scenario: Scenario,
    taken: Mapping[str, str],
    replications: int = 20,
    *,
    executor: Executor | None = None,
    workers: int | None = None,
    base_seed: int | None = None,
    releases: tuple[tuple[int, float, int | None], ...] = (),
    progress: Callable[[int, int], None] | None = None,
) -> dict[str, Comparison]:
    """What the other options would have changed, decision by decision.

    For each decision point in ``taken`` (point id -> option chosen), the
    scenario is re-run with each alternative option there and every other
    decision as taken, over seeded replications with common random numbers.
    ``releases`` are injects a facilitator released, ``(seq, t, step)``,
    re-taken in every replication; ``progress(done, total)`` is called after
    each replication of every decision. In each returned :class:`Comparison` the
    option actually chosen comes first, so ``.paired(option, metric)`` is the
    alternative against the choice.
    """
    seed0 = scenario.scenario.seed if base_seed is None else base_seed
    points = scenario.by_id["decision_points"]
    total = sum(len(points[p].options) for p in taken) * replications
    out = {}
    before = 0
    for point_id, chosen in taken.items():
        labels = [chosen, *(o.id for o in points[point_id].options if o.id != chosen)]
        todo = [
            Replication(label, i, seed0 + i, choices=tuple(sorted({**taken, point_id: label}.items())), releases=releases)
            for i in range(replications)
            for label in labels
        ]
        tick = None if progress is None else (lambda done, _n, base=before: progress(base + done, total))
        out[point_id] = Comparison(tuple(labels), replications, *execute(scenario, todo, executor, workers, None, tick, None))
        before += len(todo)
    return out
