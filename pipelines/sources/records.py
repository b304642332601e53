"""What every source format hands to the rest of the pipeline.

A *raw record* is the bytes of one study as found in the landing zone (a file, a zip member, one
NDJSON line, one element of an API page). A format module turns it into the *canonical record*:
a plain ``dict`` in the ClinicalTrials.gov API v2 study structure (``protocolSection`` …), so that
one transformation serves every source. Facts a source states for which API v2 has no field go
under the top-level key ``extras`` (documented in ``pipelines/canonical.py``), never into an
API v2 field with a different meaning.
"""

from __future__ import annotations

import codecs
import os
import re
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class RawRecord:
    """One study's bytes and where they came from (``path``, ``path!member``, ``path#line``).

    ``rejection`` set means the landing zone already knows the record cannot be read (it is over a
    cap of ``Limits``, say): ``content`` is then at most the little that was read, for the excerpt,
    and ``dispatch.parse_record`` turns it into a rejection without parsing it.
    """

    source_uri: str
    content: bytes
    rejection: str | None = None


@dataclass(frozen=True, slots=True)
class ParsedRecord:
    """A raw record's fate: its canonical study, or the reason it was rejected."""

    source_uri: str
    source_format: str | None
    study: dict[str, Any] | None
    rejection_reason: str | None
    excerpt: str | None
    raw_hash: str | None = None


class RecordRejected(ValueError):
    """A record that cannot be read as a study; the message is the reason shown to users."""


# --- caps on what one landed input may cost --------------------------------------------------------

KiB, MiB, GiB = 1 << 10, 1 << 20, 1 << 30
MAX_RECORD_BYTES_ENV = "TRIALS_MAX_RECORD_BYTES"
MAX_JSON_DEPTH_ENV = "TRIALS_MAX_JSON_DEPTH"
SIZE = re.compile(r"(\d+)\s*(?:([kmg])i?b?|b|bytes)?", re.IGNORECASE)  # 268435456, 256MiB, 1g …
UNITS = {"": 1, "k": KiB, "m": MiB, "g": GiB}


def _env_int(name: str, default: int, sizes: bool = False) -> int:
    """A positive whole number from the environment variable ``name``, else ``default``."""
    text = os.environ.get(name, "").strip()
    if not text:
        return default
    match = SIZE.fullmatch(text) if sizes else re.fullmatch(r"(\d+)()", text)
    value = int(match[1]) * UNITS[(match[2] or "").lower()] if match else 0
    if value <= 0:
        unit = " of bytes (or 64MiB, 1GiB …)" if sizes else ""
        raise ValueError(f"{name}={text!r}: expected a positive whole number{unit}")
    return value


@dataclass(frozen=True, slots=True)
class Limits:
    """Caps on what one landed input may cost; content over a cap becomes a rejected record.

    Defaults come from the environment when the ``Limits`` is made (``Limits()``), so a run's
    settings reach worker processes too.

    - ``max_record_bytes`` (``TRIALS_MAX_RECORD_BYTES``, default 256 MiB): the most bytes read
      into memory at once — a record, an NDJSON line, a zip member once inflated, a file or gzip
      stream that is not NDJSON (an API page, a JSON array, a single record). NDJSON (plain or
      gzip) is read line by line, so its total size is not capped.
    - ``max_json_depth`` (``TRIALS_MAX_JSON_DEPTH``, default 64): how deeply a JSON record may nest
      objects and arrays (real API v2 studies nest fewer than 15 deep).
    """

    max_record_bytes: int = field(default_factory=lambda: _env_int(MAX_RECORD_BYTES_ENV, 256 * MiB, True))
    max_json_depth: int = field(default_factory=lambda: _env_int(MAX_JSON_DEPTH_ENV, 64))

    def over_size(self, what: str) -> str:
        """Why content over ``max_record_bytes`` is rejected; ``what``: "zip member inflates beyond" …"""
        return f"{what} the {format_size(self.max_record_bytes)} cap ({MAX_RECORD_BYTES_ENV})"


def format_size(size: int) -> str:
    """``268435456`` → ``"256 MiB"``, ``1536`` → ``"1.5 KiB"``, ``100`` → ``"100 bytes"``."""
    for unit, name in ((GiB, "GiB"), (MiB, "MiB"), (KiB, "KiB")):
        if size >= unit:
            return f"{size // unit} {name}" if size % unit == 0 else f"{size / unit:.1f} {name}"
    return f"{size} bytes"


# --- text encodings --------------------------------------------------------------------------------

UTF8_BOM = codecs.BOM_UTF8
# UTF-32's marks first: UTF-32LE's begins with UTF-16LE's.
BYTE_ORDER_MARKS = (
    (codecs.BOM_UTF32_LE, "utf-32", "UTF-32LE"),
    (codecs.BOM_UTF32_BE, "utf-32", "UTF-32BE"),
    (codecs.BOM_UTF16_LE, "utf-16", "UTF-16LE"),
    (codecs.BOM_UTF16_BE, "utf-16", "UTF-16BE"),
)


def wide_encoding(head: bytes) -> tuple[str, str] | None:
    """``(codec, name)`` of UTF-16/UTF-32 text announced by its byte-order mark, else None.

    The codec (``utf-16``/``utf-32``) reads the mark itself, hence the byte order, and drops it.
    """
    for mark, codec, name in BYTE_ORDER_MARKS:
        if head.startswith(mark):
            return codec, name
    return None


def to_utf8(content: bytes) -> bytes:
    """The record as UTF-8 without a byte-order mark, for every parser to read the same way.

    UTF-16 and UTF-32 (little or big endian) are recognised by their byte-order mark only and
    transcoded; a UTF-8 mark is dropped; anything else is returned as it is (whether it is UTF-8
    is for the caller to check). Invalid UTF-16/32 raises ``RecordRejected``.
    """
    wide = wide_encoding(content[:4])
    if wide is None:
        return content.removeprefix(UTF8_BOM)
    codec, name = wide
    try:
        return content.decode(codec).encode("utf-8")
    except UnicodeDecodeError as error:
        raise RecordRejected(
            f"not text: invalid {name} at byte {error.start} ({error.reason}) after its byte-order mark"
        ) from None
    except UnicodeEncodeError as error:  # a lone surrogate the UTF-32 codec let through
        raise RecordRejected(f"not text: invalid {name}: {error.reason}") from None
