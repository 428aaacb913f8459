"""The browser tabletop command: every organisation at its own screen."""

from __future__ import annotations

import click

from coopsim.cli import ProblemsError, main, refusing


@main.command()
@click.argument("file")
@click.option("--as", "seats", metavar="ORG,...", help="Organisations (actor ids) with players, each at its own screen.")
@click.option(
    "--session", "session_file", help="The session file: resumed if it exists, else recorded there (default: runs/NAME-session.yaml)."
)
@click.option("--port", type=click.IntRange(0, 65535), default=8765, show_default=True, help="Port to listen on (0: any free port).")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on; 0.0.0.0 opens it to the local network.")
@click.option("--variant", help="Play one of the scenario's variants (a new session only).")
@click.option("--seed", type=int, help="Run seed of a new session (default: the scenario's own).")
@click.option(
    "--replications", "-n", type=click.IntRange(min=0), default=5, show_default=True,
    help="Replications per alternative option in the report's counterfactuals.",
)  # fmt: skip
@click.option("--out", help="Where the run and its report go when the exercise ends (default: runs/NAME-web).")
def serve(
    file: str,
    seats: str | None,
    session_file: str | None,
    port: int,
    host: str,
    variant: str | None,
    seed: int | None,
    replications: int,
    out: str | None,
) -> None:
    """Serve a tabletop exercise to browsers: a screen per organisation, a facilitator and observers.

    Prints one address per role, each with its own secret token: give each
    player only their seat's address. A seat sees only what its organisation
    knows and may see; the facilitator advances the clock, releases
    contingency injects, looks through any seat's eyes, follows the
    objectives live and ends the exercise with the after-action report.
    Every move is saved to the session file at once: stop the server with
    Ctrl-C and start it again with --session to go on.

    \b
    Examples:
      coopsim serve somalia-wfp-escort-2008 --as wfp,snmg2
      coopsim serve somalia-wfp-escort-2008 --session runs/somalia-wfp-escort-2008-session.yaml
      coopsim serve pakistan-earthquake-2005 --as un_ocha,nac --host 0.0.0.0 --port 8080
    """
    from pathlib import Path

    from coopsim.engine import open_session

    try:
        from coopsim.web.server import serve as run_server
    except ImportError as exc:
        raise ProblemsError([f"coopsim serve needs the web extra: pip install 'coopsim[web]' ({exc.name} is missing)"]) from None
    with refusing():
        scenario, session, path = open_session(
            file,
            session_file=session_file,
            seats=[s.strip() for s in seats.split(",") if s.strip()] if seats else None,
            seed=seed,
            variant=variant,
        )
    if not session.seats:
        raise ProblemsError(["--as: name the organisations with players, e.g. --as wfp,snmg2 (each gets its own screen)"])
    if host not in ("127.0.0.1", "localhost", "::1"):
        click.echo(
            f"Warning: listening on {host}: anyone on the network who has an address below can join as that role"
            " (on other machines, use this machine's network address in place of 127.0.0.1).",
            err=True,
        )

    def announce(lines):
        for label, url in lines:
            click.echo(f"{label}: {url}")
        click.echo(f"Session saved to {path} after every move. Stop with Ctrl-C; resume with --session {path}.")

    try:
        run_server(scenario, session, path, Path(out or Path("runs") / f"{Path(file).stem}-web"), host=host, port=port,
                   replications=replications, announce=announce)  # fmt: skip
    except OSError as exc:
        raise ProblemsError([f"--port {port}: cannot listen on {host} ({exc.strerror})"]) from None
    click.echo(f"Stopped. Session saved to {path}.")
