"""The after-action report (HSEEP AAR/IP with NATO ODCR lessons), as data.

:func:`build_aar` turns a finished run (:class:`~coopsim.engine.RunData`)
into a plain mapping with the sections practitioners expect, in order:

1. exercise overview; 2. executive summary; 3. objectives and ratings;
4. per objective, strengths and areas for improvement as ODCR lessons;
5. timeline, the MSEL as planned against what happened; 6. decisions taken;
7. improvement plan (issue, corrective action, POETE capability element,
responsible organisation, start and completion relative to the exercise end);
8. appendices: the MSEL, an event-log summary, model assumptions, provenance.

``report.json`` is this mapping; the Markdown (and later HTML) renderings are
views of it, so every format says the same thing.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from coopsim.engine import METRICS, UNIT_HOURS, Names, ObjectiveRating, RunData, better, records, split_metric, trigger_in_words

from .odcr import Evidence, lesson, unmeasured
from .summary import format_value
from .whatif import from_session

# The HSEEP core capability an objective exercises when the scenario does not name one, by its metric.
CORE_CAPABILITIES = {
    "info_latency": "Intelligence and Information Sharing",
    "cop_coverage": "Intelligence and Information Sharing",
    "messages_withheld": "Intelligence and Information Sharing",
    "messages_sent": "Operational Communications",
    "messages_lost": "Operational Communications",
    "messages_failed": "Operational Communications",
    "inject_response_latency": "Situational Assessment",
    "incidents": "On-scene Security, Protection, and Law Enforcement",
    "escort_wait": "On-scene Security, Protection, and Law Enforcement",
    "request_completion": "Operational Coordination",
    "request_cycle_time": "Operational Coordination",
}
"""Metrics not named here are Operational Coordination (requests) or Logistics and Supply Chain Management (deliveries, assets)."""


def core_capability(objective) -> str:
    """The objective's HSEEP core capability: the scenario's, else the one its metric exercises."""
    if objective.core_capability:
        return objective.core_capability
    base = split_metric(objective.metric)[0]
    if base in CORE_CAPABILITIES:
        return CORE_CAPABILITIES[base]
    return "Operational Coordination" if base.startswith("rfa_") else "Logistics and Supply Chain Management"


# How long each kind of corrective action usually takes to start and to finish, in days after the exercise.
PLAN_DAYS = {"Planning": (14, 90), "Organization": (30, 180), "Equipment": (60, 365), "Training": (14, 120), "Exercise": (90, 365)}

ASSUMPTIONS = (
    "Staff officers handle one message at a time; messages queue for a free officer (first come, first served).",
    "Channel latencies, processing and approval times are drawn from the scenario's distributions, one random stream per entity.",
    "A lost transmission is resent after the channel's resend time, up to its maximum attempts.",
    "Facts cross organisation families only under an information-sharing agreement covering their class and marking.",
    "Military assets are a last resort (Oslo Guidelines): an RFA for them without evidence is returned for rework.",
    "Asset units carry one load per trip along the quickest route of their mode; lost cargo is carried again.",
)


def build_aar(run: RunData, what_if: dict[str, list[str]] | None = None) -> dict[str, Any]:
    """The after-action report of ``run`` as a JSON-ready mapping.

    ``what_if`` (objective id -> sentences, from :func:`coopsim.reports.whatif.from_experiment`) quantifies
    what other arrangements would have changed; a played session's counterfactuals are added to it.
    """
    s = run.scenario
    info = s.scenario
    ex = info.exercise
    names = Names(s)
    ratings = run.metrics.objectives
    ev = Evidence(run)
    by_objective = {o.id: o for o in s.objectives}
    lessons = [lesson(by_objective[r.objective], r.rating, r.value, ev) for r in ratings if r.objective in by_objective]
    families: dict[str, list[str]] = {}
    for a in s.actors:
        families.setdefault(a.family.value, []).append(a.name)
    seats = list(run.session.seats) if run.session else []
    quantified = {k: list(v) for k, v in (what_if or {}).items()}
    for k, v in from_session(run, names).items():
        quantified.setdefault(k, []).extend(v)
    end_day = ex.dates[-1] if ex.dates else None
    return {
        "overview": {
            "name": info.name,
            "exercise_name": ex.name or info.name,
            "exercise_dates": _dates_text(ex.dates),
            "scope": ex.scope or _scope(run, seats, names),
            "mission_areas": list(ex.mission_areas),
            "core_capabilities": list(dict.fromkeys(core_capability(o) for o in s.objectives)),
            "threat": ex.threat or "not stated in the scenario",
            "sponsor": ex.sponsor or "not stated in the scenario",
            "poc": _contact_text(ex.poc) if ex.poc else "not stated in the scenario",
            "description": info.description,
            "start": info.start.isoformat(),
            "timezone": info.timezone,
            "handling": info.handling,
            "duration_days": round(info.duration / UNIT_HOURS["d"], 2),
            "organisations": families,
            "objectives": [
                {"id": o.id, "name": o.name, "description": o.description, "core_capability": core_capability(o)} for o in s.objectives
            ],
            "sources": [src.model_dump() for src in info.sources],
        },
        "executive_summary": _summary(run, ratings),
        "objectives": [
            {
                "id": r.objective,
                "name": r.name,
                "metric": r.metric,
                "target": r.target,
                "value": r.value,
                "rating": r.rating,
                "achieved": "not reached"
                if r.value is None and METRICS[split_metric(r.metric)[0]].event
                else format_value(r.metric, r.value),
                "target_text": format_value(r.metric, r.target),
                "core_capability": core_capability(by_objective[r.objective]) if r.objective in by_objective else "",
            }
            for r in ratings
        ],
        "lessons": [x.as_dict() | {"quantified": quantified.get(x.objective, []) if x.kind == "improvement" else []} for x in lessons],
        "timeline": _timeline(run, names),
        "decisions": [
            {
                "t": r.t,
                "decision": r.decision,
                "name": s.by_id["decision_points"][r.decision].name,
                "owner": r.actor,
                "owner_name": names.actor(r.actor),
                "option": r.option,
                "option_text": names.option(r.decision, r.option),
                "by": r.by,
                "rationale": r.rationale,
            }
            for r in run.records.of(records.DecisionTaken)
        ],
        "observations": [o.model_dump() for o in run.session.observations] if run.session else [],
        "counterfactuals": [c.model_dump() for c in run.session.counterfactuals] if run.session else [],
        "improvement_plan": [
            {
                "objective": x.objective,
                "core_capability": core_capability(by_objective[x.objective]),
                "issue": x.conclusion,
                "corrective_action": x.recommendation,
                "capability": x.capability,
                "responsible": x.responsible,
                "poc": _contact_text(ex.contacts[x.responsible_actor])
                if x.responsible_actor in ex.contacts
                else "to be named by the organisation",
                "start": _plan_date(end_day, PLAN_DAYS[x.capability][0]),
                "completion": _plan_date(end_day, PLAN_DAYS[x.capability][1]),
            }
            for x in lessons
            if x.kind == "improvement"
        ],
        "plan_dates": f"counted from the exercise's last day, {end_day:%d %B %Y}"
        if end_day
        else "counted in days after the exercise's end (E); give scenario.exercise.dates to have calendar dates",
        "participants": _participants(run, names),
        "appendices": {
            "msel": [
                {
                    "seq": i.seq,
                    "time": i.time,
                    "trigger": i.trigger.model_dump(exclude_none=True) if i.trigger else None,
                    "contingency": i.contingency,
                    "type": i.type,
                    "delivery": i.delivery,
                    "from": i.from_,
                    "to": list(i.to),
                    "description": i.description,
                    "expected_action": i.expected_action,
                    "objective": i.objective,
                }
                for i in s.injects
            ],
            "event_summary": dict(sorted(run.records.counts.items())),
            "assumptions": list(ASSUMPTIONS),
            "provenance": {
                "scenario_sha256": run.manifest.scenario.sha256,
                "resolved_sha256": run.manifest.scenario.resolved_sha256,
                "seed": run.manifest.seed,
                "variant": run.manifest.variant,
                "overrides": run.manifest.overrides,
                "coopsim_version": run.manifest.coopsim_version,
                "outcome": {"status": run.manifest.outcome.status, "reason": run.manifest.outcome.reason, "end_time": run.end},
                "records": run.manifest.records,
            },
            "provenance_text": [  # the same, as a reader wants it: labels and plain values, no data structures
                ["Scenario file (sha256)", run.manifest.scenario.sha256],
                ["Scenario as run, variant and settings applied (sha256)", run.manifest.scenario.resolved_sha256],
                ["Seed", str(run.manifest.seed)],
                ["Variant", run.manifest.variant or "baseline"],
                ["Settings overridden", ", ".join(run.manifest.overrides) or "none"],
                ["coopsim version", run.manifest.coopsim_version],
                ["Outcome", f"{run.manifest.outcome.status}: {run.manifest.outcome.reason}"],
                ["Records in the event log", f"{run.manifest.records:,}"],
            ],
        },
    }


def _margin(r: ObjectiveRating) -> float:
    """How far an objective's value is on the good side of its target, relative to the target."""
    if r.value is None:
        return float("-inf")
    scale = abs(r.target) or 1.0
    gap = (r.target - r.value) if better(r.metric) == "lower" else (r.value - r.target)
    return gap / scale


def _summary(run: RunData, ratings: tuple[ObjectiveRating, ...]) -> list[str]:
    info = run.scenario.scenario
    m = run.manifest
    counts = Counter(r.rating for r in ratings)
    sentences = [
        f"{info.name} ran for {info.duration / 24:g} days from {info.start:%d %B %Y} (variant {m.variant}, seed {m.seed}).",
        f"Of {len(ratings)} objectives, {counts['P']} performed without challenges (P), {counts['S']} with some (S), "
        f"{counts['M']} with major challenges (M) and {counts['U']} unable to be performed (U).",
    ]
    if ratings:
        best = max(ratings, key=_margin)
        worst = min(ratings, key=_margin)
        achieved = format_value(best.metric, best.value)
        sentences.append(f"The biggest strength: {best.name}, at {achieved} against {format_value(best.metric, best.target)}.")
        if worst is not best:
            if worst.value is None:
                sentences.append(f"The biggest shortfall: {worst.name}, not reached, because {unmeasured(run, worst.metric)}.")
            else:
                achieved = f"at {format_value(worst.metric, worst.value)}"
                sentences.append(f"The biggest shortfall: {worst.name}, {achieved} against {format_value(worst.metric, worst.target)}.")
    values = run.metrics.values
    if values.get("rfa_cycle_time") is not None:
        sentences.append(
            f"Requests for assistance took {values['rfa_cycle_time']:.1f} h on average from submission to completion, "
            f"{values['rfa_approval']:.1f} h of it in the approver's deliberation."
        )
    withheld = values.get("messages_withheld") or 0
    if withheld:
        sentences.append(f"{withheld:.0f} time(s) a fact was withheld because it was not releasable to the other organisation.")
    return sentences[:6]


def _dates_text(dates) -> str:
    if not dates:
        return "not stated in the scenario"
    first, last = dates[0], dates[-1]
    if first == last:
        return f"{first:%d %B %Y}"
    return f"{first:%d %B} to {last:%d %B %Y}" if first.year == last.year else f"{first:%d %B %Y} to {last:%d %B %Y}"


def _scope(run: RunData, seats: list[str], names: Names) -> str:
    info = run.scenario.scenario
    days = f"{info.duration / 24:g}-day"
    if seats:
        return (
            f"A discussion-based tabletop exercise over a {days} simulated scenario, with {names.actors(seats)} at the table"
            " and the model playing every other organisation."
        )
    return (
        f"A simulated run of a {days} scenario, with every organisation played by the model:"
        " a rehearsal or analysis run, not a played exercise."
    )


def _contact_text(c) -> str:
    return ", ".join(x for x in (c.name, c.role, c.email, c.phone) if x)


def _plan_date(end_day, days: int) -> str:
    """A corrective action's date: ``14 December 2026`` from the exercise's last day, or ``E+14 d`` when none is stated."""
    from datetime import timedelta

    return f"{end_day + timedelta(days=days):%d %B %Y}" if end_day else f"E+{days} d"


def _participants(run: RunData, names: Names) -> list[dict[str, Any]]:
    """Appendix B: the organisations at the table in a played session, and the players recorded for each."""
    if run.session is None:
        return []
    people: dict[str, set[str]] = {seat: set() for seat in run.session.seats}
    owners = run.scenario.by_id["decision_points"]
    for point, choice in run.session.decisions.items():
        owner = owners[point].owner if point in owners else None
        if owner in people and choice.by not in ("script", "default", "policy"):
            people[owner].add(choice.by)
    for r in run.session.responses:
        if r.seat in people and r.by != "player":
            people[r.seat].add(r.by)
    observers = sorted({o.by for o in run.session.observations})
    rows = [{"organisation": names.actor(seat), "id": seat, "role": "player", "people": sorted(p)} for seat, p in people.items()]
    if observers:
        rows.append({"organisation": "exercise control", "id": "", "role": "facilitator or evaluator", "people": observers})
    return rows


def _timeline(run: RunData, names: Names) -> list[dict[str, Any]]:
    """The MSEL as played, with each inject's expected action evaluated as an Exercise Evaluation Guide would.

    For each inject: when it was released and acknowledged, and the evidence the
    log holds that the recipients did what was expected: submitted the request,
    learned the fact and passed it on, took the decision the inject opens. The
    ``verdict`` is ``done``, ``partly done``, ``not done``, ``not released``, or
    ``for the players`` where the expected action is outside the model, and a
    played session's responses stand beside it.
    """
    s = run.scenario
    released = {r.inject: r.t for r in run.records.of(records.InjectReleased)}
    acks: dict[int, dict[str, float]] = {}
    for r in run.records.of(records.InjectAcknowledged):
        acks.setdefault(r.inject, {})[r.actor] = r.t
    submitted: dict[str, list[records.RequestStateChanged]] = {}
    for r in run.records.of(records.RequestStateChanged):
        if r.state == "submitted":
            submitted.setdefault(r.request, []).append(r)
    passed: dict[tuple[str, str], list[str]] = {}  # (fact, actor) -> who first learned the fact from that actor
    for (fact, to), arrival in run.records.arrivals.items():
        if arrival.first.source != to:
            passed.setdefault((fact, arrival.first.source), []).append(to)
    decided = {r.decision: r for r in run.records.of(records.DecisionTaken)}
    opens: dict[int, list[str]] = {}
    for d in s.decision_points:
        if d.trigger.inject is not None:
            opens.setdefault(d.trigger.inject, []).append(d.id)
    by_facilitator = {r.inject for r in run.session.releases} if run.session else set()
    responses: dict[int, list[dict[str, Any]]] = {}
    for r in run.session.responses if run.session else ():
        responses.setdefault(r.inject, []).append({"by": r.by, "seat": names.actor(r.seat) if r.seat else "", "text": r.text, "t": r.t})
    rows = []
    for i in s.injects:
        at = released.get(i.seq)
        actions: list[dict[str, Any]] = []
        checks: list[bool] = []
        if at is not None:
            for who in i.to:
                if who in acks.get(i.seq, {}):
                    actions.append({"t": acks[i.seq][who], "text": f"{names.actor(who)} acknowledged it"})
            if i.request is not None:
                subs = submitted.get(i.request, ())
                sub = next((r for r in subs if r.t >= at), subs[-1] if subs else None)  # after the inject, else already before it
                checks.append(sub is not None)
                if sub is not None:
                    done = "submitted" if sub.t >= at else "had already submitted"
                    actions.append({"t": sub.t, "text": f"{names.actor(sub.actor)} {done} the request {names.request(i.request)}"})
            if i.fact is not None:
                for who in i.to:
                    learned = run.records.arrivals.get((i.fact, who))
                    checks.append(learned is not None)
                    if learned is None:
                        continue
                    onward = sorted(passed.get((i.fact, who), ()))
                    text = f"{names.actor(who)} had “{names.fact(i.fact)}”"
                    actions.append(
                        {"t": learned.first.t, "text": text + (f"; {names.actors(onward)} first had it from them" if onward else "")}
                    )
            for point in opens.get(i.seq, ()):
                d = decided.get(point)
                checks.append(d is not None)
                if d is not None:
                    how = "" if d.by in ("default", "policy", "script") else f" ({d.by})"
                    actions.append({"t": d.t, "text": f"{names.actor(d.actor)} decided: {names.option(point, d.option)}{how}"})
        if at is None:
            verdict = "not released"
        elif not checks:
            verdict = "for the players"
        else:
            verdict = "done" if all(checks) else ("partly done" if any(checks) else "not done")
        actions.sort(key=lambda a: a["t"])
        rows.append(
            {
                "seq": i.seq,
                "planned": i.time,
                "trigger": trigger_in_words(i, s) or None,
                "released": at,
                "released_by": "facilitator" if i.seq in by_facilitator else None,
                "acknowledged": max(acks[i.seq].values()) if i.seq in acks else None,
                "to": names.actors(i.to),
                "expected_action": i.expected_action,
                "observed": None if verdict in ("for the players", "not released") else verdict == "done",
                "verdict": verdict,
                "evidence": actions,
                "responses": responses.get(i.seq, []),
            }
        )
    return rows
