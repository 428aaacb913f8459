"""Warnings for a valid scenario: things that load but are probably mistakes.

``coopsim validate`` prints these after the errors. A warning does not stop a
run; it points at something an author most likely did not mean:

* an actor no channel, liaison post or inject can reach;
* an asset no request uses;
* an objective whose metric no run of this scenario can produce (a request
  that is never submitted, a fact that is never released, a site nothing is
  delivered to);
* an inject timed after the scenario ends.
"""

from __future__ import annotations

from coopsim.engine.scenario.metric_names import split_metric
from coopsim.engine.scenario.model import Scenario
from coopsim.engine.scenario.problems import Problem


def warnings(s: Scenario) -> list[Problem]:
    """The warnings for scenario ``s``, in file order."""
    doc = s._document
    found: list[Problem] = []

    def at(*path) -> object:
        return doc.position(path)

    reachable = {a for c in s.channels for a in c.between}
    reachable |= {x for lo in s.liaison for x in (lo.from_, lo.at)}
    reachable |= {a for i in s.injects for a in i.to}
    for i, a in enumerate(s.actors):
        if a.id not in reachable:
            found.append(
                Problem(at("actors", i), f"warning: actor {a.id} is unreachable", "a channel, liaison post or inject that reaches it")
            )
    used = {a for r in s.requests for a in (*r.assets, *r.escorts)}
    for i, a in enumerate(s.assets):
        if a.id not in used:
            found.append(Problem(at("assets", i), f"warning: asset {a.id} is never used", "a request that lists it in assets or escorts"))
    submitted = {r.id for r in s.requests if r.at is not None}
    submitted |= {i.request for i in s.injects if i.request}
    submitted |= {o.action.submit_request for d in s.decision_points for o in d.options if o.action and o.action.submit_request}
    released = {f.id for f in s.facts if f.at is not None}
    released |= {i.fact for i in s.injects if i.fact}
    released |= {o.action.share_fact.fact for d in s.decision_points for o in d.options if o.action and o.action.share_fact}
    released |= {r.fact for r in s.requests if r.kind == "rfi" and r.id in submitted}
    delivered_to = {r.site for r in s.requests if r.site and r.quantity > 0 and r.id in submitted}
    for i, o in enumerate(s.objectives):
        base, subject = split_metric(o.metric)
        reason = None
        if base.startswith("rfa_") and subject and subject[0] not in submitted:
            reason = f"request {subject[0]} is never submitted"
        elif base.startswith("rfa_") and not subject and not submitted:
            reason = "no request is ever submitted"
        elif base in ("info_latency", "cop_coverage") and subject and subject[0] not in released:
            reason = f"fact {subject[0]} is never released"
        elif base in ("time_to_first_delivery", "fill_rate", "unmet_demand") and subject and subject[0] not in delivered_to:
            reason = f"nothing is ever delivered to {subject[0]}"
        if reason:
            found.append(
                Problem(
                    at("objectives", i, "metric"),
                    f"warning: objective {o.id} can never be measured: {reason}",
                    "an at:, inject or decision that makes it happen",
                )
            )
    end = s.scenario.duration
    for i, inj in enumerate(s.injects):
        if inj.time is not None and inj.time >= end:
            found.append(
                Problem(
                    at("injects", i, "time"),
                    f"warning: inject {inj.seq} is timed at {inj.time:g}h, after the scenario ends at {end:g}h",
                    "a time within the scenario's duration",
                )
            )
    return sorted(found, key=lambda p: (p.position.line, p.position.col))
