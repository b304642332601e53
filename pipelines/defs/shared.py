"""What the pipeline's assets share: the staging area's table names and the run's memory figures.

Assets hand data to each other as folders of Parquet parts in the staging area
(``pipelines/staging.py``), written a batch at a time so a run's memory does not grow with the
corpus.
"""

import resource

from pipelines.defs.resources import TrialsSettings
from pipelines.staging import StagedTable

REGISTRY = "registry_pages"
RECORDS = "canonical_studies"
STATUSES = "record_status"
FILES = "landing_files"
SKIPPED = "skipped_files"


def peak_rss_mb() -> float:
    """The process's peak resident memory so far (MB): shown per asset to keep memory honest."""
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def peak_worker_rss_mb() -> float:
    """The largest peak of the batch worker processes so far (MB; 0 when batches ran in-process).

    A run's memory is at most this process's peak plus ``workers`` times this.
    """
    return round(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024, 1)


def staged(settings: TrialsSettings, name: str) -> StagedTable:
    return StagedTable(settings.staging_path(), name)
