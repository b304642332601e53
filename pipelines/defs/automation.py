"""The ingest job, its daily schedule, and the sensor that watches the landing zone."""

import hashlib

import orjson
from dagster import (
    AssetSelection,
    DefaultScheduleStatus,
    DefaultSensorStatus,
    RunRequest,
    ScheduleDefinition,
    SensorEvaluationContext,
    SkipReason,
    define_asset_job,
    sensor,
)

from pipelines.defs.resources import TrialsSettings
from pipelines.sources.landing import list_landing_files

ingest_job = define_asset_job(
    "ingest_job",
    selection=AssetSelection.all() - AssetSelection.assets("registry_pages"),
    description="Read the landing zone, build and check the star schema, load it into DuckDB.",
)
registry_job = define_asset_job(
    "registry_refresh_job",
    selection=AssetSelection.all(),
    description="Fetch what changed in the live registry for the configured query (RegistrySettings.query or "
    "TRIALS_REGISTRY_QUERY; without one nothing is fetched), then ingest the landing zone.",
)

daily_refresh = ScheduleDefinition(
    name="daily_refresh",
    job=ingest_job,
    cron_schedule="0 6 * * *",
    execution_timezone="UTC",
    default_status=DefaultScheduleStatus.STOPPED,
    description="Re-ingest the landing zone every day at 06:00 UTC.",
)


registry_refresh = ScheduleDefinition(
    name="registry_refresh",
    job=registry_job,
    cron_schedule="30 5 * * *",
    execution_timezone="UTC",
    default_status=DefaultScheduleStatus.STOPPED,
    description="Every day at 05:30 UTC, fetch the studies updated since the last fetch and load them. "
    "Needs TRIALS_REGISTRY_QUERY (or RegistrySettings.query) and network access to the registry; without a "
    "query it only re-ingests the landing zone.",
)


def landing_state(settings: TrialsSettings) -> dict[str, list[int]]:
    """Each landing file's modification time (ns) and size: what the sensor compares."""
    state = {}
    for path in list_landing_files(settings.landing_paths):
        stat = path.stat()
        state[str(path)] = [stat.st_mtime_ns, stat.st_size]
    return state


@sensor(
    job=ingest_job,
    minimum_interval_seconds=60,
    default_status=DefaultSensorStatus.STOPPED,
    description="Launch an ingest when files in the landing zone (TrialsSettings.landing_paths) are added "
    "or changed; checks every 60 s once switched on.",
)
def landing_sensor(context: SensorEvaluationContext, settings: TrialsSettings) -> RunRequest | SkipReason:
    state = landing_state(settings)
    previous = orjson.loads(context.cursor) if context.cursor else {}
    changed = sorted(path for path, stamp in state.items() if previous.get(path) != stamp)
    if not changed:
        return SkipReason("no new or changed files in the landing zone")
    encoded = orjson.dumps(state, option=orjson.OPT_SORT_KEYS)
    context.update_cursor(encoded.decode())
    return RunRequest(
        run_key=hashlib.blake2b(encoded, digest_size=16).hexdigest(),
        tags={"trials/changed_files": str(len(changed))},
    )
