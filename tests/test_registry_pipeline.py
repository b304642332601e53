"""The live-registry path end to end, against a real HTTP server on 127.0.0.1 replaying API pages."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import dagster
import duckdb
import orjson
import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from pipelines.definitions import build_definitions
from pipelines.defs.resources import RegistrySettings, TrialsSettings
from tests.conftest import API_V2_SAMPLES, without_report

STUDIES = [orjson.loads(path.read_bytes()) for path in API_V2_SAMPLES]


def serve_pages(server: HTTPServer, studies: list[dict], per_page: int = 3) -> None:
    """Answer /api/v2/studies like the registry: pages chained by nextPageToken."""
    pages = [studies[i : i + per_page] for i in range(0, len(studies), per_page)] or [[]]

    def page(request: Request) -> Response:
        number = int(request.args.get("pageToken", "token0").removeprefix("token"))
        body: dict = {"studies": pages[number]}
        if number == 0:
            body["totalCount"] = len(studies)
        if number + 1 < len(pages):
            body["nextPageToken"] = f"token{number + 1}"
        return Response(orjson.dumps(body), content_type="application/json")

    server.expect_request("/api/v2/studies").respond_with_handler(page)


def run_registry_job(server: HTTPServer, root: Path) -> dagster.ExecuteInProcessResult:
    """The registry refresh job, in-process on an ephemeral instance (without the report)."""
    settings = TrialsSettings(
        landing_paths=[str(root / "landing")],
        staging_dir=str(root / "staging"),
        reports_dir=str(root / "reports"),
    )
    registry = RegistrySettings(
        query="query.cond=COVID-19&filter.overallStatus=COMPLETED",
        base_url=server.url_for("/api/v2"),
        min_interval=0,
        max_retries=2,
        backoff_base=0.01,
    )
    job = build_definitions(settings, str(root / "t.duckdb"), registry).resolve_job_def(
        "registry_refresh_job"
    )
    return job.execute_in_process(
        instance=dagster.DagsterInstance.ephemeral(),
        raise_on_error=False,
        asset_selection=without_report(job),
    )


def count(db: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(db), read_only=True) as conn:
        return conn.execute(sql).fetchall()


def test_fetch_then_incremental_refresh(httpserver: HTTPServer, tmp_path: Path) -> None:
    (tmp_path / "landing").mkdir()
    serve_pages(httpserver, STUDIES)
    result = run_registry_job(httpserver, tmp_path)
    assert result.success
    [fetch] = [m for m in result.get_asset_materialization_events() if m.asset_key.path == ["registry_pages"]]
    assert fetch.materialization.metadata["studies"].value == len(STUDIES)
    assert count(tmp_path / "t.duckdb", "SELECT count(*) FROM dim_study") == [(len(STUDIES),)]

    httpserver.clear()
    serve_pages(httpserver, [])
    again = run_registry_job(httpserver, tmp_path)
    assert again.success
    request = httpserver.log[-1]
    assert "AREA[LastUpdatePostDate]RANGE[" in request[0].args["filter.advanced"]
    # the first fetch's pages are unchanged: skipped unread; the new fetch brought no study
    assert count(
        tmp_path / "t.duckdb", "SELECT records_read, records_new FROM meta_load_run ORDER BY started_at"
    ) == [(len(STUDIES), len(STUDIES)), (0, 0)]


def test_a_failing_registry_loads_nothing(httpserver: HTTPServer, tmp_path: Path) -> None:
    (tmp_path / "landing").mkdir()
    httpserver.expect_request("/api/v2/studies").respond_with_data("busy", status=500)
    result = run_registry_job(httpserver, tmp_path)
    assert not result.success
    [failure] = [e for e in result.all_events if e.event_type_value == "STEP_FAILURE"]
    assert "failed after 3 attempts; last error: HTTP 500" in str(failure.event_specific_data.error)
    assert not any(p for p in (tmp_path / "landing").iterdir() if not p.name.startswith("."))
    assert not (tmp_path / "t.duckdb").exists()


@pytest.mark.slow
def test_trials_fetch_command_lands_and_ingests(httpserver: HTTPServer, tmp_path: Path) -> None:
    serve_pages(httpserver, STUDIES)
    command = [
        str(Path(sys.executable).parent / "trials"), "fetch", "query.cond=COVID-19",
        "--base-url", httpserver.url_for("/api/v2"), "--landing", str(tmp_path / "landing"),
        "--ingest", "--db", str(tmp_path / "t.duckdb"),
    ]  # fmt: skip
    home = tmp_path / "not_yet" / "dagster_home"  # a fresh clone has no warehouse/.dagster yet
    done = subprocess.run(
        command, capture_output=True, text=True, timeout=120, env={**os.environ, "DAGSTER_HOME": str(home)}
    )
    assert done.returncode == 0, done.stderr
    assert home.is_dir()
    assert f"landed {len(STUDIES)} studies in 3 page(s)" in done.stdout
    assert f"records: {len(STUDIES)} read: {len(STUDIES)} new" in done.stdout
    assert count(tmp_path / "t.duckdb", "SELECT count(*) FROM dim_study") == [(len(STUDIES),)]


def test_without_a_query_the_registry_job_fetches_nothing_and_ingests_the_landing_zone(
    tmp_path: Path,
) -> None:
    """ "Materialize all" with no registry query configured: no failure, nothing fetched, the rest runs."""
    landing = tmp_path / "landing"
    landing.mkdir()
    (landing / "study.json").write_bytes(API_V2_SAMPLES[0].read_bytes())
    settings = TrialsSettings(
        landing_paths=[str(landing)], staging_dir=str(tmp_path / "staging"), reports_dir=str(tmp_path / "r")
    )
    definitions = build_definitions(settings, str(tmp_path / "w.duckdb"), RegistrySettings(query=""))
    job = definitions.resolve_job_def("registry_refresh_job")
    result = job.execute_in_process(
        instance=dagster.DagsterInstance.ephemeral(),
        raise_on_error=False,
        asset_selection=without_report(job),
    )
    assert result.success
    [fetched] = result.asset_materializations_for_node("registry_pages")
    assert fetched.metadata["studies"].value == 0
    with duckdb.connect(str(tmp_path / "w.duckdb"), read_only=True) as conn:
        assert conn.execute("SELECT count(*) FROM dim_study").fetchall() == [(1,)]
