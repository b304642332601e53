"""Incremental refresh and dim_study_history (type 2) on real API v2 records and earlier versions of them.

The earlier versions are made from a real record the way the registry changes one: an older
last-update-posted date with the status, enrollment and dates it had while recruiting.
"""

from __future__ import annotations

import copy
import json
from datetime import date
from pathlib import Path
from typing import Any

import dagster
import duckdb
import pytest

from tests.conftest import API_V2_SAMPLES, run_ingest

NCT_ID = "NCT02552212"
REAL = next(path for path in API_V2_SAMPLES if path.stem == NCT_ID)


def version(updated: str, status: str, enrollment: int, enrollment_type: str) -> dict[str, Any]:
    """The real record as it might have read on ``updated``."""
    study = copy.deepcopy(json.loads(REAL.read_text()))
    module = study["protocolSection"]["statusModule"]
    module["overallStatus"] = status
    module["lastUpdatePostDateStruct"] = {"date": updated, "type": "ACTUAL"}
    module["primaryCompletionDateStruct"]["type"] = "ESTIMATED"
    study["protocolSection"]["designModule"]["enrollmentInfo"] = {
        "count": enrollment,
        "type": enrollment_type,
    }
    study.pop("resultsSection", None)
    study["hasResults"] = False
    return study


def ingest(root: Path, name: str, *studies: dict[str, Any] | Path) -> dagster.ExecuteInProcessResult:
    """Land ``studies`` in a fresh folder and run the real job on it into root/w.duckdb."""
    landing = root / name
    landing.mkdir()
    for i, study in enumerate(studies):
        target = landing / f"{i}.json"
        if isinstance(study, Path):
            target.write_bytes(study.read_bytes())
        else:
            target.write_text(json.dumps(study))
    result = run_ingest([landing], root / "w.duckdb", root / "staging")
    assert result.success
    [invariants] = [e for e in result.get_asset_check_evaluations() if e.check_name == "warehouse_invariants"]
    assert invariants.passed, invariants.metadata
    return result


def rows(root: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(root / "w.duckdb"), read_only=True) as conn:
        return conn.execute(sql).fetchall()


HISTORY = (
    "SELECT valid_from, valid_to, is_current, overall_status, enrollment_count, enrollment_type,"
    " primary_completion_date_type FROM dim_study_history WHERE nct_id = 'NCT02552212' ORDER BY valid_from"
)
RECRUITING = (date(2016, 2, 1), date(2022, 8, 18), False, "RECRUITING", 300, "ESTIMATED", "ESTIMATED")
COMPLETED = (date(2022, 8, 18), None, True, "COMPLETED", 317, "ACTUAL", "ACTUAL")


def test_history_records_each_change_and_never_moves_backwards(tmp_path: Path) -> None:
    recruiting = version("2016-02-01", "RECRUITING", 300, "ESTIMATED")
    ingest(tmp_path, "v1", recruiting)
    assert rows(tmp_path, HISTORY) == [
        (date(2016, 2, 1), None, True, "RECRUITING", 300, "ESTIMATED", "ESTIMATED")
    ]

    ingest(tmp_path, "v2", REAL)
    assert rows(tmp_path, HISTORY) == [RECRUITING, COMPLETED]
    transition = (
        "SELECT h.overall_status, n.overall_status, n.valid_from FROM dim_study_history h"
        " JOIN dim_study_history n ON n.nct_id = h.nct_id AND n.valid_from = h.valid_to"
    )
    assert rows(tmp_path, transition) == [("RECRUITING", "COMPLETED", date(2022, 8, 18))]

    ingest(tmp_path, "old_again", recruiting)  # an old file landing late: superseded, history kept
    assert rows(tmp_path, HISTORY) == [RECRUITING, COMPLETED]
    assert rows(tmp_path, "SELECT overall_status FROM dim_study") == [("COMPLETED",)]
    last_run = (
        "SELECT records_superseded, records_changed FROM meta_load_run ORDER BY finished_at DESC LIMIT 1"
    )
    assert rows(tmp_path, last_run) == [(1, 0)]


def test_a_correction_at_the_same_date_amends_the_current_version(tmp_path: Path) -> None:
    ingest(tmp_path, "v1", REAL)
    corrected = json.loads(REAL.read_text())
    corrected["protocolSection"]["designModule"]["enrollmentInfo"]["count"] = 318
    ingest(tmp_path, "v1_corrected", corrected)
    assert rows(tmp_path, HISTORY) == [(date(2022, 8, 18), None, True, "COMPLETED", 318, "ACTUAL", "ACTUAL")]


def test_a_change_outside_the_tracked_attributes_adds_no_version(tmp_path: Path) -> None:
    ingest(tmp_path, "v1", REAL)
    retitled = json.loads(REAL.read_text())
    retitled["protocolSection"]["identificationModule"]["briefTitle"] += " (retitled)"
    retitled["protocolSection"]["statusModule"]["lastUpdatePostDateStruct"]["date"] = "2023-01-05"
    ingest(tmp_path, "v2", retitled)
    assert rows(tmp_path, "SELECT count(*), max(last_update_posted_date) FROM dim_study_history") == [
        (1, date(2022, 8, 18))
    ]
    assert rows(tmp_path, "SELECT last_update_posted_date FROM dim_study") == [(date(2023, 1, 5),)]


@pytest.fixture(scope="module")
def refreshed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dagster.ExecuteInProcessResult]:
    """All API v2 samples loaded, then the same folder again with one study updated."""
    root = tmp_path_factory.mktemp("refresh")
    ingest(root, "full", *API_V2_SAMPLES)
    updated = json.loads(REAL.read_text())
    updated["protocolSection"]["statusModule"]["lastUpdatePostDateStruct"]["date"] = "2024-03-01"
    updated["protocolSection"]["statusModule"]["overallStatus"] = "TERMINATED"
    updated["protocolSection"]["statusModule"]["whyStopped"] = "Sponsor decision"
    result = ingest(root, "refresh", *[updated if path == REAL else path for path in API_V2_SAMPLES])
    return root, result


def test_a_refresh_parses_only_the_changed_record(
    refreshed: tuple[Path, dagster.ExecuteInProcessResult],
) -> None:
    _, result = refreshed
    [parsed] = result.asset_materializations_for_node("canonical_studies")
    assert parsed.metadata["records_unchanged_not_parsed"].value == len(API_V2_SAMPLES) - 1
    [staged] = [
        m for m in result.asset_materializations_for_node("star_tables") if m.asset_key.path == ["dim_study"]
    ]
    assert staged.metadata["dagster/row_count"].value == 1


def test_a_refresh_rewrites_only_the_changed_study(
    refreshed: tuple[Path, dagster.ExecuteInProcessResult],
) -> None:
    refreshed, _ = refreshed
    counts = "SELECT records_read, records_new, records_changed, records_unchanged FROM meta_load_run ORDER BY finished_at"
    n = len(API_V2_SAMPLES)
    assert rows(refreshed, counts) == [(n, n, 0, 0), (n, 0, 1, n - 1)]
    loads = "SELECT nct_id FROM dim_study WHERE loaded_at = (SELECT max(loaded_at) FROM dim_study)"
    assert rows(refreshed, loads) == [(NCT_ID,)]


def test_history_after_a_refresh_has_one_current_version_per_study(
    refreshed: tuple[Path, dagster.ExecuteInProcessResult],
) -> None:
    refreshed, _ = refreshed
    assert rows(
        refreshed, "SELECT count(DISTINCT nct_id), count(*) FILTER (is_current) FROM dim_study_history"
    ) == [(len(API_V2_SAMPLES), len(API_V2_SAMPLES))]
    assert rows(refreshed, HISTORY.replace("primary_completion_date_type", "why_stopped")) == [
        (date(2022, 8, 18), date(2024, 3, 1), False, "COMPLETED", 317, "ACTUAL", None),
        (date(2024, 3, 1), None, True, "TERMINATED", 317, "ACTUAL", "Sponsor decision"),
    ]


def test_studies_made_by_other_code_are_parsed_again(tmp_path: Path) -> None:
    """Same bytes, but the parsers or transformations changed since: nothing may be skipped."""
    ingest(tmp_path, "v1", *API_V2_SAMPLES)
    with duckdb.connect(str(tmp_path / "w.duckdb")) as conn:
        conn.execute("UPDATE dim_study SET pipeline_version = 'older code'")
    result = ingest(tmp_path, "v1_again", *API_V2_SAMPLES)
    [parsed] = result.asset_materializations_for_node("canonical_studies")
    assert parsed.metadata["records_unchanged_not_parsed"].value == 0
    last_run = (
        "SELECT records_changed, records_unchanged FROM meta_load_run ORDER BY finished_at DESC LIMIT 1"
    )
    assert rows(tmp_path, last_run) == [(len(API_V2_SAMPLES), 0)]
    assert rows(tmp_path, "SELECT count(*) FROM dim_study_history") == [(len(API_V2_SAMPLES),)]
