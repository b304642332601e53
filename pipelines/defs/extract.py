"""Dagster assets of the first layers: the live registry's pages, then every landed record parsed.

``canonical_studies`` stages the canonical records a batch at a time (in worker processes), with
each record's status: accepted, unchanged, rejected with its reason, or superseded.
"""

import time
from collections.abc import Iterator
from itertools import islice
from pathlib import Path

import polars as pl
from dagster import (
    AssetExecutionContext,
    Failure,
    MaterializeResult,
    MetadataValue,
    asset,
)

from pipelines.batches import (
    ParseJob,
    map_batches,
    parse_batch,
)
from pipelines.canonical import INDEX_COLUMNS, known_batch, record_batch, record_statuses, with_known
from pipelines.defs.metadata import preview
from pipelines.defs.resources import RegistrySettings, TrialsSettings, WarehouseResource
from pipelines.defs.shared import (
    FILES,
    RECORDS,
    REGISTRY,
    SKIPPED,
    STATUSES,
    peak_rss_mb,
    peak_worker_rss_mb,
    staged,
)
from pipelines.faults import fault_point
from pipelines.load import LANDING_FILE_COLUMNS, known_sources, read_files
from pipelines.sources.dispatch import source_digest
from pipelines.sources.landing import (
    LandingFile,
    LandingFileChanged,
    SkippedFile,
    read_landing_file,
    scan_landing,
)
from pipelines.sources.records import RawRecord
from pipelines.sources.registry_api import FetchError, fetch_studies, incremental_since


def batched(items: Iterator[RawRecord], size: int) -> Iterator[list[RawRecord]]:
    """Consecutive lists of ``size`` items (``itertools.batched`` arrives in Python 3.12)."""
    while chunk := list(islice(items, size)):
        yield chunk


def landing_files(files: list[LandingFile], keep_contact_details: bool) -> pl.DataFrame:
    """The listed files with their size and modification time (``LANDING_FILE_COLUMNS``, no records)."""
    rows = [(str(file.path), keep_contact_details, file.size, file.mtime_ns) for file in files]
    columns = {name: dtype for name, dtype in LANDING_FILE_COLUMNS.items() if name != "records"}
    return pl.DataFrame(rows, schema=columns, orient="row")


def without_changed_files(
    index: pl.DataFrame, changed: dict[str, tuple[int, int]], skipped: list[SkippedFile]
) -> pl.DataFrame:
    """Reject the records read from files that changed while they were read (``changed``: record ids
    ``[first, end)`` per file): they may mix two versions of the file. The next run reads it again."""
    reasons = {file.path: file.reason for file in skipped}
    reason = pl.lit(None, pl.String)
    for path, (first, end) in changed.items():
        reason = (
            pl.when(pl.col("record_id").is_between(first, end, closed="left"))
            .then(pl.lit(f"the file {reasons[path]}; read again by the next run"))
            .otherwise(reason)
        )
    return index.with_columns(rejection_reason=pl.coalesce(reason, pl.col("rejection_reason")))


@asset(
    name=REGISTRY,
    group_name="extract",
    kinds={"api", "json"},
    description="Pages of the live ClinicalTrials.gov API v2 for the configured query, landed as JSON in "
    "the landing zone (incremental: only studies updated since the last complete fetch). Needs "
    "RegistrySettings.query (or TRIALS_REGISTRY_QUERY); without one it fetches nothing.",
)
def registry_pages(
    context: AssetExecutionContext, settings: TrialsSettings, registry: RegistrySettings
) -> MaterializeResult:
    params = registry.params()
    if not params:  # "Materialize all" without a query: nothing to fetch is not a failure of the run
        context.log.info(
            "no registry query configured (RegistrySettings.query or TRIALS_REGISTRY_QUERY): nothing fetched"
        )
        return MaterializeResult(metadata={"studies": 0, "query": "none configured: nothing fetched"})
    landing = Path(settings.landing_paths[0])
    since = incremental_since(landing, params) if registry.incremental else None
    context.log.info(
        f"fetching {params} from {registry.base_url}" + (f" updated since {since}" if since else "")
    )
    try:
        result = fetch_studies(
            landing,
            params,
            since=since,
            base_url=registry.base_url,
            min_interval=registry.min_interval,
            max_retries=registry.max_retries,
            backoff_base=registry.backoff_base,
            progress=lambda pages, studies, total: context.log.info(
                f"page {pages}: {studies:,} of {total if total is not None else '?'} studies"
            ),
            notify=context.log.warning,
        )
    except FetchError as error:
        raise Failure(str(error)) from error
    if result.problem:  # landed, but not recorded as complete: the next fetch asks again
        raise Failure(f"incomplete fetch: {result.problem}")
    return MaterializeResult(
        metadata={
            "folder": MetadataValue.path(str(result.folder)),
            "pages": result.pages,
            "studies": result.studies,
            "total_count": result.total_count,
            "since": str(result.since) if result.since else "full fetch",
            "query": MetadataValue.json(params),
        }
    )


@asset(
    name=RECORDS,
    group_name="extract",
    kinds={"python", "parquet"},
    deps=[REGISTRY],
    description="Every raw record in the landing paths, format detected from content, parsed into the "
    "canonical API v2 structure; rejected and superseded records are kept with their reason. Files an "
    "earlier load read and unchanged since are skipped unread, and records the warehouse holds as they "
    "are are not parsed again.",
)
def canonical_studies(
    context: AssetExecutionContext, settings: TrialsSettings, duckdb: WarehouseResource
) -> MaterializeResult:
    started = time.perf_counter()
    duckdb.check_writable(context.log.warning)  # a held lock or a wrong --db fails now, not after the parsing
    keep = settings.keep_contact_details
    listed, skipped = scan_landing(settings.landing_paths)
    fault_point("listed")
    by_path = {
        str(file.path.resolve()): LandingFile(file.path.resolve(), file.size, file.mtime_ns)
        for file in listed
    }
    files = landing_files(list(by_path.values()), keep)
    unchanged = files.join(read_files(Path(duckdb.database)), on=files.columns, how="inner")
    to_read = files.join(unchanged, on="path", how="anti")
    context.log.info(
        f"reading {to_read.height} file(s) from {', '.join(settings.landing_paths)}; {unchanged.height}"
        " skipped, read by an earlier load and unchanged since"
    )
    known = known_sources(Path(duckdb.database))
    known_hashes = set(known["raw_hash"].to_list())
    records = staged(settings, RECORDS).reset()
    index: list[pl.DataFrame] = []
    counts = {"read": 0, "known": 0}
    per_file: dict[str, int] = dict.fromkeys(to_read["path"], 0)
    changed: dict[str, tuple[int, int]] = {}  # files that changed under the run: their record ids

    def raw_records() -> Iterator[RawRecord]:
        """The records of each file; a file that vanishes or changes while it is read is skipped, its
        records already read rejected with the reason, and it is read again by the next run."""
        position = 0  # the next record's record_id: records are numbered in reading order
        for path in per_file:
            first = position
            try:
                for raw in read_landing_file(by_path[path]):
                    per_file[path] += 1
                    position += 1
                    yield raw
            except LandingFileChanged as error:
                skipped.append(SkippedFile(path, str(error)))
                changed[path] = (first, position)

    def jobs() -> Iterator[ParseJob]:
        """Batches of the records to parse; those the warehouse holds as they are go straight to the index."""
        for number, chunk in enumerate(batched(raw_records(), settings.batch_size), 1):
            first = counts["read"]
            digests = [source_digest(raw, keep) for raw in chunk]
            seen = [i for i, digest in enumerate(digests) if digest in known_hashes]
            fresh = [i for i, digest in enumerate(digests) if digest not in known_hashes]
            index.append(
                known_batch(
                    [first + i for i in seen], [chunk[i].source_uri for i in seen], [digests[i] for i in seen]
                )
            )
            counts["read"] += len(chunk)
            counts["known"] += len(seen)
            if fresh:
                yield ParseJob(
                    number,
                    [chunk[i] for i in fresh],
                    [first + i for i in fresh],
                    [digests[i] for i in fresh],
                    keep,
                    records.folder,
                )

    parsed = 0
    for batch_index in map_batches(parse_batch, jobs(), settings.workers):
        index.append(batch_index)
        fault_point("parsed-batch")
        parsed += batch_index.height
        rate = (parsed + counts["known"]) / (time.perf_counter() - started)
        context.log.info(
            f"parsed {parsed:,} records; {counts['known']:,} skipped, already in the warehouse as they are"
            f" ({rate:,.0f}/s, peak memory {peak_rss_mb():,.0f} MB)"
        )
    records.ensure_part(record_batch([]))
    staged(settings, FILES).reset().write(
        to_read.filter(~pl.col("path").is_in(list(changed))).with_columns(
            records=pl.col("path").replace_strict(per_file, return_dtype=pl.Int32)
        )
    )
    everything = with_known(pl.concat(index) if index else record_batch([]).select(INDEX_COLUMNS), known)
    everything = without_changed_files(everything, changed, skipped)
    for file in skipped:
        context.log.warning(f"skipped {file.path}: {file.reason}")
    staged(settings, SKIPPED).reset().write(
        pl.DataFrame([(f.path, f.reason) for f in skipped], schema=["path", "reason"], orient="row")
    )
    statuses = record_statuses(everything)
    staged(settings, STATUSES).reset().write(statuses)
    by_status = dict(statuses.group_by("status").len().iter_rows())
    rejected = everything.join(statuses, on="record_id").filter(pl.col("status") == "rejected")
    formats = everything.group_by("source_format").len()
    return MaterializeResult(
        metadata={
            "records_read": counts["read"],
            "files_read": to_read.height,
            "files_skipped_unchanged": unchanged.height,
            "records_in_skipped_files": int(unchanged["records"].sum()),
            "records_accepted": by_status.get("accepted", 0),
            "records_rejected": by_status.get("rejected", 0),
            "records_superseded": by_status.get("superseded", 0),
            "records_unchanged_not_parsed": by_status.get("unchanged", 0),
            "formats": MetadataValue.json(dict(formats.fill_null("unrecognised").iter_rows())),
            "rejections": preview(rejected.select("source_uri", "rejection_reason"), rows=20, width=120),
            "files_skipped": len(skipped),
            "skipped_files": MetadataValue.json(
                [{"path": f.path, "reason": f.reason} for f in skipped[:100]]
            ),
            "seconds": round(time.perf_counter() - started, 3),
            "peak_rss_mb": peak_rss_mb(),
            "peak_rss_mb_largest_worker": peak_worker_rss_mb(),
        }
    )
