"""The warehouse asset: the staged tables loaded into DuckDB in one transaction, then checked."""

import time
from datetime import UTC, datetime

from dagster import (
    AssetCheckResult,
    AssetCheckSeverity,
    AssetCheckSpec,
    AssetExecutionContext,
    MaterializeResult,
    MetadataValue,
    asset,
)

from pipelines.batches import (
    DATA_ISSUES,
    QUARANTINE,
)
from pipelines.defs.resources import TrialsSettings, WarehouseResource
from pipelines.defs.shared import FILES, RECORDS, SKIPPED, STATUSES, peak_rss_mb, staged
from pipelines.load import LoadRun, load_tables
from pipelines.transform.star import TABLES
from schemas.star import TABLE_KEYS

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
