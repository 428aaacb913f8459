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

from coopsim.engine import UNIT_HOURS, ObjectiveRating, RunData, better, records

from .odcr import Evidence, lesson, unmeasured
from .summary import format_value

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


def build_aar(run: RunData) -> dict[str, Any]:
    """The after-action report of ``run`` as a JSON-ready mapping."""
    s = run.scenario
    info = s.scenario
    ratings = run.metrics.objectives
    ev = Evidence(run)
    by_objective = {o.id: o for o in s.objectives}
    lessons = [lesson(by_objective[r.objective], r.rating, r.value, ev) for r in ratings if r.objective in by_objective]
    families: dict[str, list[str]] = {}
    for a in s.actors:
        families.setdefault(a.family.value, []).append(a.name)
    return {
        "overview": {
            "name": info.name,
            "description": info.description,
            "start": info.start.isoformat(),
            "timezone": info.timezone,
            "handling": info.handling,
            "duration_days": round(info.duration / UNIT_HOURS["d"], 2),
            "organisations": families,
            "objectives": [{"id": o.id, "name": o.name, "description": o.description} for o in s.objectives],
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
                "achieved": format_value(r.metric, r.value),
                "target_text": format_value(r.metric, r.target),
            }
            for r in ratings
        ],
        "lessons": [x.as_dict() for x in lessons],
        "timeline": _timeline(run),
        "decisions": [
            {
                "t": r.t,
                "decision": r.decision,
                "name": s.by_id["decision_points"][r.decision].name,
                "owner": r.actor,
                "option": r.option,
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
                "issue": x.conclusion,
                "corrective_action": x.recommendation,
                "capability": x.capability,
                "responsible": x.responsible,
                "start": f"E+{PLAN_DAYS[x.capability][0]}d",
                "completion": f"E+{PLAN_DAYS[x.capability][1]}d",
            }
            for x in lessons
            if x.kind == "improvement"
        ],
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


def _timeline(run: RunData) -> list[dict[str, Any]]:
    released = {r.inject: r.t for r in run.records.of(records.InjectReleased)}
    acks: dict[int, list[float]] = {}
    for r in run.records.of(records.InjectAcknowledged):
        acks.setdefault(r.inject, []).append(r.t)
    submitted = {rid for rid, track in run.requests.items() if track.submitted is not None}
    learned = set(run.records.arrivals)
    by_facilitator = {r.inject for r in run.session.releases} if run.session else set()
    rows = []
    for i in run.scenario.injects:
        if i.request is not None:
            observed: bool | None = i.request in submitted
        elif i.fact is not None:
            observed = all((i.fact, a) in learned for a in i.to)
        else:
            observed = None  # the expected action is for the players; the model cannot check it
        rows.append(
            {
                "seq": i.seq,
                "planned": i.time,
                "trigger": i.trigger.describe() if i.trigger else None,
                "released": released.get(i.seq),
                "released_by": "facilitator" if i.seq in by_facilitator else None,
                "acknowledged": max(acks[i.seq]) if i.seq in acks else None,
                "expected_action": i.expected_action,
                "observed": observed,
            }
        )
    return rows
