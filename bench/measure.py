"""Run one command as a child process and take its own wall time, CPU time and memory.

``os.wait4`` returns the resource usage of exactly the child it reaps, including the descendants that
child waited for: CPU time is the whole tool's, worker processes included. ``getrusage(RUSAGE_CHILDREN)``
would not do: its ``ru_maxrss`` is the maximum over every child reaped so far, so after a big run each
smaller one would report the big one's peak.

``ru_maxrss`` is the peak of the *largest single process*, not of their sum: a tool that spreads its
work over a process pool (ours does) costs the machine more than that. So a sampler also adds up the
proportional set size (PSS: shared pages divided among their sharers, so nothing is counted twice) of
the child and all its descendants every ``SAMPLE_EVERY_S`` and keeps the peak. A spike shorter than
the interval can slip through; a sample costs about 5 ms of one core.

One floor remains: Linux carries the peak RSS of the address space a child had before ``exec`` (with
vfork, the parent's) into the child's ``ru_maxrss``. The harness therefore stays small (it never
imports DuckDB, polars, Dagster or dlt) and records its own peak beside the results: any child's figure
above it is the child's own.
"""

from __future__ import annotations

import os
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path

SAMPLE_EVERY_S = 0.2


@dataclass(frozen=True)
class Measurement:
    wall_s: float
    user_s: float
    sys_s: float
    peak_rss_mb: float  # the largest single process (wait4, exact)
    tree_peak_mb: float  # the child and its descendants together (sampled PSS)
    returncode: int
    stdout: str
    stderr: str

    @property
    def cpu_s(self) -> float:
        return self.user_s + self.sys_s


def measure(argv: list[str], env: dict[str, str], logs: Path, cwd: Path) -> Measurement:
    """Run ``argv`` to completion; its output goes to files in ``logs`` (a pipe could fill and stall it)."""
    logs.mkdir(parents=True, exist_ok=True)
    with (logs / "stdout.txt").open("w+b") as out, (logs / "stderr.txt").open("w+b") as err:
        start = time.perf_counter()
        child = subprocess.Popen(argv, stdout=out, stderr=err, env=env, cwd=cwd)
        sampler = _TreeSampler(child.pid)
        sampler.start()
        _, status, usage = os.wait4(child.pid, 0)
        wall = time.perf_counter() - start
        sampler.stop()
        child.returncode = os.waitstatus_to_exitcode(status)  # reaped here, not by Popen
        out.seek(0)
        err.seek(0)
        return Measurement(
            wall_s=wall,
            user_s=usage.ru_utime,
            sys_s=usage.ru_stime,
            peak_rss_mb=usage.ru_maxrss / 1024,  # Linux reports kilobytes
            tree_peak_mb=sampler.peak_kb / 1024,
            returncode=child.returncode,
            stdout=out.read().decode(errors="replace"),
            stderr=err.read().decode(errors="replace"),
        )


class _TreeSampler(threading.Thread):
    """The peak of the summed PSS of a process and its descendants, sampled until stopped."""

    def __init__(self, root: int) -> None:
        super().__init__(daemon=True)
        self.root = root
        self.peak_kb = 0
        self._stopped = threading.Event()

    def run(self) -> None:
        while True:
            self.peak_kb = max(self.peak_kb, sum(map(_pss_kb, _descendants(self.root))))
            if self._stopped.wait(SAMPLE_EVERY_S):
                return

    def stop(self) -> None:
        self._stopped.set()
        self.join()


def _descendants(root: int) -> list[int]:
    """``root`` and every process below it, from the parent ids in ``/proc/<pid>/stat``."""
    children: dict[int, list[int]] = {}
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                stat = Path(f"/proc/{name}/stat").read_bytes()
            except OSError:  # gone meanwhile
                continue
            parent = int(stat[stat.rindex(b")") + 2 :].split()[1])  # the name in (…) may hold spaces
            children.setdefault(parent, []).append(int(name))
    found, pending = [], [root]
    while pending:
        pid = pending.pop()
        found.append(pid)
        pending.extend(children.get(pid, []))
    return found


def _pss_kb(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/smaps_rollup", "rb") as rollup:
            return next((int(line.split()[1]) for line in rollup if line.startswith(b"Pss:")), 0)
    except OSError:  # exited meanwhile
        return 0
