"""The facilitator's console: ``coopsim play`` at the table.

The console drives a :class:`~coopsim.engine.Tabletop` from the terminal.
It uses rich formatting on a terminal and plain text (ASCII tables, no
colour) when output goes to a file or a pipe.

At every pause it shows the scenario clock, the injects released since the
last pause with their MSEL fields, the decisions taken, the requests and
their lifecycle state, asset status, and what each organisation seated at the
table knows. Then the facilitator types a command::

    Enter or c   continue to the next inject or decision
    a TIME       advance to a time: a 36h, a 2d, a +6h (from now)
    o            add an observation, tagged to an objective
    r            release a contingency inject
    v [SEAT]     show what one seat sees (no seat: everything)
    g            draw a chart of the run so far (PNG)
    q            save and quit (resume with --session)
    h or ?       this help

At a decision point the players choose an option by number or id and give
their rationale (required); the console records who decided. Every answer is
saved to the session file at once. Wrong input gets a message and the same
question again; Ctrl-D re-asks too, and three in a row save and quit, which is
also what a closed input does.
"""

from __future__ import annotations

import shlex
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

from rich import box
from rich.console import Console, Group
from rich.padding import Padding
from rich.panel import Panel
from rich.table import Table as Grid
from rich.text import Text

from coopsim.engine import FACILITATOR, Decision, DecisionPoint, Knower, Scenario, Session, Situation, Tabletop, View, parse_duration

COMMANDS = (
    ("Enter or c", "continue to the next inject or decision"),
    ("a TIME", "advance to a time: a 36h, a 2d, a +6h (from now)"),
    ("o", "add an observation, tagged to an objective"),
    ("r", "release a contingency inject"),
    ("v [SEAT]", "show what one seat sees (no seat: everything)"),
    ("g", "draw a chart of the run so far (PNG)"),
    ("q", "save and quit (resume with --session)"),
    ("h or ?", "this help"),
)
HINT = "Enter: continue | a TIME | o observe | r release | v [SEAT] | g chart | q save & quit | h help"


class InputClosed(Exception):
    """The input ended: three Ctrl-Ds in a row, or a pipe that closed."""


class Quit(Exception):
    """The facilitator typed q."""


class FacilitatorConsole:
    """One interactive session: build the table (replaying a saved session), then pause, show and ask until the end."""

    def __init__(
        self,
        scenario: Scenario,
        session: Session,
        session_path: Path,
        charts_dir: Path,
        out: Console | None = None,
        name: str | None = None,
    ):
        self.scenario = scenario
        self.name = name or scenario.source  # as the user wrote it, for the resume command
        self.start_session = session
        self.path = Path(session_path)
        self.charts_dir = Path(charts_dir)
        self.out = out or Console(highlight=False, emoji=False, markup=False)  # typed and scenario text is never markup
        self.plain = not self.out.is_terminal
        if self.plain and out is None:
            self.out.width = max(self.out.width, 110)  # a log file has no terminal width to fit
        self._typed = sys.stdin.isatty()
        self.table: Tabletop | None = None
        self._eofs = 0
        self._shown_injects: set[int] = set()
        self._shown_decisions: set[str] = set()

    @property
    def session(self) -> Session:
        return self.table.session if self.table is not None else self.start_session

    # -- the session loop ------------------------------------------------------------------
    def play(self) -> bool:
        """Play until the scenario ends (True) or the facilitator quits (False); the session file is kept either way."""
        try:
            self.table = Tabletop(self.scenario, self.start_session, ask=self._decide, save=self._save)
            self._save(self.table.session)
            self._welcome()
            self._status()
            while not self.table.finished:
                self._command(self._read("command"))
            self.out.print(
                f"\nThe scenario has reached its end at {self._when(self.table.clock)}. For the hot wash: add observations (o), "
                "look again (v, g), then press Enter to write the after-action report."
            )
            while (text := self._read("command")) not in ("", "c"):
                self._command(text)
        except (InputClosed, Quit, KeyboardInterrupt) as exc:
            return self._quit(exc)
        return True

    def _save(self, session: Session) -> None:
        session.save(self.path)

    def _quit(self, why: BaseException | None = None) -> bool:
        if isinstance(why, InputClosed):
            self.out.print("\nInput ended.")
        self.out.print()
        self._copyable(f"Session saved to {self.path}")
        self.out.print("Resume with:")
        self._copyable(f"  coopsim play {shlex.quote(str(self.name))} --session {shlex.quote(str(self.path))}")
        return False

    def _welcome(self) -> None:
        s = self.scenario.scenario
        decisions, releases = self.table.replayed
        self.out.print(
            Panel(Text(f"{s.name}\n{s.description.strip()}"), title="coopsim tabletop session", expand=False, box=self._box(True))
        )
        if self.start_session.at is not None:
            self._copyable(
                f"Resumed from {self.path} at {self._when(self.table.clock)}: "
                f"{decisions} decision(s), {releases} release(s) and {len(self.session.observations)} observation(s) replayed."
            )
        else:
            self._copyable(f"Recording to {self.path} after every step. Type h for the commands.")
        self.out.print(f"Variant: {self.session.variant or 'baseline'}; seed {self.session.seed}.")
        seats = self.session.seats
        actors = self.scenario.by_id["actors"]
        self.out.print(
            "Seats: " + (", ".join(f"{a} ({actors[a].name})" for a in seats) if seats else "none (use --as ORG,... to seat players)")
        )

    # -- commands ----------------------------------------------------------------------------
    def _command(self, text: str) -> None:
        word, _, rest = text.partition(" ")
        word, rest = word.lower(), rest.strip()
        table = self.table
        if word in ("", "c", "continue"):
            table.go_on()
            self._status()
        elif word in ("a", "advance") and table.finished:
            self.out.print("The run has ended; there is no later time to advance to.")
        elif word in ("a", "advance"):
            t = self._time(rest or self._read("advance to (e.g. 36h, 2d, +6h)"))
            if t is not None:
                table.advance_to(t)
                self._status()
        elif word in ("o", "observe"):
            self._observe()
        elif word in ("r", "release"):
            self._release()
        elif word in ("v", "view"):
            self._view(rest or None)
        elif word in ("g", "chart"):
            self._chart()
        elif word in ("q", "quit"):
            raise Quit()
        elif word in ("h", "?", "help"):
            self._help()
        else:
            self.out.print(f"Unknown command {text!r}. {HINT}")

    def _time(self, text: str) -> float | None:
        relative = text.startswith("+")
        body = text.lstrip("+").strip()
        try:
            hours = float(body) if body.replace(".", "", 1).isdigit() else parse_duration(body)
        except ValueError:
            self.out.print(f"Cannot read {text!r} as a time; write it like 36h, 2d, or +6h from now.")
            return None
        t = self.table.clock + hours if relative else hours
        if t < self.table.clock:
            self.out.print(f"The clock is at {self._when(self.table.clock)} already; give a later time.")
            return None
        return t

    def _observe(self) -> None:
        objectives = self.scenario.objectives
        for n, o in enumerate(objectives, 1):
            self.out.print(Text(f"  {n}. {o.id}: {o.name}"))
        objective = self._pick("objective (number or id; Enter for none)", [(o.id, o.id) for o in objectives], optional=True)
        text = self._required("observation", "An observation needs some text: what did you see?")
        by = self._read("observed by [facilitator]") or "facilitator"
        self.table.observe(text, objective, by)
        self.out.print(f"Observation recorded at {self._when(self.table.clock)}" + (f" against {objective}." if objective else "."))

    def _release(self) -> None:
        held = self.table.contingencies()
        if self.table.finished:
            self.out.print("The run has ended; nothing can be released now.")
            return
        if not held:
            self.out.print("No contingency injects are held back.")
            return
        self.out.print(
            self._grid(
                "Contingency injects held back",
                ("#", "to", "description"),
                [(str(s), ", ".join(i.to), i.description) for s, i in held.items()],
            )
        )
        seq = self._pick("inject to release (its #; Enter to cancel)", [(str(s), s) for s in held], numbered=False, optional=True)
        if seq is None:
            return
        self.table.release(seq)
        self.out.print(f"Inject {seq} released at {self._when(self.table.clock)}; it reaches its recipients as the run goes on.")

    def _view(self, seat: str | None) -> None:
        actors = self.scenario.by_id["actors"]
        if seat is not None and seat not in actors:
            self.out.print(f"No organisation {seat!r}. One of: {', '.join(actors)}")
            return
        self._show_view(self.table.view(seat))

    def _chart(self) -> None:
        from coopsim.engine import in_progress
        from coopsim.reports import charts

        for n, draw in enumerate(charts.CHARTS, 1):
            self.out.print(f"  {n}. {draw.__name__.replace('_', ' ')}")
        names = [d.__name__ for d in charts.CHARTS]
        chosen = self._pick("chart (number or name; Enter for 1)", list(zip(names, charts.CHARTS, strict=True)), optional=True)
        draw = chosen or charts.CHARTS[0]
        t = self.table
        run = in_progress(self.charts_dir, self.scenario, t.records, t.metrics(), t.clock)
        try:
            chart = draw(run)
        except Exception as exc:  # a chart is an aside: never let it end an exercise in progress
            self.out.print(f"Could not draw the chart ({type(exc).__name__}: {exc}); the session is safe, carry on.")
            return
        self.charts_dir.mkdir(parents=True, exist_ok=True)
        path = self.charts_dir / f"{chart.name}-t{t.clock:.0f}h.png"
        path.write_bytes(chart.png)
        self._copyable(f"{chart.title}: {path}")

    def _help(self) -> None:
        self.out.print(self._grid("Commands", ("command", "what it does"), COMMANDS))

    # -- decisions (the table's ask) -------------------------------------------------------------
    def _decide(self, point: DecisionPoint, situation: Situation) -> Decision:
        owner = self.scenario.by_id["actors"][point.owner]
        self.out.print()
        lines = Text(f"{point.name}  (owner: {owner.id}, {owner.name}; at {self._when(situation.t)})\n")
        for n, option in enumerate(point.options, 1):
            default = "  [default]" if option.id == point.default else ""
            lines.append(f"\n  {n}. {option.id}: {option.description}{default}")
        self.out.print(Panel(lines, title=f"DECISION {point.id}", expand=False, box=self._box(True)))
        if self.table is not None:  # None while a saved session is still being replayed
            self._show_view(self.table.view(point.owner, situation.t))
        ids = [(o.id, o.id) for o in point.options]
        while True:
            option = self._pick(f"option (1-{len(ids)} or id; ? shows everything; q saves and quits)", ids, extra=("?", "q"))
            if option == "q":
                raise Quit()
            if option != "?":
                break
            if self.table is not None:
                self._show_view(self.table.view(FACILITATOR, situation.t))
        rationale = self._required(
            "rationale (why this option?)", "A rationale is required: say in a few words why the players chose this."
        )
        seat = f"{owner.id} seat"
        name = self._read(f"decided by (player's name; Enter for the {seat})")
        by = f"{name} ({seat})" if name else seat
        self.out.print(f"Recorded: {point.id} -> {option}, by {by}.")
        return Decision(option, by, rationale)

    # -- asking ----------------------------------------------------------------------------------
    def _read(self, label: str) -> str:
        while True:
            try:
                text = self.out.input(Text(f"{label}> ", style="bold"))
            except EOFError:
                self._eofs += 1
                if self._eofs >= 3:
                    raise InputClosed() from None
                self.out.print("\n(Ctrl-D: nothing entered. Type q to save and quit; three Ctrl-Ds in a row do that too.)")
                continue
            self._eofs = 0
            if not self._typed:
                self.out.print(Text(text), highlight=False)  # piped input: echo it, so a log reads like the session
            return text.strip()

    def _required(self, label: str, why: str) -> str:
        while True:
            text = self._read(label)
            if text:
                return text
            self.out.print(why)

    def _pick(
        self, label: str, options: list[tuple[str, Any]], *, numbered: bool = True, optional: bool = False, extra: tuple[str, ...] = ()
    ):
        """Ask for one of ``options`` (name, value) by name, or by its number in the list."""
        lookup = dict(options)
        if numbered:
            lookup.update((str(n), value) for n, (_, value) in enumerate(options, 1))
        names = ", ".join(name for name, _ in options)
        while True:
            text = self._read(label)
            if text in extra:
                return text
            if not text and optional:
                return None
            if text in lookup:
                return lookup[text]
            said = f"No {text!r} here." if text else "Nothing entered."
            choose = f"a number 1-{len(options)}, or one of: {names}" if numbered else f"one of: {names}"
            self.out.print(f"{said} Choose {choose}" + ("; or just Enter." if optional else "."))

    # -- showing -------------------------------------------------------------------------------
    def _status(self) -> None:
        t = self.table
        self.out.print()
        self.out.rule(Text(f"{self._when(t.clock)} | step {t.steps:,}"), style="bold", characters="-" if self.plain else "─")
        v = t.view(FACILITATOR)
        new = [i for i in v.injects if i.seq not in self._shown_injects]
        self._shown_injects.update(i.seq for i in new)
        if new:
            self.out.print(self._injects(new, "Injects released"))
        taken = [(k, c) for k, c in self.session.decisions.items() if k not in self._shown_decisions]
        self._shown_decisions.update(k for k, _ in taken)
        for point_id, c in taken:
            self.out.print(Text(f"Decision {point_id}: {c.option}, by {c.by} ({c.rationale})"))
        if v.requests:
            self.out.print(
                self._grid(
                    "Requests",
                    ("request", "kind", "from", "to", "approver", "state"),
                    [(r.request, r.kind, r.from_, r.to, r.approver, r.state.replace("_", " ")) for r in v.requests],
                )
            )
        if v.assets:
            self.out.print(
                self._grid(
                    "Assets", ("asset", "owner", "kind", "busy"), [(a.asset, a.owner, a.kind, f"{a.busy}/{a.units}") for a in v.assets]
                )
            )
        for seat in self.session.seats:
            self._facts(t.view(seat))
        if t.finished:
            return
        self.out.print(Text(HINT, style="dim"))

    def _show_view(self, v: View) -> None:
        who = "the facilitator (everything)" if v.seat is FACILITATOR else v.seat
        self.out.print(Text(f"What {who} sees at {self._when(v.t)}", style="bold"))
        if v.injects:
            self.out.print(self._injects(v.injects, "Injects"))
        self._facts(v)
        if v.requests:
            rows = [(r.request, r.kind, r.from_, r.to, r.state.replace("_", " ")) for r in v.requests]
            self.out.print(self._grid("Requests", ("request", "kind", "from", "to", "state"), rows))

    def _facts(self, v: View) -> None:
        who = "Known to anyone" if v.seat is FACILITATOR else f"What {v.seat} knows"
        if not v.facts:
            self.out.print(Text(f"{who}: nothing yet."))
            return
        rows = [
            (
                f.fact,
                f.description,
                f"{f.class_}, {f.marking}",
                "; ".join(_known(k) for k in f.known_by),
            )
            for f in v.facts
        ]
        self.out.print(self._grid(who, ("fact", "description", "class, marking", "known by, when, from whom"), rows))

    def _injects(self, injects, title: str) -> Group:
        """Injects as MSEL cards: a header line, then the description and the expected action, indented."""
        parts: list[Any] = [Text(title, style="bold")]
        for i in injects:
            tags = [f"released {i.released:,.1f}h", f"{i.type} by {i.delivery}", f"{i.from_} -> {', '.join(i.to)}"]
            if i.objective:
                tags.append(f"objective {i.objective}")
            if i.contingency:
                tags.append("contingency")
            parts.append(Text.assemble(("  Inject " + str(i.seq), "bold"), " | " + " | ".join(tags)))
            parts.append(Padding(Text(i.description), (0, 0, 0, 6), expand=False))
            if i.expected_action:
                parts.append(Padding(Text(f"Expected action: {i.expected_action}"), (0, 0, 0, 6), expand=False))
        return Group(*parts)

    def _grid(self, title: str, columns, rows) -> Grid:
        grid = Grid(title=title, title_justify="left", box=self._box(False), show_edge=not self.plain, highlight=False)
        for column in columns:
            grid.add_column(column, overflow="fold")
        for row in rows:
            grid.add_row(*(Text(str(cell)) for cell in row))  # scenario text is never read as markup
        return grid

    def _copyable(self, text: str) -> None:
        """A line holding a path or a command the user may copy: never broken, at any terminal width.

        Rich wraps text to the console width, and takes a dumb terminal or a
        terminal of unknown size to be 80 columns; a path broken across lines
        cannot be copied back. The terminal may still fold the line on screen,
        but the line itself stays whole.
        """
        self.out.print(Text(text), soft_wrap=True)

    def _box(self, panel: bool):
        if self.plain:
            return box.ASCII
        return box.ROUNDED if panel else box.SIMPLE_HEAD

    def _when(self, t: float) -> str:
        stamp = self.scenario.scenario.start + timedelta(hours=t)
        return f"t={t:,.1f}h ({stamp:%a %d %b %Y %H:%MZ})"


def _known(k: Knower) -> str:
    """``wfp 365.7h from snmg2``; a recurring fact (a SITREP) names the edition, since the time is when it arrived."""
    text = f"{k.actor} {k.since:,.1f}h" + ("" if k.source == k.actor else f" from {k.source}")
    return text + (f" (edition {k.edition + 1})" if k.edition else "")
