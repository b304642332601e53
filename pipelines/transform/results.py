"""Posted results → tables: outcome measures, their groups, denominators and measurements.

Numbers are posted as text ("14", "22.5", "NA"); each numeric column sits beside its raw text so
that values that are not numbers (and their exact spelling) are never lost. Columns that only
identify a parent row ride along as explode keys (their values are the same for every child).
"""

from __future__ import annotations

import polars as pl

from pipelines.transform.paths import ITEM, at, explode_items, exploded

MEASURES = "resultsSection.outcomeMeasuresModule.outcomeMeasures"
KEYS = ["nct_id", "result_ordinal"]


def _measures(studies: pl.DataFrame) -> pl.DataFrame:
    return exploded(studies, MEASURES, "result_ordinal").rename({"item": "measure"})


def _number(raw: pl.Expr) -> pl.Expr:
    return raw.str.strip_chars().cast(pl.Float64, strict=False)


def result_outcomes(studies: pl.DataFrame) -> pl.DataFrame:
    measure = pl.col("measure")
    return _measures(studies).select(
        *KEYS,
        at("type", measure).alias("outcome_type"),
        at("title", measure).alias("title"),
        at("description", measure).alias("description"),
        at("timeFrame", measure).alias("time_frame"),
        at("populationDescription", measure).alias("population"),
        at("reportingStatus", measure).alias("reporting_status"),
        at("anticipatedPostingDate", measure).alias("anticipated_posting_date_raw"),
        at("paramType", measure).alias("param_type"),
        at("dispersionType", measure).alias("dispersion_type"),
        at("unitOfMeasure", measure).alias("units"),
    )


def result_groups(studies: pl.DataFrame) -> pl.DataFrame:
    groups = explode_items(_measures(studies), at("groups", pl.col("measure")), KEYS, "group_ordinal")
    return groups.select(
        *KEYS,
        at("id", ITEM).alias("group_id"),
        at("title", ITEM).alias("group_title"),
        at("description", ITEM).alias("group_description"),
    )


def result_denoms(studies: pl.DataFrame) -> pl.DataFrame:
    denoms = explode_items(_measures(studies), at("denoms", pl.col("measure")), KEYS, "denom_ordinal")
    denoms = denoms.with_columns(units=at("units", ITEM)).rename({"item": "denom"})
    counts = explode_items(denoms, at("counts", pl.col("denom")), [*KEYS, "denom_ordinal", "units"], "n")
    return counts.select(
        *KEYS,
        "denom_ordinal",
        at("groupId", ITEM).alias("group_id"),
        "units",
        at("value", ITEM).alias("count_raw"),
        _number(at("value", ITEM)).alias("count_value"),
    )


def result_measurements(studies: pl.DataFrame) -> pl.DataFrame:
    classes = explode_items(_measures(studies), at("classes", pl.col("measure")), KEYS, "class_ordinal")
    classes = classes.with_columns(class_title=at("title", ITEM)).rename({"item": "class"})
    class_keys = [*KEYS, "class_ordinal", "class_title"]
    categories = explode_items(classes, at("categories", pl.col("class")), class_keys, "category_ordinal")
    categories = categories.with_columns(category_title=at("title", ITEM)).rename({"item": "category"})
    category_keys = [*class_keys, "category_ordinal", "category_title"]
    values = explode_items(categories, at("measurements", pl.col("category")), category_keys, "n")
    raw = {
        name: at(field, ITEM)
        for name, field in [
            ("value", "value"),
            ("spread", "spread"),
            ("lower_limit", "lowerLimit"),
            ("upper_limit", "upperLimit"),
        ]
    }
    return values.select(
        *category_keys,
        at("groupId", ITEM).alias("group_id"),
        *(expr.alias(f"{name}_raw") for name, expr in raw.items()),
        *(_number(expr).alias(name) for name, expr in raw.items()),
        at("comment", ITEM).alias("comment"),
    )


TABLES = {
    "fact_result_outcome": result_outcomes,
    "fact_result_group": result_groups,
    "fact_result_denom": result_denoms,
    "fact_result_measurement": result_measurements,
}
