"""Walk the landing zone and cut containers into one raw record per study.

Containers are recognised by their bytes, not their names: a zip archive (the bulk
``ctg-studies.json.zip`` / ``AllPublicXML.zip`` layout), gzip, a JSON page of the API
(``{"studies": [...]}``), a JSON array, NDJSON, or a single record. Archives are read member by
member and gzip streams line by line, so the bulk files never need extracting to disk.

One bad input never costs the good ones, and never the run:

- Reading is bounded (``Limits``): a zip member, an NDJSON line, a file or gzip stream read whole
  over ``max_record_bytes`` becomes a *rejected* record (``RawRecord.rejection``) naming the cap;
  nothing is inflated past the cap, so a zip or gzip bomb costs at most the cap in memory.
- A corrupt archive or stream (bad CRC, truncated) becomes a rejected record where it breaks; the
  records before it, and the archive's other members, still come out.
- ``scan_landing`` lists the files with their size and modification time; ``read_landing_file``
  raises ``LandingFileChanged`` if a file is gone, changed or unreadable since, so that the
  consumer skips that file with the reason and goes on.
- Symlinks are not followed out of the landing roots (``SkippedFile``), and no file is read twice.
- Text is UTF-8 (with or without byte-order mark), or UTF-16/UTF-32 with a byte-order mark, which
  is transcoded to UTF-8 here for whole files and NDJSON (in ``dispatch`` for single records).
"""

from __future__ import annotations

import bz2
import codecs
import gzip
import io
import lzma
import os
import re
import stat
import struct
import threading
import zipfile
import zlib
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import chain
from pathlib import Path
from typing import IO

import orjson

from pipelines.sources.records import UTF8_BOM, Limits, RawRecord, RecordRejected, to_utf8, wide_encoding

__all__ = [
    "LandingFile",
    "LandingFileChanged",
    "Limits",
    "SkippedFile",
    "iter_raw_records",
    "list_landing_files",
    "read_landing_file",
    "scan_landing",
    "split_records",
]

ZIP_MAGIC = b"PK\x03\x04"
# What inflating one member may raise when the member, not the file, is bad (encrypted: RuntimeError;
# a compression zipfile does not know: NotImplementedError).
ZIP_MEMBER_ERRORS = (
    zipfile.BadZipFile,
    zlib.error,
    lzma.LZMAError,
    EOFError,
    RuntimeError,
    NotImplementedError,
)
_Member = tuple[bytes, str | None]  # a member's bytes, or the little read and the rejection's reason
# An object whose first key is a study's own is a study, not an API page or an array of studies.
STUDY_OPENING = re.compile(
    rb'\{\s*"(?:protocolSection|derivedSection|hasResults|resultsSection|documentSection)"'
)
GZIP_MAGIC = b"\x1f\x8b"
READ_CHUNK = 1 << 20  # bytes read (or inflated) at a time
EXCERPT_BYTES = 800  # what a rejected record keeps of the little it read (dispatch.excerpt shows 200 chars)


@dataclass(frozen=True)
class LandingFile:
    """A file of the landing zone as listed: reading it checks it is still this file."""

    path: Path
    size: int
    mtime_ns: int


@dataclass(frozen=True)
class SkippedFile:
    """A path of the landing zone that is not read, and why (a symlink out of the zone, say)."""

    path: str
    reason: str


class LandingFileChanged(OSError):
    """A listed file is gone, changed or unreadable: skip the whole file with ``str(error)`` as reason.

    Raised by ``read_landing_file`` before the first record, or part-way: records already yielded
    came from the file as it was then, and may mix two versions of it, so the consumer discards them.
    """


# --- listing the landing zone ----------------------------------------------------------------------


def scan_landing(
    paths: Iterable[str | Path], *, missing_ok: bool = False
) -> tuple[list[LandingFile], list[SkippedFile]]:
    """The files to read under ``paths`` (files or folders) and the paths skipped, with the reason.

    Folders are walked in sorted order, skipping hidden names (``.name``). Symlinks, to files or
    folders, are followed only if their target is inside one of ``paths``; one that leaves them is
    skipped (``"symlink leaves the landing zone: -> target"``) and nothing is read through it. A
    file is listed once, under the first path it is met by (a symlink to a file or folder that is
    walked anyway is skipped as such). A missing path raises ``FileNotFoundError`` unless
    ``missing_ok``; a file that vanishes during the walk is skipped.
    """
    roots = [Path(path) for path in paths]
    scan = _Scan([(os.path.realpath(root), root.is_dir()) for root in roots])
    for root in roots:
        if root.is_dir():
            scan.folder(root, frozenset({os.path.realpath(root)}))
        elif root.exists():
            scan.file(root)
        elif not missing_ok:
            raise FileNotFoundError(f"landing path does not exist: {root}")
    return scan.files, scan.skipped


def list_landing_files(paths: Iterable[str | Path]) -> list[Path]:
    """The files ``iter_raw_records`` would read, for sensors and progress totals (missing paths: none)."""
    return [file.path for file in scan_landing(paths, missing_ok=True)[0]]


def iter_raw_records(paths: Iterable[str | Path], limits: Limits | None = None) -> Iterator[RawRecord]:
    """Yield every record under ``paths`` (files or folders, walked in sorted order).

    Skipped paths are passed over silently and a file changed under the run raises
    ``LandingFileChanged``: a consumer that reports them uses ``scan_landing`` and
    ``read_landing_file``.
    """
    for file in scan_landing(paths)[0]:
        yield from read_landing_file(file, limits)


class _Scan:
    """One walk of the landing zone: ``zone`` holds each root's real path and whether it is a folder."""

    def __init__(self, zone: list[tuple[str, bool]]) -> None:
        self.zone = zone
        self.files: list[LandingFile] = []
        self.skipped: list[SkippedFile] = []
        self.seen: dict[tuple[int, int], Path] = {}  # (device, inode) → the path it is listed under

    def skip(self, path: Path, reason: str) -> None:
        self.skipped.append(SkippedFile(str(path), reason))

    def folder(self, folder: Path, followed: frozenset[str]) -> None:
        """Walk ``folder``; ``followed`` holds the real paths of the folders being walked (no loops)."""
        try:
            with os.scandir(folder) as scan:
                entries = sorted(scan, key=lambda entry: entry.name)
        except FileNotFoundError:
            self.skip(folder, "vanished while the landing zone was listed")
            return
        except OSError as error:
            self.skip(folder, f"folder cannot be listed: {error.strerror or error}")
            return
        for entry in entries:
            if entry.name.startswith("."):
                continue
            path = Path(entry.path)
            try:
                if entry.is_symlink():
                    self.symlink(path, followed)
                elif entry.is_dir(follow_symlinks=False):
                    self.folder(path, followed | {os.path.realpath(path)})
                else:
                    self.file(path)
            except OSError as error:
                self.skip(path, f"cannot be listed: {error.strerror or error}")

    def symlink(self, link: Path, followed: frozenset[str]) -> None:
        target = os.path.realpath(link)
        if not any(_within(target, root) for root, _ in self.zone):
            self.skip(link, f"symlink leaves the landing zone: -> {target}")
        elif not os.path.exists(target):
            self.skip(link, f"broken symlink: -> {target}")
        elif target in followed:
            self.skip(link, f"symlink loops back to a folder being walked: -> {target}")
        elif self.walked(target):
            self.skip(link, f"symlink to {target}, which is read under its own path")
        elif os.path.isdir(target):
            self.folder(link, followed | {target})
        else:
            self.file(link)

    def walked(self, target: str) -> bool:
        """Is ``target`` (a real path) met by the walk under its own path anyway?"""
        for root, is_folder in self.zone:
            if target == root:
                return True
            if is_folder and _within(target, root) and not _hidden(Path(os.path.relpath(target, root))):
                return True
        return False

    def file(self, path: Path) -> None:
        try:
            status = os.stat(path)
        except FileNotFoundError:
            self.skip(path, "vanished while the landing zone was listed")
            return
        except OSError as error:
            self.skip(path, f"cannot be read: {error.strerror or error}")
            return
        if not stat.S_ISREG(status.st_mode):
            self.skip(path, "not a regular file")
            return
        key = (status.st_dev, status.st_ino)
        if key in self.seen:
            self.skip(path, f"same file as {self.seen[key]}, which is read")
            return
        self.seen[key] = path
        self.files.append(LandingFile(path, status.st_size, status.st_mtime_ns))


def _hidden(relative: Path) -> bool:
    return any(part.startswith(".") for part in relative.parts)


def _within(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip(os.sep) + os.sep)


# --- reading one file --------------------------------------------------------------------------------


def read_landing_file(file: LandingFile, limits: Limits | None = None) -> Iterator[RawRecord]:
    """Yield the records of one listed file, checking it is still the file ``scan_landing`` listed.

    Raises ``LandingFileChanged`` if the file is gone or its size or modification time differ
    before reading, if it vanishes or becomes unreadable while it is read, or if it differs
    once read to the end; the records yielded until then came from the file as it was then.
    Content over a cap of ``limits`` (default ``Limits()``) or corrupt comes out as rejected
    records, never as an exception.
    """
    return _FileReader(file, limits or Limits()).records()


class _FileReader:
    def __init__(self, file: LandingFile, limits: Limits) -> None:
        self.file = file
        self.limits = limits
        self.uri = str(file.path)

    def check(self, when: str, status: os.stat_result | None = None) -> None:
        """Raise ``LandingFileChanged`` unless the file is as listed (``status``: of an open handle)."""
        try:
            status = status or os.stat(self.file.path)
        except FileNotFoundError:
            raise LandingFileChanged(f"vanished {when}") from None
        except OSError as error:
            raise LandingFileChanged(f"cannot be read {when}: {error.strerror or error}") from None
        changes = []
        if status.st_size != self.file.size:
            changes.append(f"size {self.file.size:,} → {status.st_size:,} bytes")
        if status.st_mtime_ns != self.file.mtime_ns:
            changes.append(f"modified {_when(self.file.mtime_ns)} → {_when(status.st_mtime_ns)}")
        if changes:
            raise LandingFileChanged(f"changed {when}: {', '.join(changes)}")

    def corrupt(self, error: Exception, what: str) -> str:
        """The reason for a rejected record where content broke, unless the file changed (raised)."""
        self.check("while it was read")
        return f"{what}: {error}"

    def records(self) -> Iterator[RawRecord]:
        self.check("after it was listed")
        try:
            with open(self.file.path, "rb") as handle:
                self.check("after it was listed", os.fstat(handle.fileno()))
                head = handle.read(4)
                handle.seek(0)
                if head.startswith(ZIP_MAGIC):
                    yield from self.zip_records(handle)
                elif head.startswith(GZIP_MAGIC):
                    with gzip.GzipFile(fileobj=handle, mode="rb") as stream:
                        yield from self.text_records(stream, "gzip stream")
                else:
                    yield from self.text_records(handle, "file")
        except LandingFileChanged:
            raise
        except OSError as error:
            self.check("while it was read")
            raise LandingFileChanged(f"cannot be read: {error.strerror or error}") from error
        self.check("while it was read")

    # --- text: plain or gzip, NDJSON or read whole -----------------------------------------------

    def text_records(self, stream: IO[bytes], what: str) -> Iterator[RawRecord]:
        """Records of a text stream, UTF-16/UTF-32 (by byte-order mark) transcoded to UTF-8 first."""
        try:
            head = stream.peek(4)[:4]  # type: ignore[attr-defined]  # BufferedReader, GzipFile
        except (gzip.BadGzipFile, EOFError, zlib.error) as error:
            yield RawRecord(self.uri, b"", self.corrupt(error, f"{what} is corrupt or truncated"))
            return
        wide = wide_encoding(head)
        if wide is not None:
            stream = io.BufferedReader(_Utf8Reader(stream, *wide), READ_CHUNK)
        yield from self.stream_records(stream, what)

    def stream_records(self, stream: IO[bytes], what: str) -> Iterator[RawRecord]:
        """NDJSON is read line by line (bounded memory whatever the file size); anything else whole.

        A file is NDJSON when its first line is a complete JSON value (or over the cap) and another
        non-empty line follows; each line is then a record of its own (``path#L<n>``).
        """
        lines = _Lines(stream, self.limits.max_record_bytes)
        first: _Line | None = None
        mode = "undecided"
        try:
            first = lines.next()
            second = lines.next() if first is not None else None
            if first is None or second is None or not (first.over or _is_json(first.data)):
                mode = "whole"
                yield from self.whole(stream, lines, what)
                return
            mode, lines.kept = "ndjson", None  # NDJSON: nothing is read whole
            for line in chain((first, second), iter(lines.next, None)):
                yield self.line_record(line)
        except (gzip.BadGzipFile, EOFError, zlib.error, _NotText) as error:
            if isinstance(error, _NotText):
                self.check("while it was read")
                reason = str(error)
            else:
                reason = self.corrupt(error, f"{what} is corrupt or truncated")
            if mode == "undecided" and first is not None and not first.over and _is_json(first.data):
                mode = "ndjson"  # a complete JSON line, then more: NDJSON broken after its first line
                yield self.line_record(first)
            uri = f"{self.uri}#L{lines.number + 1}" if mode == "ndjson" else self.uri
            yield RawRecord(uri, b"", reason)

    def line_record(self, line: _Line) -> RawRecord:
        uri = f"{self.uri}#L{line.number}"
        if line.over:
            return RawRecord(uri, line.data, self.limits.over_size("NDJSON line is longer than"))
        return RawRecord(uri, line.data.strip().removeprefix(UTF8_BOM))

    def whole(self, stream: IO[bytes], lines: _Lines, what: str) -> Iterator[RawRecord]:
        """The stream read whole, up to the cap: what ``lines`` read already, then the rest."""
        cap = self.limits.max_record_bytes
        parts, size = lines.kept, lines.size
        while parts is not None and (part := stream.read(min(READ_CHUNK, cap + 1 - size))):
            parts.append(part)
            size += len(part)
            if size > cap:
                parts = None
        if parts is None:
            verb = "inflates beyond" if what == "gzip stream" else "is larger than"
            reason = self.limits.over_size(f"{what} (not NDJSON: read whole) {verb}")
            yield RawRecord(self.uri, lines.head, reason)
            return
        yield from split_records(b"".join(parts), self.uri)

    # --- zip --------------------------------------------------------------------------------------

    def zip_records(self, handle: IO[bytes]) -> Iterator[RawRecord]:
        """Members in archive order, inflated by a few threads (inflating is most of reading a zip)."""
        try:
            with zipfile.ZipFile(handle) as archive:
                members = [
                    info
                    for info in archive.infolist()
                    if not info.is_dir() and not Path(info.filename).name.startswith(".")
                ]
        except (zipfile.BadZipFile, EOFError) as error:
            yield RawRecord(self.uri, b"", self.corrupt(error, "zip archive cannot be read"))
            return
        local = threading.local()
        opened: list[IO[bytes]] = []

        def inflate(chunk: list[zipfile.ZipInfo]) -> list[_Member]:
            if not hasattr(local, "archive"):  # a ZipFile must not be shared between threads
                own = open(self.file.path, "rb")  # noqa: SIM115 (closed below, with the others)
                opened.append(own)
                self.check("while it was read", os.fstat(own.fileno()))
                local.archive = zipfile.ZipFile(own)
            return [self.member(local.archive, info) for info in chunk]

        try:
            with ThreadPoolExecutor(ZIP_READERS) as pool:
                pending: deque[tuple[list[zipfile.ZipInfo], Future[list[_Member]]]] = deque()
                for chunk in self.zip_chunks(members):
                    pending.append((chunk, pool.submit(inflate, chunk)))
                    while len(pending) > ZIP_READERS or (pending and pending[0][1].done()):
                        yield from self.inflated(*pending.popleft())
                while pending:
                    yield from self.inflated(*pending.popleft())
        finally:
            for own in opened:
                own.close()

    def zip_chunks(self, members: list[zipfile.ZipInfo]) -> Iterator[list[zipfile.ZipInfo]]:
        """Members a thread inflates at a time: ``ZIP_CHUNK`` at most, ``ZIP_CHUNK_BYTES`` inflated."""
        chunk: list[zipfile.ZipInfo] = []
        size = 0
        for info in members:
            weight = info.file_size if info.file_size <= self.limits.max_record_bytes else 0
            if chunk and (len(chunk) >= ZIP_CHUNK or size + weight > ZIP_CHUNK_BYTES):
                yield chunk
                chunk, size = [], 0
            chunk.append(info)
            size += weight
        if chunk:
            yield chunk

    def inflated(self, chunk: list[zipfile.ZipInfo], contents: Future[list[_Member]]) -> Iterator[RawRecord]:
        for info, (content, rejection) in zip(chunk, contents.result(), strict=True):
            uri = f"{self.uri}!{info.filename}"
            if rejection is None:
                yield from split_records(content, uri)
            else:
                yield RawRecord(uri, content, rejection)

    def member(self, archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> _Member:
        """One member's bytes, inflated piecewise up to the cap; or what was read and the reason."""
        cap = self.limits.max_record_bytes
        if info.file_size > cap:  # zipfile never returns more than the size the archive states
            return b"", self.limits.over_size(f"zip member inflates to {info.file_size:,} bytes, beyond")
        try:
            if info.compress_type == zipfile.ZIP_BZIP2:
                content = _bzip2_member(archive, info)
            else:
                # zipfile inflates deflate a read's worth at a time, but LZMA a whole compressed block
                # of the read's size: small reads keep that small.
                step = 4096 if info.compress_type == zipfile.ZIP_LZMA else READ_CHUNK
                parts, size = [], 0
                with archive.open(info) as member:
                    while (part := member.read(step)) and size + len(part) <= cap:
                        size += len(part)
                        parts.append(part)
                content = None if part else b"".join(parts)
        except ZIP_MEMBER_ERRORS as error:
            return b"", self.corrupt(error, "zip member cannot be inflated")
        if content is None:
            return b"", self.limits.over_size("zip member inflates beyond")
        return content, None


ZIP_READERS = 2  # threads inflating members: zlib releases the GIL, so they use both cores
ZIP_CHUNK = 64  # members a thread inflates at a time (bounds what is read ahead of use) …
ZIP_CHUNK_BYTES = 64 << 20  # … and their inflated bytes, as the archive states them


def _bzip2_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> bytes:
    """A bzip2 member inflated piecewise, never beyond the size the archive states for it.

    (zipfile inflates bzip2 a whole read at a time, which a few KiB can make GiB of.) Raises
    ``zipfile.BadZipFile`` if the member is not what the archive says.
    """
    if info.flag_bits & 0x1:
        raise RuntimeError(f"member {info.filename!r} is encrypted")
    descriptor = archive.fp.fileno()  # type: ignore[union-attr]
    header = os.pread(descriptor, 30, info.header_offset)
    if len(header) < 30 or not header.startswith(ZIP_MAGIC):
        raise zipfile.BadZipFile(f"bad local file header for {info.filename!r}")
    name_length, extra_length = struct.unpack("<HH", header[26:30])
    position = info.header_offset + 30 + name_length + extra_length
    left = info.compress_size
    decompressor = bz2.BZ2Decompressor()
    parts: list[bytes] = []
    size = crc = 0
    while not decompressor.eof:
        data = b""
        if decompressor.needs_input:
            data = os.pread(descriptor, min(READ_CHUNK, left), position) if left > 0 else b""
            if not data:
                raise EOFError(f"bzip2 member {info.filename!r} is cut short")
            position += len(data)
            left -= len(data)
        part = decompressor.decompress(data, READ_CHUNK)
        size += len(part)
        if size > info.file_size:
            raise zipfile.BadZipFile(
                f"{info.filename!r} inflates beyond the {info.file_size:,} bytes the archive states"
            )
        crc = zlib.crc32(part, crc)
        parts.append(part)
    if size != info.file_size or crc != info.CRC:
        raise zipfile.BadZipFile(f"Bad CRC-32 or size for file {info.filename!r}")
    return b"".join(parts)


# --- helpers -----------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Line:
    number: int
    data: bytes  # the line, or its first EXCERPT_BYTES when it is over the cap
    over: bool


class _Lines:
    """The non-blank lines of a stream, each read piecewise and kept only up to the cap.

    Until ``kept`` is set to None, every byte read is also kept there (in pieces) for reading the
    stream whole, as long as they fit the cap; ``size`` counts them and ``head`` is their start.
    Runs of blank lines are skipped a buffer at a time, not line by line.
    """

    def __init__(self, stream: IO[bytes], cap: int) -> None:
        self.stream = stream
        self.cap = cap
        self.number = 0  # lines read so far, blank ones too
        self.size = 0
        self.kept: list[bytes] | None = []
        self.head = b""

    def next(self) -> _Line | None:
        """The next non-blank line, None at the end."""
        while True:
            self._skip_blank_lines()
            parts: list[bytes] | None = []
            size, blank, head = 0, True, b""
            while part := self.stream.readline(READ_CHUNK):
                self._read(part)
                size += len(part)
                blank = blank and not part.strip()
                if len(head) < EXCERPT_BYTES:
                    head += part[: EXCERPT_BYTES - len(head)]
                if parts is not None:
                    parts.append(part)
                    if size > self.cap + 2:  # + 2: the line's end, \r\n
                        parts = None
                if part.endswith(b"\n"):
                    break
            if not size:
                return None
            self.number += 1
            if blank:
                continue
            line = b"".join(parts) if parts is not None else None
            if line is None or len(line.rstrip(b"\r\n")) > self.cap:
                return _Line(self.number, head, True)
            return _Line(self.number, line, False)

    def _skip_blank_lines(self) -> None:
        while True:
            buffered = self.stream.peek(READ_CHUNK)  # type: ignore[attr-defined]
            end = buffered.rfind(b"\n", 0, len(buffered) - len(buffered.lstrip())) + 1
            if not end:
                return
            blank = self.stream.read(end)
            self._read(blank)
            self.number += blank.count(b"\n")

    def _read(self, data: bytes) -> None:
        self.size += len(data)
        if len(self.head) < EXCERPT_BYTES:
            self.head += data[: EXCERPT_BYTES - len(self.head)]
        if self.kept is not None:
            self.kept.append(data)
            if self.size > self.cap:
                self.kept = None


class _NotText(ValueError):
    """UTF-16/UTF-32 text that does not decode; the message is the rejection's reason."""


class _Utf8Reader(io.RawIOBase):
    """UTF-16/UTF-32 text re-encoded as UTF-8 as it is read (the codec reads the byte-order mark).

    Text that does not decode raises ``_NotText`` where it breaks, after the text before it.
    """

    def __init__(self, stream: IO[bytes], codec: str, label: str) -> None:
        self.stream = stream
        self.label = label
        self.decoder = codecs.getincrementaldecoder(codec)()
        self.pending = b""
        self.offset = 0
        self.done = False
        self.error: _NotText | None = None
        self.consumed = 0  # bytes of the stream decoded so far

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        while self.offset >= len(self.pending):
            if self.error is not None:
                raise self.error
            if self.done:
                return 0
            chunk = self.stream.read(READ_CHUNK)
            self.done = not chunk
            state = self.decoder.getstate()
            try:
                text = self.decoder.decode(chunk, final=self.done)
            except UnicodeDecodeError as error:  # keep the text before the error, then raise it
                held = len(state[0])
                self.decoder.setstate(state)
                text = self.decoder.decode(chunk[: max(0, error.start - held)])
                self.error = _NotText(
                    f"not text: invalid {self.label} at byte {self.consumed - held + error.start}"
                    f" ({error.reason}) after its byte-order mark"
                )
            self.pending = text.encode("utf-8")
            self.consumed += len(chunk)
            self.offset = 0
        size = min(len(buffer), len(self.pending) - self.offset)
        buffer[:size] = self.pending[self.offset : self.offset + size]
        self.offset += size
        return size


def _is_json(line: bytes) -> bool:
    try:
        orjson.loads(line.removeprefix(UTF8_BOM))
    except orjson.JSONDecodeError:
        return False
    return True


def _when(mtime_ns: int) -> str:
    return datetime.fromtimestamp(mtime_ns / 1e9, UTC).isoformat(timespec="microseconds")


def split_records(content: bytes, uri: str) -> Iterator[RawRecord]:
    """Cut one JSON container into studies; anything else is a single record.

    A JSON text that fails to parse as a whole but has several lines is read as NDJSON, one
    record per non-empty line (a bad line is then rejected on its own, the others load).
    UTF-16/UTF-32 (by byte-order mark) is transcoded to UTF-8 first.
    """
    if wide_encoding(content[:4]) is not None:
        try:
            content = to_utf8(content)
        except RecordRejected:  # dispatch rejects it with the reason
            yield RawRecord(uri, content)
            return
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
