"""Structure read out of free text: eligibility thresholds and flags, outcome time points, doses.

These tables derive from other star tables (criterion items, outcomes, interventions) rather than
from the canonical record, so they are built after them (``DERIVED``). The readers themselves are
in ``pipelines/extract``; here each is applied once per *distinct* text (registries repeat the
same criterion and time-frame wording across thousands of studies) and only to texts that can
hold a number, and its findings are joined back to every row that has that text.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable
from typing import Any

import polars as pl

from pipelines.extract.doses import Dose, extract_doses
from pipelines.extract.numbers import WORD_NUMBER
from pipelines.extract.thresholds import (
    CriterionFlags,
    Threshold,
    criterion_flags,
    extract_thresholds,
)
from pipelines.extract.time_frames import TimePoint, parse_time_frame

POLARS_TYPES = {
    "str": pl.String,
    "str | None": pl.String,
    "float": pl.Float64,
    "float | None": pl.Float64,
    "bool": pl.Boolean,
}


def struct_of(record: type) -> pl.Struct:
    """The polars struct of a reader's dataclass (its annotations are strings: ``from __future__``)."""
    return pl.Struct({f.name: POLARS_TYPES[str(f.type)] for f in dataclasses.fields(record)})


def per_distinct(
    frame: pl.DataFrame, keys: list[str], read: Callable[..., Iterable[Any]], record: type
) -> pl.DataFrame:
    """``read(*keys)`` once per distinct key tuple of ``frame``: the keys plus a ``found`` list column."""
    distinct = frame.select(keys).unique()
    names = [f.name for f in dataclasses.fields(record)]
    found = [
        [{name: getattr(item, name) for name in names} for item in read(*values)]
        for values in distinct.iter_rows()
    ]
    return distinct.with_columns(pl.Series("found", found, dtype=pl.List(struct_of(record))))


def _numbered(frame: pl.DataFrame, keys: list[str], ordinal: str) -> pl.DataFrame:
    """Explode ``found`` into rows numbered from 1 within each ``keys`` group."""
    return (
        frame.explode("found", empty_as_null=False)
        .filter(pl.col("found").is_not_null())
        .with_columns(pl.int_range(1, pl.len() + 1, dtype=pl.Int32).over(keys).alias(ordinal))
        .unnest("found")
    )


# Items that can state a threshold: a digit or a number word the reader knows.
HAS_NUMBER = rf"\d|{WORD_NUMBER}"


def eligibility_thresholds(tables: dict[str, pl.DataFrame]) -> pl.DataFrame:
    items = tables["fact_eligibility"].select(
        "nct_id", pl.col("ordinal").alias("criterion_ordinal"), "criterion_type", "criterion_text"
    )
    candidates = items.filter(pl.col("criterion_text").str.contains(f"(?i){HAS_NUMBER}"))
    read = per_distinct(candidates, ["criterion_text", "criterion_type"], extract_thresholds, Threshold)
    rows = candidates.join(read, on=["criterion_text", "criterion_type"], how="left", nulls_equal=True)
    return _numbered(rows, ["nct_id", "criterion_ordinal"], "threshold_ordinal").select(
        "nct_id",
        "criterion_ordinal",
        "threshold_ordinal",
        "criterion_type",
        "parameter",
        "parameter_normalised",
        "operator",
        "value_low",
        "value_high",
        "unit",
        "unit_normalised",
        "value_low_normalised",
        "value_high_normalised",
        "is_negated",
        "matched_text",
    )


def _flags(text: str) -> list[CriterionFlags]:
    return [criterion_flags(text)]


def with_criterion_flags(items: pl.DataFrame) -> pl.DataFrame:
    """fact_eligibility plus the yes/no flags each item's text states (pregnancy, consent, ...)."""
    flags = per_distinct(items, ["criterion_text"], _flags, CriterionFlags)
    flags = flags.with_columns(pl.col("found").list.first()).unnest("found")
    return items.join(flags, on="criterion_text", how="left").select(*items.columns, *FLAG_COLUMNS)


FLAG_COLUMNS = [f.name for f in dataclasses.fields(CriterionFlags)]


def _time_points(text: str) -> list[TimePoint]:
    return parse_time_frame(text) or []


def outcome_timepoints(tables: dict[str, pl.DataFrame]) -> pl.DataFrame:
    outcomes = tables["fact_outcome"].filter(pl.col("time_frame").is_not_null())
    read = per_distinct(outcomes, ["time_frame"], _time_points, TimePoint)
    rows = outcomes.select("nct_id", pl.col("ordinal").alias("outcome_ordinal"), "time_frame").join(
        read, on="time_frame", how="left"
    )
    return _numbered(rows, ["nct_id", "outcome_ordinal"], "timepoint_ordinal").select(
        "nct_id",
        "outcome_ordinal",
        "timepoint_ordinal",
        "day_low",
        "day_high",
        "is_window",
        "is_approximate",
        "label",
    )


def with_time_frame_status(outcomes: pl.DataFrame, timepoints: pl.DataFrame) -> pl.DataFrame:
    """fact_outcome plus ``time_frame_status``: PARSED, UNPARSED, or NULL when there is no time frame."""
    parsed = timepoints.select("nct_id", pl.col("outcome_ordinal").alias("ordinal")).unique()
    return outcomes.join(
        parsed.with_columns(is_parsed=pl.lit(True)), on=["nct_id", "ordinal"], how="left"
    ).select(
        *outcomes.columns,
        pl.when(pl.col("time_frame").is_null())
        .then(None)
        .when(pl.col("is_parsed"))
        .then(pl.lit("PARSED"))
        .otherwise(pl.lit("UNPARSED"))
        .alias("time_frame_status"),
    )


DOSE_SOURCES = ("intervention_name", "intervention_description", "arm_description")


def doses(tables: dict[str, pl.DataFrame]) -> pl.DataFrame:
    """Doses stated in interventions' names and descriptions and in arms' descriptions, in that order."""
    none = pl.lit(None, pl.Int32)
    interventions, arms = tables["fact_intervention"], tables["fact_arm"]
    sources = [
        (interventions, "intervention_name", pl.col("intervention_ordinal"), none),
        (interventions, "description", pl.col("intervention_ordinal"), none),
        (arms, "description", none, pl.col("arm_ordinal")),
    ]
    texts = pl.concat(
        [
            frame.select(
                "nct_id",
                pl.lit(source, pl.String).alias("dose_source"),
                intervention.alias("intervention_ordinal"),
                arm.alias("arm_ordinal"),
                pl.col(column).alias("text"),
            )
            for (frame, column, intervention, arm), source in zip(sources, DOSE_SOURCES, strict=True)
        ]
    ).filter(pl.col("text").str.contains(r"(?i)\d|million|billion|thousand"))
    read = per_distinct(texts, ["text"], extract_doses, Dose)
    rows = texts.join(read, on="text", how="left").sort(
        "nct_id",
        pl.col("dose_source").replace_strict(DOSE_SOURCES, list(range(len(DOSE_SOURCES)))),
        "intervention_ordinal",
        "arm_ordinal",
        maintain_order=True,
    )
    return _numbered(rows, ["nct_id"], "dose_ordinal").select(
        "nct_id",
        "dose_ordinal",
        "dose_source",
        "intervention_ordinal",
        "arm_ordinal",
        pl.col("value").alias("dose_value"),
        pl.col("unit").alias("dose_unit"),
        "is_per_weight",
        "is_exponent_inferred",
        "raw_text",
    )


def derive(tables: dict[str, pl.DataFrame]) -> dict[str, pl.DataFrame]:
    """Add the extracted tables, and the flag and status columns of the tables they come from."""
    timepoints = outcome_timepoints(tables)
    return {
        **tables,
        "fact_eligibility": with_criterion_flags(tables["fact_eligibility"]),
        "fact_outcome": with_time_frame_status(tables["fact_outcome"], timepoints),
        "fact_eligibility_threshold": eligibility_thresholds(tables),
        "fact_outcome_timepoint": timepoints,
        "fact_dose": doses(tables),
    }


DERIVED_TABLES = ("fact_eligibility_threshold", "fact_outcome_timepoint", "fact_dose")
