"""Experiments: variants × seeded replications, run in parallel and kept as they finish.

An experiment compares coordination choices. Each *job* is one replication of
one variant; replication *i* uses seed ``base_seed + i`` in every variant
(common random numbers, see :mod:`coopsim.engine.sim.streams`), so differences are
paired (see :mod:`coopsim.engine.experiments.stats`).

The expansions are pure functions: :func:`variant_names` and :func:`jobs`
for variants × replications, :func:`factorial` for a parameter sweep. Jobs run
on any :class:`concurrent.futures.Executor`: a local process pool by default,
or a Dask cluster's executor (``Client.get_executor()``). Every finished
replication goes into the :class:`~coopsim.engine.archive.Archive` at once,
so a re-run resumes where an interrupted one stopped. A replication that
raises is kept with its error, and the others go on.
"""

from __future__ import annotations

import hashlib
import itertools
import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import Executor, ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from typing import Any

from coopsim.engine.experiments.archive import Archive
from coopsim.engine.experiments.stats import Paired, paired
from coopsim.engine.scenario.load import loads_scenario, scenario_yaml
from coopsim.engine.scenario.metric_names import better
from coopsim.engine.scenario.model import Scenario
from coopsim.engine.scenario.source import Position, Problem, ScenarioError
from coopsim.engine.sim.deciders import ScriptedDecider

BASELINE = "baseline"


@dataclass(frozen=True, slots=True)
class Job:
    """One replication of one variant, of one point of a sweep (``settings``), or of a set of decisions (``choices``)."""

    variant: str
    replication: int
    seed: int
    settings: tuple[str, ...] = ()
    choices: tuple[tuple[str, str], ...] = ()  # (decision point, option) for a scripted decider
    releases: tuple[tuple[int, float, int | None], ...] = ()  # a facilitator's releases (seq, t, step)


@dataclass(frozen=True, slots=True)
class Outcome:
    """What one job produced: metric values and ratings, or the error it raised."""

    job: Job
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


def jobs(variants: Sequence[str], replications: int, base_seed: int) -> list[Job]:
    """Every (variant, replication) job; replication *i* has the same seed in every variant."""
    return [Job(v, i, base_seed + i) for i in range(replications) for v in variants]


def factorial(params: Mapping[str, Sequence[Any]]) -> list[dict[str, Any]]:
    """Every combination of the parameter values (a full-factorial design), as dotted-path settings."""
    names = list(params)
    return [dict(zip(names, values, strict=True)) for values in itertools.product(*(params[n] for n in names))]


_loaded: dict[tuple[str, str | None, tuple[str, ...]], Scenario] = {}
"""Scenarios a worker has loaded, so each is validated once per process, not once per replication."""


def run_job(text: str, source: str, overrides: tuple[str, ...], job: Job, logs: str | None = None) -> Outcome:
    """Run one job (in a worker process); never raises, so one failure cannot stop the rest.

    With ``logs``, the replication's full run directory is kept under it.
    """
    from coopsim.engine.run import releasing, run  # a worker imports the engine once

    try:
        every = overrides + job.settings
        # a sweep point or a set of decisions is the baseline with its settings; a variant is the scenario's own patch
        variant = None if job.variant == BASELINE or job.settings or job.choices else job.variant
        key = (hashlib.sha256(text.encode()).hexdigest(), variant, every)
        scenario = _loaded.get(key)
        if scenario is None:
            scenario = _loaded[key] = loads_scenario(text, source, variant=variant, overrides=every)
        out = os.path.join(logs, f"{_safe(job.variant)}-s{job.seed}") if logs else None
        decider = ScriptedDecider(dict(job.choices)) if job.choices else None
        drive = releasing(job.releases) if job.releases else None
        result = run(scenario, seed=job.seed, out=out, decider=decider, drive=drive, replace=True)  # a log of its own
        ratings = {o.objective: o.rating for o in result.metrics.objectives}
        return Outcome(job, result.metrics.values, ratings, None)
    except Exception as exc:  # recorded with the result; the experiment goes on
        return Outcome(job, None, None, f"{type(exc).__name__}: {exc}")


class DaskMissing(Exception):
    """Dask was asked for but is not installed."""


def dask_executor(address: str):
    """A ``concurrent.futures`` executor on a Dask cluster: ``"local"`` starts a LocalCluster.

    Returns:
        ``(executor, close)``: call ``close()`` when the experiment is done.

    Raises:
        DaskMissing: dask.distributed is not installed.
    """
    try:
        from distributed import Client, LocalCluster
    except ImportError:
        raise DaskMissing("Dask is not installed (expected: pip install 'coopsim[dask]')") from None
    if address == "local":
        cluster = LocalCluster(n_workers=os.cpu_count() or 1, threads_per_worker=1, processes=True, dashboard_address=None)
        client = Client(cluster)
    else:
        cluster, client = None, Client(address)

    def close() -> None:
        client.close()
        if cluster is not None:
            cluster.close()

    return client.get_executor(), close


def _safe(label: str) -> str:
    """A variant or sweep-point label as a directory name."""
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in label)


def experiment_key(scenario: Scenario) -> str:
    """What results are kept under: the scenario file's sha256, and the overrides if any."""
    if not scenario.overrides:
        return scenario.sha256
    return hashlib.sha256((scenario.sha256 + "\n" + "\n".join(scenario.overrides)).encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class Comparison:
    """The results of an experiment: tidy rows, and paired statistics against the baseline."""

    variants: tuple[str, ...]
    replications: int
    outcomes: tuple[Outcome, ...]
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
        """The rows as a pandas DataFrame (needs pandas installed)."""
        import pandas as pd

        return pd.DataFrame(self.rows)

    @property
    def errors(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.error]

    def values(self, variant: str, metric: str) -> dict[int, float]:
        """Replication -> value of ``metric`` in ``variant`` (replications that measured it)."""
        return {
            o.job.replication: o.metrics[metric]
            for o in self.outcomes
            if o.job.variant == variant and o.metrics and o.metrics.get(metric) is not None
        }

    def paired(self, variant: str, metric: str) -> Paired | None:
        """``variant`` against the baseline (the first variant) on ``metric``, over replications where both measured it."""
        base, other = self.values(self.variants[0], metric), self.values(variant, metric)  # the baseline comes first
        common = sorted(set(base) & set(other))
        if len(common) < 2:
            return None
        return paired(metric, [base[i] for i in common], [other[i] for i in common], better(metric) == "lower")


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
    todo = jobs(names, replications, seed0)
    return _execute(scenario, tuple(names), replications, todo, executor, workers, archive, progress, keep_logs)


def point_label(settings: Mapping[str, Any]) -> str:
    """The name a sweep point goes by, e.g. ``actors.nac.staff=2,channels.x.latency=1d``."""
    return ",".join(f"{k}={v}" for k, v in settings.items())


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
        Job(label, i, seed0 + i, tuple(f"{k}={v}" for k, v in point.items()))
        for i in range(replications)
        for label, point in zip(labels, points, strict=True)
    ]
    return _execute(scenario, tuple(labels), replications, todo, executor, workers, archive, progress, keep_logs)


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
            Job(label, i, seed0 + i, choices=tuple(sorted({**taken, point_id: label}.items())), releases=releases)
            for i in range(replications)
            for label in labels
        ]
        tick = None if progress is None else (lambda done, _n, base=before: progress(base + done, total))
        out[point_id] = _execute(scenario, tuple(labels), replications, todo, executor, workers, None, tick, None)
        before += len(todo)
    return out


def _execute(scenario, names, replications, todo, executor, workers, archive, progress, keep_logs) -> Comparison:
    key = experiment_key(scenario)
    kept = {(r["variant"], r["seed"]): r for r in archive.rows(key)} if archive else {}
    outcomes = [
        Outcome(j, kept[j.variant, j.seed]["metrics"], kept[j.variant, j.seed]["ratings"], kept[j.variant, j.seed]["error"])
        for j in todo
        if (j.variant, j.seed) in kept
    ]
    missing = [j for j in todo if (j.variant, j.seed) not in kept]
    reused = len(outcomes)
    logs = os.fspath(os.path.abspath(keep_logs)) if keep_logs is not None else None
    text, source, overrides = scenario_yaml(scenario, variants=True), scenario.source, tuple(scenario.overrides)

    def keep(outcome: Outcome) -> None:
        outcomes.append(outcome)
        if archive:
            j = outcome.job
            archive.put(key, j.variant, j.seed, j.replication, outcome.metrics, outcome.ratings, outcome.error)
        if progress:
            progress(len(outcomes), len(todo))

    if missing:
        if executor is None and (workers or os.cpu_count() or 1) == 1:
            for j in missing:
                keep(run_job(text, source, overrides, j, logs))
        else:
            _run_on(executor, workers, missing, keep, (text, source, overrides), logs)
    order = {(j.variant, j.replication): n for n, j in enumerate(todo)}
    outcomes.sort(key=lambda o: order[o.job.variant, o.job.replication])
    return Comparison(names, replications, tuple(outcomes), reused)


def _run_on(executor: Executor | None, workers: int | None, missing: Iterable[Job], keep, args: tuple, logs: str | None) -> None:
    own = executor is None
    pool = ProcessPoolExecutor(max_workers=workers or os.cpu_count()) if own else executor
    futures = [pool.submit(run_job, *args, j, logs) for j in missing]
    try:
        for future in as_completed(futures):
            keep(future.result())
    finally:
        # On Ctrl-C, what has finished is already archived; drop what has not started.
        for future in futures:
            future.cancel()
        if own:
            pool.shutdown(wait=True, cancel_futures=True)
