"""The pipeline's assets by layer: extract → canonical records → star tables (+ checks) → DuckDB.

Assets hand data to each other as Parquet files in the staging area (the star tables' own
storage), not through an IO manager: the load reads exactly the frames the checks validated.
Star tables are written only when every table passes its checks, so a blocked run leaves
nothing invalid behind for a later load to pick up.
"""

import os
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pandera.polars as pa
import polars as pl
from dagster import (
    AssetCheckResult,
    AssetCheckSeverity,
    AssetCheckSpec,
    AssetExecutionContext,
    AssetKey,
    AssetSpec,
    MaterializeResult,
    MetadataValue,
    asset,
    multi_asset,
)
from dagster_duckdb import DuckDBResource

from pipelines.canonical import record_frame
from pipelines.load import LoadRun, load_tables
from pipelines.metadata import ddl_comments, preview, table_metadata
from pipelines.resources import TrialsSettings
from pipelines.sources.dispatch import parse_record
from pipelines.sources.landing import iter_raw_records, list_landing_files
from pipelines.transform.star import TABLES, build_tables
from schemas.star import MODELS, foreign_key_failures

RECORDS = "canonical_studies"
PROGRESS_EVERY = 5_000


def write_parquet(frame: pl.DataFrame, path: Path) -> None:
    """Write atomically, so a crash never leaves a half-written staging file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".parquet.partial")
    frame.write_parquet(partial)
    os.replace(partial, path)


@asset(
    name=RECORDS,
    group_name="extract",
    kinds={"python", "parquet"},
    description="Every raw record in the landing paths, format detected from content, parsed into the "
    "canonical API v2 structure; rejected and superseded records are kept with their reason.",
)
def canonical_studies(context: AssetExecutionContext, settings: TrialsSettings) -> MaterializeResult:
    files = list_landing_files(settings.landing_paths)
    context.log.info(f"reading {len(files)} file(s) from {', '.join(settings.landing_paths)}")
    started = time.perf_counter()
    parsed = []
    for parsed_count, raw in enumerate(iter_raw_records(settings.landing_paths), start=1):
        parsed.append(parse_record(raw, settings.keep_contact_details))
        if parsed_count % PROGRESS_EVERY == 0:
            rate = parsed_count / (time.perf_counter() - started)
            context.log.info(f"parsed {parsed_count:,} records ({rate:,.0f}/s)")
    records = record_frame(parsed)
    write_parquet(records, settings.staged(RECORDS))
    statuses = dict(records.group_by("status").len().iter_rows())
    rejected = records.filter(pl.col("status") == "rejected")
    return MaterializeResult(
        metadata={
            "records_read": records.height,
            "records_accepted": statuses.get("accepted", 0),
            "records_rejected": statuses.get("rejected", 0),
            "records_superseded": statuses.get("superseded", 0),
            "formats": MetadataValue.json(
                dict(records.group_by("source_format").len().fill_null("unrecognised").iter_rows())
            ),
            "rejections": preview(rejected.select("source_uri", "rejection_reason", "excerpt"), rows=20),
            "seconds": round(time.perf_counter() - started, 3),
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
    AssetCheckSpec(
        "pandera_contract",
        asset=name,
        blocking=True,
        description=f"{MODELS[name].__name__}: types, nullability, enums, ranges, keys and foreign keys.",
    )
    for name in TABLES
]


def check_table(name: str, tables: dict[str, pl.DataFrame]) -> AssetCheckResult:
    """Validate one table lazily (all failures at once) plus its foreign keys."""
    failures: list[pl.DataFrame] = []
    try:
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
    failed = (
        pl.concat(failures) if failures else pl.DataFrame(schema={"check": pl.String, "value": pl.String})
    )
    return AssetCheckResult(
        asset_key=AssetKey(name),
        check_name="pandera_contract",
        passed=failed.height == 0,
        severity=AssetCheckSeverity.ERROR,
        metadata={
            "rows_checked": tables[name].height,
            "failure_count": failed.height,
            "failure_cases": preview(failed, rows=20, width=120),
        },
    )


@multi_asset(specs=STAR_SPECS, check_specs=CHECK_SPECS, name="star_tables")
def star_tables(context: AssetExecutionContext, settings: TrialsSettings) -> Iterator[object]:
    """Build every star table with polars from the accepted canonical records and validate it."""
    records = pl.read_parquet(settings.staged(RECORDS))
    tables = build_tables(records)
    results = {name: check_table(name, tables) for name in tables}
    all_passed = all(result.passed for result in results.values())
    for name, frame in tables.items():
        if all_passed:
            write_parquet(frame, settings.staged(name))
        else:
            settings.staged(name).unlink(missing_ok=True)
        yield MaterializeResult(asset_key=name, metadata=table_metadata(name, frame))
        yield results[name]
    if not all_passed:
        failed = sorted(name for name, result in results.items() if not result.passed)
        context.log.error(f"pandera contract failed for {', '.join(failed)}: nothing will be loaded")


@asset(
    name="trials_duckdb",
    group_name="warehouse",
    kinds={"duckdb"},
    deps=[RECORDS, *TABLES],
    description="The DuckDB warehouse: every star table, replaced study by study in one transaction, "
    "with the run recorded in meta_load_run and its rejections in meta_rejection.",
)
def trials_duckdb(
    context: AssetExecutionContext, settings: TrialsSettings, duckdb: DuckDBResource
) -> MaterializeResult:
    records = pl.read_parquet(
        settings.staged(RECORDS),
        columns=["source_uri", "source_format", "status", "rejection_reason", "excerpt"],
    )
    tables = {name: pl.read_parquet(settings.staged(name)) for name in TABLES}
    run = LoadRun(context.run_id, datetime.now(UTC), list(settings.landing_paths))
    with duckdb.get_connection() as conn:
        rows = load_tables(conn, run, tables, records)
        counts = conn.execute(
            "SELECT records_read, records_loaded, records_rejected, records_superseded FROM meta_load_run"
            " WHERE run_id = $run_id",
            {"run_id": run.run_id},
        ).fetchone()
    assert counts is not None
    read, loaded, rejected, superseded = counts
    context.log.info(
        f"loaded {loaded} studies ({rows['bridge_study_site']} site links, {rows['fact_outcome']} outcomes,"
        f" {rows['fact_eligibility']} criteria); {rejected} rejected, {superseded} superseded, of {read} read"
    )
    return MaterializeResult(
        metadata={
            "database": MetadataValue.path(duckdb.database),
            "records_read": read,
            "records_loaded": loaded,
            "records_rejected": rejected,
            "records_superseded": superseded,
            "rows_loaded": MetadataValue.json(rows),
        }
    )
