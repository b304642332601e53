"""Walk the landing zone and cut containers into one raw record per study.

Containers are recognised by their bytes, not their names: a zip archive (the bulk
``ctg-studies.json.zip`` / ``AllPublicXML.zip`` layout), gzip, a JSON page of the API
(``{"studies": [...]}``), a JSON array, NDJSON, or a single record. Archives are read member by
member and gzip streams line by line, so the bulk files never need extracting to disk.
"""

from __future__ import annotations

import gzip
import re
import threading
import zipfile
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from itertools import chain
from pathlib import Path
from typing import IO

import orjson

from pipelines.sources.records import RawRecord

ZIP_MAGIC = b"PK\x03\x04"
# An object whose first key is a study's own is a study, not an API page or an array of studies.
STUDY_OPENING = re.compile(
    rb'\{\s*"(?:protocolSection|derivedSection|hasResults|resultsSection|documentSection)"'
)
GZIP_MAGIC = b"\x1f\x8b"


def iter_raw_records(paths: Iterable[str | Path]) -> Iterator[RawRecord]:
    """Yield every record under ``paths`` (files or folders, walked in sorted order)."""
    for path in map(Path, paths):
        if path.is_dir():
            for file in sorted(p for p in path.rglob("*") if p.is_file() and not _hidden(p, path)):
                yield from _file_records(file)
        elif path.is_file():
            yield from _file_records(path)
        else:
            raise FileNotFoundError(f"landing path does not exist: {path}")


def list_landing_files(paths: Iterable[str | Path]) -> list[Path]:
    """The files ``iter_raw_records`` would read, for sensors and progress totals."""
    files: list[Path] = []
    for path in map(Path, paths):
        if path.is_dir():
            files.extend(sorted(p for p in path.rglob("*") if p.is_file() and not _hidden(p, path)))
        elif path.is_file():
            files.append(path)
    return files


def _hidden(file: Path, root: Path) -> bool:
    return any(part.startswith(".") for part in file.relative_to(root).parts)


def _file_records(file: Path) -> Iterator[RawRecord]:
    with file.open("rb") as handle:
        head = handle.read(4)
    if head.startswith(ZIP_MAGIC):
        yield from _zip_records(file)
        return
    opener = gzip.open if head.startswith(GZIP_MAGIC) else open
    with opener(file, "rb") as stream:
        yield from _stream_records(stream, str(file))


def _stream_records(stream: IO[bytes], uri: str) -> Iterator[RawRecord]:
    """NDJSON is read line by line (bounded memory whatever the file size); anything else whole.

    A file is NDJSON when its first line is a complete JSON value and another non-empty line
    follows; each line is then a record of its own (``path#L<n>``).
    """
    first = stream.readline()
    blank: list[bytes] = []
    second = stream.readline()
    while second and not second.strip():
        blank.append(second)
        second = stream.readline()
    if not second or not _is_json(first):
        yield from split_records(first + b"".join(blank) + second + stream.read(), uri)
        return
    for number, line in enumerate(chain([first], blank, [second], stream), start=1):
        if line.strip():
            yield RawRecord(f"{uri}#L{number}", line.strip())


def _is_json(line: bytes) -> bool:
    try:
        orjson.loads(line)
    except orjson.JSONDecodeError:
        return False
    return True


ZIP_READERS = 2  # threads inflating members: zlib releases the GIL, so they use both cores
ZIP_CHUNK = 64  # members a thread inflates at a time (bounds what is read ahead of use)


def _zip_records(file: Path) -> Iterator[RawRecord]:
    """Members in archive order, inflated by a few threads (inflating is most of reading a zip)."""
    with zipfile.ZipFile(file) as archive:
        members = [
            info
            for info in archive.infolist()
            if not info.is_dir() and not Path(info.filename).name.startswith(".")
        ]
    local = threading.local()
    opened: list[zipfile.ZipFile] = []

    def inflate(chunk: list[zipfile.ZipInfo]) -> list[bytes]:
        if not hasattr(local, "archive"):  # a ZipFile must not be shared between threads
            local.archive = zipfile.ZipFile(file)
            opened.append(local.archive)
        return [local.archive.read(info) for info in chunk]

    try:
        with ThreadPoolExecutor(ZIP_READERS) as pool:
            chunks = (members[start : start + ZIP_CHUNK] for start in range(0, len(members), ZIP_CHUNK))
            pending: deque[tuple[list[zipfile.ZipInfo], Future[list[bytes]]]] = deque()
            for chunk in chunks:
                pending.append((chunk, pool.submit(inflate, chunk)))
                while len(pending) > ZIP_READERS or (pending and pending[0][1].done()):
                    yield from _inflated(file, *pending.popleft())
            while pending:
                yield from _inflated(file, *pending.popleft())
    finally:
        for archive in opened:
            archive.close()


def _inflated(file: Path, chunk: list[zipfile.ZipInfo], contents: Future[list[bytes]]) -> Iterator[RawRecord]:
    for info, content in zip(chunk, contents.result(), strict=True):
        yield from split_records(content, f"{file}!{info.filename}")


def split_records(content: bytes, uri: str) -> Iterator[RawRecord]:
    """Cut one JSON container into studies; anything else is a single record.

    A JSON text that fails to parse as a whole but has several lines is read as NDJSON, one
    record per non-empty line (a bad line is then rejected on its own, the others load).
    """
    stripped = content.lstrip(b"\xef\xbb\xbf \t\r\n")
    if not stripped.startswith((b"{", b"[")):
        yield RawRecord(uri, content)
        return
    if STUDY_OPENING.match(stripped):  # one study (the bulk zip's members): no need to decode it here
        yield RawRecord(uri, stripped)
        return
    try:
        document = orjson.loads(stripped)
    except orjson.JSONDecodeError:
        lines = stripped.splitlines()
        if len(lines) < 2:
            yield RawRecord(uri, content)
            return
        for number, line in enumerate(lines, start=1):
            if line.strip():
                yield RawRecord(f"{uri}#L{number}", line)
        return
    if isinstance(document, dict) and isinstance(document.get("studies"), list):
        items: list[object] = document["studies"]
        prefix = "studies"
    elif isinstance(document, list):
        items, prefix = document, ""
    else:
        yield RawRecord(uri, stripped)
        return
    for index, item in enumerate(items):
        yield RawRecord(f"{uri}#{prefix}[{index}]", orjson.dumps(item))
