"""The tables the load writes with its own SQL rather than from validated frames: the study history
and the pipeline's bookkeeping. Declared as ``Table`` directly (there is no frame to validate), so
that the DDL and the data dictionary are generated for them too.
"""

from __future__ import annotations

import polars as pl

from schemas.spec import Column, Load, Migration, Table
from schemas.star import DimStudy

TIMESTAMP = pl.Datetime("us", "UTC")

# The dim_study attributes whose changes dim_study_history keeps (a version per change), with what
# each holds there; pipelines.load.HISTORY_ATTRIBUTES.
TRACKED = {
    "overall_status": "Overall recruitment status in this version (dim_study.overall_status).",
    "enrollment_count": "Enrollment in this version.",
    "enrollment_type": "ACTUAL or ESTIMATED in this version.",
    "phase": "Phase(s) in this version.",
    "start_date": "Start date in this version (precision as dim_study).",
    "start_date_type": "ACTUAL or ESTIMATED.",
    "primary_completion_date": "Primary completion date in this version.",
    "primary_completion_date_type": "ACTUAL or ESTIMATED.",
    "completion_date": "Completion date in this version.",
    "completion_date_type": "ACTUAL or ESTIMATED.",
    "why_stopped": "Why the study stopped, in this version.",
}


def _of_study(name: str, description: str) -> Column:
    """A dim_study column as a version of the study held it: dim_study's type, this table's words."""
    dtype = DimStudy.to_schema().columns[name].dtype.type
    return Column(name, dtype, description, source=f"dim_study.{name}")


DIM_STUDY_HISTORY = Table(
    "dim_study_history",
    "Type-2 slowly changing dimension of the study attributes that change over a trial's life: one row per "
    "version in which any of them changed. Only moves forward: an older record loaded after a newer one is "
    "superseded, never written into the past.",
    (
        Column("nct_id", pl.String, "Study (dim_study.nct_id).", source="dim_study.nct_id"),
        Column(
            "valid_from",
            pl.Date,
            "First day this version holds: the registry's last-update-posted date of the record that brought "
            "it (the load date when the record has none), never before the previous version's valid_from. "
            "Key with nct_id.",
            source="derived: dim_study.last_update_posted_date of the version",
        ),
        Column(
            "valid_to",
            pl.Date,
            "valid_from of the next version (exclusive); NULL while current.",
            source="derived: valid_from of the next version",
        ),
        Column(
            "is_current",
            pl.Boolean,
            "Is this the version dim_study holds now? Exactly one per study.",
            source="derived: no later version",
        ),
        *(_of_study(name, description) for name, description in TRACKED.items()),
        _of_study(
            "last_update_posted_date",
            "Last-update-posted date of the record that brought (or last corrected) this version.",
        ),
        _of_study("record_hash", "record_hash of that record."),
        Column(
            "loaded_at",
            TIMESTAMP,
            "When the load that wrote this version ran.",
            source="derived: start of the load that wrote the version",
        ),
    ),
    Load.HISTORY,
    key=("nct_id", "valid_from"),
)

META_LOAD_RUN = Table(
    "meta_load_run",
    "One row per load: records_read = records_new + records_changed + records_unchanged + records_rejected + "
    "records_superseded.",
    (
        Column("run_id", pl.String, "Dagster run id of the load."),
        Column("started_at", TIMESTAMP, "When the load transaction started."),
        Column("finished_at", TIMESTAMP, "When the load committed."),
        Column(
            "records_read", pl.Int32, "Raw records read (files, zip members, NDJSON lines, page entries)."
        ),
        Column("records_loaded", pl.Int32, "Studies written: records_new + records_changed."),
        Column("records_new", pl.Int32, "Studies the warehouse did not hold before."),
        Column(
            "records_changed",
            pl.Int32,
            "Studies whose record (or the code deriving their rows) changed, rewritten.",
        ),
        Column("records_unchanged", pl.Int32, "Studies identical to the warehouse's version, skipped."),
        Column("records_rejected", pl.Int32, "Records rejected (see meta_rejection)."),
        Column(
            "records_superseded",
            pl.Int32,
            "Records not loaded because a newer version of the study was read in the same run or is already "
            "in the warehouse.",
        ),
        Column("source_paths", pl.String, "Landing paths read, separated by newlines."),
        Column("pipeline_version", pl.String, "Fingerprint of the transformation code of this run."),
    ),
    Load.BOOKKEEPING,
    key=("run_id",),
)

META_LANDING_FILE = Table(
    "meta_landing_file",
    "Each landing file a successful load read, as it was then: a later run skips a file whose size and "
    "modification time are unchanged (made by the same code), without opening it.",
    (
        Column("path", pl.String, "Absolute path of the file."),
        Column(
            "keeps_contact_details",
            pl.Boolean,
            "Whether that run kept contacts' phone numbers and e-mails (a different setting reads the file "
            "again).",
        ),
        Column("size_bytes", pl.Int64, "File size when it was read."),
        Column("modified_ns", pl.Int64, "Modification time (ns since the epoch) when it was read."),
        Column("records", pl.Int32, "Raw records the file held."),
        Column("pipeline_version", pl.String, "Fingerprint of the code that read it."),
        Column("run_id", pl.String, "The load that read it last (meta_load_run.run_id)."),
    ),
    Load.BOOKKEEPING,
    key=("path", "keeps_contact_details"),
)

META_REJECTION = Table(
    "meta_rejection",
    "Records a run did not load, with the reason: records that could not be read as studies, and studies "
    "quarantined because a value breaks a table's contract (all their rows kept out; the warehouse keeps its "
    "earlier version of the study, if any).",
    (
        Column("run_id", pl.String, "Run (meta_load_run.run_id)."),
        Column("source_uri", pl.String, "Where the record came from."),
        Column("source_format", pl.String, "Format detected, NULL when none was recognised."),
        Column("reason", pl.String, "Why it was rejected."),
        Column("excerpt", pl.String, "The record's first 200 characters, unprintable bytes replaced."),
        Column(
            "table_name",
            pl.String,
            "For a quarantined study: the table of its first failing row (reason lists every failure).",
        ),
        Column(
            "column_name",
            pl.String,
            "For a quarantined study: the failing column; NULL for a row-level check or a transform error.",
        ),
        Column(
            "check_name",
            pl.String,
            "For a quarantined study: the check that failed (pandera's name, a foreign key, or \"transform "
            'raised").',
        ),
        Column(
            "failing_value",
            pl.String,
            "For a quarantined study: the offending value as text (or the exception).",
        ),
    ),
    Load.BOOKKEEPING,
    key=("run_id", "source_uri"),
)

META_DATA_ISSUE = Table(
    "meta_data_issue",
    "What is odd about a loaded study's values without being a reason to reject it: a value outside the "
    "registry vocabulary known to this code (loaded as written), a registry date that is no date (the date "
    "column is NULL). Replaced with the study.",
    (
        Column("nct_id", pl.String, "Study (dim_study.nct_id)."),
        Column("table_name", pl.String, "Table of the value."),
        Column("column_name", pl.String, "Column of the value."),
        Column("issue", pl.String, '"value outside the known vocabulary" or "not a date".'),
        Column("value", pl.String, "The value as the source wrote it."),
        Column("run_id", pl.String, "The load that wrote the study (meta_load_run.run_id)."),
    ),
    Load.REPLACE_BY_STUDY,
)

META_SKIPPED_FILE = Table(
    "meta_skipped_file",
    "Paths of the landing zone a run did not read, and why: a symlink that leaves the landing zone, a file "
    "that vanished or changed between listing and reading (read again by the next run), a special file.",
    (
        Column("run_id", pl.String, "Run (meta_load_run.run_id)."),
        Column("path", pl.String, "The path as the landing zone lists it."),
        Column("reason", pl.String, "Why it was not read."),
    ),
    Load.BOOKKEEPING,
    key=("run_id", "path"),
)

META_SCHEMA = Table(
    "meta_schema",
    "Each version of this DDL and the views applied to the warehouse: a load skips applying a version the "
    "warehouse already has.",
    (
        Column(
            "ddl_digest",
            pl.String,
            "BLAKE2b digest of sql/ddl/warehouse.sql and sql/ddl/views.sql as applied.",
        ),
        Column("applied_at", TIMESTAMP, "When that version was first applied."),
    ),
    Load.BOOKKEEPING,
    key=("ddl_digest",),
)

LOAD_TABLES = (
    DIM_STUDY_HISTORY,
    META_LOAD_RUN,
    META_LANDING_FILE,
    META_REJECTION,
    META_DATA_ISSUE,
    META_SKIPPED_FILE,
    META_SCHEMA,
)

MIGRATIONS = (
    Migration(
        "Warehouses made before contract quarantine gain its columns.",
        added=(
            "meta_rejection.table_name",
            "meta_rejection.column_name",
            "meta_rejection.check_name",
            "meta_rejection.failing_value",
        ),
    ),
    Migration(
        "Enrollment counts were INTEGER before a real count could exceed it.",
        retyped=("dim_study.enrollment_count", "dim_study_history.enrollment_count"),
    ),
)
