"""The analysis library: named, documented SQL queries in ``sql/analysis/``, one file per question.

Each file opens with a header the tooling reads, so the question travels with its SQL::

    -- name: trials_by_phase_and_status
    -- question: How many trials are there per phase and overall status?
    -- notes: how to read it, caveats; optional, and it may go on over
    --   further comment lines, indented (they are joined with spaces)

How the CLI uses it: ``trials queries`` prints ``name`` and ``question`` of every entry of
``load_queries()``; ``trials sql --query NAME`` runs ``find_query(NAME).sql`` on the same read-only
connection as ``trials sql``. Both raise ``ValueError`` with a message meant for the user (a file
with a broken header, an unknown name with the closest names), which the CLI already prints as
``trials: ...``. Loading is strict on purpose: a query nobody can find by name, or two files
answering under one name, would make the library lie about what it holds.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from pathlib import Path

from pipelines.settings import PROJECT_ROOT

ANALYSIS_DIR = PROJECT_ROOT / "sql" / "analysis"
FIELDS = ("name", "question", "notes")
REQUIRED = ("name", "question")
FIELD_LINE = re.compile(r"(?P<field>[A-Za-z_]+):\s*(?P<value>.*)")
SNAKE_CASE = re.compile(r"[a-z][a-z0-9_]*")


@dataclass(frozen=True)
class NamedQuery:
    """One question of the library; ``sql`` is the file's whole text (the header is SQL comments)."""

    name: str
    question: str
    notes: str | None
    path: Path
    sql: str


def load_queries(folder: Path = ANALYSIS_DIR) -> list[NamedQuery]:
    """Every ``*.sql`` file of ``folder``, sorted by name; ``ValueError`` naming the file on a bad header."""
    return [_parse_query(path) for path in sorted(folder.glob("*.sql"))]


def find_query(name: str, folder: Path = ANALYSIS_DIR) -> NamedQuery:
    """The query called ``name``; an unknown name raises ``ValueError`` suggesting the closest names."""
    queries = {query.name: query for query in load_queries(folder)}
    if name in queries:
        return queries[name]
    close = difflib.get_close_matches(name, queries, n=3, cutoff=0.5)
    hint = f"did you mean {', '.join(close)}?" if close else f"known queries: {', '.join(queries)}"
    raise ValueError(f"no query named {name!r} in {folder}; {hint} (`trials queries` lists them)")


def _parse_query(path: Path) -> NamedQuery:
    """Read one library file: its header fields, then the SQL that must follow them."""
    text = path.read_text()
    header = _header(text, path)
    missing = [field for field in REQUIRED if not header.get(field)]
    if missing:
        raise ValueError(f"{path}: header lacks {', '.join(missing)} (expected `-- name:`, `-- question:`)")
    if header["name"] != path.stem or not SNAKE_CASE.fullmatch(header["name"]):
        raise ValueError(
            f"{path}: `-- name: {header['name']}` must be the file's snake_case name {path.stem!r}"
        )
    if not _body(text).strip():
        raise ValueError(f"{path}: no SQL after the header")
    return NamedQuery(header["name"], header["question"], header.get("notes"), path, text)


def _header(text: str, path: Path) -> dict[str, str]:
    """The fields of the leading ``--`` lines: ``-- field: value``, continued on lines indented further."""
    fields: dict[str, str] = {}
    field = ""
    for line in _leading_comments(text):
        content = line.strip().removeprefix("--")
        if not content.strip():
            continue
        if field and content.startswith("  "):
            fields[field] = f"{fields[field]} {content.strip()}"
            continue
        match = FIELD_LINE.fullmatch(content.strip())
        if not match:
            break
        field = match["field"]
        if field not in FIELDS:
            raise ValueError(f"{path}: unknown header field `{field}` (known: {', '.join(FIELDS)})")
        if field in fields:
            raise ValueError(f"{path}: header field `{field}` given twice")
        fields[field] = match["value"].strip()
    if not fields:
        raise ValueError(f"{path}: no header; the file must start with `-- name: {path.stem}`")
    return fields


def _leading_comments(text: str) -> list[str]:
    lines = text.splitlines()
    count = next((i for i, line in enumerate(lines) if not line.lstrip().startswith("--")), len(lines))
    return lines[:count]


def _body(text: str) -> str:
    return "\n".join(text.splitlines()[len(_leading_comments(text)) :])
