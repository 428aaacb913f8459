"""Executors: where an experiment's replications run, and how each result is kept the moment it finishes.

Replications run on any :class:`concurrent.futures.Executor`: a local process
pool by default, here one after another with one worker, or a Dask cluster's
executor (:func:`dask_executor`, or ``Client.get_executor()``). Every finished
replication goes into the :class:`~coopsim.engine.experiments.archive.Archive`
at once, so a re-run resumes where an interrupted one stopped. A replication
that raises is kept with its error, and the others go on.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Iterable
from concurrent.futures import Executor, ProcessPoolExecutor, as_completed

from coopsim.engine.experiments.archive import Archive
from coopsim.engine.experiments.design import BASELINE, Replication, ReplicationResult, experiment_key, safe_label
from coopsim.engine.scenario.load import loads_scenario, scenario_yaml
from coopsim.engine.scenario.model import Scenario
from coopsim.engine.sim.deciders import ScriptedDecider

_loaded: dict[tuple[str, str | None, tuple[str, ...]], Scenario] = {}
"""Scenarios a worker has loaded, so each is validated once per process, not once per replication."""


def run_replication(text: str, source: str, overrides: tuple[str, ...], job: Replication, logs: str | None = None) -> ReplicationResult:
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
        out = os.path.join(logs, f"{safe_label(job.variant)}-s{job.seed}") if logs else None
        decider = ScriptedDecider(dict(job.choices)) if job.choices else None
        drive = releasing(job.releases) if job.releases else None
        result = run(scenario, seed=job.seed, out=out, decider=decider, drive=drive, replace=True)  # a log of its own
        ratings = {o.objective: o.rating for o in result.metrics.objectives}
        return ReplicationResult(job, result.metrics.values, ratings, None)
    except Exception as exc:  # recorded with the result; the experiment goes on
        return ReplicationResult(job, None, None, f"{type(exc).__name__}: {exc}")


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


def execute(
    scenario: Scenario,
    todo: list[Replication],
    executor: Executor | None,
    workers: int | None,
    archive: Archive | None,
    progress: Callable[[int, int], None] | None,
    keep_logs: str | os.PathLike | None,
) -> tuple[tuple[ReplicationResult, ...], int]:
    """Run what ``todo`` lists that ``archive`` does not hold yet, keeping each result as it finishes.

    Returns:
        Every result in ``todo``'s order, and how many of them were reused from the archive.
    """
    key = experiment_key(scenario)
    kept = {(r["variant"], r["seed"]): r for r in archive.rows(key)} if archive else {}
    outcomes = [
        ReplicationResult(j, kept[j.variant, j.seed]["metrics"], kept[j.variant, j.seed]["ratings"], kept[j.variant, j.seed]["error"])
        for j in todo
        if (j.variant, j.seed) in kept
    ]
    missing = [j for j in todo if (j.variant, j.seed) not in kept]
    reused = len(outcomes)
    logs = os.fspath(os.path.abspath(keep_logs)) if keep_logs is not None else None
    text, source, overrides = scenario_yaml(scenario, variants=True), scenario.source, tuple(scenario.overrides)

    def keep(outcome: ReplicationResult) -> None:
        outcomes.append(outcome)
        if archive:
            j = outcome.job
            archive.put(key, j.variant, j.seed, j.replication, outcome.metrics, outcome.ratings, outcome.error)
        if progress:
            progress(len(outcomes), len(todo))

    if missing:
        if executor is None and (workers or os.cpu_count() or 1) == 1:
            for j in missing:
                keep(run_replication(text, source, overrides, j, logs))
        else:
            _run_on(executor, workers, missing, keep, (text, source, overrides), logs)
    order = {(j.variant, j.replication): n for n, j in enumerate(todo)}
    outcomes.sort(key=lambda o: order[o.job.variant, o.job.replication])
    return tuple(outcomes), reused


def _run_on(executor: Executor | None, workers: int | None, missing: Iterable[Replication], keep, args: tuple, logs: str | None) -> None:
    own = executor is None
    pool = ProcessPoolExecutor(max_workers=workers or os.cpu_count()) if own else executor
    futures = [pool.submit(run_replication, *args, j, logs) for j in missing]
    try:
        for future in as_completed(futures):
            keep(future.result())
    finally:
        # On Ctrl-C, what has finished is already archived; drop what has not started.
        for future in futures:
            future.cancel()
        if own:
            pool.shutdown(wait=True, cancel_futures=True)
