"""Run directories, written atomically.

A run writes into a staging directory beside its output directory and renames
it into place only when every file is complete, so a reader never sees half a
run. If the run is interrupted or fails, what it had recorded is still
finalised (with the outcome saying so) rather than lost.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any


class OutputDirError(Exception):
    """The output directory cannot take a run (it holds something that is not a run)."""


def check_out_dir(final: Path, marker: str = "manifest.json") -> None:
    """Refuse to replace a directory unless it is empty or holds an earlier output (a ``marker`` file).

    Raises:
        OutputDirError: ``final`` is a file, or a directory with other things in it.
    """
    if not final.exists():
        return
    if not final.is_dir():
        raise OutputDirError(f"{final}: exists and is not a directory (expected a new or earlier run directory)")
    if any(final.iterdir()) and not (final / marker).exists():
        raise OutputDirError(f"{final}: is not empty and holds no earlier {marker} (expected a new directory, e.g. runs/my-run)")


def staging_dir(final: Path) -> Path:
    """A fresh directory next to ``final`` to write a run into."""
    final = final.resolve()
    final.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{final.name}.", suffix=".tmp", dir=final.parent))
    # mkdtemp makes it private (0700); a run directory should get the usual permissions
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(staging, 0o777 & ~umask)
    return staging


def write_text(path: Path, text: str) -> None:
    """Write ``text`` atomically: a kill at any moment leaves the old file or the new one, whole."""
    tmp = path.with_name(f".{path.name}.tmp")
    with tmp.open("w", encoding="utf-8") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def write_json(path: Path, data: Any) -> None:
    """Write ``data`` as indented JSON, atomically."""
    write_text(path, json.dumps(data, indent=2, ensure_ascii=False, sort_keys=False) + "\n")


def publish(staging: Path, final: Path) -> None:
    """Move a complete staging directory to ``final``, replacing any earlier run there."""
    final = final.resolve()
    if final.exists():
        old = final.with_name(f".{final.name}.old-{os.getpid()}")
        os.replace(final, old)
        os.replace(staging, final)
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.replace(staging, final)


@contextmanager
def staged(final: Path, marker: str) -> Iterator[Path]:
    """Write a directory atomically: yields a staging directory, published to ``final`` on success.

    ``final`` may be new, empty, or an earlier output holding ``marker``; on an
    error the staging directory is removed and ``final`` is left as it was.
    """
    check_out_dir(final, marker)
    staging = staging_dir(final)
    try:
        yield staging
        (staging / marker).touch()
        publish(staging, final)
    finally:
        if staging.exists():  # only when publishing never happened
            shutil.rmtree(staging, ignore_errors=True)
