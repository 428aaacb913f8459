"""Problems: what is wrong with an input, where, and what was expected, as one line each.

Every input coopsim refuses is refused with :class:`ScenarioError`, a list of
:class:`Problem` lines ``file:line:col: what is wrong (what was expected)``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


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
        return printable(f"{self.position}: {self.message}{tail}")


class ScenarioError(Exception):
    """A scenario (or a patch to one) has problems; ``problems`` lists each one."""

    def __init__(self, problems: list[Problem]):
        # ``args`` holds the list itself, so the error survives being re-raised
        # as ``type(e)(*e.args)`` (SimPy does this when a process fails).
        super().__init__(problems)
        self.problems = problems

    def __str__(self) -> str:
        return "\n".join(str(p) for p in self.problems)


_CONTROL = {c: f"\\x{c:02x}" for c in range(32)} | {9: "\\t", 10: "\\n", 13: "\\r", 127: "\\x7f"}


def printable(text: str) -> str:
    """``text`` with control characters shown as escapes, so a message is always one line however odd the input."""
    return text.translate(_CONTROL)


def shown(value: Any, width: int = 60) -> str:
    """``repr(value)`` for a message, cut short: an error repeats what was written, never a whole megabyte of it."""
    text = repr(value)
    return text if len(text) <= width else text[: width - 4] + "...'"


def refuse(source: str, message: str, expected: str = "", line: int = 1, col: int = 1) -> ScenarioError:
    """A ScenarioError of one problem at ``source:line:col``."""
    return ScenarioError([Problem(Position(source, line, col), message, expected)])
