"""Names for prose: organisations, facts, requests and decision points as a reader knows them.

Reports put ids only in tables and appendices; sentences use these. An id the
scenario does not know is shown as it is, so a report never fails on a name.
"""

from __future__ import annotations

from coopsim.engine.scenario.model import Scenario


def short(name: str) -> str:
    """A name without its qualifiers: the words before `` - ``, `` (`` or ``, `` (``SHAPE`` for ``SHAPE - Supreme Allied ...``)."""
    for mark in (" - ", " (", ", "):
        name = name.split(mark)[0]
    return name.strip() or name


class Names:
    """What to call each entity of ``scenario`` in a sentence."""

    def __init__(self, scenario: Scenario):
        self._by = scenario.by_id

    def actor(self, actor: str | None) -> str:
        """An organisation by the head of its name: ``World Food Programme`` for ``World Food Programme - Somalia unit (Nairobi)``.

        Exercise control for SIMCELL or nobody; tables keep the full name.
        """
        if actor in (None, "SIMCELL"):
            return "exercise control"
        a = self._by["actors"].get(actor)
        return short(a.name) if a else actor

    def place(self, location: str) -> str:
        loc = self._by["locations"].get(location)
        return short(loc.name) if loc is not None else location

    def asset(self, asset: str) -> str:
        a = self._by["assets"].get(asset)
        return a.name if a is not None else asset

    def route(self, route: str) -> str:
        """A route by its ends, ``Mombasa–Mogadishu``, for an id the scenario gives or one made of its ends."""
        r = self._by["routes"].get(route)
        return f"{self.place(r.from_)}–{self.place(r.to)}" if r is not None else route

    def channel(self, channel: str) -> str:
        """A channel, or how else a fact came: ``the liaison officer``, ``an inject``."""
        if channel.startswith("inject:"):
            return f"inject {channel.partition(':')[2]}"
        c = self._by["channels"].get(channel)
        if c is not None:
            return f"the {c.kind.replace('_', ' ')} channel"
        officer = self._by["liaison"].get(channel)
        return f"the liaison officer {officer.name}" if officer is not None else channel

    def actors(self, ids) -> str:
        """``WFP, UN OCHA and SNMG2``."""
        names = [self.actor(a) for a in ids]
        return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1] if names else "nobody"

    def fact(self, fact: str) -> str:
        """A fact by the head of its description, e.g. ``WFP pipeline warning``: the words before `` - ``."""
        f = self._by["facts"].get(fact)
        if f is None or not f.description:
            return fact
        return f.description.split(" - ")[0].strip().rstrip(".")

    def request(self, request: str) -> str:
        """A request by its description in quotation marks, e.g. ``“WFP ships food from Mombasa to Mogadishu”``."""
        r = self._by["requests"].get(request)
        return f"“{r.description.rstrip('.')}”" if r is not None and r.description else request

    def decision(self, decision: str) -> str:
        d = self._by["decision_points"].get(decision)
        return d.name if d else decision

    def option(self, decision: str, option: str) -> str:
        d = self._by["decision_points"].get(decision)
        found = next((o for o in d.options if o.id == option), None) if d else None
        return found.description.rstrip(".") if found and found.description else option
