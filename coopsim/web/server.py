"""Running the browser tabletop: the room, the roles' addresses, and uvicorn on a socket bound before anything is printed."""

from __future__ import annotations

import socket
from collections.abc import Callable
from pathlib import Path

from coopsim.engine import Scenario, Session, play

from .app import Roles, create_app
from .room import Refused, Room


def report_writer(out: Path, replications: int) -> Callable[[Room], Path]:
    """``write(room)``: play the session to the scenario's end and write its after-action report into ``out``."""

    def write(room: Room) -> Path:
        from coopsim.engine import OutputDirError
        from coopsim.reports.write import write_report

        with room.lock:
            if room.pending is not None:
                raise Refused(f"{room.names.actor(room.pending.point.owner)} has a decision to take first: {room.pending.point.name}")
            session = room.session
        try:
            play(room.scenario, session, out, replications, 1, replace=True)
            report = write_report(out)
        except OutputDirError as exc:
            raise Refused(str(exc)) from None
        room.report = report / "report.html"
        room.notify()
        return room.report

    return write


def bind(host: str, port: int) -> socket.socket:
    """A listening socket; port 0 takes a free one."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(128)
    sock.set_inheritable(True)
    return sock


def addresses(roles: Roles, host: str, port: int) -> list[tuple[str, str]]:
    """``(label, url)`` for every role, as ``coopsim serve`` prints them."""
    shown = "127.0.0.1" if host in ("0.0.0.0", "") else (f"[{host}]" if ":" in host else host)
    return [(r.label, f"http://{shown}:{port}/{r.token}/") for r in roles.all]


def serve(
    scenario: Scenario,
    session: Session,
    session_path: Path,
    out: Path,
    *,
    host: str = "127.0.0.1",
    port: int = 8765,
    replications: int = 5,
    announce: Callable[[list[tuple[str, str]]], None] = print,
) -> Room:
    """Serve the session until Ctrl-C (or SIGTERM); the session file holds every move made. Returns the room."""
    import uvicorn

    sock = bind(host, port)  # first: a port in use is refused before any session file is written
    room = Room(scenario, session, session_path)
    roles = Roles(room.seats)
    app = create_app(room, roles, report=report_writer(out, replications))
    announce(addresses(roles, host, sock.getsockname()[1]))
    config = uvicorn.Config(app, log_level="warning", access_log=False, timeout_graceful_shutdown=2, lifespan="off")
    server = uvicorn.Server(config)
    try:
        server.run(sockets=[sock])
    except KeyboardInterrupt:
        pass  # uvicorn stopped cleanly on Ctrl-C and passed the signal on: the stop is the expected end
    finally:
        room.closing = True
        room.session.save(room.path)
        sock.close()
    return room
