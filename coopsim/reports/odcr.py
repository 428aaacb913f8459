"""ODCR lessons: Observation, Discussion, Conclusion, Recommendation, from rules.

NATO lessons-learned practice writes each lesson as an Observation (what
happened, with numbers), a Discussion (why, with evidence), a Conclusion (the
root cause) and a Recommendation (what to change, and who should). HSEEP files
each as a strength or an area for improvement of an objective.

Entries here are derived from the run: the objective's metric and rating,
the per-request parts of the RFA cycle, and the event log (which channel
carried the messages, who learned a fact late and from whom, what was
withheld and why, where incidents happened). A scenario's own
``recommendation`` for an objective replaces the rule's recommendation.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import asdict, dataclass
from typing import Any

from coopsim.engine import METRICS, Objective, RunData, Scenario, records, split_metric

from .summary import format_value

PART_NAMES = {
    "transit": "time on channels",
    "queue": "waiting for a free staff officer",
    "processing": "staff handling",
    "rework": "gathering missing last-resort evidence",
    "approval": "approval",
    "transport": "transport after tasking",
}


@dataclass(frozen=True, slots=True)
class Lesson:
    """One ODCR entry, filed under an objective as a strength or an area for improvement."""

    objective: str
    kind: str  # "strength" or "improvement"
    observation: str
    discussion: str
    conclusion: str
    recommendation: str
    responsible: str  # the org family (or actor) that should act
    capability: str  # POETE: Planning, Organization, Equipment, Training, Exercise

    def as_dict(self) -> dict[str, str]:
        return asdict(self)


@dataclass(frozen=True, slots=True)
class Evidence:
    """What the rules may look at: the run, typed (its scenario, metrics, request tracks and records)."""

    run: RunData

    @property
    def scenario(self) -> Scenario:
        return self.run.scenario

    @property
    def detail(self) -> dict[str, Any]:
        return self.run.metrics.detail

    def family(self, actor: str) -> str:
        a = self.scenario.by_id["actors"].get(actor)
        return f"{a.family.value} ({a.name})" if a else actor


def lesson(objective: Objective, rating: str, value: float | None, ev: Evidence) -> Lesson:
    """The ODCR entry for one objective of a run."""
    base, subject = split_metric(objective.metric)
    kind = "strength" if rating == "P" else "improvement"
    observation = _observation(objective, rating, value)
    family = METRICS[base].subject
    if base.startswith(("rfa_", "request_cycle_time")) or (family == "locations" and subject):
        found = _request_cause(objective, ev, base, subject)
    elif base in ("info_latency", "cop_coverage"):
        found = _information_cause(ev, subject)
    elif base == "incidents":
        found = _incident_cause(ev)
    elif base in ("messages_lost", "messages_sent"):
        found = _channel_cause(ev, subject)
    else:
        found = _generic_cause(objective)
    discussion, conclusion, recommendation, responsible, capability = found
    if kind == "strength":
        conclusion = f"Performed without challenges: {conclusion[0].lower()}{conclusion[1:]}"
        keep = recommendation.rstrip(".")
        recommendation = f"Sustain: record this as a good practice and keep it in the next exercise ({keep[0].lower()}{keep[1:]})."
    elif objective.recommendation:
        recommendation = objective.recommendation
    return Lesson(objective.id, kind, observation, discussion, conclusion, recommendation, responsible, capability)


def _observation(o: Objective, rating: str, value: float | None) -> str:
    if value is None:
        return f"{o.name}: {o.metric} could not be measured in this run (target {format_value(o.metric, o.target)}); rated {rating}."
    return (
        f"{o.name}: {o.metric} was {format_value(o.metric, value)} against a target of {format_value(o.metric, o.target)}; rated {rating}."
    )


def _request_cause(o: Objective, ev: Evidence, base: str, subject: tuple[str, ...]) -> tuple[str, str, str, str, str]:
    tracks = ev.run.requests
    if base.endswith(("cycle_time", *(f"_{p}" for p in PART_NAMES))) and subject:
        chosen = [subject[0]]
    elif subject:  # a site: the requests that deliver to it
        chosen = [r.id for r in ev.scenario.requests if r.site == subject[0]]
    else:
        chosen = [r.id for r in ev.scenario.requests if r.kind == "rfa" or not base.startswith("rfa_")]
    measured = [(rid, tracks[rid]) for rid in chosen if rid in tracks and tracks[rid].cycle_time is not None]
    if not measured:
        states = (
            ", ".join(f"{rid} {tracks[rid].state.value.replace('_', ' ') if rid in tracks else 'not submitted'}" for rid in chosen)
            or "no request"
        )
        spec = ev.scenario.by_id["requests"].get(chosen[0]) if chosen else None
        who = ev.family(spec.to) if spec else "exercise control"
        return (
            f"No request behind this objective completed: {states}.",
            "The request cycle did not finish within the exercise window.",
            "Trace where the request stalled in the event log and agree a fallback route for it.",
            who,
            "Planning",
        )
    rid, track = max(measured, key=lambda item: item[1].cycle_time)
    parts = {p.value: h for p, h in track.parts.items()}
    cycle = track.cycle_time
    span = "from submission to completion"
    if base == "time_to_first_delivery":
        # What counts is the first load, not the whole request: transport ends at the first delivery.
        rid, parts, cycle = _to_first_delivery(ev, [r for r, _ in measured], subject[0])
        span = f"from submission to its first delivery at {subject[0]}"
    listing = ", ".join(f"{p} {h:.1f} h" for p, h in parts.items() if h > 0)
    focus = base.removeprefix("rfa_").removeprefix("request_")
    part, hours = (focus, parts[focus]) if focus in parts else max(parts.items(), key=lambda kv: kv[1])
    share = f" ({hours / cycle:.0%})" if cycle else ""
    discussion = f"Request {rid} took {cycle:.1f} h {span}: {listing}. " + (
        f"{PART_NAMES[part].capitalize()} took {hours:.1f} h{share}."
        if focus in parts
        else f"The largest part was {PART_NAMES[part]}{share}."
    )
    spec = ev.scenario.by_id["requests"][rid]
    if part in ("transit", "queue", "processing"):
        by_actor: dict[str, float] = defaultdict(float)
        by_channel: dict[str, float] = defaultdict(float)
        for r in ev.run.records.of(records.MessageDelivered):
            if r.request == rid:
                by_channel[r.channel] += r.transit
        for r in ev.run.records.of(records.MessageHandled):
            if r.request == rid:
                by_actor[r.actor] += r.wait if part == "queue" else r.service
        if part == "transit" and by_channel:
            channel, h = max(by_channel.items(), key=lambda kv: kv[1])
            spec_ch = ev.scenario.by_id["channels"].get(channel)
            ends = " and ".join(spec_ch.between) if spec_ch else channel
            return (
                discussion + f" Messages spent {h:.1f} h on {channel}.",
                f"The {spec_ch.kind if spec_ch else 'liaison'} channel between {ends} is the bottleneck of the request cycle.",
                f"Put a liaison officer between {ends}, or agree a faster channel than {channel} for requests.",
                ev.family(spec_ch.between[0] if spec_ch else spec.to),
                "Organization",
            )
        if by_actor:
            actor, h = max(by_actor.items(), key=lambda kv: kv[1])
            if part == "queue":
                return (
                    discussion + f" Messages waited {h:.1f} h for a free officer at {actor}.",
                    f"Staff at {actor} were saturated when the request arrived.",
                    f"Add staff or a surge cell at {actor} for the first days of a crisis.",
                    ev.family(actor),
                    "Organization",
                )
            return (
                discussion + f" Handling at {actor} took {h:.1f} h.",
                f"Handling the request at {actor} is slow.",
                f"Give {actor} agreed templates and procedures for such requests.",
                ev.family(actor),
                "Planning",
            )
    if part == "approval":
        approver = spec.approver_id
        return (
            discussion,
            f"Deliberation at {approver} set the pace of the response.",
            f"Agree criteria under which {approver} pre-authorises such requests.",
            ev.family(approver),
            "Planning",
        )
    if part == "rework":
        return (
            discussion + f" The request was returned to {spec.from_} for last-resort evidence.",
            "The request went out without the evidence the Oslo Guidelines ask for before military assets are used.",
            f"Train {spec.from_} staff to attach last-resort evidence to requests for military assets from the start.",
            ev.family(spec.from_),
            "Training",
        )
    incidents = [r for r in ev.run.records.of(records.Incident) if r.request == rid]
    lost = f" {len(incidents)} incident(s) in transit cost {sum(r.lost for r in incidents):,.0f} t of cargo." if incidents else ""
    owner = ev.scenario.by_id["assets"][spec.assets[0]].owner if spec.assets else spec.approver_id
    return (
        discussion + lost,
        f"Moving the cargo after tasking took {hours:.1f} h" + (", lengthened by incidents in transit." if incidents else "."),
        f"{owner}: add or pre-position lift for {spec.site or 'the site'}" + (", and escort loaded transits." if incidents else "."),
        ev.family(owner),
        "Equipment",
    )


def _to_first_delivery(ev: Evidence, rids: list[str], site: str) -> tuple[str, dict[str, float], float]:
    """The request that delivered first to ``site``, with its cycle cut at that first delivery."""
    first: dict[str, float] = {}
    for r in ev.run.records.of(records.Delivery):
        if r.site == site and r.request in rids:
            first.setdefault(r.request, r.t)
    rid = min(first, key=first.get) if first else rids[0]
    track = ev.run.requests[rid]
    parts = {p.value: h for p, h in track.parts.items()}
    if rid in first:
        tasked = track.tasked if track.tasked is not None else first[rid]
        parts["transport"] = first[rid] - tasked
        return rid, parts, first[rid] - track.submitted
    return rid, parts, track.cycle_time


def _information_cause(ev: Evidence, subject: tuple[str, ...]) -> tuple[str, str, str, str, str]:
    facts = ev.detail.get("facts", {})
    fact_id = subject[0] if subject else max(facts, key=lambda f: max(facts[f]["learned"].values(), default=0.0), default=None)
    if fact_id is None:
        return (
            "No fact was shared in this run.",
            "Nothing to measure.",
            "Add the key facts to the scenario.",
            "exercise control",
            "Exercise",
        )
    fact = ev.scenario.by_id["facts"][fact_id]
    actor = subject[1] if len(subject) > 1 else None
    refused = sorted(
        (x for (f, _, to), x in ev.run.records.refusals.items() if f == fact_id and (actor is None or to == actor)),
        key=lambda x: x.first.seq,
    )
    arrivals = [
        a for (f, who), a in ev.run.records.arrivals.items() if f == fact_id and who != fact.origin and (actor is None or who == actor)
    ]
    if refused:
        first = refused[0].first
        count = sum(x.count for x in refused)
        return (
            f"{first.actor} did not pass {fact_id} ({fact.class_}, {fact.marking.value}) to {first.to} at {first.t:.1f} h: {first.reason}."
            + (f" {count} such refusals in all." if count > 1 else ""),
            f"The {fact.class_} information was not releasable to {ev.family(first.to)} under the agreements in force.",
            f"Extend an information-sharing arrangement to cover {fact.class_!r} information up to {fact.marking.value}.",
            ev.family(fact.origin),
            "Planning",
        )
    if not arrivals:
        return (
            f"No intended recipient learned {fact_id}.",
            "The fact never left its originator.",
            f"Add the recipients to {fact_id}'s distribution, or a liaison post at {fact.origin}.",
            ev.family(fact.origin),
            "Planning",
        )
    late = max((a.slowest for a in arrivals), key=lambda r: r.latency)
    via = sum((a.via for a in arrivals), Counter()).most_common(1)[0][0]
    return (
        f"{late.actor} learned {fact_id} {late.latency:.1f} h after it was issued, from {late.source} via {late.via};"
        f" {len(arrivals)} recipient(s) in all, mostly via {via}.",
        f"The slowest path for {fact_id} ran through {late.via} from {late.source}.",
        f"Relay {fact.class_} information between {late.source} and {late.actor} through a liaison officer or a faster channel.",
        ev.family(late.source),
        "Organization",
    )


def _incident_cause(ev: Evidence) -> tuple[str, str, str, str, str]:
    incidents = ev.run.records.of(records.Incident)
    if not incidents:
        return (
            "No incident occurred in transit.",
            "Loaded transits were safe.",
            "Keep escorting loaded transits on risky routes.",
            "NATO",
            "Equipment",
        )
    routes = Counter(r.route for r in incidents)
    route, n = routes.most_common(1)[0]
    unescorted = sum(not r.escorted for r in incidents)
    owner = incidents[0].actor
    return (
        f"{len(incidents)} incident(s) in transit, {n} on {route}; {unescorted} of them unescorted;"
        f" {sum(r.lost for r in incidents):,.0f} t lost and carried again.",
        f"Loaded transits on {route} ran {'unescorted' if unescorted else 'despite escorts'}.",
        f"Escort loaded transits on {route}, and hold sailings until an escort is free.",
        ev.family(owner),
        "Equipment",
    )


def _channel_cause(ev: Evidence, subject: tuple[str, ...]) -> tuple[str, str, str, str, str]:
    channels = ev.detail.get("channels", {})
    name = subject[0] if subject else max(channels, key=lambda c: channels[c]["lost"], default=None)
    if name is None:
        return ("No messages were sent.", "Nothing to measure.", "Check the scenario's channels.", "exercise control", "Exercise")
    stats = channels.get(name, {"sent": 0, "lost": 0, "failed": 0})
    spec = ev.scenario.by_id["channels"].get(name)
    ends = " and ".join(spec.between) if spec else name
    return (
        f"{name} carried {stats['sent']} message(s); {stats['lost']} transmission(s) were lost and {stats['failed']} message(s) given up.",
        f"The channel between {ends} is unreliable.",
        f"Provide a more reliable channel between {ends}, or a liaison officer.",
        ev.family(spec.between[0]) if spec else "exercise control",
        "Equipment",
    )


def _generic_cause(o: Objective) -> tuple[str, str, str, str, str]:
    return (
        f"{METRICS[split_metric(o.metric)[0]].description.capitalize()}.",
        "See the event log for the steps behind this measure.",
        "Review the procedures behind this objective in the hot wash-up.",
        "exercise control",
        "Exercise",
    )
