"""The code location loads, its asset graph is as reviewed, and its automation behaves."""

from __future__ import annotations

import json
import os
import time
from datetime import UTC, datetime
from pathlib import Path

import dagster
from dagster import RunRequest, SkipReason, build_schedule_context, build_sensor_context

from pipelines.definitions import defs
from pipelines.defs.automation import daily_refresh, landing_sensor
from pipelines.defs.resources import TrialsSettings
from pipelines.transform.star import TABLES

SNAPSHOT = Path(__file__).parent / "snapshots" / "asset_graph.json"


def asset_graph() -> dict[str, dict]:
    graph = defs.resolve_asset_graph()
    nodes = {}
    for key in sorted(graph.get_all_asset_keys(), key=lambda k: k.to_user_string()):
        node = graph.get(key)
        nodes[key.to_user_string()] = {
            "group": node.group_name,
            "kinds": sorted(node.kinds),
            "deps": sorted(parent.to_user_string() for parent in node.parent_keys),
            "checks": sorted(check.name for check in node.check_keys),
            "has_description": bool(node.description),
        }
    return nodes


def test_asset_graph_matches_the_reviewed_snapshot() -> None:
    """Regenerate with UPDATE_SNAPSHOTS=1 after an intended change, and review the diff."""
    current = asset_graph()
    if os.environ.get("UPDATE_SNAPSHOTS"):
        SNAPSHOT.write_text(json.dumps(current, indent=2) + "\n")
    assert current == json.loads(SNAPSHOT.read_text())


def test_every_star_table_has_a_blocking_check_and_the_job_covers_everything() -> None:
    graph = defs.resolve_asset_graph()
    star = [key for key in graph.get_all_asset_keys() if graph.get(key).group_name == "star"]
    assert len(star) == len(TABLES)
    assert all(graph.get_check_spec(dagster.AssetCheckKey(key, "pandera_contract")).blocking for key in star)
    everything = set(graph.get_all_asset_keys())
    ingest = defs.resolve_job_def("ingest_job").asset_layer.selected_asset_keys
    assert set(ingest) == everything - {dagster.AssetKey("registry_pages")}  # ingesting needs no network
    assert set(defs.resolve_job_def("registry_refresh_job").asset_layer.selected_asset_keys) == everything
    assert defs.resolve_schedule_def("daily_refresh").cron_schedule == "0 6 * * *"
    assert defs.resolve_schedule_def("registry_refresh").job_name == "registry_refresh_job"
    assert defs.resolve_sensor_def("landing_sensor").job_name == "ingest_job"


def test_schedule_requests_one_ingest_run() -> None:
    context = build_schedule_context(scheduled_execution_time=datetime(2026, 11, 22, 6, tzinfo=UTC))
    requests = daily_refresh.evaluate_tick(context).run_requests
    assert requests is not None and len(requests) == 1


def test_sensor_fires_once_per_change(tmp_path: Path) -> None:
    landing = tmp_path / "landing"
    landing.mkdir()
    settings = TrialsSettings(landing_paths=[str(landing)], staging_dir=str(tmp_path / "staging"))
    with dagster.instance_for_test() as instance:

        def tick(cursor: str | None) -> tuple[RunRequest | SkipReason, str | None]:
            context = build_sensor_context(instance=instance, cursor=cursor, resources={"settings": settings})
            return landing_sensor(context), context.cursor

        result, cursor = tick(None)
        assert isinstance(result, SkipReason)
        (landing / "a.txt").write_text("x")
        first, cursor = tick(cursor)
        assert isinstance(first, RunRequest)
        again, cursor = tick(cursor)
        assert isinstance(again, SkipReason)
        time.sleep(0.01)
        (landing / "a.txt").write_text("changed")
        second, _ = tick(cursor)
        assert isinstance(second, RunRequest) and second.run_key != first.run_key
