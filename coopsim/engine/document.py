"""Scenario documents: YAML text turned into plain data that remembers where it came from.

Loading a scenario has three steps (see :mod:`coopsim.engine.loader`); this
module is the first. It parses YAML with the safe composer, refuses tags that
would construct Python objects, refuses duplicate keys, and records the line
and column of every key and value. Later steps use those positions so that
every problem is reported as ``file:line:col``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml

Path_ = tuple[Any, ...]
"""A path into the data: mapping keys and list indices, e.g. ``("actors", 2, "staff")``."""

_SAFE_TAGS = {"tag:yaml.org,2002:" + name for name in ("str", "int", "float", "bool", "null", "timestamp", "map", "seq")}


@dataclass(frozen=True, slots=True)
class Position:
    """Where a key or value was written: a source name and 1-based line and column."""

    source: str
    line: int
    col: int

    def __str__(self) -> str:
        return f"{self.source}:{self.line}:{self.col}"


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with a scenario, with where it is and what was expected."""

    position: Position
    message: str
    expected: str = ""

    def __str__(self) -> str:
        tail = f" ({self.expected})" if self.expected else ""
        return f"{self.position}: {self.message}{tail}"


class ScenarioError(Exception):
    """A scenario (or a patch to one) has problems; ``problems`` lists each one."""

    def __init__(self, problems: list[Problem]):
        # ``args`` holds the list itself, so the error survives being re-raised
        # as ``type(e)(*e.args)`` (SimPy does this when a process fails).
        super().__init__(problems)
        self.problems = problems

    def __str__(self) -> str:
        return "\n".join(str(p) for p in self.problems)


@dataclass
class Document:
    """Plain data parsed from YAML, with the position of every value and key.

    ``values`` maps a path to where its value starts; ``keys`` maps the path of
    a mapping entry to where its key is written (used for unknown keys).
    """

    source: str
    data: Any
    values: dict[Path_, Position] = field(default_factory=dict)
    keys: dict[Path_, Position] = field(default_factory=dict)
    removed: list[tuple[Path_, Any, Position]] = field(default_factory=list)
    """Entities a patch removed: (list path, id, where the patch removes it)."""

    def position(self, path: Path_, *, key: bool = False) -> Position:
        """The position of ``path``, or of its nearest ancestor that exists."""
        path = tuple(path)
        table = self.keys if key else self.values
        while path:
            if path in table:
                return table[path]
            if path in self.values:
                return self.values[path]
            path = path[:-1]
        return self.values.get((), Position(self.source, 1, 1))


def _mark(source: str, mark: yaml.Mark) -> Position:
    return Position(source, mark.line + 1, mark.column + 1)


def parse_yaml(text: str, source: str) -> Document:
    """Parse YAML text into a :class:`Document`.

    Raises:
        ScenarioError: the YAML is malformed, uses an object-constructing tag,
            or repeats a key.
    """
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        raise ScenarioError([_syntax_problem(exc, source)]) from None
    except yaml.reader.ReaderError as exc:
        line = text.count("\n", 0, exc.position) + 1
        col = exc.position - (text.rfind("\n", 0, exc.position) + 1) + 1
        char = exc.character if isinstance(exc.character, str) else chr(exc.character)
        raise ScenarioError(
            [Problem(Position(source, line, col), f"character {char!r} is not allowed in YAML", "printable text")]
        ) from None
    except yaml.YAMLError as exc:
        raise ScenarioError([Problem(Position(source, 1, 1), f"malformed YAML: {exc}", "valid YAML")]) from None
    doc = Document(source, None)
    if root is None:
        doc.data = {}
        return doc
    problems: list[Problem] = []
    constructor = yaml.SafeLoader("")
    doc.data = _build(root, (), doc, problems, constructor)
    if problems:
        raise ScenarioError(problems)
    return doc


def _syntax_problem(exc: yaml.MarkedYAMLError, source: str) -> Problem:
    """One line for a YAML syntax error, at the bracket left open when that is the cause."""
    what = exc.problem or "malformed YAML"
    opened = exc.context_mark
    if opened is not None and exc.context and "flow" in exc.context and exc.problem_mark is not None:
        bracket = "[" if "sequence" in exc.context else "{"
        closing = "]" if bracket == "[" else "}"
        return Problem(
            _mark(source, opened),
            f"malformed YAML: {bracket!r} is never closed",
            f"',' or {closing!r} before line {exc.problem_mark.line + 1}",
        )
    mark = exc.problem_mark or opened
    return Problem(_mark(source, mark) if mark else Position(source, 1, 1), f"malformed YAML: {what}", "valid YAML")


def _refused_tag(tag: str, pos: Position) -> Problem:
    if tag == "tag:yaml.org,2002:merge":
        return Problem(pos, "YAML merge keys (<<) are not supported", "the keys written out, or a variant patch")
    return Problem(pos, f"YAML tag {tag!r} is not allowed", "plain YAML values; tags that construct objects are refused")


def _build(
    node: yaml.Node, path: Path_, doc: Document, problems: list[Problem], constructor: yaml.SafeLoader, inside: frozenset[int] = frozenset()
) -> Any:
    doc.values[path] = _mark(doc.source, node.start_mark)
    if id(node) in inside:
        problems.append(Problem(doc.values[path], "an alias refers to a node that contains it", "an alias to a finished node"))
        return None
    if node.tag not in _SAFE_TAGS:
        problems.append(_refused_tag(node.tag, doc.values[path]))
        return None
    if isinstance(node, yaml.CollectionNode):
        inside = inside | {id(node)}  # only a collection can hold an alias back to itself
    if isinstance(node, yaml.MappingNode):
        out: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                problems.append(Problem(_mark(doc.source, key_node.start_mark), "a key must be plain text", "a name"))
                continue
            key_pos = _mark(doc.source, key_node.start_mark)
            if key_node.tag not in _SAFE_TAGS:
                problems.append(_refused_tag(key_node.tag, key_pos))
                continue
            key = constructor.construct_object(key_node)
            if key is None or isinstance(key, (list, dict)):
                problems.append(Problem(key_pos, f"key {key!r} is not a name", "a key written as plain text"))
                continue
            key = str(key) if not isinstance(key, str) else key  # keys are names, even `3:` or `yes:`
            if key in out:
                problems.append(Problem(key_pos, f"duplicate key {key!r}", f"each key once; first at line {doc.keys[path + (key,)].line}"))
                continue
            doc.keys[path + (key,)] = key_pos
            out[key] = _build(value_node, path + (key,), doc, problems, constructor, inside)
        return out
    if isinstance(node, yaml.SequenceNode):
        return [_build(item, path + (i,), doc, problems, constructor, inside) for i, item in enumerate(node.value)]
    return constructor.construct_object(node)
