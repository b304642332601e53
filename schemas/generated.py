"""The files made from the definitions, written or checked (``trials ddl [--check]``).

They are committed, so that the DDL a load applies and the dictionary a reader opens need no build
step, and checked, so that they cannot drift from the definitions unnoticed.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from schemas.ddl import hand_written, warehouse_sql, with_view_comments
from schemas.dictionary import dictionary_md
from schemas.views import view_columns


@dataclass(frozen=True)
class Files:
    """Where the generated files live. ``views`` is also read: its views' SQL is hand-written."""

    warehouse: Path
    views: Path
    dictionary: Path


def generate(files: Files) -> dict[Path, str]:
    """Each file's text as the definitions make it."""
    ddl = warehouse_sql()
    views_sql = files.views.read_text()
    columns = view_columns(ddl, hand_written(views_sql))
    return {
        files.warehouse: ddl,
        files.views: with_view_comments(views_sql, columns),
        files.dictionary: dictionary_md(columns),
    }


def differing(generated: dict[Path, str]) -> list[Path]:
    """The files whose text on disk (if any) is not the generated one."""
    return [path for path, text in generated.items() if not path.is_file() or path.read_text() != text]


def stale(files: Files) -> list[Path]:
    """The files that differ from what the definitions make (or are missing)."""
    return differing(generate(files))


def write(files: Files) -> list[Path]:
    """Write the files that changed; returns them."""
    generated = generate(files)
    changed = differing(generated)
    for path in changed:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(generated[path])
    return changed
