"""Reading the canonical ``study`` struct: dotted paths and list explosion with ordinals."""

from __future__ import annotations

import polars as pl

STUDY = pl.col("study")
ITEM = pl.col("item")


def at(path: str, root: pl.Expr = STUDY) -> pl.Expr:
    """The value at a dotted path of nested structs (``protocolSection.statusModule.whyStopped``)."""
    expr = root
    for name in path.split("."):
        expr = expr.struct.field(name)
    return expr


def p(path: str) -> pl.Expr:
    """A ``protocolSection`` path."""
    return at("protocolSection." + path)


NCT_ID = p("identificationModule.nctId").alias("nct_id")


def explode_items(
    frame: pl.DataFrame, items: pl.Expr, keys: list[str], ordinal: str = "ordinal"
) -> pl.DataFrame:
    """One row per element of a list: ``keys``, a 1-based ``ordinal`` within them, and ``item``.

    ``explode`` turns an empty or NULL list into no row / a NULL row; the NULL rows are dropped,
    so a parent without children simply has none (the parent table itself is never exploded).
    """
    return (
        frame.select(*keys, items.alias("item"))
        .explode("item")
        .filter(pl.col("item").is_not_null())
        .with_columns(pl.int_range(1, pl.len() + 1, dtype=pl.Int32).over(keys).alias(ordinal))
    )


def exploded(studies: pl.DataFrame, path: str, ordinal: str = "ordinal") -> pl.DataFrame:
    """One row per element of a canonical list field, ``path`` from the record's root."""
    return explode_items(studies.select(NCT_ID, STUDY), at(path), ["nct_id"], ordinal)


def tagged_lists(studies: pl.DataFrame, parts: list[tuple[dict[str, object], pl.Expr]]) -> pl.DataFrame:
    """Several lists of one shape as one table: each part's rows carry its literal ``tags``.

    ``ordinal`` runs across the parts in the order given (primary outcomes before secondary ...).
    """
    frames = [
        studies.select(NCT_ID, items.alias("item"))
        .explode("item")
        .filter(pl.col("item").is_not_null())
        .with_columns(pl.lit(value).alias(name) for name, value in tags.items())
        for tags, items in parts
    ]
    return pl.concat(frames).with_columns(
        ordinal=pl.int_range(1, pl.len() + 1, dtype=pl.Int32).over("nct_id")
    )
