"""The real Dagster webserver loads the code location with every asset, check, schedule and sensor."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from pipelines.settings import PROJECT_ROOT
from pipelines.transform.star import TABLES
from tests.conftest import free_port, wait_until_serving

pytestmark = pytest.mark.slow

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


def test_webserver_loads_the_code_location(dagster_home: Path) -> None:
    port = free_port()
    server = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "dagster-webserver"),
            "-h",
            "127.0.0.1",
            "-p",
            str(port),
            "-m",
            "pipelines.definitions",
        ],
        cwd=PROJECT_ROOT,
        env={**os.environ, "DAGSTER_HOME": str(dagster_home)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_serving(url, server)
        data = httpx.post(f"{url}/graphql", json={"query": QUERY}, timeout=30).json()["data"]
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)

    [location] = data["workspaceOrError"]["locationEntries"]
    assert location["loadStatus"] == "LOADED"
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
    assert all(
        n["assetChecksOrError"]["checks"] == [{"name": "pandera_contract", "blocking": True}] for n in star
    )
