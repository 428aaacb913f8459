"""Sinks: where records go as a run produces them.

A sink is any callable taking a :class:`~coopsim.engine.records.Record`. The
engine streams records to its sinks one at a time and keeps none itself, so a
run of a million records uses no more memory than a run of ten thousand.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from coopsim.engine.log.records import Record, record_from


class JsonlSink:
    """Writes each record as one line of JSON; the bytes depend only on the records."""

    def __init__(self, path: Path):
        self.path = path
        self._fh: IO[str] = path.open("w", encoding="utf-8", newline="\n", buffering=1 << 16)

    def __call__(self, record: Record) -> None:
        self._fh.write(record.json_line())

    def close(self) -> None:
        self._fh.close()


class MemorySink(list):
    """Keeps records in a list, for tests and notebooks."""

    def __call__(self, record: Record) -> None:
        self.append(record)


class LogError(Exception):
    """An event log is missing or damaged; the message names the file and line."""


MAX_LINE = 1 << 20
"""The longest line a record can take in ``events.jsonl``; anything longer is damage."""


def read_records(path: Path) -> Iterator[Record]:
    """Read records back from an ``events.jsonl`` file.

    Raises:
        LogError: the file is missing, or a line is not a complete record.
    """
    try:
        fh = path.open(encoding="utf-8", newline="\n")
    except OSError as exc:
        raise LogError(f"{path}: cannot read the event log ({exc.strerror})") from None
    with fh:
        number = 0
        while True:
            number += 1
            try:
                line = fh.readline(MAX_LINE)
            except UnicodeDecodeError:
                raise LogError(f"{path}:{number}: not UTF-8 text (the log is damaged)") from None
            if not line:
                return
            try:
                if not line.endswith("\n"):
                    raise ValueError("no end of line")
                data = json.loads(line)
                if type(data) is not dict:
                    raise ValueError("not a JSON object")
                record = record_from(data)
            except (ValueError, KeyError, TypeError, AttributeError, RecursionError):
                raise LogError(f"{path}:{number}: not a complete record (the log is truncated or damaged)") from None
            yield record
