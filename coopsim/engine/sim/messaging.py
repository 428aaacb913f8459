"""Messaging: how a message gets from one actor's out-tray to another's staff.

A message takes one of two paths:

* **through a liaison officer**, when a post joins the two actors and is
  staffed now: it waits for a free officer and takes the officer's relay time,
  and is never lost;
* **over a channel**, the quickest one joining the two actors that is cleared
  for the message's marking: each transmission takes a sampled latency and is
  lost with the channel's loss probability, in which case the sender resends
  after ``resend_after``, up to ``max_attempts`` times.

Either way it then queues for a free staff officer at the recipient, who takes
the recipient's processing time to handle it. A message an actor sends itself
(a supply demand handled in-house) skips the channel but not the staff.
:func:`deliver` is a SimPy
generator: callers ``yield from`` it, and it returns the channel or post id
used, or None if the message never arrived.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

from coopsim.engine.log.records import MessageDelivered, MessageFailed, MessageHandled, MessageLost, MessageSent
from coopsim.engine.scenario.model import Marking
from coopsim.engine.sim.world import Post, World


def deliver(
    w: World,
    sender: str,
    recipient: str,
    about: str,
    marking: Marking,
    request: str | None = None,
    post: Post | None = None,
) -> Generator[Any, Any, str | None]:
    """Carry one message and have it handled; returns the channel/post id, or None."""
    w.message_started()
    try:
        return (yield from _carry(w, sender, recipient, about, marking, request, post))
    finally:
        w.pending -= 1


def _carry(
    w: World, sender: str, recipient: str, about: str, marking: Marking, request: str | None, post: Post | None
) -> Generator[Any, Any, str | None]:
    env = w.env
    message = w.next_id("m")
    if sender == recipient:  # an actor's own paperwork: no channel, but its staff still handle it
        yield from handle(w, recipient, message, request)
        return "internal"
    post = post or w.post_for(sender, recipient)
    sent_at = env.now
    if post is not None:
        w.emit(MessageSent, sender, message, recipient, post.spec.id, "liaison", about, marking.value, request)
        with post.officers.request() as officer:
            yield officer
            yield env.timeout(post.spec.relay_time.sample(post.rng))
        route = post.spec.id
        w.emit(MessageDelivered, recipient, message, route, env.now - sent_at, 1, request)
    else:
        link = w.link_for(sender, recipient, marking)
        if link is None:
            w.emit(
                MessageFailed,
                sender,
                message,
                recipient,
                None,
                f"no channel between {sender} and {recipient} cleared for {marking.value}",
                request,
            )
            return None
        spec = link.spec
        route = spec.id
        w.emit(MessageSent, sender, message, recipient, route, "channel", about, marking.value, request)
        attempt = 1
        while True:
            if link.gate is None:
                yield env.timeout(spec.latency.sample(link.rng))
            else:
                with link.gate.request() as slot:
                    yield slot
                    yield env.timeout(spec.latency.sample(link.rng))
            if spec.loss and link.rng.random() < spec.loss:
                w.emit(MessageLost, sender, message, route, attempt)
                if attempt >= spec.max_attempts:
                    w.emit(MessageFailed, sender, message, recipient, route, f"lost {attempt} times on {route}; given up", request)
                    return None
                attempt += 1
                yield env.timeout(spec.resend_after)
                continue
            break
        w.emit(MessageDelivered, recipient, message, route, env.now - sent_at, attempt, request)
    yield from handle(w, recipient, message, request)
    return route


def handle(w: World, actor: str, message: str, request: str | None) -> Generator[Any, Any, None]:
    """Have ``actor``'s staff handle a message."""
    wait, service = yield from staff_time(w, actor)
    w.emit(MessageHandled, actor, message, wait, service, request)


def staff_time(w: World, actor: str) -> Generator[Any, Any, tuple[float, float]]:
    """Wait for a free staff officer at ``actor``, then take the processing time; returns (wait, service)."""
    env = w.env
    staffed = w.actors[actor]
    arrived = env.now
    with staffed.staff.request() as officer:
        yield officer
        started = env.now
        yield env.timeout(staffed.spec.processing.sample(staffed.rng))
    return started - arrived, env.now - started
