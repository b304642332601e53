"""Load staged star tables (Parquet parts) into DuckDB in one transaction per run.

Each staged study is first compared with the warehouse (``load_plan``):

- ``new``: not in the warehouse; ``changed``: its canonical record or the deriving code
  (``PIPELINE_VERSION``) differs. These studies' rows are deleted and re-inserted in every table.
- ``unchanged``: same record, same code: skipped, so a rerun is cheap and changes nothing.
- ``stale``: older than the warehouse's version (earlier last-update-posted date): skipped, so
  loading an old file after a new one never rolls a study back.

Everything happens in one transaction: a failure, or a killed process (DuckDB discards an
uncommitted transaction), leaves the previous warehouse as it was. Sites are shared between
studies, so ``dim_site`` is upserted and sites no study lists any more are removed. The same
transaction advances ``dim_study_history``, the type-2 record of each study's status over time.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import duckdb
import polars as pl

from pipelines.canonical import KNOWN_COLUMNS
from pipelines.faults import fault_point
from pipelines.fingerprint import PIPELINE_VERSION
from pipelines.settings import DDL_PATH, VIEWS_PATH
from schemas.load_tables import TRACKED
from schemas.spec import Load, Table
from schemas.star import RELATIONSHIPS
from schemas.tables import TABLES as DEFINITIONS

# The study attributes whose changes dim_study_history keeps (a version per change).
HISTORY_ATTRIBUTES = tuple(TRACKED)
WRITE = "nct_id IN (SELECT nct_id FROM load_plan WHERE action IN ('new', 'changed'))"


@dataclass(frozen=True)
class LoadRun:
    run_id: str
    started_at: datetime
    source_paths: list[str]


@dataclass(frozen=True)
class LoadCounts:
    """What happened to every record read: read = new + changed + unchanged + rejected + superseded."""

    read: int
    new: int
    changed: int
    unchanged: int
    rejected: int
    superseded: int

    @property
    def loaded(self) -> int:
        return self.new + self.changed


def apply_ddl(conn: duckdb.DuckDBPyConnection) -> None:
    """Create missing tables, (re)state every column comment, and (re)create the analysts' views,
    unless the warehouse already has this version of them (``meta_schema``).

    Applying them takes about 0.25 s (hundreds of comments), which a small refresh, such as one
    the landing sensor starts, should not pay on every run.
    """
    ddl, views = DDL_PATH.read_text(), VIEWS_PATH.read_text()
    digest = hashlib.blake2b(f"{ddl}\0{views}".encode(), digest_size=16).hexdigest()
    has_table = conn.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE database_name = current_database()"
        " AND schema_name = current_schema() AND table_name = 'meta_schema'"
    ).fetchall() == [(1,)]
    applied = has_table and conn.execute(
        "SELECT count(*) FROM meta_schema WHERE ddl_digest = ?", [digest]
    ).fetchall() == [(1,)]
    if applied:
        return
    conn.execute(ddl)
    conn.execute(views)
    conn.execute("INSERT INTO meta_schema VALUES (?, now()) ON CONFLICT DO NOTHING", [digest]).fetchall()


def known_sources(database: Path) -> pl.DataFrame:
    """The raw records the warehouse holds as this code version made them (``canonical.KNOWN_COLUMNS``).

    Read once at the start of a run so that identical source bytes are not parsed again. The
    last-update-posted date is rebuilt in the source's own spelling (a partial date stays
    partial) so that it competes with freshly parsed versions on equal terms. A missing file or
    a warehouse from before ``raw_hash`` existed knows nothing.
    """
    empty = pl.DataFrame(schema={name: pl.String for name in KNOWN_COLUMNS})
    if not database.exists():
        return empty
    with duckdb.connect(str(database), read_only=True) as conn:
        try:
            return conn.sql(
                """
                SELECT r.raw_hash, r.nct_id,
                       CASE d.last_update_posted_date_precision
                           WHEN 'year' THEN strftime(d.last_update_posted_date, '%Y')
                           WHEN 'month' THEN strftime(d.last_update_posted_date, '%Y-%m')
                           ELSE strftime(d.last_update_posted_date, '%Y-%m-%d') END AS last_update_posted,
                       r.record_hash, r.source_format
                FROM raw_study_record r JOIN dim_study d USING (nct_id)
                WHERE r.raw_hash IS NOT NULL AND d.pipeline_version = $version
                """,
                params={"version": PIPELINE_VERSION},
            ).pl()
        except (duckdb.CatalogException, duckdb.BinderException):
            return empty


LANDING_FILE_COLUMNS = {
    "path": pl.String,
    "keeps_contact_details": pl.Boolean,
    "size_bytes": pl.Int64,
    "modified_ns": pl.Int64,
    "records": pl.Int32,
}


def read_files(database: Path) -> pl.DataFrame:
    """The landing files the warehouse's loads read, as they were then, by this code version."""
    empty = pl.DataFrame(schema=LANDING_FILE_COLUMNS)
    if not database.exists():
        return empty
    with duckdb.connect(str(database), read_only=True) as conn:
        try:
            return conn.sql(
                f"SELECT {', '.join(LANDING_FILE_COLUMNS)} FROM meta_landing_file"
                " WHERE pipeline_version = $version",
                params={"version": PIPELINE_VERSION},
            ).pl()
        except (duckdb.CatalogException, duckdb.BinderException):
            return empty


def parts(folder: Path) -> str:
    """A ``read_parquet`` over one staged table's parts (SQL literal, quotes escaped)."""
    pattern = str(folder / "*.parquet").replace("'", "''")
    return f"read_parquet('{pattern}')"


def load_tables(
    conn: duckdb.DuckDBPyConnection,
    run: LoadRun,
    tables: dict[str, Path],
    records: Path,
    statuses: Path,
    files: Path,
    quarantine: Path,
    issues: Path,
    skipped: Path,
) -> LoadCounts:
    """Apply the staged tables (folders of Parquet parts) to the warehouse; returns the counts.

    ``files`` are the landing files the run read (``LANDING_FILE_COLUMNS``), remembered so that
    a later run can skip them while they stay as they are. ``quarantine`` holds the studies a
    contract kept out (``validate.QUARANTINE_SCHEMA``), recorded as rejections; ``issues`` the
    written studies' data issues; ``skipped`` the landing paths the run did not read. The DDL is
    applied inside the transaction too, so a first load killed half-way leaves no half-made schema.
    """
    conn.execute("BEGIN TRANSACTION")
    try:
        apply_ddl(conn)
        fault_point("load:ddl")
        conn.execute(
            f"""
            CREATE OR REPLACE TEMP TABLE load_plan AS
            SELECT s.nct_id,
                   CASE WHEN w.nct_id IS NULL THEN 'new'
                        WHEN s.last_update_posted_date < w.last_update_posted_date THEN 'stale'
                        WHEN s.record_hash = w.record_hash AND w.pipeline_version = $version THEN 'unchanged'
                        ELSE 'changed' END AS action
            FROM {parts(tables["dim_study"])} s LEFT JOIN dim_study w USING (nct_id)
            """,
            {"version": PIPELINE_VERSION},
        )
        stamp = {"loaded_at": run.started_at, "pipeline_version": PIPELINE_VERSION}
        for name, folder in tables.items():
            _write(conn, DEFINITIONS[name], parts(folder), stamp)
        conn.execute(f"DELETE FROM meta_data_issue WHERE {WRITE}")
        conn.execute(
            f"INSERT INTO meta_data_issue BY NAME SELECT *, $run_id AS run_id FROM {parts(issues)}"
            f" WHERE {WRITE}",
            {"run_id": run.run_id},
        )
        for name in tables:
            _remove_unlisted(conn, DEFINITIONS[name])
        _update_history(conn, run)
        counts = _counts(conn, statuses, quarantine)
        _record_run(conn, run, counts, records, statuses, quarantine)
        conn.execute(
            f"INSERT OR REPLACE INTO meta_landing_file BY NAME SELECT *, $version AS pipeline_version,"
            f" $run_id AS run_id FROM {parts(files)}",
            {"version": PIPELINE_VERSION, "run_id": run.run_id},
        )
        conn.execute(
            "INSERT OR REPLACE INTO meta_skipped_file BY NAME"
            f" SELECT $run_id AS run_id, * FROM {parts(skipped)}",
            {"run_id": run.run_id},
        )
        fault_point("load:commit")
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    return counts


def _write(conn: duckdb.DuckDBPyConnection, table: Table, staged: str, stamp: dict[str, object]) -> None:
    """Write one staged table as its definition says (``Table.load``).

    ``REPLACE_BY_STUDY``: the rows of the studies this load writes are deleted and inserted again,
    with the columns the load adds (``Table.load_columns``, values from ``stamp``).
    ``UPSERT_SHARED``: rows shared by studies are inserted or replaced by key; of several staged rows
    of one key, ``Table.prefer`` decides which wins.
    """
    if table.load is Load.UPSERT_SHARED:
        key = ", ".join(table.key)
        order = ", ".join([key, *([table.prefer] if table.prefer else [])])
        conn.execute(
            f"INSERT OR REPLACE INTO {table.name} BY NAME"
            f" SELECT DISTINCT ON ({key}) * FROM {staged} ORDER BY {order}"
        )
        return
    if table.load is not Load.REPLACE_BY_STUDY:
        raise ValueError(f"{table.name}: the load does not write {table.load} tables from staged data")
    conn.execute(f"DELETE FROM {table.name} WHERE {WRITE}")
    added = "".join(f", ${name} AS {name}" for name in table.load_columns)
    conn.execute(
        f"INSERT INTO {table.name} BY NAME SELECT *{added} FROM {staged} WHERE {WRITE}",
        {name: stamp[name] for name in table.load_columns} or None,
    )


def _remove_unlisted(conn: duckdb.DuckDBPyConnection, table: Table) -> None:
    """Remove the rows of a shared table that no row refers to any more (``RELATIONSHIPS``)."""
    if table.load is not Load.UPSERT_SHARED:
        return
    key = ", ".join(table.key)
    referring = " UNION ".join(
        f"SELECT {', '.join(rel.columns)} FROM {rel.child}"
        for rel in RELATIONSHIPS
        if rel.parent == table.name
    )
    conn.execute(f"DELETE FROM {table.name} WHERE ({key}) NOT IN ({referring})")


def _update_history(conn: duckdb.DuckDBPyConnection, run: LoadRun) -> None:
    """Advance ``dim_study_history`` (type 2) for the studies this load wrote.

    A study whose tracked attributes differ from its current version gets a new version from
    the record's last-update-posted date; the current one is closed there. A difference found at
    the *same* date is a correction of that version (e.g. a parser fix), made in place. Studies
    with no history yet (new, or loaded before the table existed) get their first version.
    Stale records never reach this point (``load_plan``), so history only moves forward.
    """
    changed = " OR ".join(f"d.{name} IS DISTINCT FROM h.{name}" for name in HISTORY_ATTRIBUTES)
    conn.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE history_incoming AS
        SELECT d.*, h.valid_from AS current_from, h.nct_id IS NULL AS is_first,
               greatest(coalesce(d.last_update_posted_date, $today), h.valid_from) AS version_from,
               h.nct_id IS NOT NULL AND ({changed}) AS has_changed
        FROM dim_study d LEFT JOIN dim_study_history h ON h.nct_id = d.nct_id AND h.is_current
        WHERE h.nct_id IS NULL OR d.nct_id IN (SELECT nct_id FROM load_plan WHERE action = 'changed')
        """,
        {"today": run.started_at.date()},
    )
    attributes = ", ".join(HISTORY_ATTRIBUTES)
    version = f"{attributes}, last_update_posted_date, record_hash"
    conn.execute(
        f"""
        UPDATE dim_study_history h SET {", ".join(f"{name} = i.{name}" for name in version.split(", "))},
               loaded_at = $loaded_at
        FROM history_incoming i
        WHERE h.nct_id = i.nct_id AND h.is_current AND i.has_changed AND i.version_from = i.current_from
        """,
        {"loaded_at": run.started_at},
    )
    conn.execute(
        """
        UPDATE dim_study_history h SET valid_to = i.version_from, is_current = false
        FROM history_incoming i
        WHERE h.nct_id = i.nct_id AND h.is_current AND i.has_changed AND i.version_from > i.current_from
        """
    )
    conn.execute(
        f"""
        INSERT INTO dim_study_history BY NAME
        SELECT nct_id, version_from AS valid_from, NULL::DATE AS valid_to, true AS is_current,
               {version}, $loaded_at AS loaded_at
        FROM history_incoming
        WHERE is_first OR (has_changed AND version_from > current_from)
        """,
        {"loaded_at": run.started_at},
    )


def _counts(conn: duckdb.DuckDBPyConnection, statuses: Path, quarantine: Path) -> LoadCounts:
    """Accepted records end up new, changed, unchanged, stale (superseded) or quarantined (rejected)."""
    by_status = dict(conn.execute(f"SELECT status, count(*) FROM {parts(statuses)} GROUP BY ALL").fetchall())
    by_action = dict(conn.execute("SELECT action, count(*) FROM load_plan GROUP BY ALL").fetchall())
    [(quarantined,)] = conn.execute(f"SELECT count(*) FROM {parts(quarantine)}").fetchall()
    return LoadCounts(
        read=sum(by_status.values()),
        new=by_action.get("new", 0),
        changed=by_action.get("changed", 0),
        unchanged=by_action.get("unchanged", 0) + by_status.get("unchanged", 0),
        rejected=by_status.get("rejected", 0) + quarantined,
        superseded=by_status.get("superseded", 0) + by_action.get("stale", 0),
    )


def _record_run(
    conn: duckdb.DuckDBPyConnection,
    run: LoadRun,
    counts: LoadCounts,
    records: Path,
    statuses: Path,
    quarantine: Path,
) -> None:
    conn.execute("DELETE FROM meta_rejection WHERE run_id = $run_id", {"run_id": run.run_id})
    conn.execute(
        f"""
        INSERT INTO meta_rejection BY NAME
        SELECT $run_id AS run_id, r.source_uri, r.source_format, s.reason, r.excerpt
        FROM {parts(records)} r JOIN {parts(statuses)} s USING (record_id) WHERE s.status = 'rejected'
        UNION ALL BY NAME
        SELECT $run_id AS run_id, r.source_uri, r.source_format,
               'breaks the contract: ' || q.reason AS reason,
               q.table_name, q.column_name, q.check_name, q.value AS failing_value
        FROM {parts(quarantine)} q JOIN {parts(records)} r USING (record_id)
        """,
        {"run_id": run.run_id},
    )
    conn.execute(
        "INSERT OR REPLACE INTO meta_load_run BY NAME SELECT $run_id AS run_id, $started AS started_at,"
        " now() AS finished_at, $read AS records_read, $loaded AS records_loaded, $new AS records_new,"
        " $changed AS records_changed, $unchanged AS records_unchanged, $rejected AS records_rejected,"
        " $superseded AS records_superseded, $paths AS source_paths, $version AS pipeline_version",
        {
            "run_id": run.run_id,
            "started": run.started_at,
            "read": counts.read,
            "loaded": counts.loaded,
            "new": counts.new,
            "changed": counts.changed,
            "unchanged": counts.unchanged,
            "rejected": counts.rejected,
            "superseded": counts.superseded,
            "paths": "\n".join(run.source_paths),
            "version": PIPELINE_VERSION,
        },
    )
