"""The Dagster code location (``[tool.dagster]`` in pyproject.toml points here)."""

from __future__ import annotations

from dagster import Definitions, in_process_executor

from pipelines.defs.automation import (
    daily_refresh,
    ingest_job,
    landing_sensor,
    registry_job,
    registry_refresh,
)
from pipelines.defs.extract import canonical_studies, registry_pages
from pipelines.defs.report import warehouse_report
from pipelines.defs.resources import RegistrySettings, TrialsSettings, WarehouseResource
from pipelines.defs.star import star_tables
from pipelines.defs.warehouse import trials_duckdb
from pipelines.settings import DEFAULT_DB

# DuckDB would take up to 80% of RAM for a load; a cap keeps a run's memory bounded (it spills to
# disk beyond it), and insertion order does not matter to a keyed table.
DUCKDB_CONFIG = {"memory_limit": "1GB", "preserve_insertion_order": False}


def build_definitions(
    settings: TrialsSettings | None = None,
    database: str | None = None,
    registry: RegistrySettings | None = None,
    lock_wait_seconds: float = 0.0,
) -> Definitions:
    """Definitions with the given inputs and DuckDB file (defaults: the project's warehouse/)."""
    return Definitions(
        assets=[registry_pages, canonical_studies, star_tables, trials_duckdb, warehouse_report],
        jobs=[ingest_job, registry_job],
        schedules=[daily_refresh, registry_refresh],
        sensors=[landing_sensor],
        resources={
            "settings": settings or TrialsSettings(),
            "registry": registry or RegistrySettings(),
            "duckdb": WarehouseResource(
                database=database or str(DEFAULT_DB),
                connection_config=DUCKDB_CONFIG,
                lock_wait_seconds=lock_wait_seconds,
            ),
        },
        executor=in_process_executor,
    )


defs = build_definitions()
