"""Named points at which a test makes a run die as ``kill -9`` would: ``TRIALS_DIE_AT=<point>``.

Crash tests need to kill a run at a known moment (workers busy, schema half applied, commit
pending) without sleeping and hoping; the points cost one environment lookup each.
"""

from __future__ import annotations

import os
import signal

POINTS = ("parsed-batch", "load:ddl", "load:commit")


def die_at(point: str) -> None:
    """SIGKILL this process if ``TRIALS_DIE_AT`` names ``point``."""
    if os.environ.get("TRIALS_DIE_AT") == point:
        os.kill(os.getpid(), signal.SIGKILL)
