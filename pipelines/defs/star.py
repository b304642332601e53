"""The star tables as Dagster assets: built, checked and staged batch by batch.

A study that breaks a contract is quarantined and the others are staged; the staged tables are
kept only when no check fails as a whole, so a blocked run leaves nothing invalid behind for a
later load to pick up.
"""

import time
from collections.abc import Iterator

import polars as pl
from dagster import (
    AssetCheckResult,
    AssetCheckSeverity,
    AssetCheckSpec,
    AssetExecutionContext,
    AssetKey,
    AssetSpec,
    MaterializeResult,
    multi_asset,
)

from pipelines.batches import (
    DATA_ISSUES,
    FAILURES_KEPT,
    QUARANTINE,
    BuildJob,
    build_batch,
    map_batches,
)
from pipelines.defs.metadata import column_schema, ddl_comments, preview
from pipelines.defs.resources import TrialsSettings
from pipelines.defs.shared import RECORDS, STATUSES, peak_rss_mb, peak_worker_rss_mb, staged
from pipelines.transform.star import TABLES
from pipelines.validate import ISSUE_SCHEMA, QUARANTINE_SCHEMA
from schemas.star import MODELS, vocabularies

# A few quarantined studies in a small run are bad records, not a broken parser: the fraction
# (TrialsSettings.max_quarantined_fraction) blocks a load only past this many.
QUARANTINE_GRACE = 10


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
