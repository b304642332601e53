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
import os
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import TypeVar

import polars as pl

from pipelines.canonical import INDEX_COLUMNS, record_batch
from pipelines.sources.dispatch import parse_record
from pipelines.sources.records import RawRecord
from pipelines.staging import StagedTable
from pipelines.validate import FAILURE_SCHEMA, ISSUE_SCHEMA, NEW_VOCABULARY, QUARANTINE_SCHEMA, build_checked

FAILURES_KEPT = 200  # failure cases kept per batch for the checks' metadata
QUARANTINE = "quarantine"  # staged: the records a contract kept out, with every failure (validate.py)
DATA_ISSUES = "meta_data_issue"  # staged: the loaded studies' data issues
PREVIEW_ROWS = 10
PARENT_POLL_SECONDS = 0.5

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
    with ProcessPoolExecutor(
        max_workers=workers, mp_context=context, initializer=_die_with, initargs=(os.getpid(),)
    ) as pool:
        pending: deque[Future[Result]] = deque(pool.submit(function, job) for job in first)
        for job in jobs:
            if len(pending) >= 2 * workers:
                yield pending.popleft().result()
            pending.append(pool.submit(function, job))
        while pending:
            yield pending.popleft().result()


def _die_with(parent: int) -> None:
    """Worker initializer: end this worker once ``parent`` is gone (a ``kill -9`` of the run leaves no
    orphan). A daemon thread polls the parent id, which changes when the parent dies."""

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(PARENT_POLL_SECONDS)
        os._exit(1)

    threading.Thread(target=watch, name="die-with-parent", daemon=True).start()


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
    previews: dict[str, pl.DataFrame] = field(default_factory=dict)  # the first rows (and the schema)
    quarantined: pl.DataFrame = field(default_factory=lambda: pl.DataFrame(schema=QUARANTINE_SCHEMA))
    systemic: pl.DataFrame = field(default_factory=lambda: pl.DataFrame(schema=FAILURE_SCHEMA))
    issues: int = 0
    new_vocabulary: pl.DataFrame = field(default_factory=lambda: pl.DataFrame(schema=ISSUE_SCHEMA))


def build_batch(job: BuildJob) -> BuildResult:
    """Build every star table from one part's accepted records, quarantine the records that break a
    contract (``validate.build_checked``), and stage the rest with the quarantine and data issues."""
    accepted = pl.scan_parquet(job.statuses / "*.parquet").filter(pl.col("status") == "accepted")
    records = pl.scan_parquet(job.part).join(accepted, on="record_id").collect()
    checked = build_checked(records)
    number = int(job.part.stem.removeprefix("part-"))
    for name, frame in checked.tables.items():
        if frame.height:
            StagedTable(job.staging, name).write_part(frame, number)
    for name, frame in ((QUARANTINE, checked.quarantined), (DATA_ISSUES, checked.issues)):
        if frame.height:
            StagedTable(job.staging, name).write_part(frame, number)
    return BuildResult(
        rows={name: frame.height for name, frame in checked.tables.items()},
        previews={name: frame.head(PREVIEW_ROWS) for name, frame in checked.tables.items()},
        quarantined=checked.quarantined,
        systemic=checked.systemic.head(FAILURES_KEPT),
        issues=checked.issues.height,
        new_vocabulary=checked.issues.filter(pl.col("issue") == NEW_VOCABULARY),
    )
