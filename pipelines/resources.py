"""Dagster resources: where the landing zone and the staging area are."""

from __future__ import annotations

from pathlib import Path

from dagster import ConfigurableResource
from pydantic import Field

from pipelines.settings import DEFAULT_LANDING, DEFAULT_STAGING


class TrialsSettings(ConfigurableResource):
    """Inputs and scratch space of a run (the DuckDB file is the ``duckdb`` resource)."""

    landing_paths: list[str] = Field(
        default=[str(DEFAULT_LANDING)],
        description="Files or folders to ingest (zip, gz, NDJSON, JSON pages, XML, page text: detected).",
    )
    keep_contact_details: bool = Field(
        default=False,
        description="Keep contacts' phone numbers and e-mail addresses (personal data; dropped by default).",
    )
    staging_dir: str = Field(
        default=str(DEFAULT_STAGING),
        description="Where validated star tables wait (as Parquet) between transform and load.",
    )

    def staged(self, name: str) -> Path:
        return Path(self.staging_dir) / f"{name}.parquet"
