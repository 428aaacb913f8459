"""Where a request changes state: the one place the simulation moves a request along its lifecycle.

:func:`open_request` makes a request exist (so it cannot be submitted twice),
:func:`announce` records its submission when its lifecycle process starts,
and :func:`move` takes every later step. Each step is checked against
:data:`~coopsim.engine.log.lifecycle.MOVES`, recorded as a
:class:`~coopsim.engine.log.records.RequestStateChanged`, and announced as a
:class:`~coopsim.engine.sim.signals.RequestReached` signal for the triggers
waiting on it.
"""

from __future__ import annotations

from coopsim.engine.log.lifecycle import MOVES
from coopsim.engine.log.records import RequestStateChanged
from coopsim.engine.scenario.model import RequestState
from coopsim.engine.sim.signals import RequestReached
from coopsim.engine.sim.world import World


class LifecycleError(Exception):
    """A request was moved to a state that cannot follow its current one: a bug in the model, never bad input."""


def open_request(w: World, request: str) -> bool:
    """Make ``request`` exist, submitted; False if it already does (a request is submitted once)."""
    if request in w.request_states:
        return False
    w.request_states[request] = RequestState.submitted
    return True


def announce(w: World, request: str, actor: str, note: str = "") -> None:
    """Record the submission of a request :func:`open_request` opened, as its lifecycle starts."""
    _record(w, request, actor, RequestState.submitted, 0.0, note)


def move(w: World, request: str, actor: str, state: RequestState, took: float = 0.0, note: str = "") -> None:
    """Move ``request`` to ``state`` at ``actor``; ``took`` is the length of a timed step (approval, rework).

    Raises:
        LifecycleError: ``state`` cannot follow the request's current state.
    """
    before = w.request_states.get(request)
    if state not in MOVES[before]:
        raise LifecycleError(f"request {request} cannot go from {before} to {state}")
    w.request_states[request] = state
    _record(w, request, actor, state, took, note)


def _record(w: World, request: str, actor: str, state: RequestState, took: float, note: str) -> None:
    w.emit(RequestStateChanged, actor, request, state, took, note)
    w.signal(RequestReached(request, state))
