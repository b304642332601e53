"""The installed ``trials`` command, run as a user would, in a subprocess."""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import API_V2_SAMPLES, SEEDS

TRIALS = Path(sys.executable).parent / "trials"
pytestmark = pytest.mark.slow


def trials(*args: str, home: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DAGSTER_HOME": str(home)}
    return subprocess.run([str(TRIALS), *args], capture_output=True, text=True, env=env, timeout=120)


def test_ingest_then_query(tmp_path: Path, dagster_home: Path) -> None:
    landing = tmp_path / "in"
    shutil.copytree(SEEDS, landing)
    shutil.copy(API_V2_SAMPLES[0], landing / "study.json")
    (landing / "junk.bin").write_bytes(b"\x00\x01\x02")
    db = tmp_path / "w.duckdb"

    ingest = trials("ingest", str(landing), "--db", str(db), home=dagster_home)
    assert ingest.returncode == 0, ingest.stderr
    assert "records: 4 read: 3 new, 0 changed, 0 unchanged, 1 rejected, 0 superseded" in ingest.stdout
    assert "rejected " + str(landing / "junk.bin") in ingest.stdout
    assert "parsed" in ingest.stderr or "reading 4 file(s)" in ingest.stderr

    query = "SELECT nct_id, phase FROM dim_study ORDER BY nct_id"
    as_csv = trials("sql", query, "--db", str(db), "--format", "csv", home=dagster_home)
    assert as_csv.returncode == 0, as_csv.stderr
    assert list(csv.reader(io.StringIO(as_csv.stdout))) == [
        ["nct_id", "phase"],
        ["NCT00763412", "NA"],
        ["NCT04361942", "PHASE2"],
        ["NCT04371601", "EARLY_PHASE1"],
    ]
    as_json = trials("sql", query, "--db", str(db), "--format", "json", home=dagster_home)
    assert json.loads(as_json.stdout)[1] == {"nct_id": "NCT04361942", "phase": "PHASE2"}
    table = trials("sql", "SELECT count(*) AS n FROM fact_outcome", "--db", str(db), home=dagster_home)
    assert "│ n" in table.stdout

    assert f"report: {tmp_path / 'reports' / 'index.html'}" in ingest.stdout  # written beside the warehouse
    listed = trials("queries", home=dagster_home)
    assert (
        "trials_by_phase_and_status\n    How many trials are there per phase and overall status?"
        in listed.stdout
    )
    named = trials(
        "sql", "--query", "trials_by_phase_and_status", "--db", str(db), "--format", "json", home=dagster_home
    )
    assert {"phase": "EARLY_PHASE1", "overall_status": "ACTIVE_NOT_RECRUITING", "trials": 1}.items() <= next(
        row for row in json.loads(named.stdout) if row["phase"] == "EARLY_PHASE1"
    ).items()
    unknown = trials("sql", "--query", "trials_by_phase", "--db", str(db), home=dagster_home)
    assert unknown.returncode == 2 and "trials_by_phase_and_status" in unknown.stderr
    report = trials("report", "--db", str(db), "--out", str(tmp_path / "elsewhere"), home=dagster_home)
    assert report.returncode == 0, report.stderr
    assert (tmp_path / "elsewhere" / "index.html").read_text().count("<svg") >= 5

    broken = trials("sql", "SELECT * FROM no_such_table", "--db", str(db), home=dagster_home)
    assert broken.returncode == 2 and "no_such_table" in broken.stderr
    missing = trials("ingest", str(tmp_path / "nowhere"), "--db", str(db), home=dagster_home)
    assert missing.returncode == 2 and "no such file or folder" in missing.stderr
