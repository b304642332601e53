"""What a warehouse table is, whoever defines it: columns with type and documentation, key, load.

A star table is defined by its pandera model (``schemas.star``): the contract its rows are
validated against is also where its columns are documented (``description=``, and ``metadata``
with the record path each is read from and AACT's equivalent) and, on the model's ``Config``, the
table's description and how the load writes it. The tables the load fills with its own SQL are
declared as ``Table`` directly (``schemas.load_tables``). ``schemas.tables`` gathers both; the DDL
and the data dictionary are generated from them (``trials ddl``).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import pandera.polars as pa
import polars as pl


class Load(StrEnum):
    """How the load writes a table (``pipelines.load.load_tables``)."""

    REPLACE_BY_STUDY = "replace_by_study"
    UPSERT_SHARED = "upsert_shared"
    HISTORY = "history"
    BOOKKEEPING = "bookkeeping"

    @property
    def meaning(self) -> str:
        return LOAD_MEANINGS[self]


LOAD_MEANINGS = {
    Load.REPLACE_BY_STUDY: "a study the load writes has all its rows deleted and inserted again",
    Load.UPSERT_SHARED: "shared by studies: inserted or replaced by key; rows no study lists any more are "
    "removed",
    Load.HISTORY: "a new version when a tracked attribute changes; never rewritten into the past",
    Load.BOOKKEEPING: "written by the pipeline about its own runs, files and schema",
}

SQL_TYPES = {
    pl.String: "VARCHAR",
    pl.Int32: "INTEGER",
    pl.Int64: "BIGINT",
    pl.Float64: "DOUBLE",
    pl.Boolean: "BOOLEAN",
    pl.Date: "DATE",
}


def sql_type(dtype: pl.DataType) -> str:
    """The DuckDB type a polars column is stored as (the one the load's ``INSERT ... BY NAME`` meets)."""
    if isinstance(dtype, pl.List):
        return f"{sql_type(dtype.inner)}[]"
    if isinstance(dtype, pl.Datetime) and dtype.time_zone is not None:
        return "TIMESTAMP WITH TIME ZONE"
    return SQL_TYPES[dtype.base_type()]


@dataclass(frozen=True)
class Column:
    """A column: its polars type, whether NULL is allowed, what it holds and where it comes from.

    ``source`` is a path in the canonical record (API v2 structure; ``[]`` steps into a list's
    items, ``{a,b}`` lists alternatives, ``;`` separates paths, ``extras.*`` holds facts API v2 has
    no field for), or ``derived: how`` for a value computed rather than read. ``aact`` is the
    equivalent ``table.column`` of AACT, the CTTI's relational copy of the registry, where one exists.
    """

    name: str
    dtype: pl.DataType
    description: str
    nullable: bool = True
    source: str | None = None
    aact: str | None = None

    @property
    def sql_type(self) -> str:
        return sql_type(self.dtype)


@dataclass(frozen=True)
class Table:
    """A warehouse table.

    ``key`` is unique; ``key_indexed`` says whether the DDL declares it as PRIMARY KEY (an index
    DuckDB maintains) or only states it in a comment, for tables too large to index (see the header
    of sql/ddl/warehouse.sql). ``model`` names the pandera model validating the rows, if any.
    """

    name: str
    description: str
    columns: tuple[Column, ...]
    load: Load
    key: tuple[str, ...] = ()
    key_indexed: bool = True
    model: str | None = None
    load_columns: tuple[str, ...] = ()  # written by the load itself, not staged
    prefer: str | None = None  # UPSERT_SHARED: which of several staged rows of a key wins (ORDER BY)

    def column(self, name: str) -> Column:
        for column in self.columns:
            if column.name == name:
                return column
        raise KeyError(f"{self.name} has no column {name}")


@dataclass(frozen=True)
class Migration:
    """Brings a warehouse made by an earlier version of the DDL up to this one, which ``CREATE TABLE IF
    NOT EXISTS`` alone does not: columns ``added`` to a table since, columns ``retyped`` (to the type
    they have now), each as ``table.column``. ``why`` becomes a comment above the statements."""

    why: str
    added: tuple[str, ...] = ()
    retyped: tuple[str, ...] = ()


def from_model(name: str, model: type[pa.DataFrameModel]) -> Table:
    """The table a pandera model defines, with the columns the load adds (``Config.metadata``).

    Its key is its one ``unique=True`` column (a row per study or per site: declared PRIMARY KEY),
    or else ``Config.unique`` (the fact and bridge tables: stated, not indexed).
    """
    schema = model.to_schema()
    options = model.Config.metadata
    columns = tuple(
        Column(
            column.name,
            column.dtype.type,
            column.description,
            column.nullable,
            column.metadata.get("source"),
            column.metadata.get("aact"),
        )
        for column in schema.columns.values()
    )
    unique_columns = tuple(column.name for column in schema.columns.values() if column.unique)
    return Table(
        name,
        schema.description,
        columns + options.get("load_columns", ()),
        options["load"],
        key=unique_columns or tuple(schema.unique or ()),
        key_indexed=bool(unique_columns),
        model=model.__name__,
        load_columns=tuple(column.name for column in options.get("load_columns", ())),
        prefer=options.get("prefer"),
    )


def documented(description: str, source: str, aact: str | None = None, **options: Any) -> Any:
    """A pandera field that also says what its column holds, where it comes from (``Column``) and its
    AACT equivalent; ``options`` are pandera's (checks, ``nullable``, more ``metadata``)."""
    metadata = {"source": source, **({"aact": aact} if aact else {}), **options.pop("metadata", {})}
    return pa.Field(description=description, metadata=metadata, **options)
