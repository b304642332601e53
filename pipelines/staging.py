"""The staging area: each asset's output as a folder of Parquet parts, written part by part.

A run streams: records are parsed, transformed and validated a batch at a time, each batch
becoming one part per table, so memory holds one batch, never the corpus. DuckDB then reads the
parts directly. Parts are written under a hidden name and renamed, so a crash never leaves a
half-written file, and a folder is emptied before an asset starts writing into it.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import polars as pl


class StagedTable:
    """One table's folder of parts: ``part-00001.parquet`` …"""

    def __init__(self, root: Path, name: str) -> None:
        self.folder = root / name
        self._count = 0

    def reset(self) -> StagedTable:
        shutil.rmtree(self.folder, ignore_errors=True)
        self.folder.mkdir(parents=True)
        return self

    def write(self, frame: pl.DataFrame) -> None:
        """Add the next part (an empty frame is written only if the table has no part yet)."""
        if frame.is_empty() and self._count:
            return
        self._count += 1
        self.write_part(frame, self._count)

    def write_part(self, frame: pl.DataFrame, number: int) -> None:
        """Write part ``number`` (batches processed in parallel each write their own)."""
        path = self.folder / f"part-{number:05d}.parquet"
        partial = self.folder / f".{path.name}.partial"
        frame.write_parquet(partial)
        os.replace(partial, path)

    def ensure_part(self, empty: pl.DataFrame) -> None:
        """Give a table that got no rows one empty part, so that readers see its columns."""
        if not self.exists():
            self.write_part(empty.clear(), 0)

    def paths(self) -> list[Path]:
        return sorted(self.folder.glob("part-*.parquet"))

    def exists(self) -> bool:
        return bool(self.paths())

    def scan(self) -> pl.LazyFrame:
        return pl.scan_parquet(self.paths())

    def remove(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)


def remove_orphaned(root: Path, prefix: str) -> list[Path]:
    """Remove the folders ``<prefix><pid>-…`` under ``root`` whose process is gone (a killed run's staging).

    Each run names its temporary staging after its process, so the next run can tell its
    predecessors' litter from a staging area still in use.
    """
    removed = []
    for folder in root.glob(f"{prefix}*"):
        pid = folder.name.removeprefix(prefix).split("-", 1)[0]
        if folder.is_dir() and pid.isdigit() and not _alive(int(pid)):
            shutil.rmtree(folder, ignore_errors=True)
            removed.append(folder)
    return removed


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process
        return True
    return True
