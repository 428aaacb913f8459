"""Run directories, written atomically.

A run writes into a staging directory beside its output directory and renames
it into place only when every file is complete, so a reader never sees half a
run. If the run is interrupted or fails, what it had recorded is still
finalised (with the outcome saying so) rather than lost.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import socket
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from coopsim.engine.scenario.files import read_input, write_text
from coopsim.engine.scenario.problems import ScenarioError


class OutputDirError(Exception):
    """The output directory cannot take the output (it holds something coopsim did not make)."""


RUN = "run"
"""The kind of a run directory; reports, comparison and sweep archives have kinds of their own."""
MARKER = ".coopsim"
"""The file coopsim writes into every directory it makes: its kind and the files it wrote there."""
_STAGING = ".coopsim-staging"
"""Inside a staging directory: who is writing it (host and pid), so a dead writer's leftovers can be cleared."""


def read_marker(directory: Path) -> dict[str, Any] | None:
    """What coopsim recorded about a directory it made, or None if it did not make it."""
    try:
        data = json.loads((directory / MARKER).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError, RecursionError):
        return None
    if not isinstance(data, dict) or not isinstance(data.get("kind"), str) or not isinstance(data.get("files"), list):
        return None
    return data


def _foreign(directory: Path, marker: dict[str, Any]) -> list[str]:
    """Names in ``directory`` that coopsim did not write there (its sub-outputs are checked in turn)."""
    ours = set(marker["files"]) | {MARKER}
    found = []
    for entry in sorted(directory.iterdir()):
        if entry.name in ours and not entry.is_symlink():
            continue
        sub = read_marker(entry) if entry.is_dir() and not entry.is_symlink() else None
        if sub is None or _foreign(entry, sub):
            found.append(entry.name)
    return found


def check_out_dir(final: Path, kind: str, *, replace: bool = True, what: str = "") -> None:
    """Refuse a directory unless it is new, empty, or an earlier output of ``kind`` holding only what coopsim wrote.

    An earlier output is replaced only with ``replace``; anything else in it,
    or a directory coopsim did not make, is never touched.

    Raises:
        OutputDirError: why ``final`` cannot take the output, in one line.
    """
    try:
        _check_out_dir(final, kind, replace=replace, what=what)
    except OSError as exc:
        raise OutputDirError(f"{final}: cannot be looked into ({exc.strerror or exc}) (expected a directory coopsim may write)") from None


def _check_out_dir(final: Path, kind: str, *, replace: bool = True, what: str = "") -> None:
    what = what or f"a {kind} directory"
    if not final.exists() and not final.is_symlink():
        return
    if final.is_symlink() or not final.is_dir():
        raise OutputDirError(f"{final}: exists and is not a directory (expected a new directory for {what})")
    if not any(final.iterdir()):
        return
    marker = read_marker(final)
    if marker is None:
        raise OutputDirError(f"{final}: is not empty and was not made by coopsim; it is never replaced (expected a new directory)")
    if marker["kind"] != kind:
        raise OutputDirError(f"{final}: holds a coopsim {marker['kind']} output, not {what} (expected a new directory)")
    foreign = _foreign(final, marker)
    if foreign:
        shown = ", ".join(foreign[:3]) + (", ..." if len(foreign) > 3 else "")
        raise OutputDirError(f"{final}: holds files coopsim did not write ({shown}); it is never replaced (expected a new directory)")
    if not replace:
        raise OutputDirError(f"{final}: holds an earlier {kind} (expected a new directory, or --replace to write over it)")


def claim_dir(directory: Path, kind: str, files: list[str]) -> None:
    """Make ``directory`` an output of ``kind`` that grows in place (a results archive), or check that it is one.

    A new or empty directory is marked as coopsim's; one that is already an
    output of ``kind`` is reused, which is how an interrupted experiment
    resumes. Anything else is refused.

    Raises:
        OutputDirError: ``directory`` is a file, or holds something that is not an output of ``kind``.
    """
    if directory.is_symlink() or (directory.exists() and not directory.is_dir()):
        raise OutputDirError(f"{directory}: exists and is not a directory (expected a new directory for a {kind} archive)")
    if directory.exists() and any(directory.iterdir()):
        marker = read_marker(directory)
        if marker is None:
            raise OutputDirError(
                f"{directory}: is not empty and was not made by coopsim; it is never written into (expected a new directory)"
            )
        if marker["kind"] != kind:
            raise OutputDirError(f"{directory}: holds a coopsim {marker['kind']} output, not a {kind} archive (expected a new directory)")
        return
    try:
        directory.mkdir(parents=True, exist_ok=True)
        write_marker(directory, kind, files)
    except OSError as exc:
        raise OutputDirError(
            f"{directory}: cannot make the directory ({why_not(directory, exc)}) (expected a writable place for it)"
        ) from None


def why_not(path: Path, exc: OSError) -> str:
    """Why a directory could not be made: a file in the way says so, else the system's words."""
    for parent in path.parents:
        if parent.exists():
            return f"{parent} is a file, not a directory" if not parent.is_dir() else (exc.strerror or str(exc))
    return exc.strerror or str(exc)


def fresh_dir(base: Path) -> Path:
    """``base``, or ``base-2``, ``base-3``... whichever does not exist yet: a default output never replaces an earlier one."""
    if not base.exists() and not base.is_symlink():
        return base
    n = 2
    while True:
        candidate = base.with_name(f"{base.name}-{n}")
        if not candidate.exists() and not candidate.is_symlink():
            return candidate
        n += 1


def run_dir_name(name: str, variant: str | None, seed: int, *, settings: Any = None, tag: str = "") -> str:
    """The default name of a run directory: ``NAME[-VARIANT]-sSEED[-TAG][-HASH]``.

    ``HASH`` is a short hash of whatever else shaped the run (``--set``
    overrides, decisions, releases), so runs that differ get directories that
    differ, and the name says which runs are alike.
    """
    label = f"{name}{'-' + variant if variant and variant != 'baseline' else ''}-s{seed}{'-' + tag if tag else ''}"
    if settings:
        digest = hashlib.sha256(json.dumps(settings, sort_keys=True, default=str).encode("utf-8")).hexdigest()
        label += f"-{digest[:8]}"
    return label


def default_run_dir(name: str, variant: str | None, seed: int, *, settings: Any = None, tag: str = "", replace: bool = False) -> Path:
    """Where a run goes when no ``--out`` is given: ``runs/`` + :func:`run_dir_name`, numbered unless replacing."""
    base = Path("runs") / run_dir_name(name, variant, seed, settings=settings, tag=tag)
    return base if replace else fresh_dir(base)


def staging_dir(final: Path) -> Path:
    """A fresh directory next to ``final`` to write an output into; a dead run's leftovers there are cleared first."""
    final = final.resolve()
    try:
        final.parent.mkdir(parents=True, exist_ok=True)
        clear_leftovers(final.parent)
        staging = Path(tempfile.mkdtemp(prefix=f".{final.name}.", suffix=".tmp", dir=final.parent))
    except OSError as exc:
        raise OutputDirError(f"{final}: cannot make the directory ({why_not(final, exc)}) (expected a writable place for it)") from None
    (staging / _STAGING).write_text(json.dumps({"host": socket.gethostname(), "pid": os.getpid()}), encoding="utf-8")
    # mkdtemp makes it private (0700); an output directory should get the usual permissions
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(staging, 0o777 & ~umask)
    return staging


def clear_leftovers(parent: Path) -> list[Path]:
    """Remove hidden staging directories (``.NAME.*.tmp``) that a killed coopsim left in ``parent``; returns them.

    Only directories holding coopsim's staging note, written by a process on
    this host that is no longer running, are removed; so are the ``.NAME.old-PID``
    copies of a replaced output whose swap was cut short.
    """
    removed = []
    try:
        entries = list(parent.iterdir())
    except OSError:
        return removed
    for entry in entries:
        name = entry.name
        if not name.startswith(".") or entry.is_symlink() or not entry.is_dir():
            continue
        if name.endswith(".tmp"):
            note = _note(entry / _STAGING)
        elif ".old-" in name:
            note = {"host": socket.gethostname(), "pid": name.rpartition(".old-")[2]} if read_marker(entry) else None
        else:
            continue
        if note is None or note.get("host") != socket.gethostname() or _alive(note.get("pid")):
            continue
        shutil.rmtree(entry, ignore_errors=True)
        removed.append(entry)
    return removed


def _note(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError, RecursionError):
        return None
    return data if isinstance(data, dict) else None


def _alive(pid: Any) -> bool:
    try:
        pid = int(pid)
    except (TypeError, ValueError):
        return True  # not ours to judge: keep it
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True
    return True


def file_sha256(path: Path) -> str:
    """sha256 of a file's bytes, read in chunks (an event log can be large)."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


class DamagedFile(Exception):
    """A file coopsim wrote cannot be read back as it was written; the message names it."""


def read_json(path: Path) -> dict[str, Any]:
    """A JSON object coopsim wrote (a manifest, metrics, a session), read within the input limit.

    Raises:
        DamagedFile: missing, over the input limit, not JSON, nested absurdly deep, or not an object.
    """
    try:
        raw = read_input(path, "a JSON file coopsim wrote")
    except ScenarioError as exc:
        raise DamagedFile(str(exc.problems[0])) from None
    try:
        data = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise DamagedFile(f"{path}: not UTF-8 text (expected the JSON coopsim wrote)") from None
    except ValueError as exc:
        raise DamagedFile(f"{path}: not readable JSON ({exc}) (expected the JSON coopsim wrote)") from None
    except RecursionError:
        raise DamagedFile(f"{path}: JSON nested too deeply to read (expected the JSON coopsim wrote)") from None
    if not isinstance(data, dict):
        raise DamagedFile(f"{path}: not a JSON object (expected the JSON coopsim wrote)")
    return data


def json_text(data: Any) -> str:
    """``data`` as the indented JSON every output file uses."""
    return json.dumps(data, indent=2, ensure_ascii=False, sort_keys=False) + "\n"


def write_json(path: Path, data: Any) -> None:
    """Write ``data`` as indented JSON, atomically."""
    write_text(path, json_text(data))


def publish(staging: Path, final: Path) -> None:
    """Move a complete staging directory to ``final``, replacing an earlier output there (already checked)."""
    final = final.resolve()
    (staging / _STAGING).unlink(missing_ok=True)
    if final.exists():
        old = final.with_name(f".{final.name}.old-{os.getpid()}")
        os.replace(final, old)
        os.replace(staging, final)
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.replace(staging, final)


def _files(staging: Path) -> list[str]:
    return sorted(p.name for p in staging.iterdir() if p.name not in (MARKER, _STAGING))


def write_marker(directory: Path, kind: str, files: list[str] | None = None) -> None:
    """Record that coopsim made ``directory`` (of ``kind``) and which files it wrote there."""
    from coopsim import __version__

    files = _files(directory) if files is None else files
    write_text(directory / MARKER, json.dumps({"coopsim": __version__, "kind": kind, "files": files}) + "\n")


def add_output(directory: Path, name: str, text: str) -> None:
    """Write one more file into an output directory coopsim made, atomically, and record it as coopsim's."""
    marker = read_marker(directory)
    write_text(directory / name, text)
    if marker is not None and name not in marker["files"]:
        write_marker(directory, marker["kind"], sorted([*marker["files"], name]))


@contextmanager
def staged(final: Path, kind: str, *, replace: bool = True) -> Iterator[Path]:
    """Write a directory atomically: yields a staging directory, published to ``final`` on success.

    ``final`` may be new, empty, or an earlier output of ``kind`` (replaced
    only with ``replace``); on an error the staging directory is removed and
    ``final`` is left as it was.
    """
    check_out_dir(final, kind, replace=replace)
    staging = staging_dir(final)
    try:
        yield staging
        write_marker(staging, kind)
        check_out_dir(final, kind, replace=replace)  # nothing of the user's arrived there meanwhile
        publish(staging, final)
    finally:
        if staging.exists():  # only when publishing never happened
            shutil.rmtree(staging, ignore_errors=True)
