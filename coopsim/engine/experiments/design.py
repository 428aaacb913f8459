"""Experiment design: which replications an experiment runs, and the pure expansions that list them.

An experiment compares coordination choices over seeded replications. Each
:class:`Replication` is one run of one variant (or sweep point, or set of
decisions); replication *i* uses seed ``base_seed + i`` in every variant
(common random numbers, see :mod:`coopsim.engine.sim.streams`), so differences
are paired (see :mod:`coopsim.engine.experiments.stats`).

The expansions are pure functions, tested on their own: :func:`variant_names`
and :func:`plan` for variants × replications, :func:`factorial` and
:func:`point_label` for a parameter sweep.
"""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from coopsim.engine.scenario.load import apply_override
from coopsim.engine.scenario.model import Scenario
from coopsim.engine.scenario.problems import Position, Problem, ScenarioError
from coopsim.engine.scenario.source import parse_yaml

BASELINE = "baseline"


@dataclass(frozen=True, slots=True)
class Replication:
    """One replication of one variant, of one point of a sweep (``settings``), or of a set of decisions (``choices``)."""

    variant: str
    replication: int
    seed: int
    settings: tuple[str, ...] = ()
    choices: tuple[tuple[str, str], ...] = ()  # (decision point, option) for a scripted decider
    releases: tuple[tuple[int, float, int | None], ...] = ()  # a facilitator's releases (seq, t, step)


@dataclass(frozen=True, slots=True)
class ReplicationResult:
    """What one job produced: metric values and ratings, or the error it raised."""

    job: Replication
    metrics: dict[str, float | None] | None
    ratings: dict[str, str] | None
    error: str | None


def variant_names(scenario: Scenario, names: Sequence[str] | None = None) -> list[str]:
    """The variants to run: ``baseline`` first, then ``names`` (default: all the scenario's variants).

    Raises:
        ScenarioError: a name that is not one of the scenario's variants.
    """
    known = list(scenario.variants)
    chosen = known if names is None else [n for n in names if n != BASELINE]
    unknown = [n for n in chosen if n not in known]
    if unknown:
        raise ScenarioError(
            [
                Problem(Position(scenario.source, 1, 1), f"no variant named {n!r}", "one of: " + ", ".join([BASELINE, *known]))
                for n in unknown
            ]
        )
    return [BASELINE, *dict.fromkeys(chosen)]


def plan(variants: Sequence[str], replications: int, base_seed: int) -> list[Replication]:
    """Every (variant, replication) job; replication *i* has the same seed in every variant."""
    return [Replication(v, i, base_seed + i) for i in range(replications) for v in variants]


def factorial(params: Mapping[str, Sequence[Any]]) -> list[dict[str, Any]]:
    """Every combination of the parameter values (a full-factorial design), as dotted-path settings."""
    names = list(params)
    return [dict(zip(names, values, strict=True)) for values in itertools.product(*(params[n] for n in names))]


def point_label(settings: Mapping[str, Any]) -> str:
    """The name a sweep point goes by, e.g. ``actors.nac.staff=2,channels.x.latency=1d``."""
    return ",".join(f"{k}={v}" for k, v in settings.items())


def experiment_key(scenario: Scenario) -> str:
    """What results are kept under: the scenario file's sha256, and the overrides if any."""
    return key_of(scenario.sha256, scenario.overrides)


def key_of(sha256: str, overrides: Sequence[str] = ()) -> str:
    """The experiment key of a scenario file's sha256 with these overrides, e.g. from a run's manifest."""
    if not overrides:
        return sha256
    return hashlib.sha256((sha256 + "\n" + "\n".join(overrides)).encode()).hexdigest()


def safe_label(label: str) -> str:
    """A variant or sweep-point label as a directory name."""
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in label)


def sweep_grid(params: Sequence[str], scenario: Scenario | None = None) -> dict[str, list[Any]]:
    """Parse ``PATH=V1,V2,...`` settings (``--param``) into a grid: dotted path -> values, each read as YAML.

    With ``scenario``, every value is also applied to it, so a bad one is
    reported before a sweep of many runs starts rather than halfway through.

    Raises:
        ScenarioError: a setting without ``=`` or values, a value that is not YAML, or one the scenario refuses.
    """
    grid: dict[str, list[Any]] = {}
    for p in params:
        path, sep, values = p.partition("=")
        label = f"--param {p if len(p) <= 60 else p[:57] + '...'}"
        if not sep or not path.strip() or not values:
            raise ScenarioError(
                [Problem(Position(label, 1, 1), "a parameter needs a path and values", "PATH=V1,V2,... e.g. actors.nac.staff=1,2")]
            )
        grid[path.strip()] = [parse_yaml(v, label).data if v.strip() else v for v in values.split(",")]
    if scenario is not None:
        for path, values in grid.items():
            for value in values:
                apply_override(scenario, f"{path}={value}")
    return grid
