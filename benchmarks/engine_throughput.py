"""Engine throughput and memory: coopsim against a bare-SimPy twin of the same model.

What is measured
----------------
1. **Throughput.** A message-heavy synthetic scenario (a full mesh of channels
   between N actors of one org family; facts released over time, each sent by
   its originator to every other actor) is run through
   ``coopsim.engine.run(..., out=tmpdir)``, so every record is streamed to
   ``events.jsonl`` on disk and through the metrics sink, exactly as a user's
   run would be. The same model is then run by a hand-written SimPy program
   (the *twin*) that does the same simulation work (staff as
   ``simpy.Resource``, the same latency, loss/resend and processing logic, the
   same fact release times) but only *counts* the events the engine would log.
   We report records/s for both and the ratio engine / twin: the price of the
   engine's generality, record objects, metrics and JSON logging, per record.
   Target: ratio >= 0.5.

   The twin seeds its random streams with the engine's own scheme
   (sha256 of ``"{seed}/{entity}"``), so if it really is the same model its
   event counts match the engine's exactly; both counts are printed.

   Loading (YAML parse, validation, cross-checks) is timed on its own line and
   excluded from records/s: it is paid once per scenario, not per record.

2. **Memory.** The engine keeps no records itself (they stream to sinks), so
   peak memory should barely grow with the length of a run. Engine runs of
   about 10^4 and 10^6 records each run in a fresh child process that reports
   its peak RSS (``VmHWM``; ``ru_maxrss`` where /proc is missing) at the end. Target: the 10^6 run peaks at most
   1.5x the 10^4 run. The synthetic scenario has a fixed set of recurring
   facts (SITREPs issued every few hours), so a longer run means more editions
   of the same facts, not a larger scenario;
   the child also reports RSS just after loading so scenario size can be told
   apart from growth during the run.

The benchmark reports; it never fails. It exits 0 whether targets are met or not.

Usage::

    python benchmarks/engine_throughput.py            # full run (a few minutes)
    python benchmarks/engine_throughput.py --quick    # smoke run (seconds)
"""

from __future__ import annotations

import argparse
import gc
import hashlib
import json
import os
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import simpy
import yaml

RATIO_TARGET = 0.5
MEMORY_TARGET = 1.5
SEED = 7

# ---------------------------------------------------------------------------------------------
# The model, as plain data shared by the YAML writer (engine) and the twin
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Dist:
    """A duration distribution in hours: ``fixed`` (value) or ``exponential`` (mean)."""

    kind: str
    hours: float

    def yaml(self) -> str | dict:
        if self.kind == "fixed":
            return f"{self.hours:g}h"
        return {"dist": "exponential", "mean": f"{self.hours:g}h"}


@dataclass(frozen=True)
class ActorSpec:
    id: str
    staff: int
    processing: Dist


@dataclass(frozen=True)
class ChannelSpec:
    id: str
    a: str
    b: str
    latency: Dist
    loss: float
    resend_after: float
    max_attempts: int


@dataclass(frozen=True)
class FactSpec:
    """A recurring fact (a SITREP): first issued at ``at`` hours, then every ``every`` hours."""

    id: str
    origin: str
    distribution: tuple[str, ...]
    at: float
    every: float


@dataclass(frozen=True)
class Model:
    actors: tuple[ActorSpec, ...]
    channels: tuple[ChannelSpec, ...]
    facts: tuple[FactSpec, ...]
    duration_h: float
    expected_records: int


def make_model(target_records: int, n_actors: int = 20, seed: int = 1) -> Model:
    """A message-heavy model sized to produce about ``target_records`` records."""
    rng = random.Random(seed)
    actors = tuple(
        ActorSpec(
            f"a{i:02d}",
            staff=1 + i % 3,
            processing=Dist("exponential", 0.5) if i % 2 == 0 else Dist("fixed", 0.25),
        )
        for i in range(n_actors)
    )
    channels = []
    for i in range(n_actors):
        for j in range(i + 1, n_actors):
            k = len(channels)
            latency = Dist("fixed", 1 + k % 4) if k % 2 == 0 else Dist("exponential", 2.0)
            channels.append(ChannelSpec(f"c{i:02d}_{j:02d}", actors[i].id, actors[j].id, latency, (0.0, 0.05, 0.1)[k % 3], 1.0, 5))
    # Records per fact: fact_learned at the origin, then per recipient message_sent,
    # message_delivered, message_handled and fact_learned, plus message_lost per lost transmission.
    mean_loss = sum(c.loss / (1 - c.loss) for c in channels) / len(channels)
    recipients = n_actors - 1
    per_fact = 1 + recipients * (4 + mean_loss)
    n_facts = max(1, round(target_records / per_fact))
    n_editions = max(1, round(target_records / per_fact))
    # Editions are issued over a window long enough to keep the busiest actor's staff about 60% busy.
    # The scenario has a fixed set of recurring facts (two per actor), so its size does not grow
    # with the length of the run: only the number of editions does.
    busiest = max(a.processing.hours / a.staff for a in actors)
    window = max(24.0, n_editions * recipients / n_actors * busiest / 0.6)
    n_facts = 2 * n_actors
    every = window * n_facts / n_editions
    facts = tuple(
        FactSpec(
            f"sitrep{n:03d}",
            origin=actors[n % n_actors].id,
            distribution=tuple(a.id for a in actors if a.id != actors[n % n_actors].id),
            at=round(rng.uniform(0.0, every), 3),
            every=round(every, 3),
        )
        for n in range(n_facts)
    )
    # A short tail after the last planned edition lets the messages in flight arrive.
    duration = round(window + 24.0)
    editions = sum(len(_issues(f, duration)) for f in facts)
    return Model(actors, tuple(channels), facts, duration_h=duration, expected_records=round(editions * per_fact))


def _issues(fact: FactSpec, until: float) -> list[float]:
    """The times at which ``fact``'s editions are issued before ``until``."""
    out, t = [], fact.at
    while t < until:
        out.append(t)
        t += fact.every
    return out


def to_yaml(m: Model) -> str:
    """The model as a coopsim scenario file."""
    data = {
        "scenario": {
            "name": "Synthetic message mesh",
            "description": "Benchmark: facts shared across a full mesh of channels.",
            "start": "2005-10-08T00:00:00Z",
            "duration": f"{m.duration_h:g}h",
            "seed": SEED,
            "record_limit": m.expected_records * 10 + 100_000,
        },
        "actors": [
            {"id": a.id, "name": f"Cell {a.id}", "family": "UN", "staff": a.staff, "processing": a.processing.yaml()} for a in m.actors
        ],
        "channels": [
            {
                "id": c.id,
                "between": [c.a, c.b],
                "kind": "formal",
                "latency": c.latency.yaml(),
                "loss": c.loss,
                "resend_after": f"{c.resend_after:g}h",
                "max_attempts": c.max_attempts,
            }
            for c in m.channels
        ],
        "facts": [
            {
                "id": f.id,
                "description": f"Synthetic fact {f.id}",
                "class": "situation",
                "origin": f.origin,
                "distribution": list(f.distribution),
                "at": f"{f.at}h",
                "every": f"{f.every}h",
            }
            for f in m.facts
        ],
    }
    return yaml.safe_dump(data, sort_keys=False, width=1000)


# ---------------------------------------------------------------------------------------------
# The bare-SimPy twin
# ---------------------------------------------------------------------------------------------


def _stream(seed: int, key: str) -> random.Random:
    # The engine's seeding scheme (coopsim.engine.sim.streams), so draws line up one for one.
    digest = hashlib.sha256(f"{seed}/{key}".encode()).digest()
    return random.Random(int.from_bytes(digest[:8], "big"))


def run_twin(m: Model, seed: int) -> dict[str, int]:
    """Simulate ``m`` with plain SimPy; return how many of each record the engine would log."""
    env = simpy.Environment()
    counts = dict.fromkeys(("message_sent", "message_lost", "message_failed", "message_delivered", "message_handled", "fact_learned"), 0)
    staff = {a.id: simpy.Resource(env, a.staff) for a in m.actors}
    processing = {a.id: a.processing for a in m.actors}
    actor_rng = {a.id: _stream(seed, f"actor:{a.id}") for a in m.actors}
    link = {}
    for c in m.channels:
        entry = (c, _stream(seed, f"channel:{c.id}"))
        link[c.a, c.b] = link[c.b, c.a] = entry
    knowledge: dict[str, dict[str, int]] = {a.id: {} for a in m.actors}  # actor -> fact -> latest edition

    def sample(d: Dist, rng: random.Random) -> float:
        return d.hours if d.kind == "fixed" else rng.expovariate(1.0 / d.hours)

    def knows(actor: str, fact: FactSpec, edition: int) -> bool:
        return knowledge[actor].get(fact.id, -1) >= edition

    def learn(actor: str, fact: FactSpec, edition: int):
        if knows(actor, fact, edition):
            return
        knowledge[actor][fact.id] = edition
        counts["fact_learned"] += 1
        if actor == fact.origin:
            for recipient in fact.distribution:
                env.process(share(actor, recipient, fact, edition))

    def share(sender: str, recipient: str, fact: FactSpec, edition: int):
        if knows(recipient, fact, edition):
            return
        spec, rng = link[sender, recipient]
        counts["message_sent"] += 1
        attempt = 1
        while True:
            yield env.timeout(sample(spec.latency, rng))
            if spec.loss and rng.random() < spec.loss:
                counts["message_lost"] += 1
                if attempt >= spec.max_attempts:
                    counts["message_failed"] += 1
                    return
                attempt += 1
                yield env.timeout(spec.resend_after)
                continue
            break
        counts["message_delivered"] += 1
        with staff[recipient].request() as officer:
            yield officer
            yield env.timeout(sample(processing[recipient], actor_rng[recipient]))
        counts["message_handled"] += 1
        learn(recipient, fact, edition)

    def release(fact: FactSpec):
        yield env.timeout(fact.at)
        edition = 0
        while True:
            learn(fact.origin, fact, edition)
            yield env.timeout(fact.every)
            edition += 1

    for fact in m.facts:
        env.process(release(fact))
    env.run(until=m.duration_h)
    return counts


# ---------------------------------------------------------------------------------------------
# Running the engine
# ---------------------------------------------------------------------------------------------


def load(text: str):
    from coopsim.engine import loads_scenario

    return loads_scenario(text, source="<synthetic>")


def run_engine(scenario, seed: int) -> tuple[dict, dict, float]:
    """Run the engine with events.jsonl on disk; returns (manifest, metric values, seconds)."""
    from coopsim.engine import run

    tmp = Path(tempfile.mkdtemp(prefix="coopsim-bench-"))
    try:
        began = time.perf_counter()
        result = run(scenario, seed=seed, out=tmp / "run")
        took = time.perf_counter() - began
        return result.manifest, result.metrics.values, took
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _status_kb(field: str) -> int | None:
    """A ``Vm*`` line of /proc/self/status in kB (Linux), or None elsewhere."""
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def _reset_peak() -> bool:
    """Reset VmHWM so it measures from now on (Linux >= 4.0); False if not possible."""
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
        return True
    except OSError:
        return False


def memory_child(target: int) -> None:
    """Run in a fresh process: load and run a scenario of ``target`` records, print JSON.

    Peak RSS is VmHWM, which belongs to this process image alone; ``ru_maxrss`` is
    only a fallback, because on Linux it carries over the parent's peak across
    fork and exec, so a child started by a big parent reports the parent's size.
    """
    text = to_yaml(make_model(target))
    scenario = load(text)
    del text
    gc.collect()
    peak_load = _status_kb("VmHWM")
    after_load = _status_kb("VmRSS")
    reset = _reset_peak()
    manifest, _, took = run_engine(scenario, SEED)
    peak_run = _status_kb("VmHWM") if reset else None
    if peak_load is None:
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    else:
        peak = max(peak_load, peak_run or 0)
    result = {
        "records": manifest["records"],
        "seconds": took,
        "peak_load_kb": peak_load,
        "after_load_kb": after_load,
        "peak_run_kb": peak_run,
        "peak_kb": peak,
    }
    print(json.dumps(result))


def measure_memory(target: int) -> dict:
    out = subprocess.run(
        [sys.executable, os.path.abspath(__file__), "--memory-child", str(target)], check=True, capture_output=True, text=True
    ).stdout
    return json.loads(out.strip().splitlines()[-1])


# ---------------------------------------------------------------------------------------------
# Main
# ---------------------------------------------------------------------------------------------


def _mb(kb: float | None) -> str:
    return "n/a" if kb is None else f"{kb / 1024:,.0f} MB"


def _verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Throughput of the coopsim engine (events.jsonl on disk) against a bare-SimPy twin, and its peak memory.",
        epilog="Reports only: always exits 0, whether or not the targets are met.",
    )
    parser.add_argument("--quick", action="store_true", help="small sizes, for a smoke run (seconds, not minutes)")
    parser.add_argument("--records", type=int, help="records in the throughput scenario (default 1,000,000; --quick 20,000)")
    parser.add_argument("--repeats", type=int, help="timed runs of each side; the best is reported (default 3; --quick 1)")
    parser.add_argument("--memory-child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.memory_child is not None:
        memory_child(args.memory_child)
        return 0

    records = args.records or (20_000 if args.quick else 1_000_000)
    repeats = args.repeats or (1 if args.quick else 3)
    small, large = (10_000, 100_000) if args.quick else (10_000, 1_000_000)

    model = make_model(records)
    print(
        f"model    {len(model.actors)} actors, {len(model.channels)} channels, {len(model.facts):,} recurring facts, "
        f"{model.duration_h:,.0f} h simulated, ~{model.expected_records:,} records expected"
    )
    text = to_yaml(model)
    import coopsim.engine  # noqa: F401  (import time is not load time)

    began = time.perf_counter()
    scenario = load(text)
    load_s = time.perf_counter() - began
    print(f"load     loads_scenario of {len(text) / 1e6:.1f} MB YAML: {load_s:.1f} s (not counted in records/s)")

    engine_best = twin_best = float("inf")
    manifest = values = counts = None
    for _ in range(repeats):
        manifest, values, took = run_engine(scenario, SEED)
        engine_best = min(engine_best, took)
        began = time.perf_counter()
        counts = run_twin(model, SEED)
        twin_best = min(twin_best, time.perf_counter() - began)

    n_engine = manifest["records"]
    n_twin = sum(counts.values())
    engine_rate = n_engine / engine_best
    twin_rate = n_twin / twin_best
    ratio = engine_rate / twin_rate
    best = f"best of {repeats}" if repeats > 1 else "one run"
    print(f"engine   {n_engine:>11,} records in {engine_best:6.1f} s = {engine_rate:>9,.0f} records/s  (events.jsonl on disk; {best})")
    print(f"bare     {n_twin:>11,} events  in {twin_best:6.1f} s = {twin_rate:>9,.0f} events/s   (bare SimPy, counting only; {best})")
    sent, lost = int(values["messages_sent"]), int(values["messages_lost"])
    same = n_engine == n_twin and sent == counts["message_sent"] and lost == counts["message_lost"]
    diff = (n_twin - n_engine) / n_engine * 100 if n_engine else 0.0
    print(
        f"check    records engine {n_engine:,} vs bare {n_twin:,} ({diff:+.2f}%); "
        f"sent {sent:,} vs {counts['message_sent']:,}; lost {lost:,} vs {counts['message_lost']:,}"
        f" -> {'identical' if same else 'DIFFERENT: the twin is not the same model'}"
    )
    print(f"ratio    engine / bare = {ratio:.2f}   (target >= {RATIO_TARGET})  {_verdict(ratio >= RATIO_TARGET)}")

    mem_small = measure_memory(small)
    mem_large = measure_memory(large)
    n_small, n_large = f"{mem_small['records']:,}", f"{mem_large['records']:,}"
    mratio = mem_large["peak_kb"] / mem_small["peak_kb"]
    print(
        f"memory   peak RSS {n_small} records: {_mb(mem_small['peak_kb'])}; {n_large} records: {_mb(mem_large['peak_kb'])}; "
        f"ratio {mratio:.2f} (target <= {MEMORY_TARGET})  {_verdict(mratio <= MEMORY_TARGET)}"
    )
    print("         (whole child process: import, YAML load and run; each size in a fresh process)")
    for label, mem in ((n_small, mem_small), (n_large, mem_large)):
        run_part = ""
        if mem["peak_run_kb"] is not None and mem["after_load_kb"] is not None:
            grew = mem["peak_run_kb"] - mem["after_load_kb"]
            run_part = f"; peak during the run {_mb(mem['peak_run_kb'])} (+{_mb(grew)} over the loaded scenario)"
        print(
            f"         {label:>9} records: peak while loading {_mb(mem['peak_load_kb'])}, "
            f"RSS with the scenario loaded {_mb(mem['after_load_kb'])}{run_part}; run {mem['seconds']:.1f} s"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
