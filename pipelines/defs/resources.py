"""Dagster resources: where the landing zone and the staging area are."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import parse_qsl

import duckdb
from dagster import ConfigurableResource
from dagster_duckdb import DuckDBResource
from pydantic import Field

from pipelines.settings import DEFAULT_LANDING, DEFAULT_REPORTS, DEFAULT_STAGING
from pipelines.sources.registry_api import DEFAULT_BASE_URL
from pipelines.warehouse_file import check_writable, open_for_writing


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
        default=1000,
        description="Records parsed, transformed, validated and staged at a time: memory follows this, "
        "not the corpus size.",
    )

    workers: int = Field(
        default=min(2, os.cpu_count() or 1),
        description="Processes that parse and build batches in parallel (1: all in the run's process). "
        "A run with a single batch never starts them.",
    )
    max_quarantined_fraction: float = Field(
        default=0.01,
        description="A study that breaks a contract is quarantined and the others load; when more than this "
        "fraction of a run's studies (and more than 10) are quarantined, the fault is systemic (a broken "
        "parser, a changed source) and the whole load is blocked.",
    )
    reports_dir: str = Field(
        default=str(DEFAULT_REPORTS),
        description="Where the warehouse report (index.html and PNG charts) is written.",
    )

    def staging_path(self) -> Path:
        return Path(self.staging_dir)


class RegistrySettings(ConfigurableResource):
    """What the ``registry_pages`` asset asks the live ClinicalTrials.gov API for."""

    query: str = Field(
        default=os.environ.get("TRIALS_REGISTRY_QUERY", ""),
        description="API v2 query parameters as a URL query string, e.g. "
        "'query.cond=COVID-19&query.intr=mesenchymal' (env TRIALS_REGISTRY_QUERY). Empty: nothing to fetch.",
    )
    base_url: str = Field(
        default=os.environ.get("TRIALS_REGISTRY_URL", DEFAULT_BASE_URL),
        description="API v2 base URL (env TRIALS_REGISTRY_URL).",
    )
    incremental: bool = Field(
        default=True, description="Ask only for studies updated since the query's last complete fetch."
    )
    min_interval: float = Field(default=0.35, description="Seconds between requests (politeness).")
    max_retries: int = Field(default=5, description="Retries of a page on 429, 5xx or a network error.")
    backoff_base: float = Field(default=1.0, description="First retry delay in seconds; doubles each retry.")

    def params(self) -> dict[str, str]:
        return dict(parse_qsl(self.query, keep_blank_values=False, strict_parsing=bool(self.query)))


class WarehouseResource(DuckDBResource):
    """The DuckDB warehouse file: ``DuckDBResource`` without its silent 100-second retry of a held lock.

    A held lock fails at once with who holds it, or is waited for ``lock_wait_seconds`` with a
    message (``pipelines/warehouse_file.py``).
    """

    lock_wait_seconds: float = Field(
        default=0.0,
        description="How long a load waits for another process to release the warehouse file "
        "(0: fail at once).",
    )

    @contextmanager
    def get_connection(
        self, run_id: str | None = None, notify: Callable[[str], None] = print
    ) -> Iterator[duckdb.DuckDBPyConnection]:
        config = {"custom_user_agent": "dagster", **self.connection_config}
        with open_for_writing(
            Path(self.database), config, wait_seconds=self.lock_wait_seconds, run_id=run_id, notify=notify
        ) as conn:
            yield conn

    def check_writable(self, notify: Callable[[str], None] = print) -> None:
        """Fail before a run parses anything when its load could not write the warehouse."""
        check_writable(Path(self.database), wait_seconds=self.lock_wait_seconds, notify=notify)
