"""Loading a scenario: YAML text in, a validated frozen :class:`Scenario` out.

Loading has three steps, each reporting problems as ``file:line:col``:

1. **parse** the YAML safely, keeping positions (:mod:`coopsim.engine.scenario.source`);
2. **validate** each section's types, ranges and required keys with pydantic
   (unknown keys are errors), then check what pydantic cannot see: that ids are
   unique, that every reference names something that exists, that routes join
   real locations and that every request's assets can reach its site;
3. **patch** where asked: a variant or ``--set`` override is merged into the
   data and the result validated again, so a bad patch is reported at the
   line where the patch was written.

Every decision option's patch and every variant is also checked at load time,
so a run never discovers a broken patch halfway through an exercise.
"""

from __future__ import annotations

import hashlib
import types
import typing
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from coopsim.engine.scenario.files import decode, read_input
from coopsim.engine.scenario.metric_names import METRICS, split_metric
from coopsim.engine.scenario.model import ID_SECTIONS, Family, Role, Scenario
from coopsim.engine.scenario.patch import apply_located_patch
from coopsim.engine.scenario.problems import Position, Problem, ScenarioError, shown
from coopsim.engine.scenario.routing import find_path
from coopsim.engine.scenario.source import Document, Path_, parse_yaml

CONTROLLER = "SIMCELL"
"""The sender of injects that come from exercise control rather than an actor."""


def load_scenario(path: str | Path, *, variant: str | None = None, overrides: Sequence[str] = ()) -> Scenario:
    """Load, validate and (optionally) patch the scenario file at ``path``.

    Args:
        path: a YAML file, or the name of a bundled scenario.
        variant: the name of one of the scenario's variants to apply.
        overrides: ``dotted.path=value`` settings applied last, as ``--set`` does.

    Raises:
        ScenarioError: listing every problem found, each with file:line:col.
    """
    from coopsim.engine.scenario.catalog import resolve

    file = resolve(path)
    # A bundled scenario named by name is reported by its file, so an error's file:line:col can be opened.
    source = str(path) if Path(path) == file else str(file)
    raw = read_input(file, "a readable YAML file")
    text = decode(raw, source, "a UTF-8 YAML file")
    return loads_scenario(text, source=source, variant=variant, overrides=overrides, sha256=hashlib.sha256(raw).hexdigest())


def loads_scenario(
    text: str,
    source: str = "<string>",
    *,
    variant: str | None = None,
    overrides: Sequence[str] = (),
    sha256: str | None = None,
) -> Scenario:
    """Like :func:`load_scenario`, for YAML text already in memory."""
    doc = parse_yaml(text, source)
    scenario = validate_document(doc)
    _check_patches(scenario)
    scenario._sha256 = sha256 or hashlib.sha256(text.encode("utf-8")).hexdigest()
    if variant is not None:
        scenario = apply_variant(scenario, variant)
    for override in overrides:
        scenario = apply_override(scenario, override)
    if variant is not None or overrides:
        _check_patches(scenario, variants=False)  # decision patches must still fit what will actually run
    return scenario


def scenario_yaml(scenario: Scenario, variants: bool = False) -> str:
    """The scenario's data (variant and overrides applied) as YAML that loads again.

    Variants are left out unless asked for: once one has been applied, the
    others were written against the base scenario, not this one.
    """
    data = {k: v for k, v in scenario._document.data.items() if variants or k != "variants"}
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=120)


def apply_variant(scenario: Scenario, name: str) -> Scenario:
    """The scenario with its variant ``name`` applied (``baseline`` is the scenario itself)."""
    if name == "baseline" and "baseline" not in scenario.variants:
        return scenario
    if name not in scenario.variants:
        known = ", ".join(["baseline", *scenario.variants])
        raise ScenarioError(
            [Problem(scenario._document.position(("variants",), key=True), f"no variant named {name!r}", f"one of: {known}")]
        )
    patched = patch_scenario(scenario, scenario.variants[name].patch, scenario._document, ("variants", name, "patch"))
    patched._variant = name
    return patched


def apply_override(scenario: Scenario, override: str) -> Scenario:
    """Apply one ``dotted.path=value`` setting; the value is read as YAML."""
    label = f"--set {override if len(override) <= 60 else override[:57] + '...'}"
    path, sep, value_text = override.partition("=")
    if not sep or not path.strip():
        raise ScenarioError([Problem(Position(label, 1, 1), "a setting needs a path and a value", "dotted.path=value")])
    try:
        value_doc = parse_yaml(value_text or "null", label)
    except ScenarioError as exc:  # columns count from the start of PATH=VALUE, as for every --set problem
        raise ScenarioError(
            [Problem(Position(label, 1, p.position.col + len(path) + 1), p.message, p.expected) for p in exc.problems]
        ) from None
    patch_doc = Document(label, {path.strip(): value_doc.data})
    for p, pos in value_doc.values.items():
        patch_doc.values[(path.strip(),) + p] = Position(label, 1, len(path) + 1 + pos.col)
    patch_doc.keys[(path.strip(),)] = Position(label, 1, 1)
    patched = patch_scenario(scenario, patch_doc.data, patch_doc, ())
    patched._overrides = scenario._overrides + (override,)
    return patched


def patch_scenario(scenario: Scenario, patch: dict[str, Any], patch_doc: Document, patch_path: Path_) -> Scenario:
    """Validate ``scenario`` with ``patch`` (written at ``patch_path`` in ``patch_doc``) merged in."""
    doc = apply_located_patch(scenario._document, patch, patch_doc, patch_path)
    try:
        patched = validate_document(doc)
    except ScenarioError as exc:
        # Problems left behind by a removal sit at the scenario's lines; say which removal caused them.
        causes = [
            Problem(pos, f"the patch removes {'.'.join(map(str, where))}.{ident}", "nothing else in the scenario refers to it")
            for where, ident, pos in doc.removed
        ]
        raise ScenarioError(sorted(causes, key=_order) + exc.problems) from None
    patched._sha256 = scenario._sha256
    patched._variant = scenario._variant
    patched._overrides = scenario._overrides
    return patched


def validate_document(doc: Document) -> Scenario:
    """Steps 2 of loading: types, then cross-references. Raises ScenarioError."""
    if not isinstance(doc.data, dict):
        raise ScenarioError([Problem(doc.position(()), "the document is not a mapping", "sections such as scenario:, actors:")])
    try:
        scenario = Scenario.model_validate(doc.data)
    except ValidationError as exc:
        raise ScenarioError(validation_problems(doc, exc)) from None
    problems = list(_cross_check(scenario, doc))
    if problems:
        raise ScenarioError(sorted(problems, key=_order))
    scenario._document = doc
    return scenario


def _order(p: Problem) -> tuple[int, int]:
    return (p.position.line, p.position.col)


# -- step 2a: pydantic errors, translated -------------------------------------------------


def validation_problems(doc: Document, exc: ValidationError, root: type[BaseModel] = Scenario) -> list[Problem]:
    """Pydantic's errors for ``doc`` (validated as ``root``) in our own words, in file order."""
    return sorted(_translate(doc, exc, root), key=_order)


def _translate(doc: Document, exc: ValidationError, root: type[BaseModel]) -> Iterable[Problem]:
    seen = set()
    errors = exc.errors(include_url=False)
    failed_inside = {err["loc"][:n] for err in errors for n in range(1, len(err["loc"]))}
    for err in errors:
        if err["type"] == "too_short" and err["loc"] in failed_inside and err["input"]:
            continue  # "too short after validation" only because an item failed: that item's own error says it
        path = _data_path(doc.data, err["loc"])
        kind = err["type"]
        if kind == "extra_forbidden":
            key = path[-1]
            allowed = _allowed_keys(root, doc.data, path[:-1])
            problem = Problem(
                doc.position(path, key=True),
                f"unknown key {shown(key)} in {_where(doc.data, path[:-1])}",
                f"one of: {', '.join(allowed)}" if allowed else "no other keys",
            )
        elif kind == "missing":
            problem = Problem(doc.position(path[:-1]), f"{_where(doc.data, path)} is missing", "a value for this required key")
        else:
            message, expected = _explain(err)
            problem = Problem(doc.position(path), f"{_where(doc.data, path)}: {message}", expected)
        if str(problem) not in seen:
            seen.add(str(problem))
            yield problem


def _explain(err: dict) -> tuple[str, str]:
    msg = err["msg"]
    kind = err["type"]
    got = err.get("input")
    if kind == "value_error":
        text = msg.removeprefix("Value error, ")
        if text.endswith(")") and " (expected " in text:
            head, _, tail = text.rpartition(" (expected ")
            return head, "expected " + tail[:-1]
        if "duration" in text:
            return text, 'expected a duration such as "90m", "6h" or "2d"'
        return text, ""
    if kind == "union_tag_invalid":
        return f"unknown {err['ctx']['discriminator'].strip(chr(39))} {err['ctx']['tag']!r}", f"one of {err['ctx']['expected_tags']}"
    if kind == "union_tag_not_found":
        return "no dist given", "a plain duration, or {dist: fixed|uniform|triangular|exponential|lognormal|normal, ...}"
    if kind in {"literal_error", "enum"}:
        return f"{shown(got)} is not allowed", "one of " + err["ctx"]["expected"]
    if kind == "string_pattern_mismatch":
        return f"{shown(got)} is not a valid identifier", "letters, digits, _ and -, starting with a letter"
    ctx = err.get("ctx", {})
    worded = _EXPECTED.get(kind)
    if worded is not None:
        expected = "expected " + worded.format(**ctx)
    else:
        expected = "expected " + msg.removeprefix("Input should be ").removeprefix("Value should have ")
    return (f"got {shown(got)}" if not isinstance(got, (dict, list)) else f"got a {type(got).__name__}"), expected


# Our own words for pydantic's common error types, so messages stay the same across pydantic versions.
_EXPECTED = {
    "int_type": "a whole number",
    "int_parsing": "a whole number",
    "int_from_float": "a whole number",
    "float_type": "a number",
    "float_parsing": "a number",
    "bool_type": "true or false",
    "bool_parsing": "true or false",
    "string_type": "text",
    "greater_than": "a number above {gt:g}",
    "greater_than_equal": "a number of at least {ge:g}",
    "less_than": "a number below {lt:g}",
    "less_than_equal": "a number of at most {le:g}",
    "tuple_type": "a list",
    "list_type": "a list",
    "dict_type": "a mapping of keys to values",
    "model_type": "a mapping of keys to values",
    "model_attributes_type": "a mapping of keys to values",
    "too_short": "at least {min_length} item(s)",
    "datetime_type": "an ISO date and time such as 2005-10-08T03:50:00Z",
    "datetime_parsing": "an ISO date and time such as 2005-10-08T03:50:00Z",
    "datetime_from_date_parsing": "an ISO date and time such as 2005-10-08T03:50:00Z",
}


def _data_path(data: Any, loc: tuple) -> Path_:
    """Map a pydantic error location onto the data, dropping union tags and model names."""
    path: list[Any] = []
    node = data
    for part in loc:
        if isinstance(node, dict) and part in node:
            path.append(part)
            node = node[part]
        elif isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
            path.append(part)
            node = node[part]
        elif isinstance(node, dict) and isinstance(part, str) and part == loc[-1]:
            path.append(part)  # a missing or unknown key
            node = None
    return tuple(path)


def _allowed_keys(root: type[BaseModel], data: Any, path: Path_) -> list[str]:
    """The keys the model at ``path`` accepts, for the 'unknown key' message."""
    model: Any = root
    node = data
    keyed = False  # the last field was a mapping, so this part is one of its keys (a variant's name)
    for part in path:
        node = node[part]
        if isinstance(part, int) or keyed:
            keyed = False
            continue
        field = _field(model, part)
        if field is None:
            return []
        model = _model_in(field.annotation, node)
        if model is None:
            return []
        keyed = typing.get_origin(field.annotation) is dict
    if isinstance(model, type) and issubclass(model, BaseModel):
        return [f.alias or name for name, f in model.model_fields.items()]
    return []


def _field(model: Any, key: str):
    if not (isinstance(model, type) and issubclass(model, BaseModel)):
        return None
    for name, f in model.model_fields.items():
        if key in (name, f.alias):
            return f
    return None


def _model_in(annotation: Any, node: Any) -> Any:
    """The model class inside an annotation such as ``tuple[Actor, ...]`` or a dist union."""
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _model_in(typing.get_args(annotation)[0], node)
    if origin in (tuple, list):
        return _model_in(typing.get_args(annotation)[0], node)
    if origin is dict:
        return _model_in(typing.get_args(annotation)[1], node)
    if origin in (typing.Union, types.UnionType):
        for arg in typing.get_args(annotation):
            found = _model_in(arg, node)
            if found is None:
                continue
            dist = getattr(found, "model_fields", {}).get("dist")
            if dist is None or (isinstance(node, dict) and node.get("dist") in typing.get_args(dist.annotation)):
                return found
        return None
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    return None


def _where(data: Any, path: Path_) -> str:
    """A readable, patch-compatible name for ``path``: ``actors.un_ocha.staff``."""
    parts: list[str] = []
    node = data
    for part in path:
        if isinstance(node, list) and isinstance(part, int) and part < len(node):
            item = node[part]
            ident = item.get("id", item.get("seq")) if isinstance(item, dict) else None
            if ident is None and isinstance(item, dict) and all(k in item for k in ("from", "to", "mode")):
                ident = f"{item['from']}-{item['to']}-{item['mode']}"  # a route without an id is named by its key, as patches name it
            parts.append(str(ident) if ident is not None else str(part))
            node = item
        else:
            parts.append(str(part))
            node = node.get(part) if isinstance(node, dict) else None
    parts = [p if len(p) <= 40 else p[:37] + "..." for p in parts]  # an id may be as long as the author typed it
    return ".".join(parts) or "the document"


# -- step 2b: cross-references ------------------------------------------------------------


def _cross_check(s: Scenario, doc: Document) -> Iterable[Problem]:
    def at(*path: Any) -> Position:
        return doc.position(path)

    def ids(section: str, key: str = "id") -> Iterable[Problem]:
        first: dict[Any, int] = {}
        noun = "seq" if key == "seq" else "id"
        for i, item in enumerate(getattr(s, section)):
            value = getattr(item, key) if key != "route" else item.key
            if value in first:
                yield Problem(
                    at(section, i, "id" if key == "route" else key),
                    f"duplicate {section[:-1] if section.endswith('s') else section} {noun} {shown(value)}",
                    f"each {noun} once; first at line {at(section, first[value]).line}",
                )
            else:
                first[value] = i

    for section in ID_SECTIONS:
        yield from ids(section)
    yield from ids("routes", "route")
    yield from ids("injects", "seq")

    by = s.by_id
    actors, locations = by["actors"], by["locations"]

    def ref(kind: str, table: dict, value: Any, *path: Any) -> Iterable[Problem]:
        if value is not None and value not in table:
            yield Problem(at(*path), f"{_where(doc.data, path)} names {kind} {shown(value)}, which does not exist", _known(table, kind))

    def actor(value: Any, *path: Any) -> Iterable[Problem]:
        return ref("actor", actors, value, *path)

    for key in s.scenario.exercise.contacts:
        yield from actor(key, "scenario", "exercise", "contacts", key)
    for i, r in enumerate(s.routes):
        yield from ref("location", locations, r.from_, "routes", i, "from")
        yield from ref("location", locations, r.to, "routes", i, "to")
    for i, c in enumerate(s.channels):
        for j, a in enumerate(c.between):
            yield from actor(a, "channels", i, "between", j)
        if c.between[0] == c.between[1]:
            yield Problem(at("channels", i, "between"), "a channel joins an actor to itself", "two different actors")
    families = {f.value for f in Family}
    for i, a in enumerate(s.agreements):
        for j, party in enumerate(a.parties):
            if party not in actors and party not in families:
                yield Problem(
                    at("agreements", i, "parties", j),
                    f"party {party!r} is neither an org family nor an actor",
                    f"one of {', '.join(sorted(families))} or an actor id",
                )
    for i, lo in enumerate(s.liaison):
        yield from actor(lo.from_, "liaison", i, "from")
        yield from actor(lo.at, "liaison", i, "at")
        if lo.from_ == lo.at:
            yield Problem(at("liaison", i, "at"), "a liaison officer is placed at their own organisation", "a different actor")
    for i, a in enumerate(s.assets):
        yield from actor(a.owner, "assets", i, "owner")
        yield from ref("location", locations, a.base, "assets", i, "base")
        if a.activation is not None:
            yield from _check_trigger(s, doc, a.activation.after, ("assets", i, "activation", "after"), ref, actor)
    for i, f in enumerate(s.facts):
        yield from actor(f.origin, "facts", i, "origin")
        for j, d in enumerate(f.distribution):
            yield from actor(d, "facts", i, "distribution", j)
    for i, r in enumerate(s.requests):
        yield from _check_request(s, doc, ("requests", i), r, ref, actor)
    for i, inj in enumerate(s.injects):
        if inj.from_ != CONTROLLER:
            yield from actor(inj.from_, "injects", i, "from")
        for j, a in enumerate(inj.to):
            yield from actor(a, "injects", i, "to", j)
        yield from ref("objective", by["objectives"], inj.objective, "injects", i, "objective")
        yield from ref("fact", by["facts"], inj.fact, "injects", i, "fact")
        yield from ref("request", by["requests"], inj.request, "injects", i, "request")
        if inj.trigger:
            yield from _check_trigger(s, doc, inj.trigger, ("injects", i, "trigger"), ref, actor)
    for i, dp in enumerate(s.decision_points):
        yield from actor(dp.owner, "decision_points", i, "owner")
        yield from _check_trigger(s, doc, dp.trigger, ("decision_points", i, "trigger"), ref, actor)
        options = [o.id for o in dp.options]
        if dp.default not in options:
            yield Problem(
                at("decision_points", i, "default"),
                f"default {dp.default!r} is not one of the options of {dp.id}",
                f"one of: {', '.join(options)}",
            )
        for j, rule in enumerate(dp.policy):
            if rule.choose not in options:
                yield Problem(
                    at("decision_points", i, "policy", j, "choose"),
                    f"policy rule {j + 1} of {dp.id} chooses {rule.choose!r}, which is not one of its options",
                    f"one of: {', '.join(options)}",
                )
            cond = ("decision_points", i, "policy", j, "if")
            yield from ref("fact", by["facts"], rule.if_.knows, *cond, "knows")
            yield from ref("fact", by["facts"], rule.if_.not_knows, *cond, "not_knows")
            yield from ref("request", by["requests"], rule.if_.request, *cond, "request")
        if all(o.requires is not None for o in dp.options):
            yield Problem(
                at("decision_points", i, "options"),
                f"every option of {dp.id} requires a fact, so none may be open when the point comes",
                "at least one option without requires:",
            )
        for j, o in enumerate(dp.options):
            yield from ref("fact", by["facts"], o.requires, "decision_points", i, "options", j, "requires")
            base = ("decision_points", i, "options", j, "action")
            if o.action is None:
                continue
            if o.action.release_inject is not None and o.action.release_inject not in by["injects"]:
                yield Problem(
                    at(*base, "release_inject"),
                    f"option {o.id} releases inject {o.action.release_inject}, which does not exist",
                    _known(by["injects"], "inject"),
                )
            yield from ref("request", by["requests"], o.action.submit_request, *base, "submit_request")
            if o.action.share_fact:
                yield from ref("fact", by["facts"], o.action.share_fact.fact, *base, "share_fact", "fact")
                for k, a in enumerate(o.action.share_fact.to):
                    yield from actor(a, *base, "share_fact", "to", k)
    for i, inj in enumerate(s.injects):
        for j, e in enumerate(inj.effects):
            yield from _check_effect(s, doc, e, ("injects", i, "effects", j), ref)
        if inj.incident is not None:
            yield from ref("route", by["routes"], inj.incident, "injects", i, "incident")
    for i, r in enumerate(s.routes):
        if r.intel is not None:
            yield from ref("fact", by["facts"], r.intel.fact, "routes", i, "intel", "fact")
        for j, e in enumerate(r.on_incident):
            yield from _check_effect(s, doc, e, ("routes", i, "on_incident", j), ref)
    for i, a in enumerate(s.authorities):
        yield from actor(a.holder, "authorities", i, "holder")
        if a.after is not None:
            yield from _check_trigger(s, doc, a.after, ("authorities", i, "after"), ref, actor)
    for i, a in enumerate(s.arrivals):
        if a.request is not None:
            yield from _check_request(s, doc, ("arrivals", i, "request"), a.request, ref, actor)
            if a.quantity is not None and (a.request.site is None or not a.request.assets):
                yield Problem(
                    doc.position(("arrivals", i, "quantity")),
                    f"arrivals {a.id} draw a quantity to carry",
                    "site: and assets: in its request",
                )
        if a.inject is not None:
            base = ("arrivals", i, "inject")
            if a.inject.from_ != CONTROLLER:
                yield from actor(a.inject.from_, *base, "from")
            for j, x in enumerate(a.inject.to):
                yield from actor(x, *base, "to", j)
            yield from ref("objective", by["objectives"], a.inject.objective, *base, "objective")
            yield from ref("fact", by["facts"], a.inject.fact, *base, "fact")
            for j, e in enumerate(a.inject.effects):
                yield from _check_effect(s, doc, e, (*base, "effects", j), ref)
    yield from _trigger_cycles(s, doc)
    for i, obj in enumerate(s.objectives):
        yield from _check_metric(s, doc, obj.metric, ("objectives", i, "metric"))
        t = obj.thresholds
        lower = METRICS.get(split_metric(obj.metric)[0])
        if lower is not None:
            ordered = t.P <= t.S <= t.M if lower.better == "lower" else t.P >= t.S >= t.M
            if not ordered:
                sign = "<=" if lower.better == "lower" else ">="
                yield Problem(
                    at("objectives", i, "thresholds"),
                    f"thresholds of {obj.id} are out of order for a metric where {lower.better} is better",
                    f"P {sign} S {sign} M",
                )


def _check_effect(s: Scenario, doc: Document, e, path: Path_, ref) -> Iterable[Problem]:
    """An effect's target must exist; an asset cannot lose more units than it has."""
    kind, ident = e.target
    table = s.by_id["routes" if kind == "route" else f"{kind}s" if kind != "request" else "requests"]
    yield from ref(kind, table, ident, *path, kind)
    if kind == "asset" and ident in table and e.out is not None and e.out > table[ident].count:
        yield Problem(
            doc.position(path + ("out",)), f"asset {ident} has {table[ident].count} unit(s), not {e.out}", "out: at most its count"
        )


def _trigger_cycles(s: Scenario, doc: Document) -> Iterable[Problem]:
    """Injects and decision points whose triggers wait on each other in a cycle, so none can ever happen.

    A member of a cycle is still reachable if something else can release it:
    a time, a decision option's ``release_inject``, or the facilitator (a
    contingency inject). What is left when every reachable node is taken away,
    and lies on a cycle, is reported once per cycle.
    """
    by = s.by_id
    waits: dict[tuple[str, Any], set[tuple[str, Any]]] = {}  # node -> what any one of which lets it happen
    free: set[tuple[str, Any]] = set()
    for inj in s.injects:
        node = ("inject", inj.seq)
        waits[node] = set()
        t = inj.trigger
        if inj.time is not None or inj.contingency or (t is not None and t.inject is None and t.decision is None):
            free.add(node)
        elif t is not None and t.inject is not None and t.inject in by["injects"]:
            waits[node].add(("inject", t.inject))
        elif t is not None and t.decision is not None and t.decision in by["decision_points"]:
            waits[node].add(("decision", t.decision))
    for dp in s.decision_points:
        node = ("decision", dp.id)
        waits[node] = set()
        t = dp.trigger
        if t.inject is None and t.decision is None:
            free.add(node)
        elif t.inject is not None and t.inject in by["injects"]:
            waits[node].add(("inject", t.inject))
        elif t.decision is not None and t.decision in by["decision_points"]:
            waits[node].add(("decision", t.decision))
        for o in dp.options:
            if o.action is not None and o.action.release_inject in by["injects"]:
                waits[("inject", o.action.release_inject)].add(node)
    reachable = set(free)
    grew = True
    while grew:
        grew = False
        for node, needs in waits.items():
            if node not in reachable and needs & reachable:
                reachable.add(node)
                grew = True
    stuck = [n for n in waits if n not in reachable]
    reported: set[tuple[str, Any]] = set()
    for start in stuck:
        if start in reported:
            continue
        cycle = _cycle_from(start, waits, set(stuck))
        if not cycle:
            continue
        reported.update(cycle)
        names = " -> ".join(f"{kind} {ident}" for kind, ident in (*cycle, cycle[0]))
        kind, ident = cycle[0]
        index = [i.seq for i in s.injects].index(ident) if kind == "inject" else [d.id for d in s.decision_points].index(ident)
        yield Problem(
            doc.position(("injects" if kind == "inject" else "decision_points", index, "trigger")),
            f"triggers wait on each other in a cycle ({names}), so none of them can ever happen",
            "a trigger that starts from a time, a request, a fact, or an inject outside the cycle",
        )


def _cycle_from(start: Any, waits: dict[Any, set[Any]], stuck: set[Any]) -> list[Any]:
    """The cycle reached by following waits from ``start`` through stuck nodes, in file order of its first member."""
    seen: list[Any] = []
    node = start
    while node not in seen:
        seen.append(node)
        nxt = sorted((n for n in waits[node] if n in stuck), key=str)
        if not nxt:
            return []
        node = nxt[0]
    cycle = seen[seen.index(node) :]
    order = list(waits)
    first = min(range(len(cycle)), key=lambda k: order.index(cycle[k]))
    return cycle[first:] + cycle[:first]


def _check_request(s: Scenario, doc: Document, base: Path_, r, ref, actor) -> Iterable[Problem]:
    by = s.by_id
    yield from actor(r.from_, *base, "from")
    yield from actor(r.to, *base, "to")
    yield from actor(r.approver, *base, "approver")
    yield from ref("location", by["locations"], r.pickup, *base, "pickup")
    yield from ref("location", by["locations"], r.site, *base, "site")
    yield from ref("fact", by["facts"], r.fact, *base, "fact")
    yield from ref("fact", by["facts"], r.requires, *base, "requires")
    yield from ref("fact", by["facts"], r.trips_require, *base, "trips_require")
    if r.trips_require is not None and r.quantity <= 0:
        yield Problem(
            doc.position((*base, "trips_require")),
            f"request {r.id} moves no cargo, so no trip waits for {r.trips_require}",
            "quantity: tonnes",
        )
    for field, role in (("assets", Role.lift), ("escorts", Role.escort)):
        for j, a in enumerate(getattr(r, field)):
            yield from ref("asset", by["assets"], a, *base, field, j)
            # an RFA may ask for escorts as the assets it wants; only cargo must go by lift
            if a in by["assets"] and by["assets"][a].role is not role and (field == "escorts" or r.quantity > 0):
                yield Problem(
                    doc.position((*base, field, j)),
                    f"request {r.id} lists {a} in {field}, but {a} is an {by['assets'][a].role.value} pool"
                    + (f" and the request moves {r.quantity:g} t" if field == "assets" else ""),
                    f"{'lift pools in assets' if role is Role.lift else 'escort pools (role: escort) in escorts'}",
                )
    if r.kind == "rfi" and r.fact is None:
        yield Problem(doc.position(base), f"request {r.id} is an rfi but names no fact", "fact: the id of the fact asked for")
    if r.quantity > 0:
        if r.site is None:
            yield Problem(doc.position(base), f"request {r.id} moves {r.quantity:g} t but names no site", "site: a location id")
        if not r.assets:
            yield Problem(doc.position(base), f"request {r.id} moves {r.quantity:g} t but names no assets", "assets: asset pool ids")
    if r.site is None or r.site not in by["locations"]:
        return
    if r.last_resort is not None:
        yield from actor(r.last_resort.judge, *base, "last_resort", "judge")
    if r.if_declined.request is not None:
        yield from ref("request", by["requests"], r.if_declined.request, *base, "if_declined", "request")
        if r.if_declined.request == r.id:
            yield Problem(
                doc.position((*base, "if_declined", "request")), f"request {r.id} turns to itself when declined", "another request"
            )
    for j, a in enumerate(r.assets):
        pool = by["assets"].get(a)
        if pool is None or pool.base not in by["locations"]:
            continue
        pickup = r.pickup or pool.base
        if pickup not in by["locations"]:
            continue
        # Out to the pickup and the site, and back to base from the site (or from wherever an incident stops it).
        onward: tuple = ()
        try:
            onward = find_path(s, pool, pickup, r.site)
            stops = [pickup, *(leg.origin for leg in onward), r.site]
        except LookupError:
            stops = [pickup, r.site]
        pairs = [(pool.base, pickup), (pickup, r.site)] + [(stop, pool.base) for stop in dict.fromkeys(stops)]
        for leg_from, leg_to in pairs:
            if leg_from == leg_to:
                continue
            try:
                find_path(s, pool, leg_from, leg_to)
            except LookupError as exc:
                yield Problem(doc.position((*base, "assets", j)), str(exc), f"{pool.mode.value} routes joining {leg_from} to {leg_to}")
                break
        else:
            yield from _check_escort_reach(s, doc, base, r, onward)


def _check_escort_reach(s: Scenario, doc: Document, base: Path_, r, onward) -> Iterable[Problem]:
    """Each escort pool must reach every risky loaded leg's start from its base, and again from the leg's end (for the next convoy)."""
    by = s.by_id
    effects = [e for i in s.injects for e in i.effects] + [e for rt in s.routes for e in rt.on_incident]
    made_risky = {e.route for e in effects if e.route is not None and e.risk}
    onward = [leg for leg in onward if leg.route.risk > 0 or leg.route.key in made_risky or leg.route.id in made_risky]
    for k, e in enumerate(r.escorts):
        escort = by["assets"].get(e)
        if escort is None or escort.role is not Role.escort or escort.base not in by["locations"]:
            continue
        for leg in onward:
            for start in (escort.base, leg.destination):
                if start == leg.origin:
                    continue
                try:
                    find_path(s, escort, start, leg.origin)
                except LookupError as exc:
                    yield Problem(
                        doc.position((*base, "escorts", k)),
                        f"escort pool {e} cannot meet convoys at {leg.origin}: {exc}",
                        f"{escort.mode.value} routes joining {start} to {leg.origin}",
                    )
                    return


def _check_trigger(s: Scenario, doc: Document, t, path: Path_, ref, actor) -> Iterable[Problem]:
    by = s.by_id
    yield from ref("request", by["requests"], t.request, *path, "request")
    yield from ref("fact", by["facts"], t.fact, *path, "fact")
    yield from actor(t.known_by, *path, "known_by")
    yield from ref("decision point", by["decision_points"], t.decision, *path, "decision")
    if t.inject is not None and t.inject not in by["injects"]:
        yield Problem(
            doc.position(path + ("inject",)), f"trigger names inject {t.inject}, which does not exist", _known(by["injects"], "inject")
        )
    if t.decision in by["decision_points"] and t.option is not None:
        options = [o.id for o in by["decision_points"][t.decision].options]
        if t.option not in options:
            yield Problem(
                doc.position(path + ("option",)), f"decision {t.decision} has no option {t.option!r}", f"one of: {', '.join(options)}"
            )


def _check_metric(s: Scenario, doc: Document, name: str, path: Path_) -> Iterable[Problem]:
    base, subject = split_metric(name)
    spec = METRICS.get(base)
    if spec is None:
        yield Problem(doc.position(path), f"unknown metric {base!r}", "one of: " + ", ".join(METRICS))
        return
    limit = 2 if base == "info_latency" else (1 if spec.subject else 0)
    if len(subject) > limit:
        yield Problem(
            doc.position(path), f"metric {name!r} has too many parts", f"{base}" + (f".<{spec.subject[:-1]} id>" if limit else "")
        )
        return
    if subject:
        table = s.by_id[spec.subject]
        key: Any = int(subject[0]) if spec.subject == "injects" and subject[0].isdigit() else subject[0]
        if key not in table:
            yield Problem(
                doc.position(path),
                f"metric {name!r} names {spec.subject[:-1]} {subject[0]!r}, which does not exist",
                _known(table, spec.subject[:-1]),
            )
        elif spec.kinds and getattr(table[key], "kind", None) not in spec.kinds:
            kind = table[key].kind
            general = "request_cycle_time" if base.endswith("cycle_time") else None
            yield Problem(
                doc.position(path),
                f"metric {name!r} is for {' or '.join(k.upper() for k in spec.kinds)}s, and request {subject[0]} is a {kind}",
                f"request_cycle_time.{subject[0]}" if general else "a request of that kind",
            )
        if len(subject) == 2 and subject[1] not in s.by_id["actors"]:
            yield Problem(
                doc.position(path), f"metric {name!r} names actor {subject[1]!r}, which does not exist", _known(s.by_id["actors"], "actor")
            )


def _known(table: dict, kind: str) -> str:
    names = [str(k) for k in table]
    if not names:
        return f"no {kind} is defined"
    shown = ", ".join(names[:12]) + (", ..." if len(names) > 12 else "")
    return f"one of: {shown}"


# -- step 3: patches are checked up front -------------------------------------------------

# Resources are sized when a run starts, and timed processes are scheduled then: a patch can't move them.
_FIXED_AT_START = {"staff", "count", "capacity", "convoy", "role", "time", "at"}


def _check_patches(s: Scenario, variants: bool = True) -> None:
    """Validate every decision option's patch (and every variant) before anything runs."""
    doc = s._document
    problems: list[Problem] = []
    for i, dp in enumerate(s.decision_points):
        for j, o in enumerate(dp.options):
            if o.patch is None:
                continue
            where = ("decision_points", i, "options", j, "patch")
            try:
                patched = patch_scenario(s, o.patch, doc, where)
            except ScenarioError as exc:
                problems.extend(exc.problems)
                continue
            problems.extend(_runtime_patch_problems(s, patched, doc.position(where), o.id))
    for name, v in s.variants.items() if variants else ():
        try:
            patch_scenario(s, v.patch, doc, ("variants", name, "patch"))
        except ScenarioError as exc:
            problems.extend(exc.problems)
    if problems:
        raise ScenarioError(sorted(problems, key=_order))


def _runtime_patch_problems(before: Scenario, after: Scenario, pos: Position, option: str) -> Iterable[Problem]:
    """A patch applied mid-run may retune entities but not add, remove or resize them."""
    for section, table in before.by_id.items():
        if set(table) != set(after.by_id[section]):
            yield Problem(
                pos,
                f"option {option} adds or removes {section} mid-run",
                "a decision patch changes settings of existing entities; use a variant for structure",
            )
            continue
        for key, entity in table.items():
            new = after.by_id[section][key]
            for field in _FIXED_AT_START:
                if getattr(entity, field, None) != getattr(new, field, None):
                    yield Problem(
                        pos,
                        f"option {option} changes {section}.{key}.{field}, which is fixed when a run starts",
                        "change it with a variant or --set; a decision patch only retunes settings",
                    )
