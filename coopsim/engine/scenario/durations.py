"""Durations: how scenario authors write time, and how the engine keeps it.

Authors write durations as a number with a unit, such as ``"90m"``, ``"6h"``,
``"2d"`` or ``"1.5w"``. Inside the engine every time is a float counting hours
since the scenario start, because hours are the unit practitioners quote for
request cycles and airlift legs; the scenario's ISO ``start`` anchors hour 0
to the calendar.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Annotated

from pydantic import BeforeValidator, WithJsonSchema

UNIT_HOURS = {"s": 1 / 3600, "m": 1 / 60, "h": 1.0, "d": 24.0, "w": 168.0}
MAX_HOURS = 100 * 8766.0
"""The longest duration a scenario may give: 100 years. Anything longer is a typo, not a crisis."""
DURATION_PATTERN = r"^-?\d+(\.\d+)?([eE][+-]?\d+)?\s*(s|m|h|d|w)$"
_DURATION = re.compile(DURATION_PATTERN)


def parse_duration(value: object) -> float:
    """Return the hours in a duration string.

    Raises:
        ValueError: the text is not a duration, or it is negative.
    """
    if isinstance(value, bool) or not isinstance(value, str):
        raise ValueError(f"{value!r} is not a duration with a unit")
    text = value.strip()
    if not _DURATION.match(text):
        raise ValueError(f"{value!r} is not a duration")
    hours = float(text[:-1]) * UNIT_HOURS[text[-1]]
    if hours < 0:
        raise ValueError(f"negative duration {value!r}")
    if hours > MAX_HOURS:
        raise ValueError(f"{value!r} is over 100 years (expected a duration of at most 100 years, such as 30d or 2w)")
    return hours


def duration_text(hours: float) -> str:
    """Hours as a duration string that parses back to exactly the same float: ``36.5h``."""
    # Decimal(repr(x)) is the shortest exact form; "f" keeps it out of exponent notation.
    return format(Decimal(repr(float(hours))), "f") + "h"


def _duration_json_schema() -> dict:
    return {"type": "string", "pattern": DURATION_PATTERN, "examples": ["90m", "6h", "2d"]}


Duration = Annotated[
    float,
    BeforeValidator(parse_duration),
    WithJsonSchema(_duration_json_schema()),
]
"""A field written as a duration string and held as hours."""
