"""Quantifying a lesson's cause: what another arrangement or option would have changed, with a confidence interval.

An ODCR lesson names the binding cause from one run's event log. Whether
changing it would have helped, and by how much, takes replications, which a
report never runs itself. It reads them where they already exist:

* an experiment of the same scenario (``coopsim compare FILE --out DIR``): each
  variant paired with the run's own arm replication by replication (common
  random numbers), given with ``coopsim report RUN --what-if DIR``;
* a played session's counterfactuals: each option not taken at a decision.

A sentence is written only where the 95 % interval excludes zero, the change is
an improvement, and it is at least the difference that matters for the
objective. A time to an event that some runs never reached counts those runs
as the whole window (a restricted mean), as in the comparison report.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from coopsim.engine import BASELINE, METRICS, Archive, ArchiveError, RunData, better, key_of, paired_by_replication, split_metric

from .comparison import diff_text, practical


def _improves(metric: str, mean: float, low: float, high: float, least: float) -> bool:
    if low <= 0 <= high or abs(mean) < least:
        return False
    return mean < 0 if better(metric) == "lower" else mean > 0


def _amount(metric: str, mean: float) -> str:
    """``20.1 h sooner``, ``12 points higher``: the size of an improvement, in the objective's direction."""
    text = diff_text(metric, abs(mean)).lstrip("+")
    if METRICS[split_metric(metric)[0]].unit == "h":
        return f"{text} sooner"
    return f"{text} {'lower' if mean < 0 else 'higher'}"


def from_experiment(run: RunData, directory: str | Path) -> dict[str, list[str]]:
    """Objective id -> sentences quantifying what each variant of the experiment in ``directory`` would have changed.

    Raises:
        ArchiveError: the directory holds no archive, a damaged one, or no results of this run's scenario and arm.
    """
    path = Path(directory) / "results.sqlite"
    if not path.is_file():
        raise ArchiveError(f"{directory}: holds no results.sqlite (expected the --out directory of coopsim compare on this scenario)")
    m = run.manifest
    archive = Archive(path)
    try:
        rows = archive.rows(key_of(m.scenario.sha256, m.overrides))
    finally:
        archive.close()
    own = m.variant or BASELINE
    source = getattr(m.scenario, "source", None) or "SCENARIO"
    arms: dict[str, dict[int, dict[str, Any]]] = {}
    for r in rows:
        if r["metrics"] is not None:
            arms.setdefault(r["variant"], {})[r["replication"]] = r["metrics"]
    if own not in arms:
        raise ArchiveError(
            f"{path}: has no results of {source} as this run was made (variant {own}"
            + (f", settings {', '.join(m.overrides)}" if m.overrides else "")
            + f") (expected: coopsim compare {source} --out {directory}, with the same settings)"
        )
    horizon = run.scenario.scenario.duration
    variants = run.scenario.variants
    out: dict[str, list[str]] = {}
    for o in run.scenario.objectives:
        event = METRICS[split_metric(o.metric)[0]].event

        def values(arm: dict[int, dict[str, Any]], metric: str = o.metric, event: bool = event) -> dict[int, float | None]:
            if event:
                return {i: horizon if x.get(metric) is None else min(x[metric], horizon) for i, x in arm.items()}
            return {i: x.get(metric) for i, x in arm.items()}

        found = []
        for name, arm in arms.items():
            if name == own:
                continue
            p = paired_by_replication(o.metric, values(arms[own]), values(arm))
            if p is None:
                continue
            d = p.difference
            if not _improves(o.metric, d.mean, d.low, d.high, practical(o, p.baseline_mean)):
                continue
            what = (
                "the baseline (the scenario as written)"
                if name == BASELINE
                else f"variant {name}"
                + (f" ({variants[name].description.rstrip('.')})" if name in variants and variants[name].description else "")
            )
            reached = ""
            if event:
                hits = sum(1 for x in arm.values() if x.get(o.metric) is not None)
                mine = sum(1 for x in arms[own].values() if x.get(o.metric) is not None)
                reached = f"; reached in {hits} of {len(arm)} runs, against {mine} of {len(arms[own])} as this run was made"
            found.append(
                (
                    abs(d.mean),
                    f"With {what}, this objective would have been {_amount(o.metric, d.mean)}"
                    f" (paired difference {diff_text(o.metric, d.mean)}, 95% CI {diff_text(o.metric, d.low)} to"
                    f" {diff_text(o.metric, d.high)}, over {p.n} replications of the experiment in {directory}{reached}).",
                )
            )
        if found:
            out[o.id] = [text for _, text in sorted(found, key=lambda f: -f[0])[:3]]
    return out


def from_session(run: RunData, names) -> dict[str, list[str]]:
    """Objective id -> sentences on what an option not taken in a played session would have changed."""
    out: dict[str, list[str]] = {}
    if run.session is None:
        return out
    objectives = run.scenario.by_id["objectives"]
    for c in run.session.counterfactuals:
        o = objectives.get(c.objective)
        d = c.difference
        if o is None or d is None or not _improves(c.metric, d.mean, d.low, d.high, practical(o, c.chosen_mean)):
            continue
        out.setdefault(c.objective, []).append(
            f"Had {names.decision(c.decision)} gone to “{names.option(c.decision, c.alternative)}” instead of"
            f" “{names.option(c.decision, c.chosen)}”, this objective would have been {_amount(c.metric, d.mean)}"
            f" (paired difference {diff_text(c.metric, d.mean)}, 95% CI {diff_text(c.metric, d.low)} to"
            f" {diff_text(c.metric, d.high)}, over {c.replications} replications)."
        )
    return out
