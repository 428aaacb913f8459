"""Routing: which legs an asset travels between two locations.

Assets move only on routes of their own mode (aircraft fly air routes, ships
sail sea routes). The path is the one with the least expected travel time,
found with Dijkstra's algorithm over the scenario's routes; a route given by
distance takes the asset's own speed.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass

from coopsim.engine.scenario.model import Asset, Route, Scenario


@dataclass(frozen=True, slots=True)
class Leg:
    """One route travelled in one direction."""

    route: Route
    origin: str
    destination: str


def leg_hours_mean(route: Route, asset: Asset) -> float:
    """Expected hours for ``asset`` to travel ``route``.

    Raises:
        LookupError: the route is given by distance and the asset has no speed.
    """
    if route.time is not None:
        return route.time.mean
    if asset.speed_kmh is None:
        raise LookupError(f"route {route.key} is given by distance but asset {asset.id} has no speed_kmh")
    return route.distance_km / asset.speed_kmh


def find_path(scenario: Scenario, asset: Asset, origin: str, destination: str, avoid: frozenset[str] = frozenset()) -> tuple[Leg, ...]:
    """The quickest sequence of legs for ``asset`` from ``origin`` to ``destination``, not using the routes in ``avoid``.

    Raises:
        LookupError: no route of the asset's mode joins the two locations.
    """
    if origin == destination:
        return ()
    graph: dict[str, list[Leg]] = {}
    for route in scenario.routes:
        if route.mode != asset.mode or route.key in avoid:
            continue
        graph.setdefault(route.from_, []).append(Leg(route, route.from_, route.to))
        if route.two_way:
            graph.setdefault(route.to, []).append(Leg(route, route.to, route.from_))
    best = {origin: 0.0}
    came: dict[str, Leg] = {}
    queue = [(0.0, origin)]
    while queue:
        cost, here = heapq.heappop(queue)
        if here == destination:
            break
        if cost > best[here]:
            continue
        for leg in graph.get(here, ()):
            nxt = cost + leg_hours_mean(leg.route, asset)
            if nxt < best.get(leg.destination, float("inf")):
                best[leg.destination] = nxt
                came[leg.destination] = leg
                heapq.heappush(queue, (nxt, leg.destination))
    if destination not in came:
        raise LookupError(f"asset {asset.id} ({asset.mode.value}) has no route from {origin} to {destination}")
    legs = []
    here = destination
    while here != origin:
        leg = came[here]
        legs.append(leg)
        here = leg.origin
    return tuple(reversed(legs))
