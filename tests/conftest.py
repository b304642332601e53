"""Shared fixtures: real sample records, a temp Dagster home, and a helper that runs the job."""

from __future__ import annotations

import socket
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import dagster
import httpx
import pytest

from pipelines.definitions import build_definitions
from pipelines.defs.resources import TrialsSettings

FIXTURES = Path(__file__).parent / "fixtures"
# The real sample records are the bundled landing folder that `make run` ingests; tests read them there.
LANDING = Path(__file__).parent.parent / "warehouse" / "landing"
SEEDS = LANDING / "classic"
API_V2_SAMPLES = sorted((LANDING / "api_v2").glob("NCT*.json"))
LEGACY_XML_SAMPLES = sorted((LANDING / "legacy_xml").glob("NCT*.xml"))
NOT_A_STUDY = "Shopping list\n- milk\n- bread\n"  # a landed file that is no study: one real rejection


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Slow tests (servers, subprocesses, worker pools) first, so that with several test processes
    (pytest-xdist) the longest ones start early and the many short ones fill in around them."""
    items.sort(
        key=lambda item: (item.get_closest_marker("slow") is None, "dagster_ui" not in item.fixturenames)
    )


@pytest.fixture
def dagster_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "dagster_home"
    home.mkdir()
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    return home


def run_ingest(paths: list[Path], db: Path, staging: Path, **settings: Any) -> dagster.ExecuteInProcessResult:
    """Run the real ingest job in-process on ``paths`` into ``db`` (an ephemeral instance), without the report.

    ``settings`` override ``TrialsSettings`` fields (batch size, workers).
    """
    resource = TrialsSettings(
        landing_paths=[str(p) for p in paths],
        staging_dir=str(staging),
        reports_dir=str(staging / "reports"),
        **settings,
    )
    job = build_definitions(resource, str(db)).resolve_job_def("ingest_job")
    return job.execute_in_process(
        instance=dagster.DagsterInstance.ephemeral(),
        raise_on_error=False,
        asset_selection=without_report(job),
    )


def without_report(job: dagster.JobDefinition) -> list[dagster.AssetKey]:
    """The job's assets but ``warehouse_report``: the report's own tests, the CLI's and the UI's build
    it; it adds over a second to each of the many loads the suite makes and tells nothing about them."""
    return [
        key for key in job.asset_layer.executable_asset_keys if key != dagster.AssetKey("warehouse_report")
    ]


@pytest.fixture(scope="session")
def sample_warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bundled landing folder plus one landed file that is no study, loaded once per test process.

    Each load costs about two seconds of Dagster and pandera, so the tests that only read a warehouse
    of the samples share this one: open it read-only, or copy it to change it.
    """
    root = tmp_path_factory.mktemp("sample_warehouse")
    (root / "junk").mkdir()
    (root / "junk" / "notes.txt").write_text(NOT_A_STUDY)
    assert run_ingest([LANDING, root / "junk"], root / "w.duckdb", root / "staging").success
    return root / "w.duckdb"


CORPUS = FIXTURES / "corpus" / "studies.ndjson.gz"  # 400 real registry studies (see its README)


@pytest.fixture(scope="session")
def corpus_warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The 400-study corpus loaded once per test process (read-only use, or copy it)."""
    root = tmp_path_factory.mktemp("corpus_warehouse")
    assert run_ingest([CORPUS], root / "w.duckdb", root / "staging").success
    return root / "w.duckdb"


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on (for a webserver under test)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until_serving(
    url: str, server: subprocess.Popen[bytes], output: Callable[[], str] = str, timeout: float = 60
) -> None:
    """Wait for a Dagster webserver's ``/server_info``; fail with ``output()`` if it exits or never answers."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            if httpx.get(f"{url}/server_info", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        assert server.poll() is None, f"the webserver exited:\n{output()}"
        assert time.monotonic() < deadline, f"no webserver within {timeout} s:\n{output()}"
        time.sleep(0.5)
