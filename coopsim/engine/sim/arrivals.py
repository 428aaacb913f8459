"""Arrival streams: requests, supply demands or injects that arrive at random intervals.

Each stream of the scenario's ``arrivals`` runs one process: from ``start``
it draws the time to the next arrival (from the phase of the crisis in force
then), waits, and brings a new request or inject made from its template. A
request gets the id ``STREAM-N`` and, if the stream says so, a drawn
``quantity``; it is recorded (:class:`RequestOpened`) and submitted. An
inject gets the seq ``1,000,000 × (stream number) + N`` and is released.

Every stream draws its intervals and sizes from random streams of its own
(``arrivals:ID`` and ``arrivals:ID:size``), so two variants see the same
arrivals at the same instants wherever the streams are alike: common random
numbers hold.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

from coopsim.engine.log.records import RequestOpened
from coopsim.engine.scenario.model import Arrivals, Inject
from coopsim.engine.sim.world import World

INJECT_BASE = 1_000_000
"""Seqs of injects from arrival streams start at this times the stream's number (1, 2...), clear of any MSEL seq."""


def start(w: World) -> None:
    """Start every arrival stream of the scenario."""
    for number, stream in enumerate(w.scenario.arrivals, start=1):
        w.env.process(_stream(w, stream, number))


def _stream(w: World, a: Arrivals, number: int) -> Generator[Any, Any, None]:
    from coopsim.engine.sim.exercise import release  # exercise starts the streams, so it is imported here
    from coopsim.engine.sim.requests import submit

    env = w.env
    gaps, sizes = w.streams(f"arrivals:{a.id}"), w.streams(f"arrivals:{a.id}:size")
    end = a.until if a.until is not None else w.scenario.scenario.duration
    if a.start > env.now:
        yield env.timeout(a.start - env.now)
    n = 0
    while a.limit is None or n < a.limit:
        yield env.timeout(a.every_at(env.now).sample(gaps))
        if env.now >= end:
            return
        n += 1
        if a.request is not None:
            rid = f"{a.id}-{n}"
            update: dict[str, Any] = {"id": rid}
            if a.quantity is not None:
                update["quantity"] = round(a.quantity.sample(sizes), 6)
            spec = a.request.model_copy(update=update)
            w.arrived_requests[rid] = spec
            w.emit(RequestOpened, spec.from_, rid, a.id, spec.kind, spec.site, spec.quantity)
            submit(w, rid)
        else:
            seq = INJECT_BASE * number + n
            template = a.inject.model_dump(by_alias=True, exclude_defaults=False)
            w.arrived_injects[seq] = Inject.model_validate({**template, "seq": seq, "time": f"{env.now}h"})
            release(w, seq)
