"""The mapping as data: a table's columns read from the canonical record by their spec's ``source``.

Each column of a star table states where it comes from (``schemas/star.py``: ``metadata["source"]``),
in the spirit of AACT's mapping tables. One interpreter reads those paths, so a column read as it
stands is written once, in its definition:

- ``path.to.field`` — a field of the study (``a; b``: the first that is not NULL);
- ``path.to.list[].field`` / ``path.to.list[]`` — a field of each list item (or the item itself),
  one row per item; the table's ordinal is the column whose source is
  ``derived: position in path.to.list, from 1``;
- ``derived: how much of <path> …`` — the precision (day, month, year) of a registry date;
- a column of the record frame with the column's name (``source_format``, ``source_uri`` …).

Types convert by the pair (source type, column type): registry date text to DATE (partial dates
at their first day), a list of enum values to one ``A/B`` text. Anything else ``derived:`` is
computed by an expression the builder names (``computed``), never guessed from the text.
"""

from __future__ import annotations

from collections.abc import Callable

import polars as pl

from pipelines.canonical import STUDY_DTYPE
from pipelines.transform.paths import ITEM, NCT_ID, at, exploded
from pipelines.transform.values import date_precision, date_value, joined
from schemas.star import MODELS

POSITION = "derived: position in "
PRECISION = "derived: how much of "  # … <path> the source gave (day, month or year)


def source_dtype(path: str) -> pl.DataType:
    """The canonical record's type at ``path`` (``[]`` steps into a list's items)."""
    dtype: pl.DataType = STUDY_DTYPE
    for step in path.replace("[]", ".[]").split("."):
        if step == "[]":
            dtype = dtype.inner  # type: ignore[union-attr]
        else:
            dtype = next(field.dtype for field in dtype.fields if field.name == step)  # type: ignore[union-attr]
    return dtype


def converted(expr: pl.Expr, source: pl.DataType, column: pl.DataType) -> pl.Expr:
    """``expr`` of the ``source`` type as the column's type (the conversions are by type, not by name)."""
    if source == pl.String and column == pl.Date:
        return date_value(expr)
    if isinstance(source, pl.List) and column == pl.String:
        return joined(expr)
    return expr


def _read(path: str, column: pl.DataType) -> pl.Expr:
    """One source path (study-level, or relative to the exploded ``item``) as a column expression."""
    if "[]" in path:
        field = path.split("[]", 1)[1].removeprefix(".")
        expr = at(field, ITEM) if field else ITEM
    else:
        expr = at(path)
    return converted(expr, source_dtype(path), column)


def columns(table: str, computed: dict[str, pl.Expr] | None = None) -> list[pl.Expr]:
    """Every validated column of ``table`` in its defined order, read by its source or ``computed``."""
    computed = computed or {}
    expressions = []
    for name, column in MODELS[table].to_schema().columns.items():
        source = column.metadata["source"]
        if name in computed:
            expr = computed[name]
        elif name == "nct_id":
            expr = NCT_ID
        elif source.startswith(PRECISION):
            expr = date_precision(at(source.removeprefix(PRECISION).split(" ", 1)[0]))
        elif source.startswith("derived:"):
            expr = pl.col(name)  # the exploded list's ordinal, or a column of the record frame
        else:
            paths = [path.strip() for path in source.split(";")]
            reads = [_read(path, column.dtype.type) for path in paths]
            expr = reads[0] if len(reads) == 1 else pl.coalesce(reads)
        expressions.append(expr.alias(name))
    return expressions


def list_root(table: str) -> tuple[str, str]:
    """The list a child table has a row per item of, and its ordinal column."""
    for name, column in MODELS[table].to_schema().columns.items():
        source = column.metadata["source"]
        if source.startswith(POSITION):
            return source.removeprefix(POSITION).removesuffix(", from 1"), name
    raise ValueError(f"{table} has no ordinal column (source 'derived: position in …')")


def study_table(
    table: str, computed: dict[str, pl.Expr] | None = None
) -> Callable[[pl.DataFrame], pl.DataFrame]:
    """A builder of a table with a row per study."""
    expressions = columns(table, computed)
    return lambda studies: studies.select(expressions)


def item_table(
    table: str, computed: dict[str, pl.Expr] | None = None
) -> Callable[[pl.DataFrame], pl.DataFrame]:
    """A builder of a table with a row per item of one list of the study."""
    root, ordinal = list_root(table)
    expressions = columns(table, {"nct_id": pl.col("nct_id"), **(computed or {})})
    return lambda studies: exploded(studies, root, ordinal).select(expressions)


def date_sources(table: str) -> dict[str, str]:
    """The DATE columns of ``table`` read from registry date text, and that text's path."""
    return {
        name: column.metadata["source"]
        for name, column in MODELS[table].to_schema().columns.items()
        if column.dtype.type == pl.Date and not column.metadata["source"].startswith("derived:")
    }
