"""The user's files, read and written safely: stated input limits, UTF-8, and atomic replacement.

Every input is read through :func:`read_input`, which refuses a directory, an
unreadable file or one over the input limit in one located line, and never
waits on a FIFO. Every file coopsim writes for the user goes through
:func:`write_text`, so a kill at any moment leaves the old file or the new one.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass, replace
from pathlib import Path

from coopsim.engine.scenario.problems import refuse


@dataclass(frozen=True, slots=True)
class Limits:
    """What one input may hold; anything beyond is refused with a located problem.

    A real scenario is tens of kilobytes, nests about eight levels deep and
    holds a few thousand values, so the defaults leave wide room.
    """

    max_bytes: int = 4 * 1024 * 1024
    """The largest file read (``coopsim --input-limit``, or COOPSIM_INPUT_LIMIT)."""
    max_depth: int = 100
    """How deeply mappings and lists may nest."""
    max_values: int = 100_000
    """Values in one document, each value an alias repeats counted again (the alias-expansion budget)."""


_limits = Limits()


def limits() -> Limits:
    """The limits in force."""
    return _limits


def set_limits(**changes: int) -> Limits:
    """Change the limits in force (the command line's ``--input-limit`` does); returns the new limits."""
    global _limits
    _limits = replace(_limits, **changes)
    return _limits


def size_text(n: float) -> str:
    """A byte count as people write it: ``4 MB``, ``52.4 MB``, ``900 kB``."""
    for unit, size in (("GB", 1 << 30), ("MB", 1 << 20), ("kB", 1 << 10)):
        if n >= size:
            return f"{n / size:.1f}".removesuffix(".0") + f" {unit}"
    return f"{n:g} bytes"


def parse_size(text: str) -> int:
    """``"20MB"``, ``"512kB"``, ``"1GB"`` or plain bytes, as a byte count.

    Raises:
        ValueError: not a size.
    """
    t = text.strip().upper().removesuffix("B").removesuffix("I")
    factor = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30}.get(t[-1:], 1)
    number = t[:-1] if factor > 1 else t
    try:
        value = float(number)
    except ValueError:
        raise ValueError(f"{text!r} is not a size (expected e.g. 20MB or 512kB)") from None
    if not 0 < value < float(1 << 50):
        raise ValueError(f"{text!r} is not a size (expected e.g. 20MB or 512kB)")
    return int(value * factor)


def read_input(path: str | Path, expected: str, *, max_bytes: int | None = None) -> bytes:
    """The bytes of an input file, refused in one located line if they cannot be had safely.

    A directory, an unreadable file, or a file over the size limit is a
    ScenarioError at ``path:1:1``. A pipe or FIFO is read without waiting for a
    writer that never comes.
    """
    source = str(path)
    limit = _limits.max_bytes if max_bytes is None else max_bytes
    try:
        info = os.stat(path)
        if stat.S_ISDIR(info.st_mode):
            raise refuse(source, "is a directory", expected)
        if stat.S_ISREG(info.st_mode) and info.st_size > limit:
            raise refuse(source, f"the file is {size_text(info.st_size)}, over the input limit of {size_text(limit)}", _raise_hint(limit))
        flags = os.O_RDONLY | (0 if stat.S_ISREG(info.st_mode) else os.O_NONBLOCK)
        fd = os.open(path, flags)
        try:
            if flags & os.O_NONBLOCK:
                os.set_blocking(fd, True)
            chunks, size = [], 0
            while size <= limit and (chunk := os.read(fd, min(1 << 20, limit + 1 - size))):
                chunks.append(chunk)
                size += len(chunk)
        finally:
            os.close(fd)
    except OSError as exc:
        raise refuse(source, f"cannot read the file: {exc.strerror or exc}", expected) from None
    if size > limit:
        raise refuse(source, f"the input is over the input limit of {size_text(limit)}", _raise_hint(limit))
    return b"".join(chunks)


def _raise_hint(limit: int) -> str:
    return f"a smaller file, or a higher limit: coopsim --input-limit {size_text(2 * limit).replace(' ', '')} ..."


def decode(raw: bytes, source: str, expected: str) -> str:
    """UTF-8 text (a leading byte-order mark is dropped), or a ScenarioError at the first bad byte."""
    try:
        return raw.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        col = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        raise refuse(source, f"not UTF-8 text: byte 0x{raw[exc.start]:02x}, {exc.reason}", expected, line, col) from None


def write_text(path: Path, text: str) -> None:
    """Write ``text`` atomically: a kill at any moment leaves the old file or the new one, whole."""
    tmp = path.with_name(f".{path.name}.tmp")
    with tmp.open("w", encoding="utf-8") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
