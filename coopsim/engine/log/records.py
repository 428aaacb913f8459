"""Records: what happened in a run, one frozen dataclass per kind of event.

Every record has ``t`` (hours since scenario start), ``seq`` (its place in the
run, from 0), ``kind`` (a fixed name per class) and ``actor`` (the actor it
happened at, or ``SIMCELL`` for exercise control), plus the ids it refers to.
Records stream to ``events.jsonl`` as one JSON object per line, in ``seq``
order, and to any other sink a caller attaches (see :mod:`coopsim.engine.log.sinks`).
Reports and metrics are built from records alone.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields
from json.encoder import encode_basestring
from operator import attrgetter, call
from typing import Any, ClassVar

from coopsim.engine.scenario.model import RequestState

ROUND = 6
"""Decimal places kept for floats in the log: microhours, far finer than any input."""


@dataclass(frozen=True, slots=True)
class Record:
    """Fields every record has."""

    kind: ClassVar[str] = "record"
    _names: ClassVar[tuple[str, ...]] = ()
    _line: ClassVar[str] = ""
    _values: ClassVar[Any] = None
    _encoders: ClassVar[tuple[Any, ...]] = ()
    _checks: ClassVar[tuple[Any, ...]] = ()

    t: float
    seq: int
    actor: str

    def as_dict(self) -> dict[str, Any]:
        """The record as a JSON-ready mapping: ``t``, ``seq``, ``kind`` first."""
        out: dict[str, Any] = {"t": round(self.t, ROUND), "seq": self.seq, "kind": self.kind, "actor": self.actor}
        for name in self._names:
            value = getattr(self, name)
            out[name] = round(value, ROUND) if type(value) is float else value
        return out

    def json_line(self) -> str:
        """The record as one line of JSON, the same as ``json.dumps(self.as_dict())`` but faster.

        This is the hot path of every run with a log on disk: each class
        carries a line template and one encoder per field, so a record is
        written without building a dict.
        """
        return self._line % tuple(map(call, self._encoders, self._values(self)))


def _float(value: float) -> str:
    return repr(round(value, ROUND))


def _optional_str(value: str | None) -> str:
    return "null" if value is None else encode_basestring(value)


def _bool(value: bool) -> str:
    return "true" if value else "false"


def _strings(value: tuple[str, ...]) -> str:
    return "[" + ",".join(map(encode_basestring, value)) + "]"


_ENCODERS = {
    "float": _float,
    "int": str,
    "str": encode_basestring,
    "str | None": _optional_str,
    "float | None": lambda v: "null" if v is None else _float(v),
    "bool": _bool,
    "tuple[str, ...]": _strings,
    "RequestState": encode_basestring,
}


def _is_float(v: Any) -> bool:
    return type(v) in (float, int) and math.isfinite(v)


def _is_strings(v: Any) -> bool:
    return type(v) is list and all(type(x) is str for x in v)


_CHECKS = {
    "float": _is_float,
    "int": lambda v: type(v) is int,
    "str": lambda v: type(v) is str,
    "str | None": lambda v: v is None or type(v) is str,
    "float | None": lambda v: v is None or _is_float(v),
    "bool": lambda v: type(v) is bool,
    "tuple[str, ...]": _is_strings,
    "RequestState": lambda v: type(v) is str and v in _STATES,
}
"""What each field type accepts when a record is read back from JSON."""
_STATES = frozenset(RequestState)


def record_from(data: dict[str, Any]) -> Record:
    """The record a line of ``events.jsonl`` holds, checked field by field.

    Raises:
        ValueError: an unknown kind, a missing or extra field, or a value of the wrong type.
    """
    cls = REGISTRY.get(data.get("kind"))  # type: ignore[arg-type]
    if cls is None or len(data) != len(cls._checks) + 1:
        raise ValueError("not a record coopsim writes")
    values = []
    for name, ok in cls._checks:
        value = data.get(name, _MISSING)
        if value is _MISSING or not ok(value):
            raise ValueError(f"field {name} is missing or of the wrong type")
        values.append(tuple(value) if type(value) is list else RequestState(value) if name == "state" else value)
    return cls(*values)


_MISSING = object()


def _kind(name: str):
    def wrap(cls):
        cls.kind = name
        every = [f for f in fields(cls)]
        cls._names = tuple(f.name for f in every if f.name not in ("t", "seq", "actor"))
        order = ("t", "seq", "actor", *cls._names)
        types = {f.name: f.type for f in every}
        cls._checks = tuple((n, _CHECKS[types[n]]) for n in order)
        cls._encoders = tuple(_ENCODERS[types[n]] for n in order)
        cls._values = attrgetter(*order)
        keys = [f'"{n}":%s' for n in order]
        cls._line = "{" + ",".join([keys[0], keys[1], f'"kind":"{name}"', *keys[2:]]) + "}\n"
        REGISTRY[name] = cls
        return cls

    return wrap


REGISTRY: dict[str, type[Record]] = {}
"""Record classes by ``kind``, for reading a log back."""


@_kind("inject_released")
@dataclass(frozen=True, slots=True)
class InjectReleased(Record):
    """Exercise control released an MSEL inject to its recipients."""

    inject: int
    to: tuple[str, ...]
    contingency: bool


@_kind("inject_acknowledged")
@dataclass(frozen=True, slots=True)
class InjectAcknowledged(Record):
    """A recipient's staff read and acknowledged an inject (``latency`` since release)."""

    inject: int
    wait: float
    service: float
    latency: float


@_kind("message_sent")
@dataclass(frozen=True, slots=True)
class MessageSent(Record):
    """``actor`` sent a message to ``to`` over a channel or through a liaison officer."""

    message: str
    to: str
    channel: str
    via: str
    about: str
    marking: str
    request: str | None


@_kind("message_lost")
@dataclass(frozen=True, slots=True)
class MessageLost(Record):
    """A transmission was lost; the sender resends after the channel's resend time."""

    message: str
    channel: str
    attempt: int


@_kind("message_failed")
@dataclass(frozen=True, slots=True)
class MessageFailed(Record):
    """A message could not be delivered, and why."""

    message: str
    to: str
    channel: str | None
    reason: str
    request: str | None


@_kind("message_delivered")
@dataclass(frozen=True, slots=True)
class MessageDelivered(Record):
    """A message reached ``actor``'s in-tray after ``transit`` hours (resends included)."""

    message: str
    channel: str
    transit: float
    attempts: int
    request: str | None


@_kind("message_handled")
@dataclass(frozen=True, slots=True)
class MessageHandled(Record):
    """``actor``'s staff handled a message after waiting ``wait`` hours for a free officer."""

    message: str
    wait: float
    service: float
    request: str | None


@_kind("fact_learned")
@dataclass(frozen=True, slots=True)
class FactLearned(Record):
    """``actor`` first knew ``edition`` of ``fact``, from ``source`` via ``via``, ``latency`` hours after it was issued."""

    fact: str
    source: str
    via: str
    latency: float
    edition: int


@_kind("fact_withheld")
@dataclass(frozen=True, slots=True)
class FactWithheld(Record):
    """``actor`` did not pass ``fact`` to ``to``: it is not releasable to that organisation."""

    fact: str
    to: str
    reason: str


@_kind("request_state")
@dataclass(frozen=True, slots=True)
class RequestStateChanged(Record):
    """A request entered ``state`` at ``actor``; ``took`` is the length of a timed step (approval, rework)."""

    request: str
    state: RequestState
    took: float
    note: str


@_kind("request_opened")
@dataclass(frozen=True, slots=True)
class RequestOpened(Record):
    """An arrival stream brought a new request: its kind, the site it is for and the tonnes it carries."""

    request: str
    stream: str
    request_kind: str
    site: str | None
    quantity: float


@_kind("trip_started")
@dataclass(frozen=True, slots=True)
class TripStarted(Record):
    """A unit of ``asset`` was committed to carry ``load`` tonnes for ``request``."""

    asset: str
    trip: str
    request: str
    load: float
    origin: str
    destination: str


@_kind("risk_assessed")
@dataclass(frozen=True, slots=True)
class RiskAssessed(Record):
    """``actor`` (the planner) assessed a loaded leg's incident ``risk`` on what it knew (``basis``)."""

    asset: str
    trip: str
    route: str
    risk: float
    basis: str


@_kind("escort_joined")
@dataclass(frozen=True, slots=True)
class EscortJoined(Record):
    """``unit`` of escort pool ``escort`` took ``trip`` in its convoy on ``route``, after ``waited`` hours at the leg's start."""

    asset: str
    trip: str
    escort: str
    route: str
    unit: str
    waited: float


@_kind("escort_dispatched")
@dataclass(frozen=True, slots=True)
class EscortDispatched(Record):
    """Escort ``unit`` of ``asset`` set off from ``origin`` to meet a convoy at ``destination``, ``hours`` away."""

    asset: str
    unit: str
    origin: str
    destination: str
    hours: float


@_kind("escort_withdrawn")
@dataclass(frozen=True, slots=True)
class EscortWithdrawn(Record):
    """Escort ``unit`` of ``asset`` left station at the end of its endurance; back at ``back`` (None: for good)."""

    asset: str
    unit: str
    back: float | None


@_kind("asset_activated")
@dataclass(frozen=True, slots=True)
class AssetActivated(Record):
    """``asset`` was activated (``cause``: the event it waited for) and will be available at ``ready_at``."""

    asset: str
    cause: str
    lead_time: float
    ready_at: float


@_kind("asset_ready")
@dataclass(frozen=True, slots=True)
class AssetReady(Record):
    """``asset`` became available: activated and through its lead time, or past its ``available_from``."""

    asset: str


@_kind("incident")
@dataclass(frozen=True, slots=True)
class Incident(Record):
    """An incident on ``route`` (piracy, IED): ``lost`` tonnes lost and to be resent.

    A scripted incident (an inject's ``incident``) has no asset, trip or request.
    """

    asset: str | None
    trip: str | None
    request: str | None
    route: str
    escorted: bool
    lost: float


@_kind("effect_started")
@dataclass(frozen=True, slots=True)
class EffectStarted(Record):
    """An inject or incident changed the world: ``target`` (``route:ID``, ``asset:ID``...) as ``change`` says, until ``until``."""

    target: str
    change: str
    cause: str
    until: float | None
    amount: float | None


@_kind("effect_ended")
@dataclass(frozen=True, slots=True)
class EffectEnded(Record):
    """An effect's period is over and its target is as it was."""

    target: str
    change: str


@_kind("authority_granted")
@dataclass(frozen=True, slots=True)
class AuthorityGranted(Record):
    """A standing authority is in force: ``holder`` approves the requests of ``operation`` from now on."""

    authority: str
    operation: str
    holder: str


@_kind("delivery")
@dataclass(frozen=True, slots=True)
class Delivery(Record):
    """``quantity`` tonnes unloaded at ``site`` for ``request`` (``total`` so far)."""

    asset: str
    trip: str
    request: str
    site: str
    quantity: float
    total: float


@_kind("trip_ended")
@dataclass(frozen=True, slots=True)
class TripEnded(Record):
    """The unit is back at base and free again after ``busy`` hours."""

    asset: str
    trip: str
    busy: float


@_kind("decision_taken")
@dataclass(frozen=True, slots=True)
class DecisionTaken(Record):
    """At decision point ``decision``, ``by`` chose ``option`` for ``actor``."""

    decision: str
    option: str
    by: str
    rationale: str


@_kind("run_stopped")
@dataclass(frozen=True, slots=True)
class RunStopped(Record):
    """The run stopped before its end time, and why."""

    reason: str
