"""Load staged star tables into DuckDB: one transaction per run, replacing each loaded study.

Every table keyed by ``nct_id`` has the loaded studies' rows deleted and re-inserted, so a rerun
gives the same warehouse, and a failure (or a killed process: DuckDB discards an uncommitted
transaction) leaves the previous warehouse as it was. Sites are shared between studies, so
``dim_site`` is upserted and sites no study lists any more are removed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import duckdb
import polars as pl

from pipelines.settings import DDL_PATH

SITE_TABLE = "dim_site"


@dataclass(frozen=True)
class LoadRun:
    run_id: str
    started_at: datetime
    source_paths: list[str]


def apply_ddl(conn: duckdb.DuckDBPyConnection) -> None:
    """Create missing tables and (re)state every column comment."""
    conn.execute(DDL_PATH.read_text())


def load_tables(
    conn: duckdb.DuckDBPyConnection, run: LoadRun, tables: dict[str, pl.DataFrame], records: pl.DataFrame
) -> dict[str, int]:
    """Replace the run's studies in every table and record the run; returns rows per table."""
    apply_ddl(conn)
    rejected = records.filter(pl.col("status") == "rejected").select(
        pl.lit(run.run_id).alias("run_id"),
        "source_uri",
        "source_format",
        pl.col("rejection_reason").alias("reason"),
        "excerpt",
    )
    counts = records.group_by("status").len()
    count = dict(zip(counts["status"], counts["len"], strict=True))
    conn.execute("BEGIN TRANSACTION")
    try:
        conn.register("staged_ids", tables["dim_study"].select("nct_id"))
        for name, frame in tables.items():
            conn.register("staged", frame)
            if name == SITE_TABLE:
                conn.execute(f"INSERT OR REPLACE INTO {name} BY NAME SELECT * FROM staged")
                continue
            conn.execute(f"DELETE FROM {name} WHERE nct_id IN (SELECT nct_id FROM staged_ids)")
            extra = ", $loaded_at AS loaded_at" if name == "dim_study" else ""
            conn.execute(
                f"INSERT INTO {name} BY NAME SELECT *{extra} FROM staged",
                {"loaded_at": run.started_at} if extra else None,
            )
        orphan_sites = "site_id NOT IN (SELECT site_id FROM bridge_study_site)"
        conn.execute(f"DELETE FROM {SITE_TABLE} WHERE {orphan_sites}")
        conn.register("staged", rejected)
        conn.execute("DELETE FROM meta_rejection WHERE run_id = $run_id", {"run_id": run.run_id})
        conn.execute("INSERT INTO meta_rejection BY NAME SELECT * FROM staged")
        conn.execute(
            "INSERT OR REPLACE INTO meta_load_run VALUES"
            " ($run_id, $started, now(), $read, $loaded, $rejected, $superseded, $paths)",
            {
                "run_id": run.run_id,
                "started": run.started_at,
                "read": records.height,
                "loaded": count.get("accepted", 0),
                "rejected": count.get("rejected", 0),
                "superseded": count.get("superseded", 0),
                "paths": "\n".join(run.source_paths),
            },
        )
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    finally:
        for view in ("staged", "staged_ids"):
            conn.unregister(view)
    return {name: frame.height for name, frame in tables.items()}
