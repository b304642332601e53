"""The work of one batch, as plain functions a process pool can run: parse, then build and check.

A run's batches are independent (a record's fate across batches is decided later from the small
index), so they can be spread over processes: ``map_batches`` runs them in a pool of ``workers``
processes when there is more than one batch, and in the calling process otherwise (no start-up
cost for a small run). At most ``2 × workers`` batches are in flight, so memory stays bounded
whatever the corpus size. Processes are started with ``spawn``: forking a process that already
runs DuckDB, polars and Dagster threads is not safe.
"""

from __future__ import annotations

import multiprocessing
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import TypeVar

import pandera.polars as pa
import polars as pl
from pandera.config import ValidationDepth, config_context

from pipelines.canonical import INDEX_COLUMNS, record_batch
from pipelines.sources.dispatch import parse_record
from pipelines.sources.records import RawRecord
from pipelines.staging import StagedTable
from pipelines.transform.star import build_tables
from schemas.star import MODELS, foreign_key_failures

FAILURES_KEPT = 200  # failure cases kept per table and batch for the check's metadata
PREVIEW_ROWS = 10

Job = TypeVar("Job")
Result = TypeVar("Result")


def map_batches(function: Callable[[Job], Result], jobs: Iterable[Job], workers: int) -> Iterator[Result]:
    """``function`` over ``jobs``, in order; in a process pool once a second job shows up."""
    jobs = iter(jobs)
    first = list(islice(jobs, 2))
    if workers <= 1 or len(first) < 2:
        yield from (function(job) for job in [*first, *jobs])
        return
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        pending: deque[Future[Result]] = deque(pool.submit(function, job) for job in first)
        for job in jobs:
            if len(pending) >= 2 * workers:
                yield pending.popleft().result()
            pending.append(pool.submit(function, job))
        while pending:
            yield pending.popleft().result()


# --- parse: raw records → one staged part of canonical records -----------------------------------


@dataclass(frozen=True)
class ParseJob:
    number: int  # the part's number in the staged records table
    raws: list[RawRecord]
    ids: list[int]  # record_id of each raw record
    digests: list[str]
    keep_contact_details: bool
    folder: Path  # the staged records table


def parse_batch(job: ParseJob) -> pl.DataFrame:
    """Parse one batch, stage it as part ``job.number``, and return its index rows."""
    parsed = (
        parse_record(raw, job.keep_contact_details, digest)
        for raw, digest in zip(job.raws, job.digests, strict=True)
    )
    batch = record_batch(parsed, job.ids)
    StagedTable(job.folder.parent, job.folder.name).write_part(batch, job.number)
    return batch.select(INDEX_COLUMNS)


# --- build: one staged part of canonical records → a part of every star table, checked -----------


@dataclass(frozen=True)
class BuildJob:
    part: Path  # a part of the staged records table
    statuses: Path  # the staged record-status table
    staging: Path  # the staging root the star tables are written under


@dataclass
class BuildResult:
    rows: dict[str, int] = field(default_factory=dict)
    failure_counts: dict[str, int] = field(default_factory=dict)
    failures: dict[str, pl.DataFrame] = field(default_factory=dict)  # at most FAILURES_KEPT each
    previews: dict[str, pl.DataFrame] = field(default_factory=dict)  # the first rows (and the schema)


def build_batch(job: BuildJob) -> BuildResult:
    """Build every star table from one part's accepted records, check each, stage the rows."""
    accepted = pl.scan_parquet(job.statuses / "*.parquet").filter(pl.col("status") == "accepted")
    records = pl.scan_parquet(job.part).join(accepted, on="record_id").collect()
    tables = build_tables(records)
    number = int(job.part.stem.removeprefix("part-"))
    result = BuildResult()
    for name, frame in tables.items():
        failed = table_failures(name, tables)
        result.rows[name] = frame.height
        result.failure_counts[name] = failed.height
        result.failures[name] = failed.head(FAILURES_KEPT)
        result.previews[name] = frame.head(PREVIEW_ROWS)
        if frame.height:
            StagedTable(job.staging, name).write_part(frame, number)
    return result


def table_failures(name: str, tables: dict[str, pl.DataFrame]) -> pl.DataFrame:
    """One batch's contract failures for one table: pandera (lazy, all at once) + foreign keys."""
    failures: list[pl.DataFrame] = []
    # An empty table cannot fail a check on its values, so only its columns and types are checked:
    # the same verdict, without a query per check (a small refresh leaves many tables empty).
    depth = ValidationDepth.SCHEMA_ONLY if tables[name].is_empty() else ValidationDepth.SCHEMA_AND_DATA
    try:
        with config_context(validation_depth=depth):
            MODELS[name].validate(tables[name], lazy=True)
    except pa.errors.SchemaErrors as error:
        failures.append(
            error.failure_cases.select(
                pl.concat_str(pl.col("column").fill_null(""), pl.lit(": "), pl.col("check")).alias("check"),
                pl.col("failure_case").cast(pl.String).alias("value"),
            )
        )
    orphans = foreign_key_failures(name, tables)
    if orphans.height:
        failures.append(orphans.select(pl.col("relationship").alias("check"), pl.col("key").alias("value")))
    return pl.concat(failures) if failures else pl.DataFrame(schema={"check": pl.String, "value": pl.String})
