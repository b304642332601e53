"""Open the DuckDB warehouse file for a load: fail at once, in one line, when it cannot be written.

A DuckDB file has one writer, and any other process that holds it (a reader in the duckdb CLI or
DBeaver, ``trials sql``, another load) makes opening it for writing fail. ``dagster-duckdb``
retries that silently for about 100 s and then fails the run, its work thrown away; here a load
checks the file before it parses anything (``preflight``), says who holds the lock (the PID
DuckDB reports and, when the holder is one of our loads, its Dagster run id from the owner file
written beside the warehouse while a load has it open), and waits only when asked to
(``wait_seconds``), saying what it waits for.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import duckdb

OWNER_SUFFIX = ".owner.json"
NOTIFY_EVERY = 10.0  # seconds between "waiting for …" messages
_HOLDER = re.compile(r"Conflicting lock is held in (?P<program>\S+) \(PID (?P<pid>\d+)\)")


class WarehouseUnavailable(RuntimeError):
    """The warehouse cannot be opened for writing; the message says why, in one line, for users."""


def preflight(database: Path) -> None:
    """Refuse a path that cannot be a writable warehouse: a directory, or in a folder not writable."""
    if database.is_dir():
        raise WarehouseUnavailable(f"--db {database} is a directory: give the path of a DuckDB file")
    folder = database.parent
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=folder, prefix=".trials-write-test-"):
            pass
    except OSError as error:
        raise WarehouseUnavailable(
            f"cannot write the warehouse's folder {folder}: {error.strerror}"
        ) from None
    if database.exists() and not os.access(database, os.W_OK):
        raise WarehouseUnavailable(f"the warehouse {database} is not writable (permissions)")


def holder(database: Path, message: str) -> str:
    """Who holds ``database``, from DuckDB's lock error and our owner file.

    ``PID 123 (python3.11, Dagster run …)``; the run id only when the holder is one of our loads.
    """
    found = _HOLDER.search(message)
    if not found:
        return "another process"
    pid = int(found["pid"])
    described = f"PID {pid} ({Path(found['program']).name}"
    owner = read_owner(database)
    if owner.get("pid") == pid and owner.get("run_id"):
        described += f", Dagster run {owner['run_id']}"
    return described + ")"


def read_owner(database: Path) -> dict[str, Any]:
    try:
        return json.loads(Path(str(database) + OWNER_SUFFIX).read_text())
    except (OSError, ValueError):
        return {}


@contextmanager
def open_for_writing(
    database: Path,
    config: dict[str, Any] | None = None,
    *,
    wait_seconds: float = 0.0,
    run_id: str | None = None,
    notify: Callable[[str], None] = print,
) -> Iterator[duckdb.DuckDBPyConnection]:
    """A read-write connection to ``database``; ``WarehouseUnavailable`` when another process holds it
    beyond ``wait_seconds``. While open, ``<database>.owner.json`` names this process and ``run_id``."""
    preflight(database)
    deadline = time.monotonic() + wait_seconds
    last_notice = float("-inf")
    while True:
        try:
            conn = duckdb.connect(str(database), config=config or {})
            break
        except duckdb.IOException as error:
            message = str(error)
            if "Conflicting lock" not in message:
                raise WarehouseUnavailable(
                    f"cannot open the warehouse {database}: {message.splitlines()[0]}"
                ) from None
            who = holder(database, message)
            left = deadline - time.monotonic()
            if left <= 0:
                advice = "" if wait_seconds else "; close it, or pass --wait SECONDS to wait for it"
                raise WarehouseUnavailable(f"the warehouse {database} is locked by {who}{advice}") from None
            if time.monotonic() - last_notice >= NOTIFY_EVERY:
                notify(f"waiting for {who} to release {database} (up to {left:,.0f} s more)")
                last_notice = time.monotonic()
            time.sleep(min(0.5, left))
    owner = Path(str(database) + OWNER_SUFFIX)
    owner.write_text(json.dumps({"pid": os.getpid(), "run_id": run_id}))
    try:
        yield conn
    finally:
        conn.close()
        owner.unlink(missing_ok=True)


def check_writable(
    database: Path, *, wait_seconds: float = 0.0, notify: Callable[[str], None] = print
) -> None:
    """Fail now, before any parsing, if a load could not write ``database`` (or wait as asked)."""
    if not database.exists():
        preflight(database)
        return
    with open_for_writing(database, wait_seconds=wait_seconds, notify=notify):
        pass
