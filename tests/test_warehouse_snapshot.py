"""The warehouse built from the bundled samples, table by table, against a reviewed snapshot.

A refactor must not change what lands in the warehouse; an intended change must show up here as a
reviewed diff. Each table is summarised by its row count and a digest of its sorted rows (columns
that name a run or the code version excluded). Regenerate with UPDATE_SNAPSHOTS=1 and review the diff.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import duckdb
import pytest

SNAPSHOTS = Path(__file__).parent / "snapshots"
# Columns that differ from run to run whatever the data: run ids, times, the code fingerprint.
VOLATILE = {
    "run_id",
    "loaded_at",
    "pipeline_version",
    "started_at",
    "finished_at",
    "applied_at",
    "ddl_digest",
}
# Bookkeeping tables whose rows name files by their temporary path.
SKIPPED = {"meta_landing_file", "meta_load_run", "meta_schema"}


def table_digests(database: Path) -> dict[str, dict[str, object]]:
    """``table`` → its row count, columns and a digest of its rows in a stable order."""
    digests = {}
    with duckdb.connect(str(database), read_only=True) as conn:
        tables = [
            name for (name,) in conn.execute("SELECT table_name FROM duckdb_tables() ORDER BY 1").fetchall()
        ]
        for table in (name for name in tables if name not in SKIPPED):
            columns = [
                name
                for (name,) in conn.execute(
                    "SELECT column_name FROM duckdb_columns() WHERE table_name = ? ORDER BY column_index",
                    [table],
                ).fetchall()
                if name not in VOLATILE
            ]
            selected = ", ".join(
                f"regexp_replace({name}::VARCHAR, '^.*/(landing/|junk/|fixtures/)', '') AS {name}"
                if name in ("source_uri", "path")
                else name
                for name in columns
            )
            rows = conn.execute(f"SELECT {selected} FROM {table} ORDER BY ALL").fetchall()
            digest = hashlib.blake2b(repr(rows).encode(), digest_size=16).hexdigest()
            digests[table] = {"rows": len(rows), "columns": columns, "digest": digest}
    return digests


@pytest.mark.parametrize("warehouse", ["sample_warehouse", "corpus_warehouse"])
def test_the_warehouse_matches_the_reviewed_snapshot(warehouse: str, request: pytest.FixtureRequest) -> None:
    current = table_digests(request.getfixturevalue(warehouse))
    path = SNAPSHOTS / f"{warehouse}.json"
    if os.environ.get("UPDATE_SNAPSHOTS"):
        path.write_text(json.dumps(current, indent=1) + "\n")
    expected = json.loads(path.read_text())
    assert current.keys() == expected.keys()
    for table, summary in expected.items():
        assert current[table] == summary, table
