"""The pipeline's assets by layer: extract → canonical records → star tables (+ checks) → DuckDB.

Assets hand data to each other as folders of Parquet parts in the staging area
(``pipelines/staging.py``), written a batch at a time so a run's memory does not grow with the
corpus. Star tables are kept only when every table passes its checks, so a blocked run leaves
nothing invalid behind for a later load to pick up.
"""

import resource
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from itertools import islice
from pathlib import Path

import polars as pl
from dagster import (
    AssetCheckResult,
    AssetCheckSeverity,
    AssetCheckSpec,
    AssetExecutionContext,
    AssetKey,
    AssetSpec,
    Failure,
    MaterializeResult,
    MetadataValue,
    asset,
    multi_asset,
)

from pipelines.batches import (
    DATA_ISSUES,
    FAILURES_KEPT,
    QUARANTINE,
    BuildJob,
    ParseJob,
    build_batch,
    map_batches,
    parse_batch,
)
from pipelines.canonical import INDEX_COLUMNS, known_batch, record_batch, record_statuses, with_known
from pipelines.faults import fault_point
from pipelines.load import LANDING_FILE_COLUMNS, LoadRun, known_sources, load_tables, read_files
from pipelines.metadata import column_schema, ddl_comments, preview
from pipelines.resources import RegistrySettings, TrialsSettings, WarehouseResource
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
from pipelines.staging import StagedTable
from pipelines.transform.star import TABLES
from pipelines.validate import ISSUE_SCHEMA, QUARANTINE_SCHEMA
from schemas.star import MODELS, TABLE_KEYS, vocabularies

# A few quarantined studies in a small run are bad records, not a broken parser: the fraction
# (TrialsSettings.max_quarantined_fraction) blocks a load only past this many.
QUARANTINE_GRACE = 10

REGISTRY = "registry_pages"
RECORDS = "canonical_studies"
STATUSES = "record_status"
FILES = "landing_files"
SKIPPED = "skipped_files"


def batched(items: Iterator[RawRecord], size: int) -> Iterator[list[RawRecord]]:
    """Consecutive lists of ``size`` items (``itertools.batched`` arrives in Python 3.12)."""
    while chunk := list(islice(items, size)):
        yield chunk


def peak_rss_mb() -> float:
    """The process's peak resident memory so far (MB): shown per asset to keep memory honest."""
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def peak_worker_rss_mb() -> float:
    """The largest peak of the batch worker processes so far (MB; 0 when batches ran in-process).

    A run's memory is at most this process's peak plus ``workers`` times this.
    """
    return round(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024, 1)


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


def staged(settings: TrialsSettings, name: str) -> StagedTable:
    return StagedTable(settings.staging_path(), name)


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


STAR_SPECS = [
    AssetSpec(
        name,
        group_name="star",
        kinds={"polars", "parquet"},
        deps=[RECORDS],
        description=ddl_comments().get(name),
    )
    for name in TABLES
]
CHECK_SPECS = [
    *(
        AssetCheckSpec(
            "pandera_contract",
            asset=name,
            blocking=True,
            description=f"{MODELS[name].__name__}: types, nullability, ranges, keys and foreign keys. "
            "A study whose rows fail is quarantined (meta_rejection) and the rest loads; the check "
            "fails, and blocks the load, only for what no single study explains (a column, a dtype) "
            "or when more than TrialsSettings.max_quarantined_fraction of the run's studies are "
            "quarantined.",
        )
        for name in TABLES
    ),
    *(
        AssetCheckSpec(
            "known_vocabulary",
            asset=name,
            blocking=False,
            description=f"Values of {', '.join(vocabularies(name))} outside the registry vocabulary known "
            "to this code: loaded as written and listed in meta_data_issue (a warning: the registry adds "
            "values).",
        )
        for name in TABLES
        if vocabularies(name)
    ),
]


@multi_asset(specs=STAR_SPECS, check_specs=CHECK_SPECS, name="star_tables")
def star_tables(context: AssetExecutionContext, settings: TrialsSettings) -> Iterator[object]:
    """Build every star table with polars from the accepted canonical records, batch by batch; a study
    that breaks a contract is quarantined with its reasons, the others are staged for the load."""
    started = time.perf_counter()
    outputs = {name: staged(settings, name).reset() for name in (*TABLES, QUARANTINE, DATA_ISSUES)}
    rows = dict.fromkeys(TABLES, 0)
    first: dict[str, pl.DataFrame] = {}
    quarantined: list[pl.DataFrame] = []
    systemic: list[pl.DataFrame] = []
    new_vocabulary: list[pl.DataFrame] = []
    issues = 0
    parts = staged(settings, RECORDS).paths()
    statuses = staged(settings, STATUSES)
    jobs = (BuildJob(part, statuses.folder, settings.staging_path()) for part in parts)
    for done, result in enumerate(map_batches(build_batch, jobs, settings.workers), 1):
        for name in TABLES:
            rows[name] += result.rows[name]
            if name not in first or (first[name].is_empty() and result.rows[name]):
                first[name] = result.previews[name]
        quarantined.append(result.quarantined)
        systemic.append(result.systemic)
        new_vocabulary.append(result.new_vocabulary)
        issues += result.issues
        context.log.info(
            f"built batch {done:,} of {len(parts):,} ({rows['dim_study']:,} studies,"
            f" {time.perf_counter() - started:,.1f} s, peak memory {peak_rss_mb():,.0f} MB)"
        )
    for name in TABLES:
        outputs[name].ensure_part(first[name])
    outputs[QUARANTINE].ensure_part(pl.DataFrame(schema=QUARANTINE_SCHEMA))
    outputs[DATA_ISSUES].ensure_part(pl.DataFrame(schema=ISSUE_SCHEMA))
    failures = pl.concat(quarantined)
    systemic_failures = pl.concat(systemic)
    studies = failures.height
    accepted = statuses.scan().filter(pl.col("status") == "accepted").select(pl.len()).collect().item()
    too_many = studies > max(settings.max_quarantined_fraction * accepted, QUARANTINE_GRACE)
    for nct_id, reason in failures.select("nct_id", "reason").head(20).iter_rows():
        context.log.warning(f"quarantined {nct_id}: {reason}")
    blocked = too_many or systemic_failures.height > 0
    if blocked:
        for output in outputs.values():
            output.remove()
        why = (
            f"{studies:,} of {accepted:,} studies break a contract (more than "
            f"{settings.max_quarantined_fraction:.1%}: a systemic fault, not a few bad records)"
            if too_many
            else "failures no single record explains: "
            + ", ".join(sorted(set(systemic_failures["table_name"])))
        )
        context.log.error(f"pandera contract failed: {why}; nothing will be loaded")
    vocabulary = pl.concat(new_vocabulary)
    for name in TABLES:
        yield MaterializeResult(
            asset_key=name,
            metadata={
                "dagster/row_count": rows[name],
                "dagster/column_schema": column_schema(name, first[name]),
                "preview": preview(first[name]),
                "peak_rss_mb": peak_rss_mb(),
                "peak_rss_mb_largest_worker": peak_worker_rss_mb(),
                **({"studies_quarantined": studies, "data_issues": issues} if name == "dim_study" else {}),
            },
        )
        own = failures.filter(pl.col("tables").list.contains(name))
        own_systemic = systemic_failures.filter(pl.col("table_name") == name)
        yield AssetCheckResult(
            asset_key=AssetKey(name),
            check_name="pandera_contract",
            passed=own_systemic.is_empty() and not too_many,
            severity=AssetCheckSeverity.ERROR,
            metadata={
                "rows_checked": rows[name],
                "studies_quarantined": own.height,
                "systemic_failures": own_systemic.height,
                "failure_cases": preview(own_systemic.head(FAILURES_KEPT), rows=20, width=120),
                "quarantined": preview(
                    own.select("nct_id", "reason").head(FAILURES_KEPT), rows=20, width=160
                ),
            },
        )
        if vocabularies(name):
            found = vocabulary.filter(pl.col("table_name") == name)
            values = found.group_by("column_name", "value").agg(pl.col("nct_id").n_unique().alias("studies"))
            yield AssetCheckResult(
                asset_key=AssetKey(name),
                check_name="known_vocabulary",
                passed=found.is_empty(),
                severity=AssetCheckSeverity.WARN,
                metadata={"new_values": preview(values.sort("column_name", "value"), rows=20, width=120)},
            )


# Invariants of the loaded warehouse that no single staged table can show, checked after each load.
WAREHOUSE_INVARIANTS = {
    "every study has exactly one current history version": """
        SELECT d.nct_id FROM dim_study d LEFT JOIN dim_study_history h ON h.nct_id = d.nct_id AND h.is_current
        GROUP BY d.nct_id HAVING count(h.nct_id) <> 1""",
    "history versions follow each other without gaps or overlaps": """
        SELECT nct_id FROM (
            SELECT nct_id, valid_to,
                   lead(valid_from) OVER (PARTITION BY nct_id ORDER BY valid_from) AS next_from
            FROM dim_study_history)
        WHERE valid_to IS DISTINCT FROM next_from""",
    "every record read is accounted for": """
        SELECT run_id FROM meta_load_run WHERE records_read <> records_new + records_changed
            + records_unchanged + records_rejected + records_superseded""",
    # The fact and bridge tables carry no index (see sql/ddl/warehouse.sql): their keys are checked
    # here, for the studies this load wrote (the others were checked when they were written).
    "keys are unique in the studies this load wrote": " UNION ALL ".join(
        f"""SELECT '{name}: ' || concat_ws('/', {", ".join(key)}) FROM {name}
            WHERE nct_id IN (SELECT nct_id FROM load_plan WHERE action IN ('new', 'changed'))
            GROUP BY ALL HAVING count(*) > 1"""
        for name, key in TABLE_KEYS.items()
    ),
}


@asset(
    name="trials_duckdb",
    group_name="warehouse",
    kinds={"duckdb"},
    deps=[RECORDS, *TABLES],
    check_specs=[
        AssetCheckSpec(
            "warehouse_invariants",
            asset="trials_duckdb",
            description="After the load: " + "; ".join(WAREHOUSE_INVARIANTS) + ".",
        )
    ],
    description="The DuckDB warehouse: new and changed studies replaced in every star table in one "
    "transaction, the run recorded in meta_load_run and its rejections in meta_rejection.",
)
def trials_duckdb(
    context: AssetExecutionContext, settings: TrialsSettings, duckdb: WarehouseResource
) -> MaterializeResult:
    tables = {name: staged(settings, name) for name in TABLES}
    missing = [name for name, table in tables.items() if not table.exists()]
    if missing:
        raise RuntimeError(
            f"no validated staged data for {', '.join(missing)}: materialize the star tables first "
            "(or they failed their checks)"
        )
    run = LoadRun(context.run_id, datetime.now(UTC), list(settings.landing_paths))
    started = time.perf_counter()
    with duckdb.get_connection(context.run_id, context.log.warning) as conn:
        counts = load_tables(
            conn,
            run,
            {name: table.folder for name, table in tables.items()},
            staged(settings, RECORDS).folder,
            staged(settings, STATUSES).folder,
            staged(settings, FILES).folder,
            staged(settings, QUARANTINE).folder,
            staged(settings, DATA_ISSUES).folder,
            staged(settings, SKIPPED).folder,
        )
        violations = {
            rule: [row[0] for row in conn.execute(sql + " LIMIT 20").fetchall()]
            for rule, sql in WAREHOUSE_INVARIANTS.items()
        }
    context.log.info(
        f"{counts.read} records read: {counts.new} new, {counts.changed} changed,"
        f" {counts.unchanged} unchanged, {counts.rejected} rejected, {counts.superseded} superseded"
        f" (peak memory {peak_rss_mb():,.0f} MB)"
    )
    return MaterializeResult(
        metadata={
            "database": MetadataValue.path(duckdb.database),
            "records_read": counts.read,
            "records_new": counts.new,
            "records_changed": counts.changed,
            "records_unchanged": counts.unchanged,
            "records_rejected": counts.rejected,
            "records_superseded": counts.superseded,
            "seconds": round(time.perf_counter() - started, 3),
            "peak_rss_mb": peak_rss_mb(),
        },
        check_results=[
            AssetCheckResult(
                check_name="warehouse_invariants",
                passed=not any(violations.values()),
                severity=AssetCheckSeverity.ERROR,
                metadata={rule: MetadataValue.json(found) for rule, found in violations.items()},
            )
        ],
    )
