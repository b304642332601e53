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
    batch_size: int = Field(
        default=2_000,
        description="Records parsed, transformed, validated and staged at a time: memory follows this, "
        "not the corpus size.",
    )

    def staging_path(self) -> Path:
        return Path(self.staging_dir)
