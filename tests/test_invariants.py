"""The warehouse invariants the load checks, shown to catch what they are for on a real warehouse."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pytest

from pipelines.defs.warehouse import WAREHOUSE_INVARIANTS

KEYS = "keys are unique in the studies this load wrote"


@pytest.fixture
def conn(sample_warehouse: Path, tmp_path: Path) -> duckdb.DuckDBPyConnection:
    """A copy of the sample warehouse, seen as its first load saw it: every study was written."""
    shutil.copy(sample_warehouse, tmp_path / "w.duckdb")
    with duckdb.connect(str(tmp_path / "w.duckdb")) as connection:
        connection.execute("CREATE TEMP TABLE load_plan AS SELECT nct_id, 'new' AS action FROM dim_study")
        yield connection


def violations(conn: duckdb.DuckDBPyConnection, rule: str) -> list[str]:
    return [row[0] for row in conn.execute(WAREHOUSE_INVARIANTS[rule]).fetchall()]


def test_a_duplicated_key_in_an_unindexed_table_is_caught(conn: duckdb.DuckDBPyConnection) -> None:
    assert violations(conn, KEYS) == []
    conn.execute("INSERT INTO fact_outcome SELECT * FROM fact_outcome WHERE ordinal = 1 LIMIT 1")
    found = violations(conn, KEYS)
    assert len(found) == 1 and found[0].startswith("fact_outcome: NCT") and found[0].endswith("/1")


def test_a_study_without_a_current_version_is_caught(conn: duckdb.DuckDBPyConnection) -> None:
    rule = "every study has exactly one current history version"
    assert violations(conn, rule) == []
    conn.execute(
        "UPDATE dim_study_history SET is_current = false WHERE nct_id = (SELECT min(nct_id) FROM dim_study)"
    )
    assert violations(conn, rule) == [conn.execute("SELECT min(nct_id) FROM dim_study").fetchone()[0]]
