"""The results archive: tidy tables, round trips, conversion of old archives, and files that are not archives."""

from __future__ import annotations

import json
import sqlite3

import pytest

from coopsim.engine.experiments.archive import Archive, ArchiveError

# The schema of archives written before schema version 2 (user_version 0), as it was.
OLD_SCHEMA = """
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

CODED = "(expected an archive that only coopsim wrote)"


def _query(path, sql):
    db = sqlite3.connect(path)
    try:
        return db.execute(sql).fetchall()
    finally:
        db.close()


def _fill(archive):
    archive.put("k1", "no_liaison", 101, 1, {"zeta": 2.5, "alpha": None, "mid": 7.0}, {"obj2": "S", "obj1": "P"}, None)
    archive.put("k1", "baseline", 100, 0, {"zeta": 1.0, "alpha": 4.25, "mid": None}, {"obj2": "U", "obj1": "M"}, None)
    archive.put("k1", "baseline", 101, 1, None, None, "RuntimeError: boom")
    archive.put("k1", "no_liaison", 100, 0, {}, {}, None)
    archive.put("k2", "baseline", 100, 0, {"zeta": 9.0}, {}, None)


EXPECTED_K1 = [
    {"variant": "baseline", "seed": 100, "replication": 0, "metrics": {"zeta": 1.0, "alpha": 4.25, "mid": None},
     "ratings": {"obj2": "U", "obj1": "M"}, "error": None},
    {"variant": "baseline", "seed": 101, "replication": 1, "metrics": None, "ratings": None, "error": "RuntimeError: boom"},
    {"variant": "no_liaison", "seed": 100, "replication": 0, "metrics": {}, "ratings": {}, "error": None},
    {"variant": "no_liaison", "seed": 101, "replication": 1, "metrics": {"zeta": 2.5, "alpha": None, "mid": 7.0},
     "ratings": {"obj2": "S", "obj1": "P"}, "error": None},
]  # fmt: skip


def test_put_and_rows_round_trip_in_variant_and_replication_order_with_key_order_and_none(tmp_path):
    archive = Archive(tmp_path / "r.sqlite")
    _fill(archive)
    rows = archive.rows("k1")
    assert rows == EXPECTED_K1
    assert [list(r["metrics"] or {}) for r in rows] == [["zeta", "alpha", "mid"], [], [], ["zeta", "alpha", "mid"]]
    assert [list(r["ratings"] or {}) for r in rows] == [["obj2", "obj1"], [], [], ["obj2", "obj1"]]
    assert archive.rows("k2") == [
        {"variant": "baseline", "seed": 100, "replication": 0, "metrics": {"zeta": 9.0}, "ratings": {}, "error": None}
    ]
    assert archive.rows("nothing") == []
    assert archive.has("k1", "baseline", 101) and not archive.has("k1", "baseline", 102) and not archive.has("k2", "no_liaison", 100)
    archive.close()
    reopened = Archive(tmp_path / "r.sqlite")
    assert reopened.rows("k1") == EXPECTED_K1
    reopened.close()


def test_put_again_replaces_every_row_of_that_replication(tmp_path):
    archive = Archive(tmp_path / "r.sqlite")
    archive.put("k", "baseline", 100, 0, {"a": 1.0, "b": 2.0}, {"o": "P"}, None)
    archive.put("k", "baseline", 100, 0, {"b": 3.0}, None, "ValueError: x")
    assert archive.rows("k") == [
        {"variant": "baseline", "seed": 100, "replication": 0, "metrics": {"b": 3.0}, "ratings": None, "error": "ValueError: x"}
    ]
    archive.close()
    assert _query(tmp_path / "r.sqlite", "SELECT metric, value FROM metric_values") == [("b", 3.0)]
    assert _query(tmp_path / "r.sqlite", "SELECT count(*) FROM ratings") == [(0,)]


def test_the_tidy_tables_hold_one_row_per_replication_metric_and_objective(tmp_path):
    path = tmp_path / "r.sqlite"
    archive = Archive(path)
    _fill(archive)
    archive.close()
    assert _query(path, "PRAGMA user_version") == [(2,)]
    assert _query(path, "PRAGMA journal_mode") == [("wal",)]
    assert _query(path, "SELECT * FROM replications ORDER BY sha256, variant, seed") == [
        ("k1", "baseline", 100, 0, 1, 1, None),
        ("k1", "baseline", 101, 1, 0, 0, "RuntimeError: boom"),
        ("k1", "no_liaison", 100, 0, 1, 1, None),
        ("k1", "no_liaison", 101, 1, 1, 1, None),
        ("k2", "baseline", 100, 0, 1, 1, None),
    ]
    assert _query(path, "SELECT * FROM metric_values ORDER BY sha256, variant, seed, ord") == [
        ("k1", "baseline", 100, 0, "zeta", 1.0, 0),
        ("k1", "baseline", 100, 0, "alpha", 4.25, 1),
        ("k1", "baseline", 100, 0, "mid", None, 2),
        ("k1", "no_liaison", 101, 1, "zeta", 2.5, 0),
        ("k1", "no_liaison", 101, 1, "alpha", None, 1),
        ("k1", "no_liaison", 101, 1, "mid", 7.0, 2),
        ("k2", "baseline", 100, 0, "zeta", 9.0, 0),
    ]
    assert _query(path, "SELECT * FROM ratings ORDER BY sha256, variant, seed, ord") == [
        ("k1", "baseline", 100, 0, "obj2", "U", 0),
        ("k1", "baseline", 100, 0, "obj1", "M", 1),
        ("k1", "no_liaison", 101, 1, "obj2", "S", 0),
        ("k1", "no_liaison", 101, 1, "obj1", "P", 1),
    ]
    assert _query(path, "SELECT * FROM tidy WHERE sha256 = 'k1' AND metric = 'zeta' ORDER BY variant, replication") == [
        ("k1", "baseline", 0, 100, "zeta", 1.0),
        ("k1", "no_liaison", 1, 101, "zeta", 2.5),
    ]
    # The analysts' query: no JSON to parse; AVG skips replications that did not measure the metric.
    assert _query(path, "SELECT variant, AVG(value), COUNT(value) FROM metric_values WHERE metric = 'alpha' GROUP BY variant") == [
        ("baseline", 4.25, 1),
        ("no_liaison", None, 0),
    ]
    assert _query(path, "SELECT variant, AVG(value) FROM metric_values WHERE metric = 'zeta' AND sha256 = 'k1' GROUP BY variant") == [
        ("baseline", 1.0),
        ("no_liaison", 2.5),
    ]


def test_a_result_that_cannot_be_kept_is_refused_and_a_failed_put_keeps_none_of_its_rows(tmp_path):
    path = tmp_path / "r.sqlite"
    archive = Archive(path)
    with pytest.raises(ArchiveError) as info:
        archive.put("k", "baseline", 100, 0, {"a": float("nan")}, None, None)
    nan = "the metric 'a' is nan, not a number or None (expected numbers and P/S/M/U)"
    assert str(info.value) == f"{path}: cannot keep the result of 'baseline' with seed 100: {nan}"
    with pytest.raises(ArchiveError, match=r"the rating of objective 'o' is 'X', not P, S, M or U"):
        archive.put("k", "baseline", 100, 0, {}, {"o": "X"}, None)
    archive.close()
    db = sqlite3.connect(path)
    db.execute("CREATE TRIGGER refuse BEFORE INSERT ON ratings BEGIN SELECT RAISE(ABORT, 'disk gone'); END")
    db.commit()
    db.close()
    archive = Archive(path)
    with pytest.raises(ArchiveError) as info:
        archive.put("k", "baseline", 100, 0, {"a": 1.0}, {"o": "P"}, None)
    assert str(info.value) == f"{path}: cannot keep a result (disk gone)"
    assert not archive.has("k", "baseline", 100)
    archive.close()
    assert _query(path, "SELECT count(*) FROM metric_values") == [(0,)]


def _old_archive(path, rows):
    db = sqlite3.connect(path)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute(OLD_SCHEMA)
    db.executemany(
        "INSERT INTO results VALUES (?, ?, ?, ?, ?, ?, ?)",
        [(k, v, s, r, json.dumps(m) if isinstance(m, dict | None) else m, json.dumps(g), e) for k, v, s, r, m, g, e in rows],
    )
    db.commit()
    db.close()


OLD_ROWS = [
    ("k1", "no_liaison", 101, 1, {"zeta": 2.5, "alpha": None, "mid": 7}, {"obj2": "S", "obj1": "P"}, None),
    ("k1", "baseline", 100, 0, {"zeta": 1.0, "alpha": 4.25, "mid": None}, {"obj2": "U", "obj1": "M"}, None),
    ("k1", "baseline", 101, 1, None, None, "RuntimeError: boom"),
    ("k1", "no_liaison", 100, 0, {}, {}, None),
    ("k2", "baseline", 100, 0, {"zeta": 9.0}, {}, None),
]


def test_an_archive_of_version_0_is_converted_in_place_keeping_every_row(tmp_path):
    path = tmp_path / "results.sqlite"
    _old_archive(path, OLD_ROWS)
    archive = Archive(path)
    assert archive.rows("k1") == EXPECTED_K1
    assert [list(r["metrics"] or {}) for r in archive.rows("k1")] == [["zeta", "alpha", "mid"], [], [], ["zeta", "alpha", "mid"]]
    assert archive.rows("k2") == [
        {"variant": "baseline", "seed": 100, "replication": 0, "metrics": {"zeta": 9.0}, "ratings": {}, "error": None}
    ]
    assert archive.has("k1", "no_liaison", 100)
    archive.close()
    assert _query(path, "PRAGMA user_version") == [(2,)]
    assert _query(path, "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name") == [
        ("metric_values",),
        ("ratings",),
        ("replications",),
    ]
    assert _query(path, "SELECT count(*) FROM replications") == [(5,)]
    assert _query(path, "SELECT count(*) FROM metric_values") == [(7,)]
    assert _query(path, "SELECT value FROM metric_values WHERE variant = 'no_liaison' AND metric = 'mid'") == [(7.0,)]
    # Opening it again finds it converted.
    assert Archive(path).rows("k1") == EXPECTED_K1


def test_a_damaged_row_stops_the_conversion_and_leaves_the_old_archive_as_it_was(tmp_path):
    path = tmp_path / "results.sqlite"
    _old_archive(path, [*OLD_ROWS, ("k1", "broken", 102, 2, "{not json", {}, None)])
    with pytest.raises(ArchiveError) as info:
        Archive(path)
    assert str(info.value) == f"{path}: the result of 'broken' with seed 102 is damaged: its metrics are not JSON {CODED}"
    assert _query(path, "PRAGMA user_version") == [(0,)]
    assert _query(path, "SELECT name FROM sqlite_master WHERE type = 'table'") == [("results",)]
    assert _query(path, "SELECT count(*) FROM results") == [(6,)]


def test_a_sqlite_file_that_is_not_an_archive_is_refused_and_left_alone(tmp_path):
    path = tmp_path / "mine.sqlite"
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE foo (a)")
    db.execute("INSERT INTO foo VALUES (1)")
    db.commit()
    db.close()
    with pytest.raises(ArchiveError) as info:
        Archive(path)
    assert str(info.value) == f"{path}: not a coopsim results archive (it holds the tables foo) (expected a new --out directory)"
    assert _query(path, "SELECT name FROM sqlite_master") == [("foo",)]
    assert _query(path, "PRAGMA journal_mode") == [("delete",)]


def test_a_table_named_results_that_is_not_ours_is_refused(tmp_path):
    path = tmp_path / "other.sqlite"
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE results (a)")
    db.commit()
    db.close()
    with pytest.raises(ArchiveError) as info:
        Archive(path)
    assert str(info.value) == (
        f"{path}: not a coopsim results archive, or damaged (no such column: sha256) (expected a new --out directory)"
    )


def test_a_file_that_is_not_sqlite_is_refused(tmp_path):
    path = tmp_path / "results.sqlite"
    path.write_bytes(b"this is not a database, whatever its name says" * 100)
    with pytest.raises(ArchiveError) as info:
        Archive(path)
    assert str(info.value) == (
        f"{path}: not a coopsim results archive, or damaged (file is not a database) (expected a new --out directory)"
    )


def test_an_archive_of_a_newer_coopsim_is_refused(tmp_path):
    path = tmp_path / "results.sqlite"
    Archive(path).close()
    db = sqlite3.connect(path)
    db.execute("PRAGMA user_version = 3")
    db.close()
    with pytest.raises(ArchiveError) as info:
        Archive(path)
    assert str(info.value) == (
        f"{path}: a results archive of a newer coopsim (schema version 3) "
        "(expected version 2 or older: a newer coopsim reads it, or use a new --out directory)"
    )


def test_an_archive_missing_a_table_is_damaged(tmp_path):
    path = tmp_path / "results.sqlite"
    Archive(path).close()
    db = sqlite3.connect(path)
    db.execute("DROP VIEW tidy")
    db.execute("DROP TABLE ratings")
    db.close()
    with pytest.raises(ArchiveError) as info:
        Archive(path)
    assert str(info.value) == (
        f"{path}: not a coopsim results archive, or damaged (no such table: ratings) (expected a new --out directory)"
    )


@pytest.mark.parametrize(
    ("damage", "where", "message"),
    [
        ("UPDATE metric_values SET value = 'lots' WHERE metric = 'zeta'", "100", f"is damaged: 'zeta' is 'lots', not a number {CODED}"),
        ("UPDATE ratings SET rating = 'X' WHERE objective = 'obj1'", "100", f"is damaged: 'obj1' is 'X', not P, S, M or U {CODED}"),
        ("UPDATE replications SET seed = 'x'", "'x'", f"is damaged {CODED}"),
        ("UPDATE metric_values SET replication = 5", "100", f"is damaged: its metrics row 'zeta' does not match its replication {CODED}"),
        ("UPDATE replications SET measured = 0", "100", f"is damaged: it has metrics but no replication that produced them {CODED}"),
    ],
)
def test_a_damaged_row_raises_when_read(tmp_path, damage, where, message):
    path = tmp_path / "results.sqlite"
    archive = Archive(path)
    archive.put("k", "baseline", 100, 0, {"zeta": 1.0}, {"obj1": "P"}, None)
    archive.close()
    db = sqlite3.connect(path)
    db.execute("PRAGMA ignore_check_constraints = ON")
    db.execute(damage)
    db.commit()
    db.close()
    archive = Archive(path)
    with pytest.raises(ArchiveError) as info:
        archive.rows("k")
    assert str(info.value) == f"{path}: the result of 'baseline' with seed {where} {message}"


def test_two_archives_on_one_file_see_each_others_results(tmp_path):
    path = tmp_path / "results.sqlite"
    first, second = Archive(path), Archive(path)
    first.put("k", "baseline", 100, 0, {"a": 1.0}, {}, None)
    assert second.rows("k") == [{"variant": "baseline", "seed": 100, "replication": 0, "metrics": {"a": 1.0}, "ratings": {}, "error": None}]
    first.close()
    second.close()
