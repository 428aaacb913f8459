"""Running a scenario: the named phases of one run.

* **build**: a :class:`~coopsim.engine.world.World` from a validated scenario,
  a seed and a decider (:func:`coopsim.engine.world.build`);
* **simulate**: start the exercise processes and advance SimPy to the
  scenario's end, or until the record limit or an interrupt stops it
  (:class:`Simulation`, which tabletop play also advances step by step);
* **measure**: the :class:`~coopsim.engine.metrics.Metrics`, accumulated as
  records streamed past;
* **write**: ``events.jsonl``, ``metrics.json``, ``manifest.json`` and the
  resolved ``scenario.yaml`` (what the reports read), atomically.

:func:`run` does all four and returns a :class:`RunResult`. The same scenario,
seed and coopsim version always give a byte-identical ``events.jsonl``.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Iterable
from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from coopsim import __version__
from coopsim.engine.log.outputs import RUN, file_sha256, staged, write_json
from coopsim.engine.log.records import Record, RunStopped
from coopsim.engine.log.sinks import JsonlSink, MemorySink
from coopsim.engine.metrics.measurer import Measurer, Metrics
from coopsim.engine.scenario.load import load_scenario, scenario_yaml
from coopsim.engine.scenario.model import Scenario
from coopsim.engine.sim import exercise
from coopsim.engine.sim.deciders import Decider, DefaultDecider, ScriptedDecider
from coopsim.engine.sim.world import LimitReached, World, build

CHECKED = ("events.jsonl", "metrics.json", "scenario.yaml")
"""The run's files whose sha256 the manifest records."""


@dataclass(frozen=True, slots=True)
class Outcome:
    """How a run ended: ``completed``, ``stopped`` (a limit) or ``interrupted``."""

    status: str
    reason: str
    end_time: float


@dataclass(frozen=True, slots=True)
class RunResult:
    """What a run produced: its manifest, metrics, and where its files are."""

    manifest: dict[str, Any]
    metrics: Metrics
    out_dir: Path | None
    records: tuple[Record, ...] | None

    @property
    def outcome(self) -> Outcome:
        o = self.manifest["outcome"]
        return Outcome(o["status"], o["reason"], o["end_time"])


Progress = Callable[[float, float, int], None]
"""Called as ``progress(t, duration, records)`` a hundred times over a run."""


def _ticker(world: World, progress: Progress, duration: float):
    # Ticks only read the clock, so the records (and their order) are the same with or without them.
    step = duration / 100
    while True:
        yield world.env.timeout(step)
        progress(world.env.now, duration, world.records_written)


class Simulation:
    """A run in progress: the world with its exercise started, advanced to its end or in steps.

    :func:`run` goes straight to the end. Tabletop play advances in steps and
    pauses between them. ``steps`` counts the SimPy events processed so far;
    how a run is split into advances never changes the order events are
    processed in, so the same scenario, seed and decisions always reach the
    same state after the same number of steps. That makes a step count an
    exact place to resume a session from, or to replay a facilitator's
    action at.
    """

    def __init__(self, world: World):
        self.world = world
        self.end = world.scenario.scenario.duration
        self.steps = 0
        self.outcome: Outcome | None = None
        exercise.start(world)

    @property
    def now(self) -> float:
        return self.world.env.now

    def advance(self, until: float | None = None, stop: Callable[[], bool] | None = None) -> Outcome | None:
        """Process events due before ``until`` (default: the scenario end), one at a time.

        Returns early, after the event that made ``stop()`` true. Returns the
        run's :class:`Outcome` once it has ended, else None.
        """
        env = self.world.env
        until = self.end if until is None else min(until, self.end)
        try:
            while self.outcome is None and env.peek() < until:
                env.step()
                self.steps += 1
                if stop is not None and stop():
                    break
        except LimitReached as exc:
            return self._limit(exc)
        if self.outcome is None and env.peek() >= self.end:
            self.outcome = self._completed()
        return self.outcome

    def to_end(self, progress: Progress | None = None) -> Outcome:
        """Run at full speed to the scenario end (or the record limit)."""
        if progress is not None and self.end > 0:
            self.world.env.process(_ticker(self.world, progress, self.end))
        try:
            self.world.env.run(until=self.end)
        except LimitReached as exc:
            return self._limit(exc)
        self.outcome = self._completed()
        return self.outcome

    def go_to(self, step: int) -> None:
        """Advance until exactly ``step`` events have been processed (a recorded place)."""
        if self.steps < step:
            self.advance(stop=lambda: self.steps >= step)

    def release(self, seq: int, t: float) -> None:
        """Release inject ``seq`` at scenario time ``t`` (now or later): the facilitator's release."""
        self.world.env.process(exercise.release_at(self.world, seq, t))

    def replay(self, releases: Iterable[tuple[int, float, int | None]]) -> None:
        """Release injects at their places ``(seq, t, step)``, as a facilitator did.

        A release with no step is planned (a script's): it is scheduled for
        its time at once. One with a step is re-taken when the run has
        processed that many events, exactly where it was taken at the table.
        """
        for seq, t, step in releases:
            if step is None:
                self.release(seq, t)
        for seq, t, step in releases:
            if step is not None:
                self.go_to(step)
                self.release(seq, t)

    def finish(self) -> Outcome:
        """Run on to the end, unless the run has ended already."""
        return self.outcome or self.to_end()

    def interrupt(self) -> Outcome:
        """End the run here because the user pressed Ctrl-C; what was recorded is kept."""
        return self._stop("interrupted", f"interrupted at t={self.now:.2f}h")

    def _completed(self) -> Outcome:
        return Outcome("completed", f"reached the scenario end at t={self.end:g}h", self.end)

    def _limit(self, exc: LimitReached) -> Outcome:
        return self._stop("stopped", exc.reason(self.now))

    def _stop(self, status: str, reason: str) -> Outcome:
        self.world.record_limit = self.world.records_written + 2  # room for the stop record itself
        self.world.emit(RunStopped, "SIMCELL", reason)
        self.outcome = Outcome(status, reason, self.now)
        return self.outcome


Drive = Callable[[Simulation], Outcome]
"""How a run advances; the default goes straight to the end, a played session replays its facilitator's actions."""


def releasing(places: tuple[tuple[int, float, int | None], ...]) -> Drive:
    """A drive that releases injects at their places ``(seq, t, step)``, then runs to the end."""

    def drive(simulation: Simulation) -> Outcome:
        simulation.replay(places)
        return simulation.finish()

    return drive


def run(
    scenario: Scenario | str | Path,
    *,
    seed: int | None = None,
    decider: Decider | None = None,
    out: str | Path | None = None,
    keep_records: bool = False,
    record_limit: int | None = None,
    progress: Progress | None = None,
    drive: Drive | None = None,
    replace: bool = False,
) -> RunResult:
    """Run ``scenario`` once.

    Args:
        scenario: a loaded scenario, or a path / bundled name to load.
        seed: the run seed (default: the scenario's own ``seed``).
        decider: who decides at decision points (default: each point's default).
        out: a directory to write the run into; None writes no files.
        keep_records: also return every record in memory (for tests and notebooks).
        record_limit: stop after this many records (default: the scenario's).
        progress: called as ``progress(t, duration, records)`` as the run goes.
        drive: advances the :class:`Simulation` to its end (default: straight
            there; :mod:`coopsim.engine.tabletop.session` replays a tabletop session).
        replace: write over an earlier run in ``out`` (only ever a run
            directory holding nothing but what coopsim wrote there).

    Raises:
        OutputDirError: ``out`` holds something that is not an earlier run,
            or an earlier run and ``replace`` is not set.

    Returns:
        A :class:`RunResult`. A run stopped by its record limit or by Ctrl-C
        still returns (and writes) everything it recorded, with the outcome
        saying why it stopped.
    """
    if not isinstance(scenario, Scenario):
        scenario = load_scenario(scenario)
    seed = scenario.scenario.seed if seed is None else seed
    decider = decider or DefaultDecider()
    if isinstance(decider, ScriptedDecider):
        decider.check(scenario)
    final = Path(out) if out is not None else None
    sinks: list[Any] = []
    memory = MemorySink() if keep_records else None
    if memory is not None:
        sinks.append(memory)
    failure: BaseException | None = None
    # The run directory is staged and published whole; the events log streams into the staging copy.
    with staged(final, RUN, replace=replace) if final is not None else nullcontext() as staging:
        log = JsonlSink(staging / "events.jsonl") if staging is not None else None
        if log is not None:
            sinks.append(log)
        began = time.perf_counter()
        world = build(scenario, seed, decider, sinks, record_limit)
        measurer = Measurer(scenario, lambda: world.scenario)
        sinks.insert(0, measurer)
        simulation = Simulation(world)
        try:
            outcome = drive(simulation) if drive is not None else simulation.to_end(progress)
        except KeyboardInterrupt:
            outcome = simulation.interrupt()
        except Exception as exc:  # a bug or a decider's error: keep what was recorded, then re-raise
            failure = exc
            outcome = Outcome("failed", f"{type(exc).__name__}: {exc}", world.env.now)
        finally:
            if log is not None:
                log.close()
        metrics = measurer.finish(outcome.end_time)
        taken = metrics.detail.get("decisions", [])
        manifest = _manifest(scenario, seed, decider, taken, outcome, world.records_written, time.perf_counter() - began)
        if staging is not None:
            write_json(staging / "metrics.json", metrics.as_dict())
            if scenario._document is not None:
                # the scenario as run (variant and overrides applied), so reports need nothing else
                (staging / "scenario.yaml").write_text(scenario_yaml(scenario), encoding="utf-8")
            # what the run wrote, so a reader can tell a damaged or edited file from the run's own
            manifest["sha256"] = {name: file_sha256(staging / name) for name in CHECKED if (staging / name).exists()}
            write_json(staging / "manifest.json", manifest)
    if failure is not None:
        raise failure
    return RunResult(manifest, metrics, final, tuple(memory) if memory is not None else None)


def _manifest(
    scenario: Scenario, seed: int, decider: Decider, taken: list[dict[str, Any]], outcome: Outcome, records: int, wall: float
) -> dict[str, Any]:
    resolved = scenario.model_dump_json(by_alias=True, exclude={"variants"}).encode("utf-8")  # what ran, as in scenario.yaml
    return {
        "coopsim_version": __version__,
        "scenario": {
            "name": scenario.scenario.name,
            "source": scenario.source,
            "sha256": scenario.sha256,
            "resolved_sha256": hashlib.sha256(resolved).hexdigest(),
            "start": scenario.scenario.start.isoformat(),
            "duration_h": scenario.scenario.duration,
        },
        "variant": scenario.variant or "baseline",
        "overrides": list(scenario.overrides),
        "seed": seed,
        "decider": type(decider).__name__,
        "decisions": [{"point": d["decision"], "option": d["option"], "by": d["by"], "t": d["t"]} for d in taken],
        "records": records,
        "wall_time_s": round(wall, 3),
        "outcome": {"status": outcome.status, "reason": outcome.reason, "end_time": outcome.end_time},
        "files": {"events": "events.jsonl", "metrics": "metrics.json", "manifest": "manifest.json", "scenario": "scenario.yaml"},
    }
