"""`trials sql` only reads: nothing it runs writes the warehouse, another database or any file.

Every test runs the real command in-process on a real DuckDB file made in ``tmp_path``, and checks the
files under ``tmp_path`` byte for byte (and their modification times) after each refused statement.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import duckdb
import pytest

from pipelines.cli import main
from pipelines.settings import PROJECT_ROOT

ROWS = [("NCT00000001", "PHASE2"), ("NCT00000002", "NA")]


@pytest.fixture
def db(tmp_path: Path) -> Path:
    """A small warehouse in its own folder, a CSV beside it, and another DuckDB file beside it."""
    folder = tmp_path / "warehouse"
    folder.mkdir()
    path = folder / "trials.duckdb"
    with duckdb.connect(str(path)) as conn:
        conn.execute("CREATE TABLE dim_study (nct_id VARCHAR, phase VARCHAR)")
        conn.executemany("INSERT INTO dim_study VALUES (?, ?)", ROWS)
    with duckdb.connect(str(folder / "other.duckdb")) as conn:
        conn.execute("CREATE TABLE t AS SELECT 42 AS answer")
    (folder / "sites.csv").write_text("site,country\nLyon,France\nOslo,Norway\n")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "secret.csv").write_text("secret\nhunter2\n")
    return path


def sql(capsys: pytest.CaptureFixture[str], db: Path, query: str, *options: str) -> tuple[int, str, str]:
    code = main(["sql", query, "--db", str(db), *options])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def files(root: Path) -> dict[str, tuple[bytes, int]]:
    """Every file and folder under ``root``: its bytes (files) and modification time."""
    return {
        str(path.relative_to(root)): (path.read_bytes() if path.is_file() else b"", path.stat().st_mtime_ns)
        for path in sorted(root.rglob("*"))
    }


def rows(db: Path, query: str = "SELECT * FROM dim_study ORDER BY nct_id") -> list[tuple[object, ...]]:
    with duckdb.connect(str(db)) as conn:  # read-write: the file is still a sound DuckDB database
        return conn.execute(query).fetchall()


def assert_refused(code: int, out: str, err: str, message: str) -> None:
    assert code == 2
    assert out == ""
    assert err.startswith("trials: ") and err.count("\n") == 1, err  # one line
    assert message in err


def test_reads_the_warehouse(capsys: pytest.CaptureFixture[str], db: Path) -> None:
    code, out, err = sql(capsys, db, "SELECT nct_id, phase FROM dim_study ORDER BY nct_id", "--format", "csv")
    assert (code, err) == (0, "")
    assert list(csv.reader(io.StringIO(out))) == [["nct_id", "phase"], *map(list, ROWS)]


def test_reads_files_beside_the_warehouse(capsys: pytest.CaptureFixture[str], db: Path) -> None:
    beside = db.parent / "sites.csv"
    code, out, err = sql(
        capsys, db, f"SELECT site FROM read_csv('{beside}') ORDER BY site", "--format", "csv"
    )
    assert (code, err) == (0, "")
    assert out.splitlines() == ["site", "Lyon", "Oslo"]


def test_reads_files_of_the_project(capsys: pytest.CaptureFixture[str], db: Path) -> None:
    pyproject = PROJECT_ROOT / "pyproject.toml"
    code, out, err = sql(capsys, db, f"SELECT content FROM read_text('{pyproject}')", "--format", "json")
    assert (code, err) == (0, "")
    assert "trials" in out


@pytest.mark.parametrize(
    "outside", ["/etc/passwd", "{tmp}/elsewhere/secret.csv", "{tmp}/warehouse/../elsewhere/secret.csv"]
)
def test_refuses_files_outside_the_project(
    capsys: pytest.CaptureFixture[str], db: Path, tmp_path: Path, outside: str
) -> None:
    path = outside.format(tmp=tmp_path)
    code, out, err = sql(capsys, db, f"SELECT * FROM read_csv('{path}')")
    assert_refused(code, out, err, f'Cannot access file "{path}"')
    assert "hunter2" not in out + err


WRITES = [
    ("COPY (SELECT 1) TO '{db}'", "COPY refused"),
    ("COPY dim_study TO '{folder}/copy.csv'", "COPY refused"),
    ("COPY dim_study TO '{folder}/copy.parquet' (FORMAT parquet)", "COPY refused"),
    ("COPY (SELECT 1) TO '{tmp}/elsewhere/copy.csv'", "COPY refused"),
    ("SELECT 1; COPY (SELECT 1) TO '{folder}/copy.csv'", "COPY refused"),  # nothing runs, not even the SELECT
    ("EXPLAIN ANALYZE COPY (SELECT 1) TO '{folder}/copy.csv'", "COPY refused"),  # EXPLAIN ANALYZE runs it
    ("EXPLAIN (ANALYZE, FORMAT json) COPY (SELECT 1) TO '{folder}/copy.csv'", "COPY refused"),
    ("PREPARE p AS COPY (SELECT 1) TO '{folder}/copy.csv'; EXECUTE p", "PREPARE refused"),
    ("EXPORT DATABASE '{folder}/export'", "EXPORT DATABASE refused"),
    ("ATTACH '{folder}/new.duckdb' AS n", "ATTACH refused"),
    ("INSTALL json", "INSTALL or LOAD of an extension refused"),
    ("FORCE INSTALL spatial", "INSTALL or LOAD of an extension refused"),
    ("LOAD json", "INSTALL or LOAD of an extension refused"),
    ("PRAGMA copy_database('trials', 'temp')", "PRAGMA refused"),
    ("SET enable_external_access = true", "the configuration has been locked"),
    ("RESET enable_external_access", "the configuration has been locked"),
    ("SET allowed_directories = ['/']", "the configuration has been locked"),
    ("SET lock_configuration = false", "the configuration has been locked"),
    ("SET log_query_path = '{folder}/queries.log'", "the configuration has been locked"),
    ("SELECT * FROM enable_logging(storage = 'file', storage_path = '{folder}/logs')", "has been locked"),
    ("CALL enable_profiling(format = 'json', save_location = '{folder}/profile.json')", "has been locked"),
    ("DROP TABLE dim_study", "read-only mode"),
    ("INSERT INTO dim_study VALUES ('NCT00000003', 'PHASE1')", "read-only mode"),
]


@pytest.mark.parametrize(("statement", "message"), WRITES)
def test_refuses_writes(
    capsys: pytest.CaptureFixture[str], db: Path, tmp_path: Path, statement: str, message: str
) -> None:
    before = files(tmp_path)
    code, out, err = sql(capsys, db, statement.format(db=db, folder=db.parent, tmp=tmp_path))
    assert_refused(code, out, err, message)
    assert files(tmp_path) == before  # no byte, file or folder written (nor the warehouse's mtime)
    assert rows(db) == ROWS


def test_refuses_attaching_another_file_for_writing(
    capsys: pytest.CaptureFixture[str], db: Path, tmp_path: Path
) -> None:
    other = db.parent / "other.duckdb"
    before = files(tmp_path)
    code, out, err = sql(capsys, db, f"ATTACH '{other}' AS o (READ_WRITE); DROP TABLE o.t")
    assert_refused(code, out, err, "ATTACH refused")
    assert files(tmp_path) == before
    assert rows(other, "SELECT * FROM t") == [(42,)]


def test_refuses_importing_sql_files(capsys: pytest.CaptureFixture[str], db: Path, tmp_path: Path) -> None:
    """IMPORT DATABASE runs the SQL files of a folder, which no check here could see."""
    dump = db.parent / "dump"
    dump.mkdir()
    (dump / "schema.sql").write_text(f"COPY (SELECT 1) TO '{db.parent / 'imported.csv'}';\n")
    (dump / "load.sql").write_text("")
    before = files(tmp_path)
    for statement in (f"IMPORT DATABASE '{dump}'", f"PRAGMA import_database('{dump}')"):
        code, out, err = sql(capsys, db, statement)
        assert_refused(code, out, err, "PRAGMA refused")
    assert files(tmp_path) == before


def test_prints_every_result(capsys: pytest.CaptureFixture[str], db: Path) -> None:
    query = (
        "SELECT count(*) AS studies FROM dim_study; SET VARIABLE phase = 'NA'; "
        "CREATE TEMP TABLE picked AS SELECT nct_id FROM dim_study WHERE phase = getvariable('phase'); "
        "SELECT nct_id FROM picked"
    )
    code, out, err = sql(capsys, db, query, "--format", "csv")
    assert (code, err) == (0, "")
    assert out == "studies\n2\n\nnct_id\nNCT00000002\n"
    code, out, err = sql(capsys, db, "SELECT 1 AS a; SELECT 2 AS b", "--format", "json")
    assert (code, err) == (0, "")
    assert out == '[{"a":1}]\n\n[{"b":2}]\n'
    code, out, err = sql(capsys, db, "SELECT 1 AS a; SELECT 2 AS b")
    assert code == 0
    first, second = out.split("\n\n")
    assert "│ a" in first and "│ b" in second


def test_settings_do_not_outlive_the_command(capsys: pytest.CaptureFixture[str], db: Path) -> None:
    """The locked, closed configuration belongs to the command's connection, not to the next one."""
    assert sql(capsys, db, "SELECT 1")[0] == 0
    with duckdb.connect(str(db)) as conn:
        conn.execute(f"COPY dim_study TO '{db.parent / 'later.csv'}'")
        conn.execute("INSERT INTO dim_study VALUES ('NCT00000003', 'PHASE1')")
    assert (db.parent / "later.csv").exists()
    assert len(rows(db)) == 3
