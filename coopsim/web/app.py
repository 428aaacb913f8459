"""The browser tabletop: a Starlette application serving one :class:`~coopsim.web.room.Room` to many screens.

Every address starts with a role's token, an unguessable string made with
:mod:`secrets` and compared in constant time: ``/TOKEN/`` is that role's page.
A wrong token answers 404 and says nothing more. Roles:

* a **seat** (one organisation) sees the clock, the injects addressed to it,
  what it knows and may see (filtered on the server by the same seat-view code
  as the terminal console), its requests and assets; it responds to injects,
  takes the decisions it owns, and records observations;
* the **facilitator** sees everything, advances the clock, releases
  contingency injects, looks through any seat's eyes (``?as=ORG``), watches the
  live objective scoreboard, and ends the exercise with the after-action report;
* an **observer** sees everything, read-only, and records observations.

Pages update live: a small script (served from the package, no CDN) follows
``/TOKEN/events`` (server-sent events) and reloads the page's panel when the
room changes. Every form carries a CSRF token bound to the role; the pages
send a Content-Security-Policy without inline script; all scenario and player
text is escaped by the templates.
"""

from __future__ import annotations

import asyncio
import hmac
import re
import secrets
from dataclasses import dataclass, field
from importlib import resources

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, PlainTextResponse, RedirectResponse, Response, StreamingResponse
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from coopsim.reports.summary import calendar, format_value

from .room import MAX_TEXT, Refused, Room

CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
MAX_FORM = 16_384
"""The largest form body accepted, in bytes: a rationale of MAX_TEXT characters and room to spare."""


@dataclass
class Role:
    kind: str  # "facilitator", "observer" or "seat"
    seat: str | None
    token: str
    csrf: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    notice: str = ""  # the outcome of the last move, shown once

    @property
    def label(self) -> str:
        return f"seat {self.seat}" if self.kind == "seat" else self.kind


class Roles:
    """The tokens of a room's facilitator, observer and seats."""

    def __init__(self, seats: tuple[str, ...]):
        self.all = [Role("facilitator", None, secrets.token_urlsafe(24)), Role("observer", None, secrets.token_urlsafe(24))]
        self.all += [Role("seat", s, secrets.token_urlsafe(24)) for s in seats]

    def find(self, token: str) -> Role | None:
        """The role a token belongs to: every token is compared, each in constant time."""
        found = None
        for role in self.all:
            if hmac.compare_digest(role.token.encode(), token.encode()):
                found = role
        return found


def create_app(room: Room, roles: Roles, *, report: callable | None = None) -> Starlette:
    """The application for ``room``; ``report(room)`` writes the after-action report and returns its HTML file."""
    env = Environment(
        loader=PackageLoader("coopsim.web", "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined,
    )
    info = room.scenario.scenario
    when = calendar(info.start.isoformat(), info.timezone)  # the reports' calendar time, so screens and AAR agree

    def role_of(request: Request) -> Role:
        role = roles.find(request.path_params.get("token", ""))
        if role is None:
            raise _NotFound()
        return role

    def context(role: Role, request: Request, back: int | None = None) -> dict:
        seat = role.seat
        if role.kind == "facilitator":
            wanted = request.query_params.get("as", "")
            seat = wanted if wanted in room.seats else None
        with room.lock:
            pauses = room.session.pauses
            if back is None:
                v = room.view(seat)
                pending = room.pending
                contingencies = room.table.contingencies() if role.kind == "facilitator" else {}
                scoreboard = room.scoreboard() if role.kind != "seat" else []
                clock = room.table.clock
                finished = room.finished
        if back is not None:  # read-only, rebuilt by replay; nothing of the live session changes
            then = room.looking_back(back)
            v, pending, contingencies, scoreboard, clock, finished = then.view(seat), None, {}, [], then.clock, False
        return {
            "role": role,
            "seat": seat,
            "view": v,
            "names": room.names,
            "scenario": room.scenario,
            "handling": info.handling,
            "clock": when(clock),
            "when": when,
            "pending": pending,
            "mine": pending is not None and (role.kind == "facilitator" or pending.point.owner == role.seat),
            "contingencies": contingencies,
            "scoreboard": scoreboard,
            "finished": finished,
            "report": room.report is not None,
            "seats": room.seats,
            "objectives": room.scenario.objectives,
            "max_text": MAX_TEXT,
            "version": room.version,
            "back": back,
            "pauses": [(i, when(p.t)) for i, p in enumerate(pauses)] if role.kind != "seat" else [],
            "responses": room.session.responses,
            "value": format_value,
            "connected": {s: connected.get(f"seat {s}", 0) for s in room.seats},
        }

    def page(request: Request) -> Response:
        role = role_of(request)
        ctx = context(role, request)
        notice, role.notice = role.notice, ""
        html = env.get_template("page.html.j2").render(notice=notice, **ctx)
        return _html(html)

    def look_back(request: Request) -> Response:
        role = role_of(request)
        if role.kind == "seat":
            raise _NotFound()
        k = request.path_params["k"]
        try:
            ctx = context(role, request, back=int(k) if k.isdigit() else -1)
        except Refused as exc:
            return _html(env.get_template("page.html.j2").render(notice=f"Not shown: {exc}.", **context(role, request)))
        return _html(env.get_template("page.html.j2").render(notice="", **ctx))

    rendered: dict[tuple[str, str], tuple[int, str]] = {}  # (token, as) -> (version, panel): many screens, one render per change

    def panel(request: Request) -> Response:
        role = role_of(request)
        key = (role.token, request.query_params.get("as", ""))
        version = room.version
        cached = rendered.get(key)
        if cached is not None and cached[0] == version:
            return _html(cached[1])
        html = env.get_template("panel.html.j2").render(**context(role, request))
        rendered[key] = (version, html)
        return _html(html)

    connected: dict[str, int] = {}  # role label -> screens following the room now

    async def events(request: Request) -> Response:
        role = role_of(request)

        loop = asyncio.get_running_loop()
        changes: asyncio.Queue[int] = asyncio.Queue()

        def listener(version: int) -> None:  # called from the thread that changed the room
            loop.call_soon_threadsafe(changes.put_nowait, version)

        async def stream():
            room.listeners.add(listener)
            connected[role.label] = connected.get(role.label, 0) + 1
            room.notify()  # the facilitator's list of connected screens changes
            try:
                yield f"data: {room.version}\n\n"
                while not room.closing:
                    try:
                        version = await asyncio.wait_for(changes.get(), timeout=1.0)
                    except TimeoutError:
                        if await request.is_disconnected():
                            break
                        yield ": still here\n\n"  # a comment line keeps proxies from closing an idle stream
                        continue
                    while not changes.empty():  # a burst of changes is one update
                        version = changes.get_nowait()
                    yield f"data: {version}\n\n"
            finally:
                room.listeners.discard(listener)
                connected[role.label] -= 1
                if not room.closing:
                    room.notify()

        return StreamingResponse(stream(), media_type="text/event-stream", headers={"Cache-Control": "no-store", **_headers()})

    async def act(request: Request) -> Response:
        role = role_of(request)
        action = request.path_params["action"]
        if int(request.headers.get("content-length") or 0) > MAX_FORM:
            return _back(request, role, "the form is too large")
        form = await request.form(max_files=0, max_fields=20, max_part_size=MAX_FORM)
        if not hmac.compare_digest(str(form.get("csrf", "")).encode(), role.csrf.encode()):
            return PlainTextResponse("Forbidden: the form is not from this page (reload the page and try again)", 403, headers=_headers())
        get = lambda key: str(form.get(key, ""))  # noqa: E731
        allowed = {
            "facilitator": {"advance", "release", "decide", "observe", "end", "branch"},
            "observer": {"observe"},
            "seat": {"decide", "respond", "observe"},
        }[role.kind]
        if action not in allowed:
            return PlainTextResponse("Not found", 404, headers=_headers())
        try:
            if action == "advance":
                await asyncio.to_thread(room.advance, get("to"))
            elif action == "release":
                await asyncio.to_thread(room.release, get("inject"))
            elif action == "decide":
                await asyncio.to_thread(room.decide, role.seat, get("point"), get("option"), get("rationale"), get("by"))
            elif action == "respond":
                await asyncio.to_thread(room.respond, role.seat, get("inject"), get("text"), get("by"))
            elif action == "observe":
                await asyncio.to_thread(room.observe, get("text"), get("objective"), get("by") or role.label)
            elif action == "branch":
                path = await asyncio.to_thread(room.branch, get("pause"))
                return _back(request, role, f"Branched: play goes on from that pause in {path.name}; the original session is untouched.")
            elif action == "end":
                if report is None:
                    raise Refused("this server writes no report")
                await asyncio.to_thread(report, room)
        except Refused as exc:
            return _back(request, role, f"Not done: {exc}.")
        return _back(request, role, "")

    def aar(request: Request) -> Response:
        role_of(request)
        if room.report is None or not room.report.is_file():
            return PlainTextResponse("The after-action report is written when the facilitator ends the exercise.", 404, headers=_headers())
        return FileResponse(room.report, headers={"Cache-Control": "no-store"})

    static = resources.files("coopsim.web").joinpath("static")
    app = Starlette(
        routes=[
            Mount("/static", app=StaticFiles(directory=str(static)), name="static"),
            Route("/{token}/", page),
            Route("/{token}/panel", panel),
            Route("/{token}/events", events),
            Route("/{token}/aar", aar),
            Route("/{token}/back/{k}", look_back),
            Route("/{token}/do/{action}", act, methods=["POST"]),
        ],
        exception_handlers={_NotFound: _not_found, 404: _not_found, 405: _not_found},
    )
    return app


class _NotFound(Exception):
    pass


async def _not_found(request: Request, exc: Exception) -> Response:
    return PlainTextResponse("Not found", 404, headers=_headers())


def _headers() -> dict[str, str]:
    return {
        "Content-Security-Policy": CSP,
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",  # a token in the address never leaks to a link's target
        "Cache-Control": "no-store",
    }


def _html(text: str) -> HTMLResponse:
    return HTMLResponse(text, headers=_headers())


def _back(request: Request, role: Role, notice: str) -> Response:
    role.notice = notice
    seat = request.query_params.get("as", "")
    keep = role.kind == "facilitator" and re.fullmatch(r"[A-Za-z][A-Za-z0-9_\-]*", seat)  # an actor id, nothing else
    where = f"/{role.token}/" + (f"?as={seat}" if keep else "")
    return RedirectResponse(where, 303, headers=_headers())
