"""The results archive: every finished replication, kept in SQLite as it finishes.

One row per (scenario sha256, variant, seed), written in its own transaction in
WAL mode, so Ctrl-C or a crash loses nothing that had finished, and running
the same experiment again reuses what is there and runs only what is missing.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

SCHEMA = """
CREATE TABLE IF NOT EXISTS results (
    sha256 TEXT NOT NULL,
    variant TEXT NOT NULL,
    seed INTEGER NOT NULL,
    replication INTEGER NOT NULL,
    metrics TEXT,       -- JSON: metric name -> value (null when not measured)
    ratings TEXT,       -- JSON: objective id -> P/S/M/U
    error TEXT,         -- the exception, when the replication failed
    PRIMARY KEY (sha256, variant, seed)
)
"""


ARCHIVE_FILES = ["results.sqlite", "results.sqlite-wal", "results.sqlite-shm", "logs", "report"]
"""What an experiment's directory holds: the archive (with SQLite's journal files), kept logs, and the report."""


class ArchiveError(Exception):
    """A results archive is damaged or is not one; the message names the file."""


_RATINGS = {"P", "S", "M", "U"}


class Archive:
    """An SQLite file of replication results.

    Raises:
        ArchiveError: the file is not a results archive, or is damaged (on
            opening, or when a damaged row is read).
    """

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if self.path.exists() and not self.path.is_file():
            raise ArchiveError(f"{self.path}: is not a file (expected a results archive, results.sqlite)")
        try:
            self._db = sqlite3.connect(self.path)
        except sqlite3.Error as exc:
            raise ArchiveError(f"{self.path}: cannot open the results archive ({exc})") from None
        try:
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute(SCHEMA)
            self._db.execute("SELECT sha256, variant, seed, replication, metrics, ratings, error FROM results LIMIT 1").fetchall()
            self._db.commit()
        except sqlite3.Error as exc:
            self._db.close()
            raise ArchiveError(f"{self.path}: not a coopsim results archive, or damaged ({exc}) (expected a new --out directory)") from None

    def has(self, sha256: str, variant: str, seed: int) -> bool:
        row = self._query("SELECT 1 FROM results WHERE sha256=? AND variant=? AND seed=?", (sha256, variant, seed)).fetchone()
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
        """Keep one result, in a transaction of its own."""
        try:
            with self._db:
                self._db.execute(
                    "INSERT OR REPLACE INTO results VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (sha256, variant, seed, replication, json.dumps(metrics), json.dumps(ratings), error),
                )
        except sqlite3.Error as exc:
            raise ArchiveError(f"{self.path}: cannot keep a result ({exc})") from None

    def rows(self, sha256: str) -> list[dict[str, Any]]:
        """Every result kept for a scenario, in (variant, replication) order."""
        try:
            found = self._query(
                "SELECT variant, seed, replication, metrics, ratings, error FROM results WHERE sha256=? ORDER BY variant, replication",
                (sha256,),
            ).fetchall()
        except sqlite3.Error as exc:
            raise ArchiveError(f"{self.path}: the results archive is damaged ({exc})") from None
        return [self._row(*row) for row in found]

    def _row(self, v: Any, s: Any, r: Any, m: Any, g: Any, e: Any) -> dict[str, Any]:
        where = f"{self.path}: the result of {v!r} with seed {s!r}"
        if not isinstance(v, str) or not isinstance(s, int) or not isinstance(r, int) or not (e is None or isinstance(e, str)):
            raise ArchiveError(f"{where} is damaged (expected an archive that only coopsim wrote)")
        try:
            metrics = json.loads(m) if m else None
            ratings = json.loads(g) if g else None
        except (TypeError, ValueError, RecursionError):
            raise ArchiveError(f"{where} is damaged: its metrics are not JSON (expected an archive that only coopsim wrote)") from None
        ok_metrics = metrics is None or (
            isinstance(metrics, dict)
            and all(
                isinstance(k, str) and (x is None or (isinstance(x, (int, float)) and not isinstance(x, bool))) for k, x in metrics.items()
            )
        )
        ok_ratings = ratings is None or (isinstance(ratings, dict) and all(isinstance(x, str) and x in _RATINGS for x in ratings.values()))
        if not (ok_metrics and ok_ratings):
            raise ArchiveError(f"{where} is damaged: its metrics or ratings are malformed (expected an archive that only coopsim wrote)")
        return {"variant": v, "seed": s, "replication": r, "metrics": metrics, "ratings": ratings, "error": e}

    def close(self) -> None:
        self._db.close()
