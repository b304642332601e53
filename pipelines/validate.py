"""Build a batch's star tables and hold each record to the contracts, one record at a time.

One bad record must never cost the good ones. ``build_checked`` builds every table of a batch,
checks them (pandera models and foreign keys, ``schemas/star.py``) and traces each failing row
back to its study: those studies are *quarantined* — all their rows in every table leave the
batch, with the table, column, check and offending value as the reason — and the tables are
built again from the rest, until what is left passes. A transform that raises is bisected the
same way down to the records that make it raise. What no single record explains (a missing
column, a wrong dtype) is *systemic*: it is returned as such and blocks the load.

Two kinds of finding are not failures: a value outside an enum's known values (the registry adds
values over time) and registry text that cannot be read as what it should be (the date
``2020-13-45``). The value is kept as written (the date column is NULL, the raw text stays in the
record), and the finding becomes a row of ``meta_data_issue``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandera.polars as pa
import polars as pl
from pandera.config import ValidationDepth, config_context

from pipelines.transform.mapping import date_sources
from pipelines.transform.paths import NCT_ID, at
from pipelines.transform.star import SITE_TABLE, build_tables
from pipelines.transform.values import date_value
from schemas.star import MODELS, foreign_key_failures, vocabularies

FAILURE_SCHEMA = {
    "nct_id": pl.String,
    "table_name": pl.String,
    "column_name": pl.String,
    "check_name": pl.String,
    "value": pl.String,
}
ISSUE_SCHEMA = {
    "nct_id": pl.String,
    "table_name": pl.String,
    "column_name": pl.String,
    "issue": pl.String,
    "value": pl.String,
}
# One row per quarantined study: the first failure in columns, every failure in ``reason``.
QUARANTINE_SCHEMA = {
    "record_id": pl.Int64,
    "nct_id": pl.String,
    "reason": pl.String,
    "tables": pl.List(pl.String),
    **{name: dtype for name, dtype in FAILURE_SCHEMA.items() if name != "nct_id"},
}
REASON_CHARACTERS = 1000
RAISING_LIMIT = 10  # records a batch may quarantine because a transform raises on them
NEW_VOCABULARY = "value outside the known vocabulary"
UNREADABLE_DATE = "not a date"


@dataclass
class Checked:
    """A batch's tables after quarantine, and what was found on the way."""

    tables: dict[str, pl.DataFrame]
    quarantined: pl.DataFrame = field(default_factory=lambda: pl.DataFrame(schema=QUARANTINE_SCHEMA))
    systemic: pl.DataFrame = field(default_factory=lambda: pl.DataFrame(schema=FAILURE_SCHEMA))
    issues: pl.DataFrame = field(default_factory=lambda: pl.DataFrame(schema=ISSUE_SCHEMA))


def build_checked(records: pl.DataFrame) -> Checked:
    """Every star table from the accepted ``records``, with the records that break a contract out."""
    records = records.filter(pl.col("status") == "accepted")
    ids = records.select("nct_id", "record_id")
    quarantined: list[pl.DataFrame] = []
    while True:  # each round removes at least one record, or ends
        tables, broken = _build_isolating(records)
        quarantined.append(broken)
        records = records.join(broken.select("nct_id"), on="nct_id", how="anti")
        failures = pl.concat([contract_failures(name, tables) for name in tables])
        bad = failures.filter(pl.col("nct_id").is_in(records["nct_id"].implode()))
        systemic = failures.join(bad, on=failures.columns, how="anti")
        if systemic.height or bad.is_empty():
            break
        quarantined.append(bad)
        records = records.join(bad.select("nct_id"), on="nct_id", how="anti")
    return Checked(tables, per_study(pl.concat(quarantined), ids), systemic, data_issues(records, tables))


def per_study(failures: pl.DataFrame, ids: pl.DataFrame) -> pl.DataFrame:
    """``QUARANTINE_SCHEMA``: each study's failures as one line, e.g.
    ``fact_dose.dose_value: greater_than_or_equal_to(0) = -1; …``."""
    described = pl.concat_str(
        pl.concat_str(pl.col("table_name"), pl.lit("."), pl.col("column_name"), ignore_nulls=True),
        pl.lit(": "),
        pl.col("check_name"),
        pl.lit(" = ").fill_null(""),
        pl.col("value"),
        ignore_nulls=True,
    )
    return (
        failures.group_by("nct_id", maintain_order=True)
        .agg(
            described.unique(maintain_order=True)
            .str.join("; ")
            .str.slice(0, REASON_CHARACTERS)
            .alias("reason"),
            pl.col("table_name").drop_nulls().unique(maintain_order=True).alias("tables"),
            pl.all().exclude("nct_id").first(),
        )
        .join(ids, on="nct_id", how="left")
        .select(list(QUARANTINE_SCHEMA))
        .cast(QUARANTINE_SCHEMA)
    )


def _build_isolating(records: pl.DataFrame) -> tuple[dict[str, pl.DataFrame], pl.DataFrame]:
    """``build_tables`` on ``records``; if it raises, the records that make it raise, found by halving.

    Halving costs about log₂ n builds per raising record, so it stops past ``RAISING_LIMIT`` records:
    a transform that raises on that many is broken, not fed a few bad records, and the error is
    raised as it is (the run fails).
    """
    try:
        return build_tables(records), pl.DataFrame(schema=FAILURE_SCHEMA)
    except Exception as error:
        broken = _raising(records, [RAISING_LIMIT])
        if broken is None:
            raise error from None
    return build_tables(records.join(broken.select("nct_id"), on="nct_id", how="anti")), broken


def _raising(records: pl.DataFrame, budget: list[int]) -> pl.DataFrame | None:
    """The records on which ``build_tables`` raises, each with the exception; None past the budget."""
    try:
        build_tables(records)
    except Exception as error:
        if records.height == 1:
            budget[0] -= 1
            if budget[0] < 0:
                return None
            nct_id = records["nct_id"].item()
            message = f"{type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''}"
            return pl.DataFrame(
                [(nct_id, None, None, "transform raised", message[:500])], schema=FAILURE_SCHEMA, orient="row"
            )
        half = records.height // 2
        first = _raising(records.head(half), budget)
        second = None if first is None else _raising(records.tail(records.height - half), budget)
        return None if second is None else pl.concat([first, second])
    return pl.DataFrame(schema=FAILURE_SCHEMA)


def contract_failures(name: str, tables: dict[str, pl.DataFrame]) -> pl.DataFrame:
    """One table's contract failures (pandera, lazily, all at once; then foreign keys), per study.

    ``nct_id`` names the study a failing row belongs to (for ``dim_site``, every study that lists
    the site); it is NULL for a failure of the table as a whole (a column or dtype), which no
    record explains.
    """
    frame = tables[name]
    failures: list[pl.DataFrame] = []
    # An empty table cannot fail a check on its values, so only its columns and types are checked:
    # the same verdict, without a query per check (a small refresh leaves many tables empty).
    depth = ValidationDepth.SCHEMA_ONLY if frame.is_empty() else ValidationDepth.SCHEMA_AND_DATA
    try:
        with config_context(validation_depth=depth):
            MODELS[name].validate(frame, lazy=True)
    except pa.errors.SchemaErrors as error:
        cases = error.failure_cases
        rows = _owners(
            name, tables, frame.with_row_index("index").select(pl.col("index").cast(pl.Int32), *_key(name))
        )
        failures.append(
            cases.join(rows, on="index", how="left").select(
                "nct_id",
                pl.lit(name).alias("table_name"),
                pl.when(pl.col("schema_context") == "Column").then(pl.col("column")).alias("column_name"),
                pl.col("check").alias("check_name"),
                pl.col("failure_case").cast(pl.String).str.slice(0, 500).alias("value"),
            )
        )
    orphans = foreign_key_failures(name, tables)
    if orphans.height:
        failures.append(
            orphans.select(
                "nct_id",
                pl.lit(name).alias("table_name"),
                pl.lit(None, pl.String).alias("column_name"),
                pl.col("relationship").alias("check_name"),
                pl.col("key").alias("value"),
            )
        )
    return pl.concat(failures) if failures else pl.DataFrame(schema=FAILURE_SCHEMA)


def _key(name: str) -> list[str]:
    return ["site_id"] if name == SITE_TABLE else ["nct_id"]


def _owners(name: str, tables: dict[str, pl.DataFrame], rows: pl.DataFrame) -> pl.DataFrame:
    """``index`` → ``nct_id`` of each row (a site belongs to every study that lists it)."""
    if name != SITE_TABLE:
        return rows
    return rows.join(tables["bridge_study_site"].select("site_id", "nct_id"), on="site_id").drop("site_id")


def vocabulary_issues(name: str, frame: pl.DataFrame) -> pl.DataFrame:
    """Values of ``frame``'s enum columns that are not among the known ones, once per study."""
    found = [
        frame.filter(pl.col(column).is_not_null() & ~pl.col(column).is_in(known)).select(
            "nct_id",
            pl.lit(name).alias("table_name"),
            pl.lit(column).alias("column_name"),
            pl.lit(NEW_VOCABULARY).alias("issue"),
            pl.col(column).alias("value"),
        )
        for column, known in vocabularies(name).items()
    ]
    return pl.concat(found).unique(maintain_order=True) if found else pl.DataFrame(schema=ISSUE_SCHEMA)


def unreadable_dates(records: pl.DataFrame) -> pl.DataFrame:
    """Registry date text that is not a date (``2020-13-45``): the column is NULL, the text is kept here."""
    found = [
        records.select(NCT_ID, at(path).alias("value"))
        .filter(pl.col("value").is_not_null() & date_value(pl.col("value")).is_null())
        .select(
            "nct_id",
            pl.lit("dim_study").alias("table_name"),
            pl.lit(column).alias("column_name"),
            pl.lit(UNREADABLE_DATE).alias("issue"),
            "value",
        )
        for column, path in date_sources("dim_study").items()
    ]
    return pl.concat(found)


def data_issues(records: pl.DataFrame, tables: dict[str, pl.DataFrame]) -> pl.DataFrame:
    """Everything worth telling about the loaded values that is not a reason to reject them."""
    return pl.concat(
        [unreadable_dates(records), *(vocabulary_issues(n, t) for n, t in tables.items() if n != SITE_TABLE)]
    )
