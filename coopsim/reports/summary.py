"""The run summary: the few lines a user reads after ``coopsim run``.

It names the scenario, variant and seed, says how the run ended and how many
records it wrote, rates each objective, and says where the outputs went.
"""

from __future__ import annotations

from coopsim.engine import METRICS, RunResult, split_metric


def format_value(metric: str, value: float | None) -> str:
    """A metric value with its unit, e.g. ``61.0 h`` or ``87%``."""
    if value is None:
        return "not measured"
    unit = METRICS[split_metric(metric)[0]].unit
    if unit == "share":
        return f"{value:.0%}"
    if unit == "count":  # a mean over runs keeps its fraction: 1.45 incidents, not 1
        return f"{value:,.0f}" if value == int(value) else f"{value:,.2f}"
    return f"{value:,.1f} {unit}"


def calendar(start: str, zone: str | None = None):
    """``when(t)``: hour ``t`` of the exercise as a calendar date and time in UTC, the day number, and local time where a zone is set.

    ``start`` is the scenario's ISO start (UTC unless it carries an offset), e.g.
    ``when(14.0)`` gives ``25 Sep 2008 14:00 UTC (day 1, 14.0 h)``, or with
    ``Africa/Nairobi`` ``25 Sep 2008 14:00 UTC, 17:00 local (day 1, 14.0 h)``.
    The arithmetic is the engine's :class:`~coopsim.engine.Calendar`, which the MSEL export shares.
    """
    from coopsim.engine import Calendar

    on = Calendar.of(start, zone)

    def when(t: float | None) -> str:
        if t is None:
            return "—"
        moment = on.at(t)
        text = f"{moment.utc:%d %b %Y %H:%M} UTC"
        if moment.local is not None:
            there = moment.local
            text += f", {there:%H:%M} local" + (f" on {there:%d %b}" if there.date() != moment.utc.date() else "")
        return f"{text} (day {moment.day}, {t:,.1f} h)"

    return when


def hours_text(value: float | None) -> str:
    """Hours for tables: ``26.0 h``, or a dash when there is no value."""
    return "—" if value is None else f"{value:,.1f} h"


def run_summary(result: RunResult) -> str:
    """Plain-text summary of one run."""
    m = result.manifest
    sc = m["scenario"]
    lines = [
        sc["name"],
        f"  scenario  {sc['source']} (sha256 {sc['sha256'][:12]})",
        f"  variant   {m['variant']}   seed {m['seed']}" + (f"   set {', '.join(m['overrides'])}" if m["overrides"] else ""),
        f"  outcome   {m['outcome']['status']}: {m['outcome']['reason']}",
        f"  records   {m['records']:,} in {m['wall_time_s']:.2f} s",
    ]
    objectives = result.metrics.objectives
    if objectives:
        lines.append("Objectives (HSEEP: P performed, S some challenges, M major challenges, U unable)")
        width = max(len(o.name) for o in objectives)
        for o in objectives:
            lines.append(
                f"  {o.rating}  {o.name:<{width}}  {o.metric} = {format_value(o.metric, o.value)}"
                f" (target {format_value(o.metric, o.target)})"
            )
    if result.out_dir is not None:
        shown = sorted(p.name for p in result.out_dir.iterdir() if not p.name.startswith("."))  # not coopsim's own marker
        lines.append(f"Outputs in {result.out_dir}/: " + ", ".join(shown))
    return "\n".join(lines)
