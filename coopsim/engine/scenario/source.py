"""Scenario documents: YAML text turned into plain data that remembers where it came from.

Loading a scenario has three steps (see :mod:`coopsim.engine.scenario.load`); this
module is the first, and the one reader of YAML for every input coopsim takes:
scenarios, ``--set`` values, decisions and session files, triggers written in
MSEL sheets, and the resolved scenario in a run directory.

It reads YAML the way hardened readers do. It builds plain data straight from
the parser's event stream (never Python objects), refuses tags that would
construct them, refuses duplicate keys, and records the line and column of
every key and value, so later steps report every problem as
``file:line:col``. It works within stated :class:`Limits` on the size of a
file, the depth of nesting, and the number of values a document may hold
*counting every value an alias repeats* (the alias-expansion budget). So a
"billion laughs" file, 20,000 nested brackets or a 50 MB file is refused in
one located line, quickly and in bounded memory, instead of hanging. A scalar
the YAML type system cannot construct (``2009-13-45``, ``!!int x``) is a
located problem too.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from coopsim.engine.scenario.files import _raise_hint, decode, limits, read_input, size_text
from coopsim.engine.scenario.problems import Position, Problem, ScenarioError, refuse

Path_ = tuple[Any, ...]
"""A path into the data: mapping keys and list indices, e.g. ``("actors", 2, "staff")``."""

_SCALAR_TAGS = {"tag:yaml.org,2002:" + name for name in ("str", "int", "float", "bool", "null", "timestamp")}
_SAFE_TAGS = _SCALAR_TAGS | {"tag:yaml.org,2002:map", "tag:yaml.org,2002:seq"}
_MAP, _SEQ = "tag:yaml.org,2002:map", "tag:yaml.org,2002:seq"
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml's parser where installed: fast, and not recursive


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


def read_yaml_file(path: str | Path, expected: str) -> tuple[Document, bytes]:
    """Read and parse a YAML file; returns the document and the raw bytes (for hashing)."""
    raw = read_input(path, expected)
    return parse_yaml(decode(raw, str(path), expected), str(path)), raw


# -- parsing ----------------------------------------------------------------------------------


def _mark(source: str, mark: Any) -> Position:
    return Position(source, mark.line + 1, mark.column + 1)


class _Fatal(Exception):
    """Stops reading at once: a limit is reached or the YAML cannot be read on."""

    def __init__(self, problem: Problem):
        self.problem = problem


_BAD_KEY = object()
"""A key that was refused: its value is read (for the limits) but kept out of the mapping."""


@dataclass
class _Frame:
    """A mapping or list being built; a mapping alternates between waiting for a key and for its value."""

    value: dict[Any, Any] | list[Any]
    path: Path_
    start: int  # where this node's entries begin in the builder's list
    anchor: str | None
    chars: int = 0  # the builder's text count when this node began
    key: Any = None  # the key whose value comes next (mappings), or None while a key is awaited


class _Builder:
    """Turns YAML parser events into plain data with positions, within the limits.

    The parser's events are consumed in a flat loop (no recursion), so nesting
    depth costs no stack; each value, and each value an alias repeats, is
    counted against the budget before it is built.
    """

    def __init__(self, source: str, loader: Any):
        self.source = source
        self.loader = loader
        self.limits = limits()
        self.constructor = yaml.SafeLoader("")
        self.doc = Document(source, {})
        self.problems: list[Problem] = []
        self.stack: list[_Frame] = []
        self.count = 0
        self.chars = 0  # characters of scalar text built, counting what aliases repeat
        self.skip = 0  # > 0 while inside a collection that was refused: its events are counted, not built
        # Every value and key position recorded, in order, so an anchored node's can be repeated under an alias.
        self.entries: list[tuple[bool, Path_, Position]] = []
        # anchor -> (value, its entries first:last, its path, its characters); None: anchored on something refused
        self.anchors: dict[str, tuple[Any, int, int, Path_, int] | None] = {}
        self.open_anchors: set[str] = set()

    def build(self) -> Document:
        documents = 0
        while True:
            event = self.loader.get_event()
            if isinstance(event, yaml.NodeEvent) or isinstance(event, (yaml.CollectionEndEvent)):
                if self.skip:
                    self._skipped(event)
                elif isinstance(event, yaml.ScalarEvent):
                    self._scalar(event)
                elif isinstance(event, yaml.CollectionStartEvent):
                    self._start(event)
                elif isinstance(event, yaml.CollectionEndEvent):
                    self._end()
                else:
                    self._alias(event)
            elif isinstance(event, yaml.DocumentStartEvent):
                documents += 1
                if documents > 1:
                    raise _Fatal(
                        Problem(_mark(self.source, event.start_mark), "the file holds more than one YAML document", "one document")
                    )
            elif isinstance(event, yaml.StreamEndEvent):
                return self.doc

    # -- where a node goes
    def _awaiting_key(self) -> bool:
        return bool(self.stack) and isinstance(self.stack[-1].value, dict) and self.stack[-1].key is None

    def _here(self) -> Path_ | None:
        """The path of the value that starts now; None if it is the value of a refused key."""
        if not self.stack:
            return ()
        top = self.stack[-1]
        if isinstance(top.value, list):
            return top.path + (len(top.value),)
        return None if top.key is _BAD_KEY else top.path + (top.key,)

    def _place(self, value: Any) -> None:
        if not self.stack:
            self.doc.data = value
            return
        top = self.stack[-1]
        if isinstance(top.value, list):
            top.value.append(value)
            return
        if top.key is not _BAD_KEY:
            top.value[top.key] = value
        top.key = None

    def _take_key(self, key: Any, pos: Position) -> None:
        top = self.stack[-1]
        assert isinstance(top.value, dict)
        if key is not _BAD_KEY and (top.path + (key,)) in self.doc.keys:
            first = self.doc.keys[top.path + (key,)].line
            self.problems.append(Problem(pos, f"duplicate key {key!r}", f"each key once; first at line {first}"))
            key = _BAD_KEY
        if key is not _BAD_KEY:
            self.doc.keys[top.path + (key,)] = pos
            self.entries.append((True, top.path + (key,), pos))
        top.key = key

    def _record(self, path: Path_, pos: Position) -> None:
        self.doc.values[path] = pos
        self.entries.append((False, path, pos))

    def _count(self, n: int, mark: Any, chars: int = 0) -> None:
        self.count += n
        self.chars += chars
        if self.chars > 2 * self.limits.max_bytes:
            raise _Fatal(
                Problem(
                    _mark(self.source, mark),
                    f"the document holds more than {size_text(2 * self.limits.max_bytes)} of text, counting what its aliases repeat",
                    "a scenario-sized document; a YAML alias bomb is refused",
                )
            )
        if self.count > self.limits.max_values:
            raise _Fatal(
                Problem(
                    _mark(self.source, mark),
                    f"the document holds more than {self.limits.max_values:,} values, counting those its aliases repeat",
                    "a scenario-sized document; a YAML alias bomb is refused",
                )
            )

    def _deeper(self, mark: Any) -> None:
        if len(self.stack) + self.skip >= self.limits.max_depth:
            raise _Fatal(
                Problem(
                    _mark(self.source, mark),
                    f"mappings and lists nest more than {self.limits.max_depth} levels deep",
                    _DEPTH_EXPECTED,
                )
            )

    # -- events
    def _scalar(self, event: yaml.ScalarEvent) -> None:
        self._count(1, event.start_mark, len(event.value))
        pos = _mark(self.source, event.start_mark)
        tag = event.tag
        if tag is None or tag == "!":
            tag = self.loader.resolve(yaml.ScalarNode, event.value, event.implicit)
        if self._awaiting_key():
            key = self._key(event.value, tag, pos)
            self._take_key(key, pos)
            if event.anchor is not None:
                self.anchors[event.anchor] = None if key is _BAD_KEY else (key, 0, 0, (), len(event.value))
            return
        path = self._here()
        if path is not None:
            self._record(path, pos)
        if tag not in _SCALAR_TAGS:
            self.problems.append(_refused_tag(tag, pos) if tag not in _SAFE_TAGS else _misplaced_tag(tag, pos, "a plain value"))
            value = None
        else:
            value = self._construct(event, tag, pos)
        self._place(value)
        if event.anchor is not None:
            entry = (value, len(self.entries) - 1, len(self.entries), path, len(event.value))
            self.anchors[event.anchor] = entry if path is not None else None

    def _key(self, text: str, tag: str, pos: Position) -> Any:
        if tag not in _SAFE_TAGS:
            self.problems.append(_refused_tag(tag, pos))
            return _BAD_KEY
        if tag in (_NULL, _MAP, _SEQ):
            self.problems.append(Problem(pos, f"key {text or 'null'!r} is not a name", "a key written as plain text"))
            return _BAD_KEY
        return text  # keys are names, even `3:` or `yes:`, kept as written

    def _construct(self, event: yaml.ScalarEvent, tag: str, pos: Position) -> Any:
        node = yaml.ScalarNode(tag, event.value, event.start_mark, event.end_mark, event.style)
        try:
            return self.constructor.construct_object(node)
        except Exception as exc:  # the YAML type system's constructors raise many kinds of error for bad text
            kind = tag.rsplit(":", 1)[-1]
            shown = event.value if len(event.value) <= 40 else event.value[:40] + "..."
            self.problems.append(
                Problem(pos, f"invalid {kind} {shown!r}: {_why(kind, event.value, exc)}", _EXAMPLES.get(kind, f"a {kind}"))
            )
            return None

    def _start(self, event: Any) -> None:
        self._count(1, event.start_mark)
        self._deeper(event.start_mark)
        pos = _mark(self.source, event.start_mark)
        mapping = isinstance(event, yaml.MappingStartEvent)
        tag = event.tag if event.tag not in (None, "!") else (_MAP if mapping else _SEQ)
        if self._awaiting_key():
            self.problems.append(Problem(pos, "a key must be plain text", "a name"))
            self._take_key(_BAD_KEY, pos)
            self._refuse_subtree(event)
            return
        path = self._here()
        if path is not None:
            self._record(path, pos)
        if tag != (_MAP if mapping else _SEQ):
            self.problems.append(_refused_tag(tag, pos) if tag not in _SAFE_TAGS else _misplaced_tag(tag, pos, "a mapping or list"))
            self._place(None)
            self._refuse_subtree(event)
            return
        if path is None:  # the value of a refused key: read for the limits only
            self._place(None)
            self._refuse_subtree(event)
            return
        self.stack.append(_Frame({} if mapping else [], path, len(self.entries) - 1, event.anchor, self.chars))
        if event.anchor is not None:
            self.open_anchors.add(event.anchor)

    def _refuse_subtree(self, event: Any) -> None:
        self.skip = 1
        if event.anchor is not None:
            self.anchors[event.anchor] = None

    def _skipped(self, event: Any) -> None:
        if isinstance(event, yaml.CollectionStartEvent):
            self._count(1, event.start_mark)
            self._deeper(event.start_mark)
            self.skip += 1
        elif isinstance(event, yaml.CollectionEndEvent):
            self.skip -= 1
        elif isinstance(event, yaml.ScalarEvent):
            self._count(1, event.start_mark)
        if isinstance(event, yaml.NodeEvent) and event.anchor is not None and not isinstance(event, yaml.AliasEvent):
            self.anchors[event.anchor] = None

    def _end(self) -> None:
        frame = self.stack.pop()
        self._place(frame.value)
        if frame.anchor is not None:
            self.open_anchors.discard(frame.anchor)
            self.anchors[frame.anchor] = (frame.value, frame.start, len(self.entries), frame.path, self.chars - frame.chars)

    def _alias(self, event: yaml.AliasEvent) -> None:
        pos = _mark(self.source, event.start_mark)
        name = event.anchor
        if name in self.open_anchors:
            self.problems.append(Problem(pos, "an alias refers to a node that contains it", "an alias to a finished node"))
            anchored = None
        elif name not in self.anchors:
            raise _Fatal(Problem(pos, f"alias *{name} names no anchor written before it", f"&{name} on a value earlier in the file"))
        else:
            anchored = self.anchors[name]
        if self._awaiting_key():
            self._count(1, event.start_mark, anchored[4] if anchored is not None else 0)
            value = anchored[0] if anchored is not None else None
            if anchored is not None and (value is None or isinstance(value, (dict, list))):
                self.problems.append(Problem(pos, "a key must be plain text", "a name"))
            key = str(value) if anchored is not None and value is not None and not isinstance(value, (dict, list)) else _BAD_KEY
            self._take_key(key, pos)
            return
        path = self._here()
        if anchored is None:  # refused where it was anchored, and said so there
            self._count(1, event.start_mark)
            if path is not None:
                self._record(path, pos)
            self._place(None)
            return
        value, first, last, anchored_at, chars = anchored
        self._count(max(1, last - first), event.start_mark, chars)
        if path is not None:
            # the alias repeats the anchored node: its values, and where each was written
            n = len(anchored_at)
            for is_key, p, where in self.entries[first:last]:
                target = path + p[n:]
                (self.doc.keys if is_key else self.doc.values)[target] = where
                self.entries.append((is_key, target, where))
        self._place(_copy(value))


_NULL = "tag:yaml.org,2002:null"
_DEPTH_EXPECTED = "the few levels of nesting a scenario needs"


def _copy(value: Any) -> Any:
    """A fresh copy of plain data (each alias gets its own, so a patch to one never changes another)."""
    if isinstance(value, dict):
        return {k: _copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_copy(v) for v in value]
    return value


def _why(kind: str, text: str, exc: Exception) -> str:
    """Why a scalar could not be read as its type, in the author's terms rather than Python's."""
    if kind == "timestamp" and isinstance(exc, ValueError) and ("must be" in str(exc) or "out of range" in str(exc)):
        return str(exc)  # datetime's own words: "month must be in 1..12", "day is out of range for month"
    if kind == "int" and sum(c.isdigit() for c in text) > 4000:
        return "more than 4,000 digits"
    return {"int": "not a whole number", "float": "not a number", "bool": "not true or false", "timestamp": "not a date"}.get(
        kind, f"not a {kind}"
    )


_EXAMPLES = {
    "timestamp": "a real date or time, such as 2008-09-25 or 2008-09-25T06:00:00Z",
    "int": "a whole number",
    "float": "a number",
    "bool": "true or false",
    "null": "null or nothing",
}


def parse_yaml(text: str, source: str) -> Document:
    """Parse YAML text into a :class:`Document`, within the :class:`Limits` in force.

    Raises:
        ScenarioError: the YAML is malformed, goes past a limit, uses an
            object-constructing tag, holds a value its type cannot take, or
            repeats a key.
    """
    if len(text) > limits().max_bytes:
        raise refuse(
            source,
            f"the text is {size_text(len(text))}, over the input limit of {size_text(limits().max_bytes)}",
            _raise_hint(limits().max_bytes),
        )
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:  # lone surrogates: bytes that were never UTF-8 (from a file name or an argument)
        line = text.count("\n", 0, exc.start) + 1
        col = exc.start - (text.rfind("\n", 0, exc.start) + 1) + 1
        raise refuse(source, "not UTF-8 text", "a UTF-8 value", line, col) from None
    builder = _Builder(source, _Loader(text))
    try:
        doc = builder.build()
    except _Fatal as exc:
        raise ScenarioError([exc.problem]) from None
    except yaml.MarkedYAMLError as exc:
        raise ScenarioError([_syntax_problem(exc, source)]) from None
    except yaml.reader.ReaderError as exc:
        raise ScenarioError([_reader_problem(exc, text, source)]) from None
    except yaml.YAMLError as exc:
        raise refuse(source, f"malformed YAML: {str(exc).splitlines()[0] if str(exc) else 'unreadable'}", "valid YAML") from None
    finally:
        dispose = getattr(builder.loader, "dispose", None)
        if dispose is not None:
            dispose()
    if builder.problems:
        raise ScenarioError(builder.problems)
    return doc


def _reader_problem(exc: yaml.reader.ReaderError, text: str, source: str) -> Problem:
    char = exc.character if isinstance(exc.character, str) else chr(exc.character)
    position = exc.position
    if not isinstance(text, str) or position > len(text):
        return Problem(Position(source, 1, 1), f"character {char!r} is not allowed in YAML", "printable text")
    if getattr(exc, "encoding", None) not in (None, "unicode"):  # libyaml counts bytes of UTF-8
        position = len(text.encode("utf-8")[:position].decode("utf-8", "ignore"))
    line = text.count("\n", 0, position) + 1
    col = position - (text.rfind("\n", 0, position) + 1) + 1
    return Problem(Position(source, line, col), f"character {char!r} is not allowed in YAML", "printable text")


def _syntax_problem(exc: yaml.MarkedYAMLError, source: str) -> Problem:
    """One line for a YAML syntax error, at the bracket left open when that is the cause."""
    what = (exc.problem or "malformed YAML").strip()
    opened = exc.context_mark
    if "nesting depth" in what:  # libyaml's own guard, which looks ahead of the events
        mark = exc.problem_mark or opened
        return Problem(
            _mark(source, mark) if mark else Position(source, 1, 1),
            f"mappings and lists nest more than {limits().max_depth} levels deep",
            _DEPTH_EXPECTED,
        )
    if opened is not None and exc.context in ("while parsing a flow sequence", "while parsing a flow mapping") and exc.problem_mark:
        bracket = "[" if "sequence" in exc.context else "{"
        closing = "]" if bracket == "[" else "}"
        return Problem(
            _mark(source, opened),
            f"malformed YAML: {bracket!r} is never closed",
            f"',' or {closing!r} before line {exc.problem_mark.line + 1}",
        )
    mark = exc.problem_mark or opened
    return Problem(_mark(source, mark) if mark else Position(source, 1, 1), f"malformed YAML: {what}", "valid YAML")


def _misplaced_tag(tag: str, pos: Position, what: str) -> Problem:
    kind = tag.rsplit(":", 1)[-1]
    return Problem(pos, f"the tag !!{kind} cannot go on {what}", "the value written without a tag")


def _refused_tag(tag: str, pos: Position) -> Problem:
    if tag == "tag:yaml.org,2002:merge":
        return Problem(pos, "YAML merge keys (<<) are not supported", "the keys written out, or a variant patch")
    return Problem(pos, f"YAML tag {tag!r} is not allowed", "plain YAML values; tags that construct objects are refused")
