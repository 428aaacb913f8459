"""The results archive: every finished replication, kept in SQLite as it finishes.

An experiment runs variants × replications, and each finished replication is
kept in its own transaction in WAL mode, so Ctrl-C or a crash loses nothing
that had finished, and running the same experiment again reuses what is there
and runs only what is missing. Results are keyed by the scenario's sha256 (see
:func:`~coopsim.engine.experiments.design.experiment_key`), the variant and the
seed.

The archive is tidy, so analysts read it with ``sqlite3`` or pandas without
parsing anything. Schema version 2 (``PRAGMA user_version``) has three tables:

* ``replications``: one row per (sha256, variant, seed): its ``replication``
  number, ``measured`` and ``rated`` (1 when it produced metrics and objective
  ratings, 0 when it failed first) and ``error`` (the exception, or NULL);
* ``metric_values``: one row per (sha256, variant, seed, metric): the
  ``replication``, the ``value`` (REAL; NULL when the replication did not
  measure it, such as an event that never happened) and ``ord``, the metric's
  place in the replication's metrics;
* ``ratings``: one row per (sha256, variant, seed, objective): the
  ``replication``, the ``rating`` (P, S, M or U) and ``ord``.

The view ``tidy`` has the columns of ``coopsim compare --export`` (with the
sha256 first): one row per (variant, replication, metric). For example::

    sqlite3 runs/somalia-wfp-escort-2008-compare/results.sqlite \\
      "SELECT variant, AVG(value), COUNT(value) FROM metric_values
       WHERE metric='time_to_first_delivery.mogadishu' GROUP BY variant"

or ``pandas.read_sql("SELECT * FROM tidy", sqlite3.connect(path))``. AVG and
COUNT skip the NULLs, so a replication that never reached an event is left out
of them: a mean over those is not the censored estimate that the comparison
report gives. When one archive holds runs of an edited scenario or with other
overrides (another sha256), add ``AND sha256 = ...`` to keep them apart.

An archive written by coopsim before version 2 (a ``results`` table with the
metrics and ratings as JSON, user_version 0) is converted in place, in one
transaction, the first time it is opened; if that fails, the file is left as it
was. A file that is not an archive, or is damaged, or comes from a newer
coopsim raises :class:`ArchiveError`, and so does a damaged row when it is read.
"""

from __future__ import annotations

import json
import math
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

SCHEMA_VERSION = 2
"""The ``PRAGMA user_version`` of an archive this module writes."""

SCHEMA = """
CREATE TABLE replications (
    sha256 TEXT NOT NULL,            -- the scenario's key (experiment_key)
    variant TEXT NOT NULL,
    seed INTEGER NOT NULL,
    replication INTEGER NOT NULL,
    measured INTEGER NOT NULL CHECK (measured IN (0, 1)),   -- 1: it produced metrics (maybe none)
    rated INTEGER NOT NULL CHECK (rated IN (0, 1)),         -- 1: it produced objective ratings (maybe none)
    error TEXT,                      -- the exception, when the replication failed
    PRIMARY KEY (sha256, variant, seed)
);
CREATE TABLE metric_values (
    sha256 TEXT NOT NULL,
    variant TEXT NOT NULL,
    seed INTEGER NOT NULL,
    replication INTEGER NOT NULL,
    metric TEXT NOT NULL,
    value REAL,                      -- NULL: not measured in this replication
    ord INTEGER NOT NULL,            -- the metric's place in the replication's metrics
    PRIMARY KEY (sha256, variant, seed, metric),
    FOREIGN KEY (sha256, variant, seed) REFERENCES replications
);
CREATE TABLE ratings (
    sha256 TEXT NOT NULL,
    variant TEXT NOT NULL,
    seed INTEGER NOT NULL,
    replication INTEGER NOT NULL,
    objective TEXT NOT NULL,
    rating TEXT NOT NULL CHECK (rating IN ('P', 'S', 'M', 'U')),
    ord INTEGER NOT NULL,            -- the objective's place in the replication's ratings
    PRIMARY KEY (sha256, variant, seed, objective),
    FOREIGN KEY (sha256, variant, seed) REFERENCES replications
);
CREATE VIEW tidy AS
    SELECT m.sha256, m.variant, m.replication, m.seed, m.metric, m.value
    FROM metric_values AS m JOIN replications AS r USING (sha256, variant, seed);
"""

_COLUMNS = {
    "replications": "sha256, variant, seed, replication, measured, rated, error",
    "metric_values": "sha256, variant, seed, replication, metric, value, ord",
    "ratings": "sha256, variant, seed, replication, objective, rating, ord",
}

_V0_COLUMNS = ("results", "sha256, variant, seed, replication, metrics, ratings, error")
"""The one table of an archive from before schema version 2, with JSON metrics and ratings."""


ARCHIVE_FILES = ["results.sqlite", "results.sqlite-wal", "results.sqlite-shm", "logs", "report"]
"""What an experiment's directory holds: the archive (with SQLite's journal files), kept logs, and the report."""


class ArchiveError(Exception):
    """A results archive is damaged or is not one; the message names the file."""


_RATINGS = {"P", "S", "M", "U"}
_CODED = "(expected an archive that only coopsim wrote)"


def _is_number(x: Any) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool)


def _problem(metrics: Any, ratings: Any) -> str | None:
    """What makes a result impossible to keep, or None."""
    if metrics is not None:
        if not isinstance(metrics, dict):
            return "its metrics are not a mapping"
        for k, x in metrics.items():
            if not isinstance(k, str):
                return f"the metric name {k!r} is not a string"
            if x is not None and (not _is_number(x) or math.isnan(x)):
                return f"the metric {k!r} is {x!r}, not a number or None"
    if ratings is not None:
        if not isinstance(ratings, dict):
            return "its ratings are not a mapping"
        for k, x in ratings.items():
            if not isinstance(k, str):
                return f"the objective id {k!r} is not a string"
            if not (isinstance(x, str) and x in _RATINGS):
                return f"the rating of objective {k!r} is {x!r}, not P, S, M or U"
    return None


class Archive:
    """An SQLite file of replication results, one tidy row per (variant, replication, metric).

    ``put`` keeps a replication's result (its row in ``replications``, a row per
    metric in ``metric_values`` and per objective in ``ratings``) in one
    transaction; ``rows`` gives the results of a scenario back as dicts, with
    the metrics and ratings in the order they were put. The module docstring
    describes the tables; for the mean of a metric per variant::

        SELECT variant, AVG(value) FROM metric_values
        WHERE sha256 = ? AND metric = 'time_to_first_delivery.mogadishu'
        GROUP BY variant

    Metric values come back as floats (the column is REAL), None where the
    replication did not measure the metric.

    Raises:
        ArchiveError: the file is not a results archive, is damaged, or comes
            from a newer coopsim (on opening), a damaged row is read, or a
            result cannot be kept.
    """

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if self.path.exists() and not self.path.is_file():
            raise ArchiveError(f"{self.path}: is not a file (expected a results archive, results.sqlite)")
        try:
            self._db = sqlite3.connect(self.path, isolation_level=None)
        except sqlite3.Error as exc:
            raise ArchiveError(f"{self.path}: cannot open the results archive ({exc})") from None
        try:
            self._open()
        except sqlite3.Error as exc:
            self._db.close()
            raise ArchiveError(f"{self.path}: not a coopsim results archive, or damaged ({exc}) (expected a new --out directory)") from None
        except BaseException:
            self._db.close()
            raise

    def _open(self) -> None:
        """Check what the file holds; make the schema in a new file, or convert an archive of version 0."""
        version, tables = self._inspect()
        if version > SCHEMA_VERSION:
            raise ArchiveError(
                f"{self.path}: a results archive of a newer coopsim (schema version {version}) "
                f"(expected version {SCHEMA_VERSION} or older: a newer coopsim reads it, or use a new --out directory)"
            )
        if version != SCHEMA_VERSION:
            if version != 0:
                raise ArchiveError(
                    f"{self.path}: not a coopsim results archive (schema version {version}) (expected a new --out directory)"
                )
            if tables and "results" not in tables:
                raise ArchiveError(
                    f"{self.path}: not a coopsim results archive (it holds the tables {', '.join(tables)}) (expected a new --out directory)"
                )
            if tables:
                self._db.execute(f"SELECT {_V0_COLUMNS[1]} FROM {_V0_COLUMNS[0]} LIMIT 0")
            # Only now that the file is known to be ours does it change (WAL needs no transaction open).
            self._db.execute("PRAGMA journal_mode=WAL")
            with self._transaction():
                version, tables = self._inspect()  # another process may have done it meanwhile
                if version == 0 and not tables:
                    self._create()
                elif version == 0:
                    self._migrate()
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA foreign_keys=ON")
        version, _ = self._inspect()
        if version != SCHEMA_VERSION:
            raise ArchiveError(f"{self.path}: not a coopsim results archive (schema version {version}) (expected a new --out directory)")
        for table, columns in _COLUMNS.items():
            self._db.execute(f"SELECT {columns} FROM {table} LIMIT 0")

    def _inspect(self) -> tuple[int, list[str]]:
        version = self._db.execute("PRAGMA user_version").fetchone()[0]
        tables = self._db.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name"
        ).fetchall()
        return version, [t for (t,) in tables]

    def _create(self) -> None:
        for statement in SCHEMA.split(";"):
            if statement.strip():
                self._db.execute(statement)
        self._db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

    def _migrate(self) -> None:
        """Convert the JSON rows of a version-0 archive to the tidy tables, and drop the old table (inside the caller's transaction)."""
        old = self._db.execute(f"SELECT {_V0_COLUMNS[1]} FROM results ORDER BY sha256, variant, replication, seed").fetchall()
        self._create()
        for k, v, s, r, m, g, e in old:
            if not isinstance(k, str):
                raise ArchiveError(f"{self.path}: a result of {v!r} with seed {s!r} is damaged: its sha256 is {k!r} {_CODED}")
            row = self._v0_row(v, s, r, m, g, e)
            problem = _problem(row["metrics"], row["ratings"])
            if problem:
                raise ArchiveError(f"{self.path}: the result of {v!r} with seed {s!r} is damaged: {problem} {_CODED}")
            self._insert(k, v, s, r, row["metrics"], row["ratings"], e)
        self._db.execute("DROP TABLE results")

    def _v0_row(self, v: Any, s: Any, r: Any, m: Any, g: Any, e: Any) -> dict[str, Any]:
        where = f"{self.path}: the result of {v!r} with seed {s!r}"
        if not isinstance(v, str) or not isinstance(s, int) or not isinstance(r, int) or not (e is None or isinstance(e, str)):
            raise ArchiveError(f"{where} is damaged {_CODED}")
        try:
            metrics = json.loads(m) if m else None
            ratings = json.loads(g) if g else None
        except (TypeError, ValueError, RecursionError):
            raise ArchiveError(f"{where} is damaged: its metrics are not JSON {_CODED}") from None
        return {"metrics": metrics, "ratings": ratings}

    @contextmanager
    def _transaction(self) -> Iterator[None]:
        """One write transaction: all of it is kept, or none of it (also on Ctrl-C)."""
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            if self._db.in_transaction:
                self._db.rollback()
            raise
        self._db.execute("COMMIT")

    def has(self, sha256: str, variant: str, seed: int) -> bool:
        row = self._query("SELECT 1 FROM replications WHERE sha256=? AND variant=? AND seed=?", (sha256, variant, seed)).fetchone()
        return row is not None

    def _query(self, sql: str, args: tuple) -> sqlite3.Cursor:
        try:
            return self._db.execute(sql, args)
        except sqlite3.Error as exc:
            raise ArchiveError(f"{self.path}: the results archive is damaged ({exc})") from None

    def put(
        self,
        sha256: str,
        variant: str,
        seed: int,
        replication: int,
        metrics: dict[str, Any] | None,
        ratings: dict[str, str] | None,
        error: str | None,
    ) -> None:
        """Keep one result, all its rows in a transaction of its own, replacing any kept for the same (sha256, variant, seed)."""
        problem = _problem(metrics, ratings)
        if problem:
            raise ArchiveError(
                f"{self.path}: cannot keep the result of {variant!r} with seed {seed!r}: {problem} (expected numbers and P/S/M/U)"
            )
        try:
            with self._transaction():
                self._insert(sha256, variant, seed, replication, metrics, ratings, error)
        except sqlite3.Error as exc:
            raise ArchiveError(f"{self.path}: cannot keep a result ({exc})") from None

    def _insert(
        self, k: str, v: str, s: int, r: int, metrics: dict[str, Any] | None, ratings: dict[str, str] | None, e: str | None
    ) -> None:
        key = (k, v, s)
        for table in ("metric_values", "ratings", "replications"):
            self._db.execute(f"DELETE FROM {table} WHERE sha256=? AND variant=? AND seed=?", key)
        self._db.execute("INSERT INTO replications VALUES (?, ?, ?, ?, ?, ?, ?)", (*key, r, metrics is not None, ratings is not None, e))
        self._db.executemany(
            "INSERT INTO metric_values VALUES (?, ?, ?, ?, ?, ?, ?)",
            [(*key, r, m, x, n) for n, (m, x) in enumerate((metrics or {}).items())],
        )
        self._db.executemany(
            "INSERT INTO ratings VALUES (?, ?, ?, ?, ?, ?, ?)", [(*key, r, o, x, n) for n, (o, x) in enumerate((ratings or {}).items())]
        )

    def rows(self, sha256: str) -> list[dict[str, Any]]:
        """Every result kept for a scenario, in (variant, replication) order.

        Each is a dict of ``variant``, ``seed``, ``replication``, ``metrics``
        (name -> float or None, in the order put; None when the replication
        produced none), ``ratings`` (objective id -> P/S/M/U, or None) and
        ``error``.
        """
        found = self._query(
            "SELECT variant, seed, replication, measured, rated, error FROM replications WHERE sha256=?"
            " ORDER BY variant, replication, seed",
            (sha256,),
        ).fetchall()
        values = self._query(
            "SELECT variant, seed, replication, metric, value FROM metric_values WHERE sha256=? ORDER BY variant, seed, ord", (sha256,)
        ).fetchall()
        ratings = self._query(
            "SELECT variant, seed, replication, objective, rating FROM ratings WHERE sha256=? ORDER BY variant, seed, ord", (sha256,)
        ).fetchall()
        rows: dict[tuple[Any, Any], dict[str, Any]] = {}
        for v, s, r, measured, rated, e in found:
            if not (type(v) is str and type(s) is int and type(r) is int and (e is None or type(e) is str)):
                raise ArchiveError(f"{self.path}: the result of {v!r} with seed {s!r} is damaged {_CODED}")
            if not (type(measured) is int and measured in (0, 1) and type(rated) is int and rated in (0, 1)):
                raise ArchiveError(
                    f"{self.path}: the result of {v!r} with seed {s!r} is damaged: its measured or rated flag is not 0 or 1 {_CODED}"
                )
            rows[v, s] = {
                "variant": v,
                "seed": s,
                "replication": r,
                "metrics": {} if measured else None,
                "ratings": {} if rated else None,
                "error": e,
            }
        # A REAL column gives back floats or NULL (SQLite keeps no NaN); anything else was not written by coopsim.
        for v, s, r, name, x in values:
            row = rows.get((v, s))
            if (
                row is None
                or row["metrics"] is None
                or r != row["replication"]
                or type(name) is not str
                or not (x is None or type(x) is float)
            ):
                raise self._damaged("metrics", v, s, r, name, x, row)
            row["metrics"][name] = x
        for v, s, r, name, x in ratings:
            row = rows.get((v, s))
            if row is None or row["ratings"] is None or r != row["replication"] or type(name) is not str or x not in _RATINGS:
                raise self._damaged("ratings", v, s, r, name, x, row)
            row["ratings"][name] = x
        return list(rows.values())

    def _damaged(self, part: str, v: Any, s: Any, r: Any, name: Any, x: Any, row: dict[str, Any] | None) -> ArchiveError:
        """Why a row of ``metric_values`` or ``ratings`` is damaged, as the error to raise."""
        if row is None or row[part] is None:
            why = f"it has {part} but no replication that produced them"
        elif r != row["replication"] or type(name) is not str:
            why = f"its {part} row {name!r} does not match its replication"
        else:
            why = f"{name!r} is {x!r}, " + ("not a number" if part == "metrics" else "not P, S, M or U")
        return ArchiveError(f"{self.path}: the result of {v!r} with seed {s!r} is damaged: {why} {_CODED}")

    def close(self) -> None:
        self._db.close()
