"""The scenario format: validated, frozen descriptions of a NATO–UN crisis response.

A scenario file has these sections (each a list of entities with an ``id``,
except ``scenario`` and ``variants``):

``scenario``
    Name, description, ISO ``start``, ``duration``, default ``seed`` and the
    ``sources`` the scenario is grounded in.
``actors``
    Organisations and cells (NAC, SHAPE, UN OCHA, WFP...), each with an org
    ``family``, whether it is ``military``, its ``staff`` (officers who handle
    messages one at a time) and its ``processing`` time per message.
``locations`` and ``routes``
    Airports, ports, depots and affected sites, joined by air, sea or road
    routes with a travel time (or distance, at the asset's speed) and a
    ``risk`` of an incident per transit that escorts reduce.
``channels``
    How two actors exchange messages: latency, ``loss`` with resend, and the
    highest marking the channel may carry.
``agreements``
    Information-sharing arrangements (which information classes, up to which
    marking, may pass between the parties) and notification arrangements
    (which classes a party pushes to the others, and how soon).
``liaison``
    Officers of one actor placed at another: they carry messages between the
    two quickly, relay what the host learns, and can be absent.
``assets``
    Pools of airlift, sealift, trucks, helicopters or escort ships: owner,
    count, capacity, speed and base.
``facts``
    Pieces of information, each with an information class, a marking, the
    actor it originates with, and who that actor shares it with. A fact with
    ``every`` recurs (a daily SITREP): each edition is shared afresh.
``requests``
    Requests for assistance (RFA), for information (RFI) and supply demands.
``injects``
    The Master Scenario Events List: what exercise control releases, when.
``decision_points``
    Where players choose; each option is a patch or an action.
``objectives``
    What the exercise is for: a metric, a target and HSEEP P/S/M thresholds.
``variants``
    Named coordination choices, each a patch (see :mod:`coopsim.engine.scenario.patch`).

Every model forbids unknown keys and is frozen once validated; cross-entity
checks (ids that must exist, routes that must connect) live in
:mod:`coopsim.engine.scenario.load` so they can report positions.
"""

from __future__ import annotations

import math
from datetime import date, datetime
from enum import StrEnum
from functools import cached_property
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, PrivateAttr, field_validator, model_validator

from coopsim.engine.scenario.distributions import Distribution
from coopsim.engine.scenario.durations import Duration

Id = Annotated[str, Field(pattern=r"^[A-Za-z][A-Za-z0-9_\-]*$", description="an identifier: letters, digits, _ and -")]
Probability = Annotated[float, Field(ge=0.0, le=1.0)]


def _one_or_many(value: Any) -> Any:
    return [value] if isinstance(value, str) else value


IdList = Annotated[tuple[Id, ...], BeforeValidator(_one_or_many)]


class Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True, validate_default=True, allow_inf_nan=False)


class Family(StrEnum):
    """The organisation family an actor belongs to; releasability is decided per family."""

    NATO = "NATO"
    UN = "UN"
    AU = "AU"
    EU = "EU"
    national = "national"
    NGO = "NGO"


class Marking(StrEnum):
    """Security markings, lowest first. A fact never travels on a channel cleared lower."""

    public = "public"
    unclassified = "unclassified"
    restricted = "restricted"
    confidential = "confidential"
    secret = "secret"

    @property
    def rank(self) -> int:
        return list(Marking).index(self)


class Mode(StrEnum):
    air = "air"
    sea = "sea"
    road = "road"


class RequestState(StrEnum):
    """The RFA lifecycle, in the order a request normally goes through it."""

    submitted = "submitted"
    validated = "validated"
    returned = "returned"
    forwarded = "forwarded"
    approved = "approved"
    declined = "declined"
    tasked = "tasked"
    deferred = "deferred"
    in_progress = "in_progress"
    completed = "completed"
    aborted = "aborted"
    handed_back = "handed_back"


class Source(Model):
    """A public record the scenario is grounded in."""

    title: str
    url: str | None = Field(None, description="a web address: http:// or https://")
    note: str | None = None

    @field_validator("url")
    @classmethod
    def _web_address(cls, url: str | None) -> str | None:
        if url is not None and not url.lower().startswith(("http://", "https://")):
            raise ValueError(f"{url[:60]!r} is not a web address (expected an address starting http:// or https://)")
        return url


def _source_from_text(value: Any) -> Any:
    return {"title": value} if isinstance(value, str) else value


class Contact(Model):
    """A point of contact: who to call about the exercise, or about an organisation's corrective actions."""

    name: str = Field(min_length=1, max_length=200)
    role: str = Field("", max_length=200, description="e.g. Exercise Director, or J4 plans officer")
    email: str = Field("", max_length=200)
    phone: str = Field("", max_length=100)


MissionArea = Literal["Prevention", "Protection", "Mitigation", "Response", "Recovery"]


class Exercise(Model):
    """What the HSEEP exercise overview says about the exercise built on this scenario. Every field is optional."""

    name: str | None = Field(None, max_length=200, description="the exercise's name (default: the scenario's name)")
    dates: tuple[date, ...] = Field(
        (),
        max_length=2,
        description="the first and last day the exercise was conducted, e.g. [2026-11-30, 2026-12-01];"
        " the improvement plan's start and completion dates count from the last",
    )
    scope: str = Field("", max_length=2000, description="type, duration, location and participation, in a sentence or two")
    mission_areas: tuple[MissionArea, ...] = Field(("Response",), min_length=1, description="HSEEP mission areas")
    threat: str = Field("", max_length=500, description="the threat or hazard, e.g. earthquake, piracy")
    sponsor: str = Field("", max_length=500)
    poc: Contact | None = Field(None, description="the exercise point of contact")
    contacts: dict[Id, Contact] = Field(
        default_factory=dict, description="each organisation's point of contact for its corrective actions, by actor id"
    )

    @field_validator("dates")
    @classmethod
    def _in_order(cls, dates: tuple[date, ...]) -> tuple[date, ...]:
        if len(dates) == 2 and dates[1] < dates[0]:
            raise ValueError(f"the exercise ends ({dates[1]}) before it starts ({dates[0]}) (expected [first day, last day])")
        return dates


class ScenarioInfo(Model):
    name: str
    description: str = ""
    start: datetime = Field(description="ISO date and time of hour 0, used for display (UTC unless it gives an offset)")
    timezone: str | None = Field(None, description="IANA time zone of the theatre, e.g. Africa/Nairobi: reports show local time beside UTC")
    handling: str = Field(
        "EXERCISE EXERCISE EXERCISE",
        min_length=1,
        max_length=200,
        description="the handling banner at the head and foot of every report page, e.g. a releasability line",
    )
    duration: Duration = Field(description="how long the scenario runs")
    exercise: Exercise = Field(default_factory=Exercise, description="the exercise overview of the after-action report")
    seed: int = Field(0, strict=True, description="seed used when none is given on the command line")
    sources: tuple[Annotated[Source, BeforeValidator(_source_from_text)], ...] = ()
    record_limit: int = Field(2_000_000, strict=True, gt=0, description="stop the run after this many records")
    pending_limit: int = Field(
        20_000, strict=True, gt=0, description="stop the run when this many messages are under way at once (in transit or waiting)"
    )

    @field_validator("start")
    @classmethod
    def _on_the_calendar(cls, start: datetime) -> datetime:
        if not 1900 <= start.year <= 2200:
            raise ValueError(f"the start {start.isoformat()} is out of range (expected a date between 1900 and 2200)")
        return start

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, zone: str | None) -> str | None:
        if zone is None:
            return None
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(zone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {zone!r} (expected an IANA name such as Africa/Nairobi or Asia/Karachi)") from None
        return zone

    @field_validator("duration")
    @classmethod
    def _runs_at_all(cls, hours: float) -> float:
        if hours <= 0:
            raise ValueError("the duration is zero (expected a duration above 0, such as 30d)")
        return hours


class Silence(Model):
    """A silence procedure: the draft decision passes after ``period`` unless an ally breaks silence (``broken``), which costs ``delay``."""

    period: Duration
    broken: Probability = 0.0
    delay: Distribution = "1d"


class Council(Model):
    """How an approving body decides: approve, decline or defer, with chances that add up to one, and stated reasons.

    A deferred request comes back to the table after ``defer_for``; a
    declined one goes back to its requester with ``decline_reason``.
    """

    approve: Probability = 1.0
    decline: Probability = 0.0
    defer: Probability = 0.0
    defer_for: Distribution = "2d"
    decline_reason: str = "the approving body declined the request"
    defer_reason: str = "the approving body deferred its decision"
    silence: Silence | None = None

    @model_validator(mode="after")
    def _adds_up(self) -> Council:
        if abs(self.approve + self.decline + self.defer - 1.0) > 1e-9:
            raise ValueError(
                f"approve, decline and defer add up to {self.approve + self.decline + self.defer:g} (expected chances that add up to 1)"
            )
        return self


class Actor(Model):
    id: Id
    name: str
    family: Family
    military: bool = False
    staff: int = Field(1, strict=True, ge=1, description="staff officers who each handle one message at a time")
    processing: Distribution = Field("1h", description="time to handle one message")
    approval: Distribution = Field("0h", description="time to deliberate on a request this actor approves")
    council: Council | None = Field(None, description="how this actor decides the requests it approves (default: always approve)")


class Location(Model):
    id: Id
    name: str
    kind: Literal["airport", "port", "depot", "site", "hq", "base"] = "site"
    supply: bool = Field(False, description="an unlimited source of relief goods (a donor depot)")
    stock: float = Field(0.0, ge=0, description="tonnes held here at the start")


class Effect(Model):
    """A change an inject or an incident makes to the world, for a period (``for``) or for good.

    Exactly one target, and a change that fits it:

    * ``route``: ``close: true`` (nothing travels it until it reopens) or a new ``risk``;
    * ``asset``: ``out`` units out of service (default: every unit);
    * ``location``: ``stock`` tonnes added there (negative: lost, looted, spoiled);
    * ``request``: ``quantity`` tonnes more (or fewer) to carry, a change in the demand at its site;
    * ``actor``: ``staff`` officers on duty (a surge cell, or staff away).
    """

    route: str | None = Field(None, description="a route id or FROM-TO-MODE key")
    close: bool | None = None
    risk: Probability | None = None
    asset: Id | None = None
    out: int | None = Field(None, strict=True, ge=1, description="units out of service (default: all)")
    location: Id | None = None
    stock: float | None = Field(None, description="tonnes added at the location (negative: removed)")
    request: Id | None = None
    quantity: float | None = Field(None, description="tonnes added to the request's cargo (negative: removed)")
    actor: Id | None = None
    staff: int | None = Field(None, strict=True, ge=0, description="officers on duty while the effect lasts")
    for_: Duration | None = Field(None, alias="for", description="how long the effect lasts (default: for good)")

    @model_validator(mode="after")
    def _one_change(self) -> Effect:
        targets = [t for t in ("route", "asset", "location", "request", "actor") if getattr(self, t) is not None]
        if len(targets) != 1:
            raise ValueError("give exactly one of route, asset, location, request, actor (expected one target per effect)")
        fits = {
            "route": ("close", "risk"),
            "asset": ("out",),
            "location": ("stock",),
            "request": ("quantity",),
            "actor": ("staff",),
        }
        changes = [c for cs in fits.values() for c in cs if getattr(self, c) is not None]
        allowed = fits[targets[0]]
        if targets[0] != "asset" and not changes:
            raise ValueError(f"an effect on a {targets[0]} needs {' or '.join(allowed)} (expected the change it makes)")
        wrong = [c for c in changes if c not in allowed]
        if wrong:
            raise ValueError(f"{wrong[0]} does not apply to a {targets[0]} (expected {' or '.join(allowed)})")
        if targets[0] == "route" and self.close is not None and self.risk is not None:
            raise ValueError("give close or risk, not both (expected one change per effect)")
        if targets[0] in ("location", "request") and self.for_ is not None:
            raise ValueError(f"a change of {'stock' if targets[0] == 'location' else 'cargo'} is for good (expected no for)")
        if self.close is False and self.for_ is not None:
            raise ValueError("reopening a route is for good (expected no for; close it for a period instead)")
        return self

    @property
    def target(self) -> tuple[str, str]:
        """(kind, id) of what the effect changes."""
        for kind in ("route", "asset", "location", "request", "actor"):
            if getattr(self, kind) is not None:
                return kind, getattr(self, kind)
        raise AssertionError("validated: one target")

    def describe(self) -> str:
        """The change in words: ``route mombasa-mogadishu closed``, ``actor nac: 3 staff``."""
        kind, ident = self.target
        if kind == "route":
            text = (
                f"route {ident} closed"
                if self.close
                else (f"route {ident} reopened" if self.close is False else f"route {ident} risk {self.risk:g}")
            )
        elif kind == "asset":
            text = f"asset {ident}: {self.out or 'all'} unit(s) out of service"
        elif kind == "location":
            text = f"location {ident}: {self.stock:+g} t of stock"
        elif kind == "request":
            text = f"request {ident}: {self.quantity:+g} t to carry"
        else:
            text = f"actor {ident}: {self.staff} staff on duty"
        return text + (f" for {self.for_:g}h" if self.for_ is not None else "")


class Intel(Model):
    """Security information that changes a loaded transit: the planner (the lift pool's owner) holds a fresh edition of ``fact``.

    With an edition issued within ``fresh`` of departure, the route's risk is
    multiplied by ``risk_factor``. Without one, the trip goes anyway
    (``without: go``) or waits at the leg's start for a fresh edition
    (``without: wait``), at most ``wait_at_most`` (default: as long as it takes).
    """

    fact: Id
    fresh: Duration = "24h"
    risk_factor: Probability = 0.5
    without: Literal["go", "wait"] = "go"
    wait_at_most: Duration | None = None


class Route(Model):
    id: Id | None = None
    from_: Id = Field(alias="from")
    to: Id
    mode: Mode
    time: Distribution | None = Field(None, description="travel time (or give distance_km)")
    distance_km: float | None = Field(None, gt=0)
    risk: Probability = Field(0.0, description="chance of an incident per unescorted transit")
    escorted_risk: Probability = Field(0.0, description="chance of an incident per escorted transit")
    incident_delay: Duration = Field("2d", description="how long an incident holds the asset")
    two_way: bool = True
    intel: Intel | None = Field(None, description="security information whose freshness changes the risk of a loaded transit")
    on_incident: tuple[Effect, ...] = Field((), description="effects an incident on this route has (e.g. close it for a day)")

    @model_validator(mode="after")
    def _time_or_distance(self) -> Route:
        if (self.time is None) == (self.distance_km is None):
            raise ValueError("give exactly one of time and distance_km (expected a travel time or a distance)")
        return self

    @property
    def key(self) -> str:
        return self.id or f"{self.from_}-{self.to}-{self.mode.value}"


class Channel(Model):
    id: Id
    between: tuple[Id, Id]
    kind: Literal["formal", "liaison", "vtc", "hotline", "staff_talks", "email", "radio"] = "formal"
    latency: Distribution
    loss: float = Field(0.0, ge=0.0, lt=1.0, description="chance a transmission is lost")
    resend_after: Duration = Field("1h", description="how long the sender waits before resending a lost message")
    max_attempts: int = Field(5, strict=True, ge=1, description="transmissions before the message is given up")
    max_marking: Marking = Marking.unclassified
    capacity: int | None = Field(None, strict=True, ge=1, description="messages in transit at once")


class Window(Model):
    """A span of scenario time, such as a liaison officer's absence: from ``from`` until ``until``."""

    from_: Duration = Field(alias="from")
    until: Duration

    @model_validator(mode="after")
    def _ordered(self) -> Window:
        if self.until <= self.from_:
            raise ValueError(f"the window ends at {self.until:g}h, before it starts at {self.from_:g}h (expected until after from)")
        return self


class Agreement(Model):
    id: Id
    kind: Literal["information_sharing", "notification"]
    parties: tuple[str, ...] = Field(min_length=2, description="org families or actor ids")
    classes: tuple[str, ...] = Field(min_length=1, description="information classes covered")
    max_marking: Marking = Marking.restricted
    lead_time: Distribution = Field("0h", description="notification: how soon a party notifies the others")
    valid_from: Duration = "0h"
    valid_until: Duration | None = None

    @model_validator(mode="after")
    def _valid_window(self) -> Agreement:
        if self.valid_until is not None and self.valid_until <= self.valid_from:
            raise ValueError(
                f"valid_until ({self.valid_until:g}h) is not after valid_from ({self.valid_from:g}h) "
                "(expected the agreement to end after it starts)"
            )
        return self


class Liaison(Model):
    id: Id
    name: str
    from_: Id = Field(alias="from", description="the actor the officer belongs to")
    at: Id = Field(description="the actor the officer is placed at")
    count: int = Field(1, strict=True, ge=1)
    relay_time: Distribution = Field("1h", description="time to carry a message between home and host")
    relays_facts: bool = Field(True, description="pass on what the host learns, where releasable")
    absent: tuple[Window, ...] = ()


class Role(StrEnum):
    """What an asset pool does: carry cargo, or escort the units that do."""

    lift = "lift"
    escort = "escort"


class Asset(Model):
    id: Id
    name: str
    owner: Id
    kind: str = Field(description="a label for people: airlift, sealift, trucks, helicopter, frigate...; behaviour follows role")
    role: Role = Field(Role.lift, description="lift carries cargo; escort protects lift units in transit")
    mode: Mode
    count: int = Field(1, strict=True, ge=1)
    capacity: float | None = Field(None, gt=0, description="lift: tonnes per trip")
    convoy: int | None = Field(
        None, strict=True, ge=1, description="escort: the most lift units one escort unit takes in a convoy (default 1)"
    )
    speed_kmh: float | None = Field(None, gt=0)
    base: Id
    military: bool = True
    load_time: Distribution = "0h"
    unload_time: Distribution = "0h"
    available_from: Duration = "0h"
    activation: Activation | None = Field(
        None, description="force generation: the asset becomes available after an event plus a lead time, not on a fixed date"
    )
    endurance: Duration | None = Field(None, description="escort: how long a unit stays on station before it must leave")
    replenish: Duration | None = Field(None, description="escort: time away to replenish after its endurance (default: it leaves for good)")

    @model_validator(mode="after")
    def _role_fits(self) -> Asset:
        if self.role is Role.lift:
            if self.kind.strip().lower() == "escort":
                raise ValueError("kind 'escort' is only a label; an escort pool says role: escort (expected role: escort and convoy: N)")
            if self.capacity is None:
                raise ValueError("a lift asset needs a capacity (expected capacity: tonnes per trip)")
            if self.convoy is not None:
                raise ValueError("convoy is for escorts (expected role: escort, or no convoy)")
            if self.endurance is not None or self.replenish is not None:
                raise ValueError("endurance and replenish are for escorts (expected role: escort, or neither)")
        elif self.capacity is not None:
            raise ValueError("an escort carries no cargo (expected convoy: the lift units it covers, not capacity)")
        if self.replenish is not None and self.endurance is None:
            raise ValueError("replenish follows an endurance (expected endurance: how long a unit stays on station)")
        if self.endurance is not None and self.endurance <= 0:
            raise ValueError("an endurance must be positive (expected e.g. endurance: 30d)")
        return self

    @property
    def slots(self) -> int:
        """How many units (lift) or escorted places (escort: units x convoy) the pool offers at once."""
        return self.count * (self.convoy or 1) if self.role is Role.escort else self.count


class Fact(Model):
    id: Id
    description: str
    class_: str = Field(alias="class", description="information class, matched against agreements")
    marking: Marking = Marking.unclassified
    origin: Id
    distribution: IdList = ()
    at: Duration | None = Field(None, description="when the origin learns it (or leave to an inject)")
    every: Duration | None = Field(None, description="issue a new edition this often, like a daily SITREP (needs at)")

    @model_validator(mode="after")
    def _editions(self) -> Fact:
        if self.every is not None and (self.at is None or self.every <= 0):
            raise ValueError("a recurring fact needs at and a positive every (expected e.g. at: 6h, every: 1d)")
        return self

    def issued(self, edition: int) -> float | None:
        """When edition ``edition`` of a recurring fact was issued (None for one-off facts)."""
        return self.at + edition * self.every if self.every is not None else None


class LastResort(Model):
    """The requester's last-resort case (Oslo and MCDA Guidelines) for a humanitarian request for military assets.

    The humanitarian side (``judge``: the Humanitarian Coordinator or OCHA's
    civil-military cell; default: the requester) tests it: the request
    passes only if no civilian asset of the scenario could carry the cargo to
    its site before it is needed, or the capability asked for (an escort) has
    no civilian equivalent. ``evidence`` is the case as written; the test
    itself is computed.
    """

    evidence: str = ""
    judge: Id | None = None


class IfDeclined(Model):
    """What a requester does with a declined request: ``revise`` and resubmit, turn ``elsewhere`` (submit ``request``), or ``abandon``."""

    then: Literal["revise", "elsewhere", "abandon"] = "abandon"
    request: Id | None = Field(None, description="elsewhere: the request to another provider")
    after: Distribution = Field("1d", description="revise: time to revise the request")
    times: int = Field(1, strict=True, ge=1, description="revise: at most this many revisions")

    @model_validator(mode="after")
    def _where(self) -> IfDeclined:
        if (self.then == "elsewhere") != (self.request is not None):
            raise ValueError(
                "elsewhere names the request to submit instead, and only elsewhere does (expected then: elsewhere with request: ID)"
            )
        return self


class Request(Model):
    id: Id
    kind: Literal["rfa", "rfi", "supply"] = "rfa"
    description: str = ""
    from_: Id = Field(alias="from", description="the requesting actor")
    to: Id = Field(description="the actor that receives and validates it")
    approver: Id | None = Field(None, description="the actor that approves it (default: to)")
    marking: Marking = Marking.unclassified
    at: Duration | None = Field(None, description="submission time (or leave to an inject or decision)")
    fact: Id | None = Field(None, description="rfi: the fact asked for")
    quantity: float = Field(0.0, ge=0, description="tonnes to move")
    cargo: str = "relief supplies"
    pickup: Id | None = Field(None, description="where the cargo is loaded (default: the asset's base)")
    site: Id | None = None
    needed_by: Duration | None = None
    assets: IdList = ()
    escorts: IdList = ()
    escort_policy: Literal["wait", "sail"] = Field("wait", description="wait for an escort, or sail unescorted if none is free")
    purpose: Literal["humanitarian", "military_support", "state"] = Field(
        "humanitarian",
        description="humanitarian relief (takes the last-resort test for military assets), support to another military, "
        "or an affected state's own request (neither takes it)",
    )
    operation: Id | None = Field(None, description="the operation it belongs to: a standing authority for it delegates approval")
    last_resort: LastResort | None = None
    rework: Distribution = Field("1d", description="time to make the last-resort case when the judge returns the request")
    approve_probability: Probability = 1.0
    if_declined: IfDeclined = Field(default_factory=IfDeclined)
    requires: Id | None = Field(None, description="a fact the requester must know before it submits the request")
    trips_require: Id | None = Field(None, description="a fact a lift pool's owner must know before a loaded trip departs")

    @property
    def approver_id(self) -> str:
        return self.approver or self.to


class Amount(Model):
    """A number drawn at random (tonnes, a priority): ``{dist: uniform, low: 50, high: 150}``, or a plain number."""

    dist: Literal["fixed", "uniform", "triangular", "normal", "lognormal", "exponential"]
    value: float | None = None
    low: float | None = None
    mode: float | None = None
    high: float | None = None
    mean: float | None = None
    sd: float | None = Field(None, ge=0)

    @model_validator(mode="after")
    def _parameters(self) -> Amount:
        needs = {
            "fixed": ("value",),
            "uniform": ("low", "high"),
            "triangular": ("low", "mode", "high"),
            "normal": ("mean", "sd"),
            "lognormal": ("mean", "sd"),
            "exponential": ("mean",),
        }[self.dist]
        missing = [n for n in needs if getattr(self, n) is None]
        if missing:
            raise ValueError(f"a {self.dist} amount needs {', '.join(needs)} (expected {', '.join(f'{n}: NUMBER' for n in needs)})")
        if self.dist in ("uniform", "triangular") and not (self.low <= (self.mode if self.mode is not None else self.low) <= self.high):
            raise ValueError("low, mode and high are out of order (expected low <= mode <= high)")
        if self.dist in ("lognormal", "exponential") and self.mean <= 0:
            raise ValueError("mean must be above zero (expected a positive number)")
        return self

    def sample(self, rng: Any) -> float:
        """One draw; never below zero (a normal draw is resampled until it is not)."""
        if self.dist == "fixed":
            return self.value
        if self.dist == "uniform":
            return rng.uniform(self.low, self.high)
        if self.dist == "triangular":
            return rng.triangular(self.low, self.high, self.mode)
        if self.dist == "exponential":
            return rng.expovariate(1.0 / self.mean)
        if self.dist == "lognormal":
            variance = math.log1p((self.sd / self.mean) ** 2)
            return rng.lognormvariate(math.log(self.mean) - variance / 2, math.sqrt(variance))
        while True:
            x = rng.gauss(self.mean, self.sd)
            if x >= 0:
                return x


def _number_is_fixed(value: Any) -> Any:
    return {"dist": "fixed", "value": value} if isinstance(value, (int, float)) and not isinstance(value, bool) else value


AmountOrNumber = Annotated[Amount, BeforeValidator(_number_is_fixed)]


class Trigger(Model):
    """When something happens: at a time, or after another event (plus ``delay``)."""

    at: Duration | None = None
    request: Id | None = None
    state: RequestState | None = None
    inject: int | None = None
    fact: Id | None = None
    known_by: Id | None = None
    decision: Id | None = None
    option: Id | None = None
    delay: Duration = "0h"

    @model_validator(mode="after")
    def _one_kind(self) -> Trigger:
        kinds = [k for k in ("at", "request", "inject", "fact", "decision") if getattr(self, k) is not None]
        if len(kinds) != 1:
            raise ValueError("give exactly one of at, request, inject, fact, decision (expected one trigger)")
        if self.request is not None and self.state is None:
            raise ValueError("a request trigger needs a state (expected e.g. state: approved)")
        if self.fact is not None and self.known_by is None:
            raise ValueError("a fact trigger needs known_by (expected an actor id)")
        for extra, needs in (("state", "request"), ("known_by", "fact"), ("option", "decision")):
            if getattr(self, extra) is not None and getattr(self, needs) is None:
                raise ValueError(f"{extra} goes with {needs} (expected {needs}: ... beside {extra})")
        return self

    def describe(self) -> str:
        """The trigger in words, for an MSEL timeline: ``when request un_airlift is approved, + 6h``."""
        if self.at is not None:
            text = f"at {self.at:g}h"
        elif self.request is not None:
            text = f"when request {self.request} is {self.state.value.replace('_', ' ')}"
        elif self.inject is not None:
            text = f"after inject {self.inject}"
        elif self.fact is not None:
            text = f"when {self.known_by} knows {self.fact}"
        else:
            text = f"after decision {self.decision}" + (f" ({self.option})" if self.option else "")
        return text + (f", + {self.delay:g}h" if self.delay else "")


class Inject(Model):
    seq: int = Field(ge=1, strict=True)
    time: Duration | None = None
    trigger: Trigger | None = None
    contingency: bool = Field(False, description="released only by its trigger, a decision or the facilitator")
    type: Literal["information", "request", "event", "directive"] = "information"
    delivery: Literal["message", "email", "phone", "vtc", "in_person", "simcell"] = "message"
    from_: str = Field("SIMCELL", alias="from", description="an actor id, or SIMCELL for exercise control")
    to: IdList = Field(min_length=1)
    description: str
    expected_action: str = ""
    objective: Id | None = None
    fact: Id | None = Field(None, description="the recipients learn this fact")
    request: Id | None = Field(None, description="the recipients' request to submit")
    controller: str = ""
    effects: tuple[Effect, ...] = Field((), description="changes the inject makes to the world (an event with effects)")
    incident: str | None = Field(
        None, description="a route where this inject is an incident: counted, with the route's on_incident effects"
    )

    @model_validator(mode="after")
    def _when(self) -> Inject:
        if self.time is not None and self.trigger is not None:
            raise ValueError("give time or trigger, not both (expected one way to release it)")
        if self.time is None and self.trigger is None and not self.contingency:
            raise ValueError("give a time or a trigger, or mark it contingency: true (expected a release time)")
        return self


class InjectTemplate(Model):
    """What every inject of an arrival stream says (its seq and time come from the stream)."""

    type: Literal["information", "request", "event", "directive"] = "information"
    delivery: Literal["message", "email", "phone", "vtc", "in_person", "simcell"] = "message"
    from_: str = Field("SIMCELL", alias="from")
    to: IdList = Field(min_length=1)
    description: str
    expected_action: str = ""
    objective: Id | None = None
    fact: Id | None = None
    controller: str = ""
    effects: tuple[Effect, ...] = ()


class RequestTemplate(Request):
    """What every request of an arrival stream asks (its id, time and size come from the stream)."""

    id: Id = "arrival"


class ArrivalPhase(Model):
    """A phase of the crisis with its own pace of arrivals: until ``until``, one every ``every``."""

    until: Duration
    every: Distribution


class Arrivals(Model):
    """A stream of requests, demands or injects arriving at random intervals (a Poisson stream with an exponential ``every``).

    Arrivals come one ``every`` apart from ``start`` until ``until`` (or the
    scenario end), at most ``limit`` of them. ``phases`` change the pace over
    the crisis: the interval drawn at a time is the first phase whose
    ``until`` is later. A request stream may draw each arrival's
    ``quantity``. Each stream draws from random streams of its own, so
    common random numbers hold across variants.
    """

    id: Id
    every: Distribution = Field(description="the time between arrivals, e.g. {dist: exponential, mean: 6h}")
    phases: tuple[ArrivalPhase, ...] = ()
    start: Duration = "0h"
    until: Duration | None = None
    limit: int | None = Field(None, strict=True, ge=1, description="the most arrivals")
    request: RequestTemplate | None = None
    inject: InjectTemplate | None = None
    quantity: AmountOrNumber | None = Field(None, description="tonnes each arriving request carries, drawn afresh")

    @model_validator(mode="after")
    def _one_kind(self) -> Arrivals:
        if (self.request is None) == (self.inject is None):
            raise ValueError("give exactly one of request, inject (expected what arrives)")
        if self.quantity is not None and self.request is None:
            raise ValueError("quantity is for arriving requests (expected request: beside quantity)")
        if self.until is not None and self.until <= self.start:
            raise ValueError("until is not after start (expected the stream to end after it starts)")
        if [p.until for p in self.phases] != sorted(p.until for p in self.phases):
            raise ValueError("phases are out of order (expected each phase's until later than the one before)")
        return self

    def every_at(self, t: float) -> Distribution:
        """The interval distribution in force at ``t``."""
        return next((p.every for p in self.phases if t < p.until), self.every)


class Activation(Model):
    """Force generation: an asset is activated when ``after`` fires, and available ``lead_time`` later (activation, transit)."""

    after: Trigger
    lead_time: Distribution = "0h"


class Authority(Model):
    """A standing (delegated) authority: requests of ``operation`` are approved by ``holder``, not sent back to the Council.

    In force from the start, or from ``after`` (a trigger such as the Council
    approving the operation's first request).
    """

    id: Id
    operation: Id
    holder: Id = Field(description="who approves under the authority, e.g. SHAPE or the operation commander")
    after: Trigger | None = None
    approval: Distribution | None = Field(None, description="the holder's time to approve (default: its own approval time)")


class ShareFact(Model):
    fact: Id
    to: IdList = Field(min_length=1)


class Action(Model):
    """What an option does at once: release a contingency inject, submit a request, share a fact."""

    release_inject: int | None = None
    submit_request: Id | None = None
    share_fact: ShareFact | None = None

    @model_validator(mode="after")
    def _one(self) -> Action:
        if sum(v is not None for v in (self.release_inject, self.submit_request, self.share_fact)) != 1:
            raise ValueError("give exactly one of release_inject, submit_request, share_fact (expected one action)")
        return self


class Option(Model):
    id: Id
    description: str = ""
    patch: dict[str, Any] | None = Field(None, description="changes to the scenario from now on")
    action: Action | None = None
    requires: Id | None = Field(None, description="a fact the point's owner must know for this option to be open")


class Condition(Model):
    """What a policy rule looks at: a fact the owner knows (or does not), or a request's state."""

    knows: Id | None = None
    not_knows: Id | None = None
    request: Id | None = None
    state: RequestState | None = None

    @model_validator(mode="after")
    def _one(self) -> Condition:
        given = [k for k in ("knows", "not_knows", "request") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError("give exactly one of knows, not_knows, request (expected one condition)")
        if (self.request is None) != (self.state is None):
            raise ValueError("a request condition needs a state, and only it does (expected request: ID with state: STATE)")
        return self


class Rule(Model):
    """One rule of a policy: if the condition holds, choose the option."""

    if_: Condition = Field(alias="if")
    choose: Id


class DecisionPoint(Model):
    id: Id
    name: str
    description: str = ""
    owner: Id
    trigger: Trigger
    options: tuple[Option, ...] = Field(min_length=2)
    default: Id
    policy: tuple[Rule, ...] = Field(
        (), description="rules over the owner's knowledge and the situation; the first that holds chooses (else the default)"
    )

    def option(self, option_id: str) -> Option:
        return next(o for o in self.options if o.id == option_id)


class Thresholds(Model):
    """HSEEP ratings: a value as good as ``P`` rates P, as good as ``S`` rates S, ``M`` rates M, else U."""

    P: float
    S: float
    M: float


class Objective(Model):
    id: Id
    name: str
    description: str = ""
    metric: str = Field(description="a metric name, e.g. rfa_cycle_time or fill_rate.muzaffarabad")
    target: float
    thresholds: Thresholds
    recommendation: str | None = Field(None, description="the planners' own recommendation if it is not met")
    practical: float | None = Field(
        None, ge=0, description="the least difference that matters, in the metric's unit (default: 5 % of the baseline mean)"
    )
    core_capability: str | None = Field(
        None, max_length=200, description="the HSEEP core capability it exercises (default: one that fits its metric)"
    )


class Variant(Model):
    description: str = ""
    patch: dict[str, Any] = Field(default_factory=dict)


ID_SECTIONS = (
    "actors",
    "locations",
    "channels",
    "agreements",
    "liaison",
    "assets",
    "facts",
    "requests",
    "decision_points",
    "objectives",
    "arrivals",
    "authorities",
)
"""The sections whose entities are named by ``id`` (routes have a derived key, injects a ``seq``)."""


class Scenario(Model):
    """A whole scenario. Build one with :func:`coopsim.engine.load_scenario`."""

    scenario: ScenarioInfo
    actors: tuple[Actor, ...] = Field(min_length=1)
    locations: tuple[Location, ...] = ()
    routes: tuple[Route, ...] = ()
    channels: tuple[Channel, ...] = ()
    agreements: tuple[Agreement, ...] = ()
    liaison: tuple[Liaison, ...] = ()
    assets: tuple[Asset, ...] = ()
    facts: tuple[Fact, ...] = ()
    requests: tuple[Request, ...] = ()
    injects: tuple[Inject, ...] = ()
    decision_points: tuple[DecisionPoint, ...] = ()
    objectives: tuple[Objective, ...] = ()
    arrivals: tuple[Arrivals, ...] = ()
    authorities: tuple[Authority, ...] = ()
    variants: dict[Id, Variant] = Field(default_factory=dict)

    # Where the scenario came from, set by the loader: the located data (so
    # patches can be applied and re-validated), the source file's sha256, and
    # which variant and overrides were applied.
    _document: Any = PrivateAttr(None)
    _sha256: str = PrivateAttr("")
    _variant: str | None = PrivateAttr(None)
    _overrides: tuple[str, ...] = PrivateAttr(())

    @property
    def sha256(self) -> str:
        """sha256 of the scenario file as written (before variants and overrides)."""
        return self._sha256

    @property
    def variant(self) -> str | None:
        return self._variant

    @property
    def overrides(self) -> tuple[str, ...]:
        return self._overrides

    @property
    def source(self) -> str:
        """The file (or name) the scenario was loaded from."""
        return self._document.source if self._document is not None else "<memory>"

    @cached_property
    def by_id(self) -> dict[str, dict[str, Any]]:
        """Entities by section and id, e.g. ``by_id["actors"]["un_ocha"]``."""
        table = {name: {e.id: e for e in getattr(self, name)} for name in ID_SECTIONS}
        table["routes"] = {r.key: r for r in self.routes}
        table["injects"] = {i.seq: i for i in self.injects}
        return table
