"""The world: one run's SimPy environment and the live state of every entity.

:func:`build` turns a validated :class:`~coopsim.engine.schema.Scenario` into
a :class:`World`. Each actor's staff is a SimPy ``Resource`` (messages queue
for a free officer), each liaison post and asset pool is a ``Resource`` of its
officers or units, and each location that holds goods is a ``Container``. The
world owns the run's RNG streams, its knowledge state (who knew what, when,
and from whom), its signals (named events that triggers wait for) and the
record stream.

Runtime entities read their settings through ``spec`` on every use, so a
decision option's patch (:meth:`World.apply_patch`) retunes the rest of the
run without rebuilding anything.
"""

from __future__ import annotations

import random
from collections.abc import Generator
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import simpy

from coopsim.engine.log.records import Record
from coopsim.engine.scenario.load import patch_scenario
from coopsim.engine.scenario.model import Actor, Asset, Channel, Inject, Liaison, Marking, Request, RequestState, Role, Scenario
from coopsim.engine.scenario.routing import Leg, find_path
from coopsim.engine.sim.deciders import Decider, Situation
from coopsim.engine.sim.signals import PoolActivated, Signal, of_trigger
from coopsim.engine.sim.streams import Streams


class LimitReached(Exception):
    """Raised inside the simulation when a run reaches one of its stated limits.

    ``what`` says which limit, ``why`` what it means, and ``setting`` the
    scenario setting that raises it.
    """

    def __init__(self, what: str, why: str, setting: str):
        super().__init__(what, why, setting)
        self.what, self.why, self.setting = what, why, setting

    def reason(self, t: float) -> str:
        """The reason the run stopped, for the manifest and the summary."""
        why = f": {self.why}" if self.why else ""
        return f"{self.what} at t={t:.2f}h{why}; raise {self.setting} if the scenario is meant to be this busy"


class RecordLimitReached(LimitReached):
    """The run has written its record limit."""


class PendingLimitReached(LimitReached):
    """More messages are under way at once than the scenario's pending limit: work arrives faster than it is handled."""


@dataclass
class Staffed:
    """An actor at runtime: its staff officers handle one message each at a time."""

    spec: Actor
    staff: simpy.Resource
    rng: random.Random


@dataclass
class Link:
    """A channel at runtime; ``gate`` limits messages in transit when it has a capacity."""

    spec: Channel
    rng: random.Random
    gate: simpy.Resource | None


@dataclass
class Post:
    """A liaison post at runtime: its officers carry one message each at a time."""

    spec: Liaison
    officers: simpy.Resource
    rng: random.Random

    def present(self, t: float) -> bool:
        return not any(w.from_ <= t < w.until for w in self.spec.absent)


@dataclass(eq=False)
class EscortUnit:
    """One escort unit at runtime: where it is, and whether it can take a convoy now."""

    name: str
    at: str
    on_station: bool = False
    """In theatre: ready, and not away replenishing."""
    busy: bool = False
    held: bool = False
    """Out of service by an effect."""
    due: bool = False
    """Its endurance has run out: it leaves when its convoy arrives."""

    @property
    def free(self) -> bool:
        return self.on_station and not (self.busy or self.held or self.due)


@dataclass
class Pool:
    """An asset pool at runtime: lift units are committed one trip at a time; escort units one convoy at a time."""

    spec: Asset
    units: simpy.Resource
    """Lift: one unit per trip (an escort pool's escort units are in ``escorts``)."""
    rng: random.Random
    ready_at: float | None = 0.0
    """When an activated asset's lead time ends (None until it is activated)."""
    escorts: list[EscortUnit] = field(default_factory=list)

    def usage(self) -> tuple[int, int]:
        """(units busy, units in all)."""
        if self.escorts:
            return sum(u.busy for u in self.escorts), len(self.escorts)
        return self.units.count, self.units.capacity


@dataclass
class World:
    env: simpy.Environment
    scenario: Scenario
    streams: Streams
    decider: Decider
    sinks: list[Any]
    record_limit: int
    actors: dict[str, Staffed] = field(default_factory=dict)
    links: dict[str, Link] = field(default_factory=dict)
    posts: dict[str, Post] = field(default_factory=dict)
    pools: dict[str, Pool] = field(default_factory=dict)
    stocks: dict[str, simpy.Container] = field(default_factory=dict)
    knowledge: dict[str, dict[str, tuple[float, str, int]]] = field(default_factory=dict)
    first_known: dict[str, float] = field(default_factory=dict)
    request_states: dict[str, RequestState] = field(default_factory=dict)
    released: set[int] = field(default_factory=set)
    in_flight: set[tuple[str, str, int]] = field(default_factory=set)
    _signals: dict[Signal, simpy.Event] = field(default_factory=dict)
    _given: set[Signal] = field(default_factory=set)
    _patched: simpy.Event | None = None
    _seq: int = 0
    pending: int = 0
    """Messages under way now: in transit, or waiting for a liaison officer or a staff officer."""
    _counters: dict[str, int] = field(default_factory=dict)
    _link_cache: dict[tuple[str, str, Marking], Link | None] = field(default_factory=dict)
    _path_cache: dict[tuple[str, str, str], tuple[Leg, ...]] = field(default_factory=dict)
    closed: set[str] = field(default_factory=set)
    """Route keys closed by an effect: nothing travels them until they reopen."""
    _reopened: dict[str, simpy.Event] = field(default_factory=dict)
    risk_now: dict[str, float] = field(default_factory=dict)
    """Route keys whose unescorted risk an effect has replaced."""
    shipments: dict[str, Any] = field(default_factory=dict)
    """The cargo of each request being carried (a logistics Shipment), by request id."""
    extra_cargo: dict[str, float] = field(default_factory=dict)
    """Tonnes an effect added to a request before its cargo started moving."""
    _off_duty: dict[str, list[Any]] = field(default_factory=dict)
    arrived_requests: dict[str, Request] = field(default_factory=dict)
    """Requests an arrival stream brought, by id (the scenario's own are in ``scenario``)."""
    arrived_injects: dict[int, Inject] = field(default_factory=dict)
    _learned: dict[tuple[str, str], simpy.Event] = field(default_factory=dict)
    authorities_in_force: set[str] = field(default_factory=set)
    """Standing authorities granted so far: requests of their operation are approved by the holder."""
    forming: dict[tuple[str, str], Any] = field(default_factory=dict)
    """Convoys forming at a leg's start, by (route key, origin): their escort is on its way."""
    awaiting_escort: dict[str, int] = field(default_factory=dict)
    """Lift units waiting for a free unit of each escort pool, by pool id."""
    _escorts_changed: simpy.Event | None = None

    # -- records ---------------------------------------------------------------------------
    def emit(self, cls: type[Record], actor: str, *fields: Any) -> None:
        """Create a record of ``cls`` now and stream it to every sink."""
        record = cls(self.env.now, self._seq, actor, *fields)
        self._seq += 1
        for sink in self.sinks:
            sink(record)
        if self._seq >= self.record_limit:
            raise RecordLimitReached(f"record limit of {self.record_limit:,} reached", "", "scenario.record_limit")

    def message_started(self) -> None:
        """Count a message under way; stop the run if the pending limit is reached."""
        self.pending += 1
        limit = self.scenario.scenario.pending_limit
        if self.pending > limit:
            actor, waiting = max(((a, len(s.staff.queue)) for a, s in self.actors.items()), key=lambda x: x[1])
            raise PendingLimitReached(
                f"pending limit of {limit:,} messages under way at once reached",
                f"work arrives faster than it is handled (the most, {waiting:,}, wait for {actor}'s staff)",
                "scenario.pending_limit",
            )

    @property
    def records_written(self) -> int:
        return self._seq

    def next_id(self, prefix: str) -> str:
        """A run-unique id such as ``m17`` (messages) or ``trip4``."""
        n = self._counters.get(prefix, 0) + 1
        self._counters[prefix] = n
        return f"{prefix}{n}"

    # -- signals: named events that triggers wait for ---------------------------------------
    def when(self, key: Signal) -> simpy.Event:
        """The event for signal ``key``; already triggered if the signal was given."""
        event = self._signals.get(key)
        if event is None:
            event = self._signals[key] = self.env.event()
            if key in self._given:
                event.succeed()
        return event

    def signal(self, key: Signal) -> None:
        """Give signal ``key``. An event is made only if something waits for it (signals are frequent)."""
        event = self._signals.get(key)
        if event is None:
            self._given.add(key)
        elif not event.triggered:
            event.succeed()

    # -- settings that depend on the (possibly patched) scenario -----------------------------
    def apply_patch(self, patch: dict[str, Any], written_at: tuple) -> None:
        """Retune the rest of the run with ``patch`` (checked at load time)."""
        self.scenario = patch_scenario(self.scenario, patch, self.scenario._document, written_at)
        by = self.scenario.by_id
        for table, section in ((self.actors, "actors"), (self.links, "channels"), (self.posts, "liaison"), (self.pools, "assets")):
            for key, entity in table.items():
                entity.spec = by[section][key]
        self._link_cache.clear()
        self._path_cache.clear()
        if self._patched is not None:
            self._patched.succeed()
            self._patched = None

    def next_patch(self) -> simpy.Event:
        """An event that fires when a decision next patches the scenario (for waits that depend on settings)."""
        if self._patched is None:
            self._patched = self.env.event()
        return self._patched

    def until(self, t: float) -> Generator[Any, Any, None]:
        """Wait until time ``t`` (at once if it has passed)."""
        if t > self.env.now:
            yield self.env.timeout(t - self.env.now)

    def after(self, trigger: Any) -> Generator[Any, Any, None]:
        """Wait until ``trigger`` fires, and its ``delay``."""
        if trigger.at is not None:
            yield from self.until(trigger.at)
        else:
            yield self.when(of_trigger(trigger))
        if trigger.delay:
            yield self.env.timeout(trigger.delay)

    def escorts_changed(self) -> simpy.Event:
        """An event that fires when an escort unit next comes free, on station or back into service."""
        if self._escorts_changed is None:
            self._escorts_changed = self.env.event()
        return self._escorts_changed

    def escort_freed(self) -> None:
        if self._escorts_changed is not None:
            self._escorts_changed.succeed()
            self._escorts_changed = None

    def ready(self, pool: Pool) -> bool:
        """Whether ``pool`` is available now: activated (if it waits for an event) and past its ``available_from``."""
        return pool.ready_at is not None and self.env.now >= max(pool.ready_at, pool.spec.available_from)

    def until_ready(self, pool: Pool) -> Generator[Any, Any, None]:
        """Wait until ``pool`` is available (a decision may move ``available_from`` meanwhile)."""
        while not self.ready(pool):
            if pool.ready_at is None:
                yield self.when(PoolActivated(pool.spec.id)) | self.next_patch()
            else:
                yield self.env.timeout(max(pool.ready_at, pool.spec.available_from) - self.env.now) | self.next_patch()

    def link_for(self, sender: str, recipient: str, marking: Marking) -> Link | None:
        """The quickest channel joining two actors that is cleared for ``marking``."""
        key = (sender, recipient, marking)
        if key not in self._link_cache:
            usable = [
                link
                for link in self.links.values()
                if set(link.spec.between) == {sender, recipient} and link.spec.max_marking.rank >= marking.rank
            ]
            self._link_cache[key] = min(usable, key=lambda link: link.spec.latency.mean, default=None)
        return self._link_cache[key]

    def post_for(self, sender: str, recipient: str) -> Post | None:
        """A liaison post joining the two actors and staffed now, if any."""
        for post in self.posts.values():
            if {post.spec.from_, post.spec.at} == {sender, recipient} and post.present(self.env.now):
                return post
        return None

    def path(self, pool: Pool, origin: str, destination: str) -> tuple[Leg, ...]:
        """The quickest legs for ``pool``, avoiding closed routes where another way exists."""
        key = (pool.spec.id, origin, destination)
        if key not in self._path_cache:
            try:
                self._path_cache[key] = find_path(self.scenario, pool.spec, origin, destination, avoid=frozenset(self.closed))
            except LookupError:  # no way round: take the usual path and wait where it is closed
                self._path_cache[key] = find_path(self.scenario, pool.spec, origin, destination)
        return self._path_cache[key]

    def request(self, request_id: str) -> Request:
        """A request as it stands now: the scenario's (as patched so far), or one an arrival stream brought."""
        found = self.arrived_requests.get(request_id)
        return found if found is not None else self.scenario.by_id["requests"][request_id]

    def inject(self, seq: int) -> Inject:
        found = self.arrived_injects.get(seq)
        return found if found is not None else self.scenario.by_id["injects"][seq]

    # -- effects: the world's state changed by events ----------------------------------------
    def close_route(self, key: str) -> None:
        if key not in self.closed:
            self.closed.add(key)
            self._reopened[key] = self.env.event()
            self._path_cache.clear()

    def reopen_route(self, key: str) -> None:
        if key in self.closed:
            self.closed.discard(key)
            self._reopened.pop(key).succeed()
            self._path_cache.clear()

    def reopened(self, key: str) -> simpy.Event:
        """An event that fires when the closed route ``key`` reopens."""
        return self._reopened[key]

    def on_duty(self, actor: str) -> int:
        """Staff officers on duty at ``actor`` now (its staff, less those an effect took off duty)."""
        return self.actors[actor].staff.capacity - len(self._off_duty.get(actor, ()))

    def set_staff(self, actor: str, n: int) -> None:
        """Put ``n`` officers on duty at ``actor``: officers leave duty as they finish their message, or return at once."""
        staff = self.actors[actor].staff
        held = self._off_duty.setdefault(actor, [])
        want = staff.capacity - n
        while len(held) > want:
            req = held.pop()
            if req.triggered:
                staff.release(req)
            else:
                req.cancel()
        while len(held) < want:
            held.append(staff.request())

    def more_cargo(self, request: str, tonnes: float) -> None:
        """Change a request's cargo by ``tonnes`` (the demand at its site): now if it is moving, else when it starts."""
        shipment = self.shipments.get(request)
        if shipment is None:
            self.extra_cargo[request] = self.extra_cargo.get(request, 0.0) + tonnes
        else:
            shipment.add(tonnes)

    def situation(self, owner: str, point: Any = None) -> Situation:
        """A read-only snapshot for a decider (with ``point``: which of its options are closed, and why)."""
        known = self.knowledge.get(owner, {})
        closed = {
            o.id: f"{o.id} needs {o.requires}, which {owner} does not know"
            for o in (point.options if point is not None else ())
            if o.requires is not None and o.requires not in known
        }
        return Situation(
            t=self.env.now,
            owner=owner,
            knowledge=MappingProxyType({a: MappingProxyType(dict(k)) for a, k in self.knowledge.items()}),
            requests=MappingProxyType(dict(self.request_states)),
            assets=MappingProxyType({p: pool.usage() for p, pool in self.pools.items()}),
            closed=MappingProxyType(closed),
        )

    def next_learned(self, fact: str, actor: str) -> simpy.Event:
        """An event that fires the next time ``actor`` learns an edition of ``fact``."""
        key = (fact, actor)
        event = self._learned.get(key)
        if event is None:
            event = self._learned[key] = self.env.event()
        return event

    def learned(self, fact: str, actor: str) -> None:
        """Wake whatever waits for ``actor`` to learn ``fact`` (an edition has just arrived)."""
        event = self._learned.pop((fact, actor), None)
        if event is not None:
            event.succeed()

    def fresh(self, fact_id: str, actor: str, within: float) -> bool:
        """Whether ``actor`` holds an edition of ``fact_id`` issued within ``within`` hours of now."""
        known = self.knowledge.get(actor, {}).get(fact_id)
        if known is None:
            return False
        fact = self.scenario.by_id["facts"][fact_id]
        issued = fact.issued(known[2])
        if issued is None:
            issued = self.first_known.get(fact_id, known[0])
        return self.env.now - issued <= within


def build(scenario: Scenario, seed: int, decider: Decider, sinks: list[Any], record_limit: int | None = None) -> World:
    """Create the world for one run: resources, containers and RNG streams (no processes yet)."""
    env = simpy.Environment()
    streams = Streams(seed)
    world = World(env, scenario, streams, decider, sinks, record_limit or scenario.scenario.record_limit)
    most = _most_staff(scenario)
    for a in scenario.actors:
        world.actors[a.id] = Staffed(a, simpy.Resource(env, max(a.staff, most.get(a.id, 0))), streams(f"actor:{a.id}"))
        world.knowledge[a.id] = {}
        if most.get(a.id, 0) > a.staff:
            world.set_staff(a.id, a.staff)  # the surge capacity is off duty until an effect calls it in
    for c in scenario.channels:
        gate = simpy.Resource(env, c.capacity) if c.capacity else None
        world.links[c.id] = Link(c, streams(f"channel:{c.id}"), gate)
    for lo in scenario.liaison:
        world.posts[lo.id] = Post(lo, simpy.Resource(env, lo.count), streams(f"liaison:{lo.id}"))
    for asset in scenario.assets:
        pool = Pool(asset, simpy.Resource(env, asset.slots), streams(f"asset:{asset.id}"), None if asset.activation else 0.0)
        if asset.role is Role.escort:
            pool.escorts = [EscortUnit(f"{asset.id}#{n}", asset.base) for n in range(1, asset.count + 1)]
        world.pools[asset.id] = pool
    for loc in scenario.locations:
        if not loc.supply:
            world.stocks[loc.id] = simpy.Container(env, init=loc.stock)
    return world


def _most_staff(scenario: Scenario) -> dict[str, int]:
    """The most officers any effect puts on duty at each actor, so its staff resource can hold them."""
    effects = [e for i in scenario.injects for e in i.effects] + [e for r in scenario.routes for e in r.on_incident]
    most: dict[str, int] = {}
    for e in effects:
        if e.actor is not None and e.staff is not None:
            most[e.actor] = max(most.get(e.actor, 0), e.staff)
    return most
