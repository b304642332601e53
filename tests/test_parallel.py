"""Batches spread over worker processes give exactly the warehouse one process gives."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from pipelines.transform.star import TABLES
from tests.conftest import LANDING, run_ingest


def snapshot(db: Path) -> dict[str, list[tuple]]:
    """Every star table's rows, sorted (dim_study without its load timestamp)."""
    with duckdb.connect(str(db), read_only=True) as conn:
        return {
            name: sorted(conn.sql(f"SELECT * EXCLUDE (loaded_at) FROM {name}").fetchall(), key=repr)
            if name == "dim_study"
            else sorted(conn.sql(f"SELECT * FROM {name}").fetchall(), key=repr)
            for name in TABLES
        }


@pytest.mark.slow
def test_a_pool_of_workers_builds_the_same_warehouse(tmp_path: Path, sample_warehouse: Path) -> None:
    """Small batches in two workers against the shared warehouse (one batch, this process).

    The shared one also read a file that is no study: a rejection, which reaches no star table.
    """
    pooled = run_ingest([LANDING], tmp_path / "pool.duckdb", tmp_path / "s1", batch_size=8, workers=2)
    assert pooled.success
    [parsed] = pooled.asset_materializations_for_node("canonical_studies")
    assert parsed.metadata["peak_rss_mb_largest_worker"].value > 0  # the batches really ran in workers
    assert len(list((tmp_path / "s1" / "canonical_studies").glob("part-*.parquet"))) > 2
    assert snapshot(tmp_path / "pool.duckdb") == snapshot(sample_warehouse)
