"""One bad record never costs the good ones: faults a registry load meets, each on real records.

Each test builds its landing folder from real studies (the bundled samples and the 400-study corpus),
breaks one thing the way real data or a real machine does, runs the real ingest job into a temp
DuckDB file, and checks that every good record loaded and every bad one has its reason.
"""

from __future__ import annotations

import gzip
import shutil
import threading
import time
from pathlib import Path

import duckdb
import orjson
import pytest

from tests.conftest import API_V2_SAMPLES, CORPUS, run_ingest

COUNTS = "records_read, records_new, records_rejected, records_superseded"


def _query(db: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(db), read_only=True) as conn:
        return conn.execute(sql).fetchall()


def _studies() -> list[dict]:
    return [orjson.loads(path.read_bytes()) for path in API_V2_SAMPLES]


def _land(folder: Path, studies: list[dict]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "studies.ndjson").write_bytes(b"\n".join(orjson.dumps(study) for study in studies))
    return folder


def _nct_id(study: dict) -> str:
    return study["protocolSection"]["identificationModule"]["nctId"]


def _design(study: dict) -> dict:
    return study["protocolSection"]["designModule"]


def test_the_real_corpus_loads_every_study(corpus_warehouse: Path) -> None:
    """400 real registry studies; a real zero dose and a '10 000 U/m²' dose once blocked all of them."""
    db = corpus_warehouse
    assert _query(db, f"SELECT {COUNTS} FROM meta_load_run") == [(400, 400, 0, 0)]
    assert _query(db, "SELECT count(*) FROM dim_study") == [(400,)]
    with gzip.open(CORPUS) as lines:
        nct_ids = {_nct_id(orjson.loads(line)) for line in lines}
    assert {nct_id for (nct_id,) in _query(db, "SELECT nct_id FROM dim_study")} == nct_ids
    assert (
        _query(db, "SELECT dose_value, dose_unit, raw_text FROM fact_dose WHERE nct_id = 'NCT03156790'")
        == [(10000.0, "U/m²", "10 000 U/m²")] * 2
    )


def test_a_count_beyond_32_bits_loads_as_written(tmp_path: Path) -> None:
    studies = _studies()
    _design(studies[0])["enrollmentInfo"]["count"] = 10**12
    db = tmp_path / "w.duckdb"
    assert run_ingest([_land(tmp_path / "landing", studies)], db, tmp_path / "staging").success
    assert _query(db, f"SELECT {COUNTS} FROM meta_load_run") == [(len(studies), len(studies), 0, 0)]
    nct_id = _nct_id(studies[0])
    assert _query(db, f"SELECT enrollment_count FROM dim_study WHERE nct_id = '{nct_id}'") == [(10**12,)]


def test_a_study_out_of_contract_is_quarantined_and_the_rest_loads(tmp_path: Path) -> None:
    studies = _studies()
    _design(studies[1])["enrollmentInfo"]["count"] = -5
    bad = _nct_id(studies[1])
    db = tmp_path / "w.duckdb"
    result = run_ingest([_land(tmp_path / "landing", studies)], db, tmp_path / "staging")
    assert result.success
    assert _query(db, f"SELECT {COUNTS} FROM meta_load_run") == [(len(studies), len(studies) - 1, 1, 0)]
    assert _query(db, "SELECT table_name, column_name, check_name, failing_value FROM meta_rejection") == [
        ("dim_study", "enrollment_count", "greater_than_or_equal_to(0)", "-5")
    ]
    [(reason,)] = _query(db, "SELECT reason FROM meta_rejection")
    assert reason == "breaks the contract: dim_study.enrollment_count: greater_than_or_equal_to(0) = -5"
    # none of its rows in any table; every other study whole
    for table in ("dim_study", "fact_outcome", "fact_eligibility", "bridge_study_site", "raw_study_record"):
        assert _query(db, f"SELECT count(*) FROM {table} WHERE nct_id = '{bad}'") == [(0,)], table
    assert _query(db, "SELECT count(*) FROM dim_study") == [(len(studies) - 1,)]
    [evaluation] = [
        e
        for e in result.get_asset_check_evaluations()
        if e.asset_key.path == ["dim_study"] and e.check_name == "pandera_contract"
    ]
    assert evaluation.passed  # one bad record is not a systemic fault
    assert evaluation.metadata["studies_quarantined"].value == 1
    assert bad in evaluation.metadata["quarantined"].value


def test_many_studies_out_of_contract_block_the_load(tmp_path: Path) -> None:
    """Past the threshold the fault is systemic (a broken parser would look like this): nothing loads."""
    with gzip.open(CORPUS) as lines:
        studies = [orjson.loads(line) for line in lines][:40]
    for study in studies[:11]:  # 11 of 40: over 1 % and over the grace of 10
        _design(study)["enrollmentInfo"]["count"] = -1
    db = tmp_path / "w.duckdb"
    result = run_ingest([_land(tmp_path / "landing", studies)], db, tmp_path / "staging")
    assert not result.success
    failed = {
        e.asset_key.path[0]
        for e in result.get_asset_check_evaluations()
        if not e.passed and e.check_name == "pandera_contract"
    }
    assert "dim_study" in failed
    assert not db.exists()  # the load never ran
    assert not (tmp_path / "staging" / "dim_study").exists()


def test_new_vocabulary_is_loaded_as_written_and_reported(tmp_path: Path) -> None:
    studies = _studies()
    studies[0]["protocolSection"]["statusModule"]["overallStatus"] = "PAUSED_FOR_REVIEW"
    interventions = studies[2]["protocolSection"]["armsInterventionsModule"]["interventions"]
    interventions[0]["type"] = "DIGITAL_THERAPEUTIC"
    db = tmp_path / "w.duckdb"
    result = run_ingest([_land(tmp_path / "landing", studies)], db, tmp_path / "staging")
    assert result.success
    assert _query(db, f"SELECT {COUNTS} FROM meta_load_run") == [(len(studies), len(studies), 0, 0)]
    first, third = _nct_id(studies[0]), _nct_id(studies[2])
    assert _query(db, f"SELECT overall_status FROM dim_study WHERE nct_id = '{first}'") == [
        ("PAUSED_FOR_REVIEW",)
    ]
    assert _query(
        db, "SELECT nct_id, table_name, column_name, issue, value FROM meta_data_issue ORDER BY ALL"
    ) == sorted(
        [
            (first, "dim_study", "overall_status", "value outside the known vocabulary", "PAUSED_FOR_REVIEW"),
            (
                third,
                "fact_intervention",
                "intervention_type",
                "value outside the known vocabulary",
                "DIGITAL_THERAPEUTIC",
            ),
        ]
    )
    warnings = {
        e.asset_key.path[0]: e
        for e in result.get_asset_check_evaluations()
        if e.check_name == "known_vocabulary" and not e.passed
    }
    assert warnings.keys() == {"dim_study", "fact_intervention"}
    assert "PAUSED_FOR_REVIEW" in warnings["dim_study"].metadata["new_values"].value


def test_a_date_that_is_no_date_is_null_and_reported(tmp_path: Path) -> None:
    studies = _studies()
    studies[0]["protocolSection"]["statusModule"]["startDateStruct"]["date"] = "2020-13-45"
    db = tmp_path / "w.duckdb"
    assert run_ingest([_land(tmp_path / "landing", studies)], db, tmp_path / "staging").success
    nct_id = _nct_id(studies[0])
    assert _query(
        db, f"SELECT start_date, start_date_precision FROM dim_study WHERE nct_id = '{nct_id}'"
    ) == [(None, None)]
    assert _query(db, "SELECT nct_id, column_name, issue, value FROM meta_data_issue") == [
        (nct_id, "start_date", "not a date", "2020-13-45")
    ]
    raw = _query(
        db,
        f"SELECT record_json->>'$.protocolSection.statusModule.startDateStruct.date' FROM raw_study_record WHERE nct_id = '{nct_id}'",
    )
    assert raw == [("2020-13-45",)]


def test_a_reloaded_study_replaces_its_data_issues(tmp_path: Path) -> None:
    studies = _studies()[:2]
    studies[0]["protocolSection"]["statusModule"]["startDateStruct"]["date"] = "2020-13-45"
    landing = _land(tmp_path / "landing", studies)
    db = tmp_path / "w.duckdb"
    assert run_ingest([landing], db, tmp_path / "staging").success
    studies[0]["protocolSection"]["statusModule"]["startDateStruct"]["date"] = "2020-12"
    studies[0]["protocolSection"]["statusModule"]["lastUpdatePostDateStruct"]["date"] = "2099-01-01"
    shutil.rmtree(landing)
    assert run_ingest([_land(landing, studies)], db, tmp_path / "staging").success
    assert _query(db, "SELECT count(*) FROM meta_data_issue") == [(0,)]


def test_files_that_change_under_a_run_are_skipped_and_read_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The run pauses once its files are listed (``TRIALS_PAUSE_AT=listed``); one file is deleted and
    one rewritten meanwhile. Both are skipped with their reason, the rest loads, the next run reads them."""
    studies = _studies()
    landing = tmp_path / "landing"
    _land(landing / "kept", studies[:3])
    vanishing = _land(landing / "vanishing", studies[3:5]) / "studies.ndjson"
    rewritten = _land(landing / "rewritten", studies[5:]) / "studies.ndjson"
    marker = tmp_path / "paused"
    monkeypatch.setenv("TRIALS_PAUSE_AT", "listed")
    monkeypatch.setenv("TRIALS_PAUSE_FILE", str(marker))
    db = tmp_path / "w.duckdb"

    def meanwhile() -> None:  # while the run waits at the pause point
        deadline = time.monotonic() + 60
        while not marker.exists() and time.monotonic() < deadline:
            time.sleep(0.02)
        vanishing.unlink()
        rewritten.write_bytes(rewritten.read_bytes() + b"\n")
        marker.unlink()

    changer = threading.Thread(target=meanwhile)
    changer.start()
    result = run_ingest([landing], db, tmp_path / "staging")
    changer.join(timeout=60)
    assert result.success
    [parsed] = result.asset_materializations_for_node("canonical_studies")
    assert parsed.metadata["files_skipped"].value == 2
    skipped = {entry["path"]: entry["reason"] for entry in parsed.metadata["skipped_files"].value}
    assert skipped[str(vanishing)] == "vanished after it was listed"
    assert skipped[str(rewritten)].startswith("changed after it was listed: size ")
    assert _query(db, "SELECT count(*) FROM dim_study") == [(3,)]
    assert _query(db, "SELECT count(*) FROM meta_landing_file") == [(1,)]
    assert dict(_query(db, "SELECT path, reason FROM meta_skipped_file")) == skipped

    monkeypatch.delenv("TRIALS_PAUSE_AT")
    assert run_ingest([landing], db, tmp_path / "staging").success
    assert _query(db, "SELECT count(*) FROM dim_study") == [(3 + len(studies) - 5,)]


def test_a_symlink_out_of_the_landing_zone_is_not_followed(tmp_path: Path) -> None:
    secret = tmp_path / "elsewhere" / "passwd"
    secret.parent.mkdir()
    secret.write_text("root:x:0:0:root:/root:/bin/bash\n")
    landing = _land(tmp_path / "landing", _studies()[:2])
    (landing / "passwd").symlink_to(secret)
    db = tmp_path / "w.duckdb"
    result = run_ingest([landing], db, tmp_path / "staging")
    assert result.success
    [parsed] = result.asset_materializations_for_node("canonical_studies")
    assert parsed.metadata["skipped_files"].value == [
        {"path": str(landing / "passwd"), "reason": f"symlink leaves the landing zone: -> {secret}"}
    ]
    assert _query(db, "SELECT records_read, records_new, records_rejected FROM meta_load_run") == [(2, 2, 0)]
    assert _query(db, "SELECT count(*) FROM meta_rejection WHERE excerpt LIKE '%root:%'") == [(0,)]
    assert _query(db, "SELECT path FROM meta_skipped_file") == [(str(landing / "passwd"),)]
