"""Named points at which a test makes a run die as ``kill -9`` would, or wait while it changes the world.

Crash and race tests need a run stopped at a known moment (workers busy, schema half applied,
commit pending, files listed but not yet read) without sleeping and hoping:

- ``TRIALS_DIE_AT=<point>``: SIGKILL this process there.
- ``TRIALS_PAUSE_AT=<point>`` with ``TRIALS_PAUSE_FILE=<path>``: create the file there and wait
  (at most ``PAUSE_LIMIT`` seconds) until the test deletes it.

The points: ``listed`` (landing files listed, none read), ``parsed-batch`` (a batch parsed, workers
busy), ``load:ddl`` (schema applied inside the load transaction), ``load:commit`` (just before the
commit). Each costs an environment lookup.
"""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

PAUSE_LIMIT = 60.0


def fault_point(point: str) -> None:
    """Die or pause here if the environment names ``point``."""
    if os.environ.get("TRIALS_DIE_AT") == point:
        os.kill(os.getpid(), signal.SIGKILL)
    if os.environ.get("TRIALS_PAUSE_AT") == point:
        marker = Path(os.environ["TRIALS_PAUSE_FILE"])
        marker.touch()
        deadline = time.monotonic() + PAUSE_LIMIT
        while marker.exists() and time.monotonic() < deadline:
            time.sleep(0.02)
