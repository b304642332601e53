"""Materialization metadata the Dagster UI shows: row counts, column schemas, previews."""

from __future__ import annotations

from functools import cache

import polars as pl
from dagster import MetadataValue, TableColumn, TableSchema

from schemas.tables import TABLES


@cache
def ddl_comments() -> dict[str, str]:
    """``table`` and ``table.column`` → its description: the comment the generated DDL gives it, read from
    the definitions it is generated from (schemas/)."""
    return {
        **{name: table.description for name, table in TABLES.items()},
        **{f"{name}.{c.name}": c.description for name, table in TABLES.items() for c in table.columns},
    }


def column_schema(table: str, frame: pl.DataFrame) -> TableSchema:
    comments = ddl_comments()
    return TableSchema(
        columns=[
            TableColumn(name=name, type=str(dtype), description=comments.get(f"{table}.{name}"))
            for name, dtype in frame.schema.items()
        ]
    )


def preview(frame: pl.DataFrame, rows: int = 5, width: int = 60) -> MetadataValue:
    """The first rows as a Markdown table, long texts cut to ``width`` characters."""
    shown = frame.head(rows).with_columns(pl.col(pl.String).str.slice(0, width))
    with pl.Config(
        tbl_formatting="MARKDOWN",
        tbl_hide_column_data_types=True,
        tbl_hide_dataframe_shape=True,
        tbl_cols=-1,
        tbl_rows=rows,
        fmt_str_lengths=width,
    ):
        return MetadataValue.md(str(shown))
