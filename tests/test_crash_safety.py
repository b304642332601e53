"""A killed run, a held lock, a wrong ``--db``: the previous warehouse stays intact and users are told why.

Runs the installed ``trials`` command in a subprocess and kills it at named points
(``pipelines/faults.py``: ``TRIALS_DIE_AT``) instead of sleeping and hoping. Every process a run
started carries a tag in its environment, so the test can tell whether any of them outlived it.
"""

from __future__ import annotations

import gzip
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import duckdb
import pytest

from pipelines.transform.star import TABLES
from tests.conftest import FIXTURES, LANDING

TRIALS = Path(sys.executable).parent / "trials"
CORPUS = FIXTURES / "corpus" / "studies.ndjson.gz"
pytestmark = pytest.mark.slow


def trials(*args: str, tmp: Path, tag: str = "", **env: str) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, "TMPDIR": str(tmp), "TRIALS_TEST_TAG": tag, **env}
    environment.pop("DAGSTER_HOME", None)
    return subprocess.run([str(TRIALS), *args], capture_output=True, text=True, env=environment, timeout=120)


def tagged_processes(tag: str) -> list[int]:
    """Live processes whose environment carries ``TRIALS_TEST_TAG=tag`` (zombies excluded)."""
    found = []
    for proc in Path("/proc").iterdir():
        try:
            tagged = f"TRIALS_TEST_TAG={tag}".encode() in (proc / "environ").read_bytes().split(b"\0")
            if tagged and "State:\tZ" not in (proc / "status").read_text():
                found.append(int(proc.name))
        except (OSError, ValueError):
            continue
    return found


def snapshot(db: Path) -> dict[str, list[tuple]]:
    with duckdb.connect(str(db), read_only=True) as conn:
        tables = [*TABLES, "meta_load_run", "meta_rejection", "dim_study_history"]
        return {name: conn.execute(f"SELECT * FROM {name} ORDER BY ALL").fetchall() for name in tables}


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("crash")
    db = root / "w.duckdb"
    done = trials("ingest", str(LANDING / "api_v2"), "--db", str(db), tmp=root)
    assert done.returncode == 0, done.stderr
    return db


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    """The 400 real studies as plain NDJSON (several batches, so the worker pool runs)."""
    path = tmp_path / "landing" / "studies.ndjson"
    path.parent.mkdir()
    path.write_bytes(gzip.decompress(CORPUS.read_bytes()))
    return path.parent


def _copy(db: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "w.duckdb"
    copy.write_bytes(db.read_bytes())
    return copy


def test_a_run_killed_while_workers_parse_leaves_no_orphan_and_no_litter(
    warehouse: Path, corpus: Path, tmp_path: Path
) -> None:
    db = _copy(warehouse, tmp_path)
    before = snapshot(db)
    tag = uuid.uuid4().hex
    killed = trials(
        "ingest", str(corpus), "--db", str(db), "--batch-size", "50", "--workers", "2",
        tmp=tmp_path, tag=tag, TRIALS_DIE_AT="parsed-batch",
    )  # fmt: skip
    assert killed.returncode == -signal.SIGKILL
    deadline = time.monotonic() + 10
    while tagged_processes(tag) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert tagged_processes(tag) == []  # the workers died with the run
    assert list(tmp_path.glob("trials-staging-*"))  # the killed run's litter ...
    assert snapshot(db) == before
    again = trials("ingest", str(corpus), "--db", str(db), "--batch-size", "200", tmp=tmp_path)
    assert again.returncode == 0, again.stderr
    assert list(tmp_path.glob("trials-staging-*")) == []  # ... removed by the next run
    with duckdb.connect(str(db), read_only=True) as conn:
        assert conn.execute("SELECT count(*) FROM dim_study").fetchall() == [(400 + 8,)]


def test_a_load_killed_before_its_commit_leaves_the_warehouse_as_it_was(
    warehouse: Path, tmp_path: Path
) -> None:
    db = _copy(warehouse, tmp_path)
    before = snapshot(db)
    killed = trials("ingest", str(LANDING), "--db", str(db), tmp=tmp_path, TRIALS_DIE_AT="load:commit")
    assert killed.returncode == -signal.SIGKILL
    assert snapshot(db) == before


def test_a_first_load_killed_mid_schema_leaves_no_schema(tmp_path: Path) -> None:
    db = tmp_path / "new.duckdb"
    killed = trials(
        "ingest", str(LANDING / "api_v2"), "--db", str(db), tmp=tmp_path, TRIALS_DIE_AT="load:ddl"
    )
    assert killed.returncode == -signal.SIGKILL
    with duckdb.connect(str(db), read_only=True) as conn:
        assert conn.execute("SELECT count(*) FROM duckdb_tables()").fetchall() == [(0,)]
    assert trials("ingest", str(LANDING / "api_v2"), "--db", str(db), tmp=tmp_path).returncode == 0


def test_a_held_lock_fails_at_once_naming_the_holder(warehouse: Path, tmp_path: Path) -> None:
    db = _copy(warehouse, tmp_path)
    reader = subprocess.Popen(
        [sys.executable, "-c", f"import duckdb, time; c = duckdb.connect({str(db)!r}, read_only=True);"
         " print('open', flush=True); time.sleep(60)"],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert reader.stdout.readline() == "open\n"
        refused = trials("ingest", str(LANDING / "api_v2"), "--db", str(db), tmp=tmp_path)
        assert reader.poll() is None  # answered while the reader still holds the file
        waited = trials("ingest", str(LANDING / "api_v2"), "--db", str(db), "--wait", "1", tmp=tmp_path)
    finally:
        reader.kill()
        reader.wait()
    assert refused.returncode == 2
    assert refused.stderr.splitlines() == [
        f"trials: the warehouse {db} is locked by PID {reader.pid} (python{sys.version_info.major}."
        f"{sys.version_info.minor}); close it, or pass --wait SECONDS to wait for it"
    ]
    assert waited.returncode == 2
    assert f"trials: waiting for PID {reader.pid}" in waited.stderr
    assert waited.stderr.splitlines()[-1] == (
        f"trials: the warehouse {db} is locked by PID {reader.pid} (python{sys.version_info.major}."
        f"{sys.version_info.minor})"
    )


@pytest.mark.parametrize(
    ("db", "message"),
    [
        ("{tmp}", "trials: --db {tmp} is a directory: give the path of a DuckDB file"),
        ("/proc/w.duckdb", "trials: cannot write the warehouse's folder /proc: No such file or directory"),
        ("{tmp}/file/w.duckdb", "trials: cannot write the warehouse's folder {tmp}/file: File exists"),
    ],
)
def test_a_db_that_cannot_be_written_fails_in_one_line(db: str, message: str, tmp_path: Path) -> None:
    (tmp_path / "file").write_text("not a folder")
    refused = trials("ingest", str(LANDING / "api_v2"), "--db", db.format(tmp=tmp_path), tmp=tmp_path)
    assert refused.returncode == 2
    assert refused.stderr.splitlines() == [message.format(tmp=tmp_path)]
