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


class Archive:
    """An SQLite file of replication results."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(self.path)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute(SCHEMA)
        self._db.commit()

    def has(self, sha256: str, variant: str, seed: int) -> bool:
        row = self._db.execute("SELECT 1 FROM results WHERE sha256=? AND variant=? AND seed=?", (sha256, variant, seed)).fetchone()
        return row is not None

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
        with self._db:
            self._db.execute(
                "INSERT OR REPLACE INTO results VALUES (?, ?, ?, ?, ?, ?, ?)",
                (sha256, variant, seed, replication, json.dumps(metrics), json.dumps(ratings), error),
            )

    def rows(self, sha256: str) -> list[dict[str, Any]]:
        """Every result kept for a scenario, in (variant, replication) order."""
        cur = self._db.execute(
            "SELECT variant, seed, replication, metrics, ratings, error FROM results WHERE sha256=? ORDER BY variant, replication",
            (sha256,),
        )
        return [
            {
                "variant": v,
                "seed": s,
                "replication": r,
                "metrics": json.loads(m) if m else None,
                "ratings": json.loads(g) if g else None,
                "error": e,
            }
            for v, s, r, m, g, e in cur
        ]

    def close(self) -> None:
        self._db.close()
