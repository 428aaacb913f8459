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

from coopsim.engine import (
    ACTIONABLE,
    METRICS,
    Blocked,
    CriticalPath,
    Names,
    Objective,
    RunData,
    Scenario,
    critical_path,
    records,
    split_metric,
)

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
    planners_note: str = ""  # the scenario's own standing recommendation for the objective, kept apart from the finding
    responsible_actor: str | None = None  # the actor id behind ``responsible``, where it is one actor

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

    @property
    def names(self) -> Names:
        return Names(self.scenario)

    def family(self, actor: str) -> str:
        a = self.scenario.by_id["actors"].get(actor)
        return f"{a.name}, {a.family.value}" if a else actor  # never nested brackets: names often carry their own


def lesson(objective: Objective, rating: str, value: float | None, ev: Evidence) -> Lesson:
    """The ODCR entry for one objective of a run."""
    base, subject = split_metric(objective.metric)
    kind = "strength" if rating == "P" else "improvement"
    observation = _observation(objective, rating, value, ev)
    family = METRICS[base].subject
    path = critical_path(ev.run, objective.metric) if value is not None else None
    shortfall = max(0.0, value - objective.target) if value is not None else 0.0
    if path is not None and path.binding(shortfall) is not None:
        found = _path_cause(ev, path, shortfall)
    elif base.startswith(("rfa_", "request_cycle_time")) or (family == "locations" and subject):
        found = _request_cause(objective, ev, base, subject)
    elif base in ("info_latency", "cop_coverage"):
        found = _information_cause(ev, subject)
    elif base == "incidents":
        found = _incident_cause(ev)
    elif base in ("messages_lost", "messages_sent"):
        found = _channel_cause(ev, subject)
    else:
        found = _generic_cause(objective)
    discussion, conclusion, recommendation, responsible, capability = found  # responsible: an actor id, or exercise control
    if kind == "strength":  # sustain what worked; never advise adding what was not a constraint
        conclusion = f"Performed without challenges: {conclusion[0].lower()}{conclusion[1:]}"
        recommendation = "Sustain: record the arrangements behind this objective as a good practice and keep them in the next exercise."
    note = objective.recommendation or ""
    actor = responsible if responsible in ev.scenario.by_id["actors"] else None
    return Lesson(objective.id, kind, observation, discussion, conclusion, recommendation, ev.family(responsible), capability, note, actor)


def unmeasured(run: RunData, metric: str) -> str:
    """Why ``metric`` has no value in ``run``, in words: the event that never happened, and what stopped it, where the log says."""
    base, subject = split_metric(metric)
    names = Names(run.scenario)
    who = names.actor

    if base == "info_latency" and len(subject) == 2:
        fact, actor = subject
        what = f"“{names.fact(fact)}”"
        refused = sorted((x.first for (f, _, to), x in run.records.refusals.items() if f == fact and to == actor), key=lambda r: r.t)
        if refused:
            r = refused[0]
            return f"{who(actor)} never received {what}: {who(r.actor)} withheld it at {r.t:,.1f} h, since {r.reason}"
        return f"{who(actor)} never received {what} in the window"
    if base in ("rfa_cycle_time", "request_cycle_time") and subject:
        track = run.requests.get(subject[0])
        if track is None or track.state is None:
            return f"the request {names.request(subject[0])} was never submitted"
        return f"the request {names.request(subject[0])} did not complete: it ended {track.state.value.replace('_', ' ')}"
    if base == "time_to_first_delivery" and subject:
        return f"nothing was delivered to {names.place(subject[0])} in the window"
    return f"{metric} has no value in this run"


def _observation(o: Objective, rating: str, value: float | None, ev: Evidence) -> str:
    if value is None:
        why = unmeasured(ev.run, o.metric)
        return f"{o.name}: not reached in this run (target {format_value(o.metric, o.target)}); rated {rating}. {why[:1].upper()}{why[1:]}."
    return f"{o.name}: {format_value(o.metric, value)} against a target of {format_value(o.metric, o.target)}; rated {rating}."


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
            ", ".join(
                f"{ev.names.request(rid)} {tracks[rid].state.value.replace('_', ' ') if rid in tracks else 'not submitted'}"
                for rid in chosen
            )
            or "no request"
        )
        spec = ev.scenario.by_id["requests"].get(chosen[0]) if chosen else None
        who = spec.to if spec else "exercise control"
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
        span = f"from submission to its first delivery at {ev.names.place(subject[0])}"
    listing = ", ".join(f"{p} {h:.1f} h" for p, h in parts.items() if h > 0)
    focus = base.removeprefix("rfa_").removeprefix("request_")
    part, hours = (focus, parts[focus]) if focus in parts else max(parts.items(), key=lambda kv: kv[1])
    share = f" ({hours / cycle:.0%})" if cycle else ""
    discussion = f"The request {ev.names.request(rid)} took {cycle:.1f} h {span}: {listing}. " + (
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
                spec_ch.between[0] if spec_ch else spec.to,
                "Organization",
            )
        if by_actor:
            actor, h = max(by_actor.items(), key=lambda kv: kv[1])
            if part == "queue":
                return (
                    discussion + f" Messages waited {h:.1f} h for a free officer at {actor}.",
                    f"Staff at {actor} were saturated when the request arrived.",
                    f"Add staff or a surge cell at {actor} for the first days of a crisis.",
                    actor,
                    "Organization",
                )
            return (
                discussion + f" Handling at {actor} took {h:.1f} h.",
                f"Handling the request at {actor} is slow.",
                f"Give {actor} agreed templates and procedures for such requests.",
                actor,
                "Planning",
            )
    if part == "approval":
        approver = spec.approver_id
        return (
            discussion,
            f"Deliberation at {approver} set the pace of the response.",
            f"Agree criteria under which {approver} pre-authorises such requests.",
            approver,
            "Planning",
        )
    if part == "rework":
        return (
            discussion + f" The request was returned to {spec.from_} for last-resort evidence.",
            "The request went out without the evidence the Oslo Guidelines ask for before military assets are used.",
            f"Train {spec.from_} staff to attach last-resort evidence to requests for military assets from the start.",
            spec.from_,
            "Training",
        )
    incidents = [r for r in ev.run.records.of(records.Incident) if r.request == rid]
    lost = f" {len(incidents)} incident(s) in transit cost {sum(r.lost for r in incidents):,.0f} t of cargo." if incidents else ""
    owner = ev.scenario.by_id["assets"][spec.assets[0]].owner if spec.assets else spec.approver_id
    return (
        discussion + lost,
        f"Moving the cargo after tasking took {hours:.1f} h" + (", lengthened by incidents in transit." if incidents else "."),
        f"{owner}: add or pre-position lift for {spec.site or 'the site'}" + (", and escort loaded transits." if incidents else "."),
        owner,
        "Equipment",
    )


_CAUSE_WORDS = {
    "transport": "loading, travel and unloading",
    "escort_busy": "waiting for an escort unit",
    "escort_not_ready": "waiting for escorts not yet generated",
    "lift_not_ready": "waiting for lift not yet generated",
    "lift_busy": "waiting for lift busy on earlier trips",
    "waiting": "waiting to start",
    "transit": "time on channels",
    "queue": "waiting for a free staff officer",
    "processing": "staff handling",
    "approval": "approval",
    "rework": "rework for last-resort evidence",
    "information": "information on its way",
    "scheduled": "the exercise timeline (MSEL)",
    "decision": "a decision",
    "incident": "incidents",
}


_ASSET_CAUSES = {  # cause: (conclusion, recommendation, POETE capability element), about the asset pool on the path
    "escort_not_ready": (
        "{name} was not yet generated when it was needed.",
        "Start generating {name} earlier (on warning, before the decision is final), or shorten its activation and transit.",
        "Planning",
    ),
    "lift_not_ready": (
        "{name} was not yet generated when it was needed.",
        "Start generating {name} earlier (on warning, before the decision is final), or shorten its activation and transit.",
        "Planning",
    ),
    "escort_busy": (
        "Escorts of {name} were busy or far away when convoys were ready.",
        "Add escort units to {id}, or let each take larger convoys.",
        "Equipment",
    ),
    "lift_busy": ("Every unit of {name} was busy when the cargo was ready.", "Add lift to {id} or pre-position it.", "Equipment"),
}


def _path_cause(ev: Evidence, path: CriticalPath, shortfall: float) -> tuple[str, str, str, str, str]:
    """Discussion, conclusion and recommendation from the critical path: the binding cause, and only it."""
    s = ev.scenario
    totals: dict[str, float] = defaultdict(float)
    for step in path.steps:
        totals[step.cause] += step.hours
    ranked = sorted(((c, h) for c, h in totals.items() if h > 0.05), key=lambda kv: -kv[1])
    listing = "; ".join(f"{_CAUSE_WORDS.get(c, c)} {h:,.1f} h" for c, h in ranked[:5])
    discussion = f"The {path.event} came at hour {path.t:,.1f} of the exercise. Along its critical path: {listing}."
    binding = path.binding(shortfall)
    if isinstance(binding, Blocked):
        fact = s.by_id["facts"][binding.fact]
        discussion += (
            f" {_name(ev, binding.by)} did not pass “{ev.names.fact(fact.id)}” to {_name(ev, binding.to)} at {binding.t:,.1f} h:"
            f" {binding.reason}."
            f" Had it arrived, {binding.instead} would have set this going about {binding.cost:,.0f} h earlier."
        )
        return (
            discussion,
            f"“{ev.names.fact(fact.id)}” was withheld from {_name(ev, binding.to)}, which acted only when it heard by another route.",
            f"Agree an information-sharing arrangement that releases {fact.class_} information up to {fact.marking.value} to"
            f" {_name(ev, binding.to)}, so that “{ev.names.fact(fact.id)}” reaches it when it is issued.",
            fact.origin,
            "Planning",
        )
    step = binding
    share = f" ({step.hours / path.t:.0%} of the time to the event)" if path.t else ""
    discussion += f" The binding cause: {step.text}, {step.hours:,.1f} h{share}."
    cause = step.cause
    if cause == "approval":
        rid = step.subject
        spec = s.by_id["requests"].get(rid)
        approver = step.actor or (spec.approver_id if spec else "the approver")
        covered = [a for a in s.authorities if spec is not None and a.operation == spec.operation]
        recommendation = (
            f"Grant {_name(ev, covered[0].holder)} its standing authority ({covered[0].id}) before the request"
            f" {ev.names.request(rid)} is raised, so that {_name(ev, covered[0].holder)} approves it rather than {_name(ev, approver)}."
            if covered
            else f"Agree criteria under which {_name(ev, approver)} pre-authorises requests like {ev.names.request(rid)}, or delegate"
            " approval inside an"
            " operation it has already approved (a standing authority)."
        )
        return discussion, f"Deliberation at {_name(ev, approver)} set the pace.", recommendation, approver, "Planning"
    if cause in _ASSET_CAUSES:
        asset = s.by_id["assets"].get(step.subject)
        name = asset.name if asset else step.subject
        conclusion, recommendation, capability = _ASSET_CAUSES[cause]
        return (
            discussion,
            conclusion.format(name=name),
            recommendation.format(name=name, id=step.subject),
            asset.owner if asset else "exercise control",
            capability,
        )
    if cause in ("transit", "queue", "processing", "rework"):
        rid = step.subject
        found = _request_cause(
            Objective.model_validate(
                {"id": "x", "name": "x", "metric": f"rfa_{cause}.{rid}", "target": 0, "thresholds": {"P": 0, "S": 0, "M": 0}}
            ),
            ev,
            f"rfa_{cause}",
            (rid,),
        )
        return (discussion, *found[1:])
    if cause == "information":
        fact = s.by_id["facts"].get(step.subject)
        return (
            discussion,
            f"“{ev.names.fact(fact.id)}” reached the actor who needed it late."
            if fact
            else f"{step.text} reached the actor who needed it late.",
            "Relay it through a liaison officer or a faster channel.",
            step.actor if step.actor else "exercise control",
            "Organization",
        )
    if cause == "transport":
        asset = s.by_id["assets"].get(step.subject)
        return (
            discussion,
            "Moving the cargo itself (loading, travel, unloading) set the pace; coordination did not hold it.",
            "Pre-position stocks nearer the site or use faster lift, if the timeline must shorten.",
            asset.owner if asset else "exercise control",
            "Equipment",
        )
    other = path.largest_actionable
    controlled = f" The largest step the players controlled was {other.text}, {other.hours:,.1f} h." if other else ""
    if cause == "untraced":
        return (
            discussion + controlled,
            "The model cannot tell what most of this time waited on: the event log ties it to no step.",
            "No finding can be drawn from this run; trace the objective's events by hand before acting on it.",
            "exercise control",
            "Exercise",
        )
    return (
        discussion + controlled,
        "The exercise timeline (the MSEL's timing) set the pace, not a coordination failure: the steps the players"
        f" controlled total {sum(s.hours for s in path.steps if s.cause in ACTIONABLE):,.1f} h,"
        f" less than the {shortfall:,.1f} h the target was missed by.",
        "No coordination finding; review the MSEL timing if the objective's target should be reachable.",
        "exercise control",
        "Exercise",
    )


def _name(ev: Evidence, actor: str) -> str:
    return ev.names.actor(actor)


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
            f"{_name(ev, first.actor)} did not pass “{ev.names.fact(fact_id)}” ({fact.class_}, {fact.marking.value}) to"
            f" {_name(ev, first.to)} at {first.t:.1f} h: {first.reason}." + (f" {count} such refusals in all." if count > 1 else ""),
            f"The {fact.class_} information was not releasable to {_name(ev, first.to)} under the agreements in force.",
            f"Extend an information-sharing arrangement to cover {fact.class_!r} information up to {fact.marking.value}.",
            fact.origin,
            "Planning",
        )
    if not arrivals:
        return (
            f"No intended recipient learned “{ev.names.fact(fact_id)}”.",
            "The fact never left its originator.",
            f"Add the recipients to the distribution of “{ev.names.fact(fact_id)}”, or a liaison post at {_name(ev, fact.origin)}.",
            fact.origin,
            "Planning",
        )
    late = max((a.slowest for a in arrivals), key=lambda r: r.latency)
    via = sum((a.via for a in arrivals), Counter()).most_common(1)[0][0]
    return (
        f"{ev.names.actor(late.actor)} learned “{ev.names.fact(fact_id)}” {late.latency:.1f} h after it was issued,"
        f" from {ev.names.actor(late.source)} via {ev.names.channel(late.via)};"
        f" {len(arrivals)} recipient(s) in all, mostly via {ev.names.channel(via)}.",
        f"The slowest path for “{ev.names.fact(fact_id)}” ran through {ev.names.channel(late.via)} from {_name(ev, late.source)}.",
        f"Relay {fact.class_} information between {_name(ev, late.source)} and {_name(ev, late.actor)} through a liaison officer"
        " or a faster channel.",
        late.source,
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
        owner,
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
        spec.between[0] if spec else "exercise control",
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
