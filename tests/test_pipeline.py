"""End to end: the real ingest job on real records into a temp DuckDB file."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import orjson
import pytest

from pipelines import load
from pipelines.load import apply_ddl
from pipelines.transform.star import TABLES
from tests.conftest import API_V2_SAMPLES, NOT_A_STUDY, SEEDS, run_ingest

JUNK = {
    "picture.png": b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)),
    "notes.txt": NOT_A_STUDY.encode(),
    "other.json": b'{"hello": "world"}',
}


@pytest.fixture(scope="module")
def landing(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("landing")
    shutil.copytree(SEEDS, root / "classic")
    (root / "api").mkdir()
    for path in API_V2_SAMPLES:
        shutil.copy(path, root / "api" / path.name)
    for name, content in JUNK.items():
        (root / name).write_bytes(content)
    return root


@pytest.fixture(scope="module")
def warehouse(landing: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("warehouse")
    result = run_ingest([landing], root / "trials.duckdb", root / "staging")
    assert result.success
    return root / "trials.duckdb"


def _query(db: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(db), read_only=True) as conn:
        return conn.execute(sql).fetchall()


def _snapshot(db: Path) -> dict[str, list[tuple]]:
    """Every star table's rows in a stable order, without the load timestamp."""
    with duckdb.connect(str(db), read_only=True) as conn:
        return {
            name: conn.execute(
                f"SELECT * {'EXCLUDE (loaded_at)' if name == 'dim_study' else ''} FROM {name} ORDER BY ALL"
            ).fetchall()
            for name in TABLES
        }


COUNTS = "records_read, records_new, records_changed, records_unchanged, records_rejected, records_superseded"


def test_every_record_is_accounted_for(warehouse: Path) -> None:
    assert _query(warehouse, f"SELECT {COUNTS} FROM meta_load_run") == [
        (2 + len(API_V2_SAMPLES) + len(JUNK), 10, 0, 0, 3, 0)
    ]
    assert _query(warehouse, "SELECT count(*) FROM dim_study") == [(10,)]
    reasons = dict(
        _query(warehouse, "SELECT regexp_extract(source_uri, '[^/]+$'), reason FROM meta_rejection")
    )
    assert reasons.keys() == JUNK.keys()
    assert reasons["picture.png"].startswith("not text")
    assert reasons["notes.txt"].startswith("unrecognised format")
    assert "no protocolSection" in reasons["other.json"]


def test_a_rerun_leaves_identical_tables(landing: Path, warehouse: Path, tmp_path: Path) -> None:
    db = tmp_path / "copy.duckdb"
    shutil.copy(warehouse, db)
    before = _snapshot(db)
    result = run_ingest([landing], db, tmp_path / "staging")
    assert result.success
    assert _snapshot(db) == before
    [parsed] = result.asset_materializations_for_node("canonical_studies")
    assert parsed.metadata["files_skipped_unchanged"].value == 13  # not even opened
    assert parsed.metadata["records_in_skipped_files"].value == 13
    assert _query(db, f"SELECT {COUNTS} FROM meta_load_run ORDER BY started_at") == [
        (13, 10, 0, 0, 3, 0),
        (0, 0, 0, 0, 0, 0),
    ]


def test_a_file_that_changed_since_is_read_again(landing: Path, warehouse: Path, tmp_path: Path) -> None:
    db = tmp_path / "copy.duckdb"
    shutil.copy(warehouse, db)
    changed = tmp_path / "landing"
    shutil.copytree(landing, changed)
    assert run_ingest([changed], db, tmp_path / "staging").success  # another folder: read, all unchanged
    study = orjson.loads(API_V2_SAMPLES[0].read_bytes())
    study["protocolSection"]["identificationModule"]["briefTitle"] += " (amended)"
    (changed / "api" / API_V2_SAMPLES[0].name).write_bytes(orjson.dumps(study))
    result = run_ingest([changed], db, tmp_path / "staging")
    [parsed] = result.asset_materializations_for_node("canonical_studies")
    assert (parsed.metadata["files_read"].value, parsed.metadata["files_skipped_unchanged"].value) == (1, 12)
    assert _query(db, f"SELECT {COUNTS} FROM meta_load_run ORDER BY started_at") == [
        (13, 10, 0, 0, 3, 0),
        (13, 0, 0, 10, 3, 0),
        (1, 0, 1, 0, 0, 0),
    ]


def test_a_systemic_contract_failure_blocks_the_load(warehouse: Path, tmp_path: Path) -> None:
    """Eleven studies out of contract in a run of eleven: no bad record alone, a fault (one is quarantined:
    tests/test_fault_isolation.py). Nothing is loaded; the warehouse stays as it was."""
    db = tmp_path / "copy.duckdb"
    shutil.copy(warehouse, db)
    before = _snapshot(db)
    study = orjson.loads(API_V2_SAMPLES[0].read_bytes())
    study["protocolSection"]["designModule"]["enrollmentInfo"]["count"] = -5
    for n in range(11):
        study["protocolSection"]["identificationModule"]["nctId"] = f"NCT990000{n:02d}"
        (tmp_path / f"bad{n}.json").write_bytes(orjson.dumps(study))
    result = run_ingest(sorted(tmp_path.glob("bad*.json")), db, tmp_path / "staging")
    assert not result.success
    [evaluation] = [
        e
        for e in result.get_asset_check_evaluations()
        if e.asset_key.path == ["dim_study"] and e.check_name == "pandera_contract"
    ]
    assert not evaluation.passed
    assert evaluation.metadata["studies_quarantined"].value == 11
    assert "greater_than_or_equal_to(0)" in evaluation.metadata["quarantined"].value
    assert _snapshot(db) == before
    assert not (tmp_path / "staging" / "dim_study").exists()


def test_the_latest_version_of_a_study_wins(tmp_path: Path) -> None:
    study = orjson.loads(API_V2_SAMPLES[0].read_bytes())
    status = study["protocolSection"]["statusModule"]
    newer = orjson.loads(orjson.dumps(study))
    newer["protocolSection"]["statusModule"]["lastUpdatePostDateStruct"]["date"] = "2099-01-01"
    newer["protocolSection"]["statusModule"]["overallStatus"] = "TERMINATED"
    (tmp_path / "a_newer.json").write_bytes(orjson.dumps(newer))
    (tmp_path / "b_older.json").write_bytes(orjson.dumps(study))
    db = tmp_path / "t.duckdb"
    assert run_ingest([tmp_path / "a_newer.json", tmp_path / "b_older.json"], db, tmp_path / "s").success
    assert status["overallStatus"] != "TERMINATED"
    assert _query(db, "SELECT overall_status, source_uri FROM dim_study") == [
        ("TERMINATED", str(tmp_path / "a_newer.json"))
    ]
    assert _query(db, "SELECT records_loaded, records_superseded FROM meta_load_run") == [(1, 1)]


def test_a_later_run_changes_only_what_changed_and_never_rolls_back(tmp_path: Path) -> None:
    """Across runs: a newer version replaces a study, an older one is ignored, the rest is skipped."""
    db, landing = tmp_path / "t.duckdb", tmp_path / "landing"
    landing.mkdir()
    studies = {path.stem: orjson.loads(path.read_bytes()) for path in API_V2_SAMPLES[:3]}
    for nct_id, study in studies.items():
        (landing / f"{nct_id}.json").write_bytes(orjson.dumps(study))
    assert run_ingest([landing], db, tmp_path / "s").success

    first, second, _ = studies
    newer = studies[first]["protocolSection"]["statusModule"]
    newer["lastUpdatePostDateStruct"]["date"] = "2099-01-01"
    newer["overallStatus"] = "TERMINATED"
    (landing / f"{first}.json").write_bytes(orjson.dumps(studies[first]))
    older = studies[second]["protocolSection"]["statusModule"]
    older["lastUpdatePostDateStruct"]["date"] = "2001-01-01"
    older["overallStatus"] = "WITHDRAWN"
    (landing / f"{second}.json").write_bytes(orjson.dumps(studies[second]))
    before = _query(db, f"SELECT overall_status, loaded_at FROM dim_study WHERE nct_id = '{second}'")
    assert run_ingest([landing], db, tmp_path / "s").success

    # the third file is as it was: skipped unread; of the two rewritten, one is newer, one stale
    assert _query(db, f"SELECT {COUNTS} FROM meta_load_run ORDER BY started_at")[-1] == (2, 0, 1, 0, 0, 1)
    assert _query(db, f"SELECT overall_status FROM dim_study WHERE nct_id = '{first}'") == [("TERMINATED",)]
    assert _query(db, f"SELECT overall_status, loaded_at FROM dim_study WHERE nct_id = '{second}'") == before


def test_the_schema_is_applied_once_per_version(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def comment(conn: duckdb.DuckDBPyConnection) -> str:
        [(text,)] = conn.execute(
            "SELECT comment FROM duckdb_tables() WHERE table_name = 'dim_study'"
        ).fetchall()
        return text

    with duckdb.connect(str(tmp_path / "w.duckdb")) as conn:
        apply_ddl(conn)
        documented = comment(conn)
        conn.execute("COMMENT ON TABLE dim_study IS 'edited by hand'")
        apply_ddl(conn)  # the version the warehouse has: not applied again
        assert comment(conn) == "edited by hand"

        edited = tmp_path / "warehouse.sql"
        edited.write_text(load.DDL_PATH.read_text() + "\n-- the next version\n")
        monkeypatch.setattr(load, "DDL_PATH", edited)
        apply_ddl(conn)
        assert comment(conn) == documented
        assert conn.execute("SELECT count(*) FROM meta_schema").fetchall() == [(2,)]
