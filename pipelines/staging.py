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
        """Add one part (an empty frame is written only if the table has no part yet)."""
        if frame.is_empty() and self._count:
            return
        self._count += 1
        path = self.folder / f"part-{self._count:05d}.parquet"
        partial = self.folder / f".{path.name}.partial"
        frame.write_parquet(partial)
        os.replace(partial, path)

    def paths(self) -> list[Path]:
        return sorted(self.folder.glob("part-*.parquet"))

    def exists(self) -> bool:
        return bool(self.paths())

    def scan(self) -> pl.LazyFrame:
        return pl.scan_parquet(self.paths())

    def remove(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)
