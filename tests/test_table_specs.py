"""Each table is defined once (schemas/): the committed DDL, the views' comments and the data dictionary
are what the definitions generate, and the warehouse a load builds is what they define."""

from __future__ import annotations

import dataclasses
import itertools
import re
import shutil
from pathlib import Path

import duckdb
import polars as pl
import pytest

from pipelines import cli, load
from pipelines.canonical import STUDY_DTYPE
from pipelines.settings import DDL_PATH, PROJECT_ROOT, VIEWS_PATH
from pipelines.transform.star import SITE_TABLE
from schemas.ddl import create_table, hand_written, warehouse_sql
from schemas.generated import Files, stale, write
from schemas.spec import Load
from schemas.tables import TABLES
from schemas.views import VIEWS, view_columns

DICTIONARY = PROJECT_ROOT / "docs" / "dictionary.md"
COMMITTED = Files(DDL_PATH, VIEWS_PATH, DICTIONARY)


def catalog(conn: duckdb.DuckDBPyConnection) -> dict[str, object]:
    """What a warehouse's schema is, as DuckDB reports it: tables, columns (in order), keys, comments."""
    where = "WHERE database_name = current_database() AND schema_name = current_schema()"
    return {
        "tables": conn.sql(f"SELECT table_name, comment FROM duckdb_tables() {where} ORDER BY 1").fetchall(),
        "columns": conn.sql(
            f"SELECT table_name, column_index, column_name, data_type, comment FROM duckdb_columns() {where}"
            " AND table_name NOT LIKE 'v\\_%' ESCAPE '\\' ORDER BY 1, 2"
        ).fetchall(),
        "keys": conn.sql(
            f"SELECT table_name, constraint_column_names FROM duckdb_constraints() {where}"
            " AND constraint_type = 'PRIMARY KEY' ORDER BY 1"
        ).fetchall(),
    }


def defined_catalog() -> dict[str, object]:
    """The same, as the definitions say it should be."""
    return {
        "tables": sorted((name, table.description) for name, table in TABLES.items()),
        "columns": sorted(
            (name, index, c.name, c.sql_type, c.description)
            for name, table in TABLES.items()
            for index, c in enumerate(table.columns, start=1)
        ),
        "keys": sorted((name, list(t.key)) for name, t in TABLES.items() if t.key and t.key_indexed),
    }


def test_ddl_check_passes_on_the_committed_files(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["ddl", "--check"]) == 0
    assert capsys.readouterr().err == ""


def test_ddl_check_names_the_files_a_changed_definition_makes_stale(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    site = TABLES["dim_site"]
    monkeypatch.setitem(TABLES, "dim_site", dataclasses.replace(site, description="Where studies run."))
    assert cli.main(["ddl", "--check"]) == 1
    (message,) = capsys.readouterr().err.splitlines()
    assert "sql/ddl/warehouse.sql" in message and "docs/dictionary.md" in message
    assert "views.sql" not in message  # no view shows the table's description

    # A column's description is also the description of the view columns that copy it.
    city = dataclasses.replace(site.column("city"), description="Town.")
    columns = tuple(city if c.name == "city" else c for c in site.columns)
    monkeypatch.setitem(TABLES, "dim_site", dataclasses.replace(site, columns=columns))
    assert cli.main(["ddl", "--check"]) == 1
    assert "sql/ddl/views.sql" in capsys.readouterr().err


def test_the_generated_files_are_the_committed_ones(tmp_path: Path) -> None:
    files = Files(tmp_path / "warehouse.sql", tmp_path / "views.sql", tmp_path / "docs" / "dictionary.md")
    shutil.copy(VIEWS_PATH, files.views)
    assert write(files) == [files.warehouse, files.dictionary]  # views.sql was copied as committed
    assert stale(files) == []
    for generated, committed in zip(dataclasses.astuple(files), dataclasses.astuple(COMMITTED), strict=True):
        assert generated.read_text() == committed.read_text()

    # A view's comments are regenerated wherever they stand, whatever they said.
    edited = VIEWS_PATH.read_text().replace(
        "COMMENT ON VIEW v_study_site IS '", "COMMENT ON VIEW v_study_site IS 'Old: "
    )
    files.views.write_text(hand_written(edited))
    assert stale(files) == [files.views]
    write(files)
    assert files.views.read_text() == VIEWS_PATH.read_text()


def test_the_generated_ddl_creates_the_defined_schema() -> None:
    with duckdb.connect() as conn:
        conn.execute(warehouse_sql())
        assert catalog(conn) == defined_catalog()


def test_the_ddl_brings_an_older_warehouse_up_to_the_definitions() -> None:
    """A warehouse made before the migrations (meta_rejection without the quarantine columns, INTEGER
    enrollment counts) ends with exactly the defined schema."""
    rejection = TABLES["meta_rejection"]
    added = ("table_name", "column_name", "check_name", "failing_value")
    before_quarantine = dataclasses.replace(
        rejection, columns=tuple(c for c in rejection.columns if c.name not in added)
    )
    with duckdb.connect() as conn:
        conn.execute(
            create_table(TABLES["dim_study"]).replace("enrollment_count BIGINT", "enrollment_count INTEGER")
        )
        conn.execute(create_table(before_quarantine))
        before = conn.sql("SELECT data_type FROM duckdb_columns() WHERE column_name = 'enrollment_count'")
        assert before.fetchall() == [("INTEGER",)]
        conn.execute(warehouse_sql())
        assert catalog(conn) == defined_catalog()


def test_the_built_warehouse_has_the_defined_columns(sample_warehouse: Path) -> None:
    with duckdb.connect(str(sample_warehouse), read_only=True) as conn:
        built = catalog(conn)
        views = conn.sql(
            "SELECT c.table_name, c.column_name, c.comment FROM duckdb_columns() c"
            " JOIN duckdb_views() v ON v.view_name = c.table_name AND NOT v.internal ORDER BY 1, c.column_index"
        ).fetchall()
    assert built == defined_catalog()
    documented = view_columns(warehouse_sql(), hand_written(VIEWS_PATH.read_text()))
    assert views == sorted(
        ((view, c.name, c.description) for view, columns in documented.items() for c in columns),
        key=lambda row: row[0],
    )


def dictionary_rows() -> dict[str, dict[str, list[str]]]:
    """Each section of docs/dictionary.md (a table or view) → its column rows' cells by column name."""
    sections = re.split(r"^### ", DICTIONARY.read_text(), flags=re.MULTILINE)[1:]
    rows: dict[str, dict[str, list[str]]] = {}
    for section in sections:
        name, _, body = section.partition("\n")
        cells = [re.split(r"(?<!\\)\|", line)[1:-1] for line in body.splitlines() if line.startswith("| `")]
        rows[name] = {cell[0].strip(" `"): [c.strip() for c in cell[1:]] for cell in cells}
    return rows


def test_the_dictionary_describes_every_column_and_every_star_column_has_a_source() -> None:
    rows = dictionary_rows()
    views = view_columns(warehouse_sql(), hand_written(VIEWS_PATH.read_text()))
    assert list(rows) == [*TABLES, *(view.name for view in VIEWS)]
    for name, table in TABLES.items():
        assert list(rows[name]) == [c.name for c in table.columns]
        assert all(c.description for c in table.columns), name
        if table.model:
            assert [c.name for c in table.columns if not c.source] == [], name
    for view, columns in views.items():
        assert list(rows[view]) == [c.name for c in columns]
    for name, columns in rows.items():
        assert [column for column, (_, _, description, *_) in columns.items() if not description] == [], name


def expand(path: str) -> list[str]:
    """``a.{b,c}d`` → ``a.bd``, ``a.cd`` (every brace group)."""
    parts = re.split(r"\{([^}]*)\}", path)
    choices = [[part] if i % 2 == 0 else part.split(",") for i, part in enumerate(parts)]
    return ["".join(chosen) for chosen in itertools.product(*choices)]


def resolves(path: str) -> bool:
    dtype: pl.DataType = STUDY_DTYPE
    for step in re.findall(r"[^.\[\]]+|\[\]", path):
        if step == "[]" and isinstance(dtype, pl.List):
            dtype = dtype.inner
        elif isinstance(dtype, pl.Struct) and step in {f.name for f in dtype.fields}:
            dtype = next(f.dtype for f in dtype.fields if f.name == step)
        else:
            return False
    return True


def test_source_paths_are_fields_of_the_canonical_record() -> None:
    paths = [
        (f"{name}.{c.name}", path)
        for name, table in TABLES.items()
        if table.model
        for c in table.columns
        if c.source and not c.source.startswith("derived:")
        for source in c.source.split("; ")
        for path in expand(source)
    ]
    assert len(paths) > 150
    assert [(column, path) for column, path in paths if not resolves(path)] == []
    assert not resolves("protocolSection.statusModule.overallStatusX")


def test_load_strategies_are_what_the_load_does() -> None:
    """The load deletes and re-inserts by nct_id, upserts the one shared table, and versions the history
    with the tracked attributes of dim_study."""
    by_load = {load_: [n for n, t in TABLES.items() if t.load == load_] for load_ in Load}
    assert by_load[Load.UPSERT_SHARED] == [SITE_TABLE]
    assert [
        n for n in by_load[Load.REPLACE_BY_STUDY] if "nct_id" not in [c.name for c in TABLES[n].columns]
    ] == []
    history = TABLES["dim_study_history"]
    for name in load.HISTORY_ATTRIBUTES:
        assert history.column(name).dtype == TABLES["dim_study"].column(name).dtype


def test_a_view_column_copying_nothing_needs_a_description() -> None:
    sql = hand_written(VIEWS_PATH.read_text()).replace(
        "    f.sponsor_class,\n", "    f.sponsor_class,\n    1 AS mystery,\n"
    )
    with pytest.raises(ValueError, match=r"v_study_sponsor\.mystery copies no table column"):
        view_columns(warehouse_sql(), sql)
    with pytest.raises(ValueError, match=r"views only in the SQL \['v_extra'\]"):
        view_columns(warehouse_sql(), sql + "CREATE VIEW v_extra AS SELECT 1 AS x;\n")
