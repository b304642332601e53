"""The UI that `make ui` serves, for real: `dagster dev` on 127.0.0.1, asked through GraphQL and used
in a headless Chromium.

One `dagster dev` serves the module (starting one costs seconds of CPU). Through its GraphQL API the
code location loads with every asset, check, schedule and sensor. In the browser, a person can use
it: the asset graph draws the pipeline's nodes, "Materialize all" on the ``ingest_job`` page starts a
run that succeeds, the DuckDB file then holds every bundled sample study, and the HTML report the run
writes draws its inline SVG charts (a chart can be valid XML and still render at 0×0).

The browser test drives Debian's ``chromium`` through Playwright (never a downloaded browser) and is
skipped when that binary is missing; the browser may reach nothing but the local webserver and
``file://``.

Screenshots for the README: ``UPDATE_SCREENSHOTS=1 .venv/bin/pytest -q tests/test_ui.py``
rewrites ``docs/screenshots/asset_graph.png`` and ``report.png``; without it they go to the test's
temp dir, so the screenshot steps run (and can fail) on every run.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

import duckdb
import httpx
import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from pipelines.settings import PROJECT_ROOT
from pipelines.transform.star import TABLES
from tests.conftest import LANDING, free_port, wait_until_serving

CHROMIUM = shutil.which("chromium")
pytestmark = pytest.mark.slow
needs_chromium = pytest.mark.skipif(
    CHROMIUM is None, reason="no `chromium` on PATH (apt-get install chromium): no browser"
)

VIEWPORT = {"width": 1400, "height": 900}
# The graph draws only the nodes inside the viewport: tall enough for the 24 star tables in one column.
TALL_VIEWPORT = {"width": 1400, "height": 3200}
RUN_TIMEOUT_S = 90
UI_TIMEOUT_MS = 20_000  # a page or a status fetch on a busy machine (Playwright's default is 5 s)
STARTUP_TIMEOUT_S = 60
SCREENSHOTS = PROJECT_ROOT / "docs" / "screenshots"
GRAPH_NODES = [
    "registry_pages",
    "canonical_studies",
    "dim_study",
    "dim_site",
    "fact_outcome",
    "trials_duckdb",
    "warehouse_report",
]
MIN_CHARTS = 5
LOCAL_ONLY = re.compile(r"^https?://(?!127\.0\.0\.1[:/])")  # anything else is aborted


@dataclass(frozen=True)
class DagsterUI:
    """A running `dagster dev` and the paths it was told to use."""

    url: str
    db: Path
    landing: Path
    reports: Path
    log: Path

    def output(self, limit: int = 6000) -> str:
        """The end of `dagster dev`'s output (webserver, daemon and run logs): for failure messages."""
        return self.log.read_text(errors="replace")[-limit:]


@pytest.fixture(scope="module")
def dagster_ui(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DagsterUI]:
    """`dagster dev` as `make ui` starts it, on a free port, with its home and every path in a temp dir.

    It runs in its own session, and teardown SIGKILLs that whole process group: the webserver, the
    daemon, the code servers and any run worker. Not SIGTERM: dagster dev handles it with SIGINT's
    handler, which is "ignore" when pytest was started by a shell that ignores SIGINT (any background
    job), and nothing in a throwaway instance needs a clean shutdown.
    """
    tmp_path = tmp_path_factory.mktemp("ui")
    dagster_home = tmp_path / "dagster_home"
    dagster_home.mkdir()
    (dagster_home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    landing = tmp_path / "landing"
    shutil.copytree(LANDING, landing)
    port = free_port()
    ui = DagsterUI(
        url=f"http://127.0.0.1:{port}",
        db=tmp_path / "trials.duckdb",
        landing=landing,
        reports=tmp_path / "reports",
        log=tmp_path / "dagster-dev.log",
    )
    env = {
        **os.environ,
        "DAGSTER_HOME": str(dagster_home),
        "TRIALS_DB": str(ui.db),
        "TRIALS_LANDING": str(landing),
        "TRIALS_STAGING": str(tmp_path / "staging"),
        "TRIALS_REPORTS_DIR": str(ui.reports),
    }
    dagster = Path(sys.executable).parent / "dagster"  # .venv/bin, as `make ui`
    with ui.log.open("wb") as log:
        server = subprocess.Popen(
            [str(dagster), "dev", "-h", "127.0.0.1", "-p", str(port)],
            cwd=PROJECT_ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        wait_until_serving(ui.url, server, ui.output, STARTUP_TIMEOUT_S)
        yield ui
    finally:
        os.killpg(server.pid, signal.SIGKILL)
        server.wait(timeout=30)


QUERY = """
{
  workspaceOrError {
    ... on Workspace { locationEntries { name loadStatus locationOrLoadError { __typename } } }
  }
  repositoriesOrError {
    ... on RepositoryConnection {
      nodes {
        schedules { name cronSchedule }
        sensors { name }
        assetNodes { assetKey { path } groupName
          assetChecksOrError { ... on AssetChecks { checks { name blocking } } } }
      }
    }
  }
}
"""


def test_the_code_location_loads_with_every_asset_check_schedule_and_sensor(dagster_ui: DagsterUI) -> None:
    data = httpx.post(f"{dagster_ui.url}/graphql", json={"query": QUERY}, timeout=30).json()["data"]
    [location] = data["workspaceOrError"]["locationEntries"]
    assert (location["name"], location["loadStatus"]) == ("trials_warehouse", "LOADED")
    assert location["locationOrLoadError"]["__typename"] == "RepositoryLocation"
    [repository] = data["repositoriesOrError"]["nodes"]
    assert sorted((s["name"], s["cronSchedule"]) for s in repository["schedules"]) == [
        ("daily_refresh", "0 6 * * *"),
        ("registry_refresh", "30 5 * * *"),
    ]
    assert [s["name"] for s in repository["sensors"]] == ["landing_sensor"]
    nodes = {"/".join(n["assetKey"]["path"]): n for n in repository["assetNodes"]}
    assert {
        "canonical_studies",
        "trials_duckdb",
        "dim_study",
        "dim_site",
        "fact_outcome",
        "fact_eligibility",
    } <= set(nodes)
    star = [n for n in nodes.values() if n["groupName"] == "star"]
    assert len(star) == len(TABLES)
    checks = {n["assetKey"]["path"][0]: n["assetChecksOrError"]["checks"] for n in star}
    assert all({"name": "pandera_contract", "blocking": True} in found for found in checks.values())
    assert {"name": "known_vocabulary", "blocking": False} in checks["dim_study"]


def _open_asset_graph(page: Page, ui: DagsterUI, groups: list[str]) -> None:
    """The global asset lineage page with ``groups`` expanded (the rest drawn as one box per group)."""
    expanded = ",".join(f"global@global:{group}" for group in groups)
    page.goto(f"{ui.url}/asset-groups?{urlencode({'expanded': expanded})}")
    expect(page.get_by_text("Global asset lineage")).to_be_visible()


def _check_asset_graph(page: Page, ui: DagsterUI) -> None:
    """Every group expanded, in a viewport tall enough to hold them: the pipeline's nodes are drawn."""
    page.set_viewport_size(TALL_VIEWPORT)
    _open_asset_graph(page, ui, ["extract", "star", "warehouse"])
    graph = page.locator("svg").filter(has_text="canonical_studies")
    for node in GRAPH_NODES:
        expect(graph.get_by_text(node, exact=True)).to_be_visible()
    page.set_viewport_size(VIEWPORT)


def _launch_ingest_from_the_ui(page: Page, ui: DagsterUI) -> None:
    """Materialize all on the job page, confirm, follow the toast to the run page, wait for the end."""
    page.goto(f"{ui.url}/locations/trials_warehouse/jobs/ingest_job")
    page.get_by_role("button", name=re.compile(r"Materialize all$")).click()
    # registry_pages (the live fetch, not part of ingest_job) was never materialized, so Dagster asks
    # whether to go on without that upstream asset.
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text("registry_pages")
    dialog.get_by_role("button", name="Confirm").click()
    toast = page.get_by_role("region", name=re.compile("Notifications"))
    expect(toast).to_contain_text("Launched run")
    toast.get_by_role("link", name="View").click()
    expect(page).to_have_url(re.compile(r"/runs/[0-9a-f-]{36}"))
    run_page = page.url
    # Wait away from the run page: its live log view would keep the browser busy drawing every event.
    page.goto("about:blank")
    run_id = run_page.rsplit("/", 1)[-1]
    deadline = time.monotonic() + RUN_TIMEOUT_S
    while (status := _run_status(ui, run_id)) not in {"SUCCESS", "FAILURE", "CANCELED"}:
        if time.monotonic() > deadline:
            pytest.fail(f"the run is still {status} after {RUN_TIMEOUT_S} s\n{ui.output()}")
        time.sleep(0.5)
    assert status == "SUCCESS", f"the run ended {status}\n{ui.output()}"
    page.goto(run_page)  # and the page says so, as a person would see it
    expect(page.get_by_text(re.compile(r"^(Success|Failure|Canceled)$")).first).to_have_text(
        "Success", timeout=UI_TIMEOUT_MS
    )


def _run_status(ui: DagsterUI, run_id: str) -> str:
    """The run's status as the webserver reports it (QUEUED, STARTED, SUCCESS, ...)."""
    query = "query($id: ID!) { runOrError(runId: $id) { ... on Run { status } } }"
    answer = httpx.post(f"{ui.url}/graphql", json={"query": query, "variables": {"id": run_id}}, timeout=10)
    return answer.json()["data"]["runOrError"].get("status", "")


def _screenshot_path(name: str, tmp_path: Path) -> Path:
    if os.environ.get("UPDATE_SCREENSHOTS") == "1":
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        return SCREENSHOTS / name
    return tmp_path / name


def _check_warehouse(ui: DagsterUI) -> None:
    """Independently of the UI: every sample study (a sample file is named by its NCT ID) is in dim_study."""
    samples = {path.stem for path in ui.landing.rglob("NCT*") if path.is_file()}
    assert ui.db.exists(), f"no DuckDB file at {ui.db}\n{ui.output()}"
    with duckdb.connect(str(ui.db), read_only=True) as con:
        [(count,)] = con.sql("SELECT count(*) FROM dim_study").fetchall()
        loaded = {nct_id for (nct_id,) in con.sql("SELECT nct_id FROM dim_study").fetchall()}
    assert count == len(samples)
    assert loaded == samples


def _screenshot_asset_graph(page: Page, ui: DagsterUI, path: Path) -> None:
    """The README's picture: extract and warehouse groups in detail, the 24 star tables as one box."""
    _open_asset_graph(page, ui, ["extract", "warehouse"])
    page.get_by_role("button", name="Hide navigation").click()
    # the sidebar toggle's only accessible name is its icon's (its tooltip says "Hide sidebar")
    page.get_by_role("button", name="panel_show_right", exact=True).click()
    page.mouse.dblclick(VIEWPORT["width"] // 2, 140)  # on the empty canvas: re-fit the graph to the space
    graph = page.locator("svg").filter(has_text="canonical_studies")
    # the detailed nodes, with their statuses fetched: the run's assets now say Materialized
    expect(graph.get_by_text("Never materialized", exact=True)).to_be_visible()  # registry_pages
    expect(graph.get_by_text("Materialized", exact=True).first).to_be_visible()
    expect(graph.get_by_text(re.compile("fetching statuses"))).to_have_count(0)  # the star box's counts
    expect(page.get_by_role("progressbar")).to_have_count(0)
    page.screenshot(path=path)


def _check_report(page: Page, ui: DagsterUI, path: Path) -> None:
    """The report's charts are drawn: at least MIN_CHARTS top-level <svg> elements, none of them empty."""
    index = ui.reports / "index.html"
    assert index.exists(), f"the run wrote no report at {index}\n{ui.output()}"
    page.goto(index.as_uri())
    charts = page.locator("svg:not(svg svg)")
    assert charts.count() >= MIN_CHARTS, page.content()[:4000]
    for chart in charts.all():
        box = chart.bounding_box()
        assert box is not None and box["width"] > 0 and box["height"] > 0, chart.evaluate("e => e.outerHTML")
    page.screenshot(path=path)


def _browser_page(browser: Browser) -> Page:
    context = browser.new_context(viewport=VIEWPORT)
    context.route(LOCAL_ONLY, lambda route: route.abort())
    return context.new_page()


@needs_chromium
def test_dagster_ui_materializes_the_pipeline_and_the_report_renders(
    dagster_ui: DagsterUI, tmp_path: Path
) -> None:
    # The "join the community" dialog would cover the first page; this is the mutation its buttons send.
    seen = httpx.post(f"{dagster_ui.url}/graphql", json={"query": "mutation { setNuxSeen }"}, timeout=10)
    assert seen.json() == {"data": {"setNuxSeen": True}}
    expect.set_options(timeout=UI_TIMEOUT_MS)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True)
        try:
            page = _browser_page(browser)
            _check_asset_graph(page, dagster_ui)
            _launch_ingest_from_the_ui(page, dagster_ui)
            _check_warehouse(dagster_ui)
            _screenshot_asset_graph(page, dagster_ui, _screenshot_path("asset_graph.png", tmp_path))
            _check_report(page, dagster_ui, _screenshot_path("report.png", tmp_path))
        finally:
            browser.close()
