"""Lessons-learned charts: what a facilitator would rather look at than read.

Six charts, drawn with matplotlib's Agg backend in one consistent style: sized
for an A4 page, with the colour-blind-safe Okabe–Ito palette, and with every
organisation family always in the same colour (NATO dark blue, UN orange), so
NATO and UN actors are told apart the same way in every chart.

Each chart function takes a :class:`~coopsim.engine.RunData` and
returns a :class:`Chart`: PNG bytes, a title and a one-line caption saying
what to read from it.
"""

from __future__ import annotations

import io
from collections import defaultdict
from dataclasses import dataclass

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402  (the backend is chosen first)
from matplotlib.transforms import offset_copy  # noqa: E402

from coopsim.engine import Calendar, Names, Part, Phase, RunData, records  # noqa: E402

WIDTH_IN, DPI = 6.3, 150  # 160 mm: the text width of an A4 page
FAMILY_COLOURS = {"NATO": "#0072B2", "UN": "#E69F00", "AU": "#009E73", "EU": "#F0E442", "national": "#CC79A7", "NGO": "#D55E00"}
PHASE_COLOURS = {
    Phase.validation: "#56B4E9",
    Phase.forwarding: "#999999",
    Phase.awaiting_decision: "#E69F00",
    Phase.tasking: "#CC79A7",
    Phase.transport: "#009E73",
    Phase.hand_back: "#F0E442",
}
SERIES_COLOURS = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#D55E00", "#56B4E9", "#999999"]
"""Okabe–Ito colours for series that are not organisations (sites, asset pools, variants)."""
PART_COLOURS = {
    Part.transit: "#56B4E9",
    Part.queue: "#D55E00",
    Part.processing: "#999999",
    Part.rework: "#CC79A7",
    Part.approval: "#E69F00",
    Part.transport: "#009E73",
}


@dataclass(frozen=True, slots=True)
class Chart:
    name: str
    title: str
    caption: str
    png: bytes


def _figure(height: float):
    plt.rcParams.update({"font.size": 8, "axes.titlesize": 9, "axes.spines.top": False, "axes.spines.right": False})
    return plt.subplots(figsize=(WIDTH_IN, height), dpi=DPI)


def _png(fig) -> bytes:
    buffer = io.BytesIO()
    fig.tight_layout()
    fig.savefig(buffer, format="png", dpi=DPI)
    plt.close(fig)
    return buffer.getvalue()


def _legend_below(ax, ncol: int, handles=None, labels=None) -> None:
    """A legend under the axes, where it never hides data."""
    args = (handles, labels) if handles is not None else ()
    # a fixed distance in points below the axes, clear of the tick labels and axis label however short the axes are
    below = offset_copy(ax.transAxes, fig=ax.figure, y=-46, units="points")  # clear of two-line date ticks and the axis label
    ax.legend(*args, ncol=ncol, fontsize=6, loc="upper center", bbox_to_anchor=(0.5, 0), bbox_transform=below, frameon=False)


def _legend_or_empty(ax, has_data, ncol: int, empty: str) -> None:
    """The legend below the axes, or a note in the middle saying why the chart is empty."""
    if has_data:
        _legend_below(ax, ncol)
    else:
        _empty(ax, empty)


def _calendar_axis(ax, run: RunData, end: float) -> None:
    """The x axis as calendar dates (UTC) with exercise day numbers, a tick at the start of every day or every few days."""
    on = Calendar.of(run.scenario.scenario.start)
    days = max(1, int(end // 24) + 1)
    step = next(s for s in (1, 2, 3, 5, 7, 10, 14, 21, 28, 30, 60, 90, 180, 365) if days / s <= 8 or s == 365)
    ticks = [24.0 * d for d in range(0, days + 1, step) if 24.0 * d <= end]
    ax.set_xticks(ticks, [f"{on.at(t).utc:%d %b}\nday {on.at(t).day}" for t in ticks])
    ax.set_xlim(0, end)
    ax.set_xlabel("date (UTC) and exercise day")


def _short(text: str, room: int = 24) -> str:
    return text if len(text) <= room else text[: room - 1].rstrip() + "…"


def _empty(ax, text: str) -> None:
    ax.text(0.5, 0.5, text, ha="center", va="center", transform=ax.transAxes, color="#555555")


def request_gantt(run: RunData) -> Chart:
    """Each request's lifecycle as a bar of coloured phases (as the lifecycle defines them), labelled with the actor holding it."""
    end = run.end
    spans = {rid: track.phases(end) for rid, track in sorted(run.requests.items(), key=lambda kv: kv[1].submitted or 0.0)}
    spans = {rid: bars for rid, bars in spans.items() if bars}
    fig, ax = _figure(0.9 + 0.45 * max(1, len(spans)))
    names = Names(run.scenario)
    for y, bars in enumerate(spans.values()):
        for t0, t1, phase, actor in ((b.start, b.end, b.phase, b.actor) for b in bars):
            ax.barh(y, t1 - t0, left=t0, color=PHASE_COLOURS[phase], edgecolor="white", height=0.6)
            if t1 - t0 > 0.12 * end:  # name the actor holding the request where the bar has room
                ax.text(
                    t0 + 0.01 * end,
                    y,
                    _short(names.actor(actor), 22),
                    va="center",
                    fontsize=6,
                    color="#1a1a1a",
                    bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": "none", "alpha": 0.85},
                )
    ax.set_yticks(range(len(spans)), list(spans))
    ax.invert_yaxis()
    _calendar_axis(ax, run, end)
    ax.set_title("Request lifecycles by phase")
    handles = [plt.Rectangle((0, 0), 1, 1, color=c) for c in PHASE_COLOURS.values()]
    _legend_below(ax, 6, handles, [p.value for p in PHASE_COLOURS])
    if not spans:
        _empty(ax, "no request was submitted")
    return Chart(
        "request_gantt",
        "Request lifecycles",
        "Each bar is one request, coloured by phase (legend below); the longest stretch of one colour is where it waited longest,"
        " and the label names the organisation holding it then.",
        _png(fig),
    )


def delay_waterfall(run: RunData) -> Chart:
    """Where the hours of the mean RFA cycle went, as a waterfall."""
    values = run.metrics.values
    parts = [(p.value, values.get(f"rfa_{p.value}") or 0.0) for p in PART_COLOURS]
    fig, ax = _figure(2.6)
    bottom = 0.0
    for i, (part, hours) in enumerate(parts):
        ax.bar(i, hours, bottom=bottom, color=PART_COLOURS[Part(part)])
        ax.text(i, bottom + hours, f"{hours:.1f}", ha="center", va="bottom", fontsize=7)
        bottom += hours
    ax.bar(len(parts), bottom, color="#333333")
    ax.text(len(parts), bottom, f"{bottom:.1f}", ha="center", va="bottom", fontsize=7)
    ax.set_xticks(range(len(parts) + 1), [p for p, _ in parts] + ["cycle"])
    ax.set_ylabel("hours (mean over completed RFAs)")
    ax.set_title("Where the hours of the RFA cycle went")
    if values.get("rfa_cycle_time") is None:
        _empty(ax, "no request for assistance completed")
    return Chart("delay_waterfall", "Delay attribution", "The tallest step is the part of the request cycle to fix first.", _png(fig))


def delivered_vs_demand(run: RunData) -> Chart:
    """Cumulative tonnes delivered against demand, per site."""
    demand_at: dict[str, list[tuple[float, float]]] = defaultdict(list)
    requests = run.scenario.by_id["requests"]
    for rid, track in run.requests.items():
        spec = requests.get(rid)
        if track.submitted is not None and spec is not None and spec.site and spec.quantity:
            demand_at[spec.site].append((track.submitted, spec.quantity))
    delivered_at: dict[str, list[tuple[float, float]]] = defaultdict(list)
    for r in run.records.of(records.Delivery):
        if r.site in demand_at:
            delivered_at[r.site].append((r.t, r.quantity))
    end = run.end
    names = Names(run.scenario)
    fig, ax = _figure(3.2)
    for i, site in enumerate(sorted(demand_at)):
        colour = SERIES_COLOURS[i % len(SERIES_COLOURS)]
        for series, style, label in ((demand_at[site], "--", "demand"), (delivered_at[site], "-", "delivered")):
            xs, ys, total = [0.0], [0.0], 0.0
            for t, q in sorted(series):
                xs += [t, t]
                ys += [total, total + q]
                total += q
            xs.append(end)
            ys.append(total)
            ax.plot(xs, ys, style, color=colour, label=f"{_short(names.place(site), 20)} {label}")
    _calendar_axis(ax, run, end)
    ax.set_ylabel("tonnes")
    ax.set_title("Delivered against demand, per site")
    _legend_or_empty(ax, demand_at, 4, "no site had a demand")
    return Chart(
        "delivered_vs_demand",
        "Deliveries",
        "One colour per site: the dashed line is demand requested, the solid line tonnes delivered; the gap between them is demand"
        " still waiting.",
        _png(fig),
    )


def information_latency(run: RunData) -> Chart:
    """Who learned each fact, and when: one row per fact and recipient, a line from the fact's issue to the recipient knowing it."""
    actors = run.scenario.by_id["actors"]
    names = Names(run.scenario)
    rows: list[tuple[str, str, float, float | None, float | None]] = []  # (fact, actor, issued, learned, withheld at)
    for f in run.scenario.facts:
        got = sorted((a.first for (fact, _), a in run.records.arrivals.items() if fact == f.id), key=lambda r: r.t)
        got = [r for r in got if r.actor != f.origin]
        issued = {r.actor: r.t - r.latency for r in got}
        refused = {to: x.first.t for (fact, _, to), x in run.records.refusals.items() if fact == f.id}
        for r in got:
            rows.append((f.id, r.actor, issued[r.actor], r.t, refused.get(r.actor)))
        for to, t in sorted(refused.items(), key=lambda kv: kv[1]):
            if to not in issued:
                rows.append((f.id, to, t, None, t))
    rows = rows[:40]  # a readable chart; the event log has the rest
    end = run.end
    fig, ax = _figure(1.0 + 0.22 * max(1, len(rows)))
    seen: set[str] = set()
    for y, (_, actor, issued_at, learned, withheld) in enumerate(rows):
        family = actors[actor].family.value if actor in actors else "UN"
        colour = FAMILY_COLOURS[family]
        if learned is not None:
            ax.plot([issued_at, learned], [y, y], color=colour, linewidth=1.2)
            ax.scatter(learned, y, color=colour, s=16, zorder=3, label=family if family not in seen else None)
            seen.add(family)
        if withheld is not None:
            ax.scatter(
                withheld,
                y,
                marker="x",
                color="#000000",
                s=22,
                zorder=4,
                label="withheld" if "withheld" not in seen else None,
            )
            seen.add("withheld")
            if learned is None:
                ax.text(issued_at, y, "  never received", va="center", fontsize=6, color="#000000")
    labels = [f"{_short(names.fact(f), 22)} → {_short(names.actor(a), 18)}" for f, a, *_ in rows]
    ax.set_yticks(range(len(rows)), labels, fontsize=6)
    ax.invert_yaxis()
    _calendar_axis(ax, run, end)
    ax.set_title("Who learned each fact, and when")
    _legend_or_empty(ax, rows, 7, "no fact reached another organisation")
    return Chart(
        "information_latency",
        "Information latency",
        "One row per fact and recipient: the line runs from the fact's issue to the recipient knowing it, coloured by the"
        " recipient's organisation (NATO blue, UN orange, AU green, national pink); a black cross marks a refusal to release it.",
        _png(fig),
    )


def asset_utilisation(run: RunData) -> Chart:
    """Units of each asset pool busy on trips, over time."""
    changes: dict[str, list[tuple[float, int]]] = defaultdict(list)
    for r in run.records.of(records.TripStarted):
        changes[r.asset].append((r.t, 1))
    for r in run.records.of(records.TripEnded):
        changes[r.asset].append((r.t, -1))
    end = run.end
    names = Names(run.scenario)
    fig, ax = _figure(2.6)
    for i, asset in enumerate(sorted(changes)):
        xs, ys, busy = [0.0], [0], 0
        for t, delta in sorted(changes[asset]):
            busy += delta
            xs.append(t)
            ys.append(busy)
        xs.append(end)
        ys.append(busy)
        ax.step(xs, ys, where="post", color=SERIES_COLOURS[i % len(SERIES_COLOURS)], label=_short(names.asset(asset), 28))
    _calendar_axis(ax, run, end)
    ax.set_ylabel("units busy")
    ax.set_title("Asset utilisation over time")
    _legend_or_empty(ax, changes, 5, "no asset made a trip")
    return Chart(
        "asset_utilisation",
        "Asset utilisation",
        "One colour per asset pool (legend below): flat tops at the pool's size mean loads queued for lift.",
        _png(fig),
    )


def message_flow(run: RunData) -> Chart:
    """Messages sent per channel or liaison post, with transmissions lost."""
    sent = {ch: flow.sent for ch, flow in run.records.channels.items()}
    lost = {ch: flow.lost for ch, flow in run.records.channels.items()}
    names = sorted(sent, key=sent.get, reverse=True)
    fig, ax = _figure(0.8 + 0.25 * max(1, len(names)))
    ax.barh(names, [sent[n] for n in names], color="#0072B2", label="sent")
    ax.barh(names, [lost[n] for n in names], color="#D55E00", label="lost (resent)")
    ax.invert_yaxis()
    ax.set_xlabel("messages")
    ax.set_title("Message flow by channel")
    if names:
        ax.legend(fontsize=6, frameon=False, loc="lower right")  # the short bars leave this corner empty
    else:
        _empty(ax, "no message was sent")
    return Chart(
        "message_flow",
        "Message flow",
        "Blue bars are messages sent on each channel or liaison post, red-orange bars the transmissions lost and resent:"
        " a long red-orange bar marks an unreliable channel.",
        _png(fig),
    )


CHARTS = (request_gantt, delay_waterfall, delivered_vs_demand, information_latency, asset_utilisation, message_flow)


def draw_all(run: RunData) -> list[Chart]:
    """Every chart of the after-action report, in report order."""
    return [draw(run) for draw in CHARTS]
