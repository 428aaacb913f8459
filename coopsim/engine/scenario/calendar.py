"""The exercise calendar: hour ``t`` of a scenario as a date, a local time and an exercise day.

Inside the engine every time counts hours since the scenario start. Planners,
players and readers of a report think in dates, in the theatre's local time
and in exercise days. The scenario's ISO ``start`` anchors hour 0 (UTC unless
it carries an offset), and its ``timezone``, where set, gives the local time.
Day 1 is the first 24 hours of the exercise, day 2 the next 24, whatever the
clock said at the start: the day count follows the exercise, not midnight.

One piece of code serves the MSEL export and the reports, so a sheet and a
report never disagree about when something happens::

    when = Calendar.of("2008-09-25T00:00:00Z", "Africa/Nairobi").at(14.0)
    when.utc    # 2008-09-25 14:00 UTC
    when.local  # 2008-09-25 17:00 EAT
    when.day    # 1
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo


@dataclass(frozen=True, slots=True)
class Moment:
    """Hour ``hours`` of the exercise on the calendar.

    Attributes:
        hours: hours since the scenario start.
        utc: the date and time in UTC (time-zone aware).
        local: the date and time in the scenario's zone, or None when the scenario sets no zone.
        day: the exercise day, 1 for hours 0 up to 24.
    """

    hours: float
    utc: datetime
    local: datetime | None
    day: int


@dataclass(frozen=True, slots=True)
class Calendar:
    """The scenario's hour 0 on the calendar, and the theatre's time zone.

    Attributes:
        origin: hour 0 as a UTC date and time (time-zone aware).
        zone: the theatre's time zone, or None.
    """

    origin: datetime
    zone: ZoneInfo | None = None

    @classmethod
    def of(cls, start: datetime | str, zone: str | None = None) -> Calendar:
        """The calendar of a scenario starting at ``start`` (ISO text or a datetime; UTC unless it has an offset) in IANA ``zone``.

        Raises:
            ValueError: ``start`` is not an ISO date and time.
            zoneinfo.ZoneInfoNotFoundError: ``zone`` is not a known time zone.
        """
        origin = datetime.fromisoformat(start) if isinstance(start, str) else start
        origin = origin.replace(tzinfo=UTC) if origin.tzinfo is None else origin.astimezone(UTC)
        return cls(origin, ZoneInfo(zone) if zone else None)

    def at(self, t: float) -> Moment:
        """Hour ``t`` of the exercise as a UTC date and time, a local one where a zone is set, and the exercise day."""
        moment = self.origin + timedelta(hours=t)
        return Moment(t, moment, moment.astimezone(self.zone) if self.zone is not None else None, int(t // 24) + 1)
