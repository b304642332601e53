"""The warehouse invariants the load checks, shown to catch what they are for on a real warehouse."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from pipelines.assets import WAREHOUSE_INVARIANTS
from tests.conftest import API_V2_SAMPLES, run_ingest

KEYS = "keys are unique in the studies this load wrote"


@pytest.fixture
def conn(tmp_path: Path) -> duckdb.DuckDBPyConnection:
    result = run_ingest(API_V2_SAMPLES[:2], tmp_path / "w.duckdb", tmp_path / "staging")
    [check] = [e for e in result.get_asset_check_evaluations() if e.check_name == "warehouse_invariants"]
    assert check.passed
    with duckdb.connect(str(tmp_path / "w.duckdb")) as connection:
        connection.execute(
            "CREATE TEMP TABLE load_plan AS SELECT nct_id, 'changed' AS action FROM dim_study LIMIT 1"
        )
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
