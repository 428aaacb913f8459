"""Does every decision matter? Each option of each decision point, run over seeded replications.

An exercise forces real decisions only if the options lead somewhere
different. :func:`check_decisions` runs the scenario as it decides by itself
(each point's policy, or else its default option) and then every option of
every decision point forced in turn (the other points deciding by themselves),
over the same seeds with common random numbers, and compares each forced
option with the run as decided on every objective's metric. Every option is
forced, the default too: where a policy chooses another option, the default
is an alternative like any other.

An option **moves** an objective when, against the run as decided:

* its mean changes by at least :data:`MOVE` (10 %) of the larger of the two
  means, and the paired 95 % interval of the difference excludes zero (so a
  10 % wobble of noise does not count); or
* the objective's most common HSEEP rating changes; or
* the share of replications in which the metric is measured at all (a first
  delivery that happens, a request that completes) changes by at least
  :data:`MOVE`.

A point none of whose options moves any objective is **cosmetic**: the
players' choice there changes nothing the exercise measures.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from concurrent.futures import Executor
from dataclasses import dataclass

from coopsim.engine.experiments.design import BASELINE, Replication, ReplicationResult
from coopsim.engine.experiments.executors import execute
from coopsim.engine.experiments.stats import paired_by_replication
from coopsim.engine.scenario.model import Scenario

MOVE = 0.10
"""The least change that counts as moving an objective: 10 % of the mean, or of the replications measured."""


@dataclass(frozen=True, slots=True)
class Arm:
    """One option's results on one objective over the replications."""

    measured: int  # replications in which the metric had a value
    mean: float | None
    rating: str  # the most common HSEEP rating (ties: the worse)


@dataclass(frozen=True, slots=True)
class Effect:
    """One alternative option against the default, on one objective."""

    objective: str
    metric: str
    default: Arm
    option: Arm
    change: float | None  # relative change of the mean (option - default) / |default|
    ci: tuple[float, float] | None  # paired 95 % interval of the difference
    reasons: tuple[str, ...]  # why it moves the objective ("mean", "rating", "measured"); empty if it does not

    @property
    def moves(self) -> bool:
        return bool(self.reasons)


@dataclass(frozen=True, slots=True)
class PointCheck:
    """Every alternative of one decision point against its default."""

    point: str
    default: str
    policy: bool  # whether a policy decides the point (else its default option)
    effects: dict[str, tuple[Effect, ...]]  # option -> one Effect per objective, against the run as decided
    errors: tuple[str, ...]  # replications that failed

    @property
    def cosmetic(self) -> bool:
        return not any(e.moves for per in self.effects.values() for e in per)


_WORST_FIRST = "UMSP"


def _arm(objective, outcomes: list[ReplicationResult]) -> Arm:
    values = [o.metrics.get(objective.metric) for o in outcomes if o.metrics]
    present = [v for v in values if v is not None]
    ratings = Counter(o.ratings.get(objective.id, "U") for o in outcomes if o.ratings)
    top = max(ratings.values(), default=0)
    rating = next((r for r in _WORST_FIRST if ratings.get(r) == top), "U")
    return Arm(len(present), sum(present) / len(present) if present else None, rating)


def effect(objective, default: list[ReplicationResult], option: list[ReplicationResult]) -> Effect:
    """How ``option``'s replications differ from ``default``'s (same seeds) on ``objective``."""
    a, b = _arm(objective, default), _arm(objective, option)
    reasons = []
    change = ci = None
    base = {o.job.replication: o.metrics.get(objective.metric) for o in default if o.metrics}
    other = {o.job.replication: o.metrics.get(objective.metric) for o in option if o.metrics}
    if a.mean is not None and b.mean is not None:
        scale = max(abs(a.mean), abs(b.mean))
        change = (b.mean - a.mean) / abs(a.mean) if a.mean else None
        p = paired_by_replication(objective.metric, base, other)
        if p is not None:
            ci = (p.difference.low, p.difference.high)
            if scale and abs(b.mean - a.mean) >= MOVE * scale and not p.difference.includes_zero:
                reasons.append("mean")
    if a.rating != b.rating:
        reasons.append("rating")
    runs = max(len(default), 1)
    if abs(a.measured - b.measured) >= MOVE * runs:
        reasons.append("measured")
    return Effect(objective.id, objective.metric, a, b, change, ci, tuple(reasons))


def check_decisions(
    scenario: Scenario,
    replications: int = 20,
    *,
    executor: Executor | None = None,
    workers: int | None = None,
    base_seed: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> list[PointCheck]:
    """Run each option of each decision point over ``replications`` seeds, the other points deciding by themselves.

    Replication *i* of every option uses seed ``base_seed + i``. The run as
    decided (no option forced) runs once per seed and is every point's baseline.
    """
    seed0 = scenario.scenario.seed if base_seed is None else base_seed
    points = scenario.decision_points
    if not points:
        return []
    default_label = BASELINE
    todo = [Replication(default_label, i, seed0 + i) for i in range(replications)]
    labels: dict[str, tuple[str, str]] = {}
    for point in points:
        for option in point.options:
            label = f"{point.id}={option.id}"
            labels[label] = (point.id, option.id)
            todo += [Replication(label, i, seed0 + i, choices=((point.id, option.id),)) for i in range(replications)]
    outcomes, _ = execute(scenario, todo, executor, workers, None, progress, None)
    by_label: dict[str, list[ReplicationResult]] = {}
    for o in outcomes:
        by_label.setdefault(o.job.variant, []).append(o)
    defaults = sorted(by_label.get(default_label, []), key=lambda o: o.job.replication)
    checks = []
    for point in points:
        effects: dict[str, tuple[Effect, ...]] = {}
        errors = [f"default, seed {o.job.seed}: {o.error}" for o in defaults if o.error]
        for label, (pid, option) in labels.items():
            if pid != point.id:
                continue
            runs = sorted(by_label.get(label, []), key=lambda o: o.job.replication)
            errors += [f"{option}, seed {o.job.seed}: {o.error}" for o in runs if o.error]
            effects[option] = tuple(effect(obj, defaults, runs) for obj in scenario.objectives)
        checks.append(PointCheck(point.id, point.default, bool(point.policy), effects, tuple(errors)))
    return checks
