"""Recognise a raw record's format from its bytes and parse it into the canonical record."""

from __future__ import annotations

import codecs
import hashlib
import re
from typing import Any

from pipelines.sources import api_v2_json, classic_page, legacy_xml
from pipelines.sources.records import (
    MAX_JSON_DEPTH_ENV,
    Limits,
    ParsedRecord,
    RawRecord,
    RecordRejected,
    to_utf8,
)

SNIFF_BYTES = 4096
UTF8_CHECK_BYTES = 1 << 20  # UTF-8 is checked this many bytes at a time (no text copy of a big record)


def source_digest(raw: RawRecord, keep_contact_details: bool) -> str:
    """BLAKE2b-128 of a raw record's bytes, keyed by the one setting that changes what they parse to.

    A record whose digest the warehouse already holds (made by the same code) is not parsed again:
    that is what makes a refresh of a mostly unchanged landing folder cheap.
    """
    person = b"keep-contacts" if keep_contact_details else b"redacted"
    digest = hashlib.blake2b(raw.content, digest_size=16, person=person)
    if raw.rejection is not None:  # the landing zone's verdict on bytes it did not read whole
        digest.update(b"\0rejected: " + raw.rejection.encode())
    return digest.hexdigest()


def detect_format(content: bytes) -> str:
    """Name the record's format from its first bytes; raise ``RecordRejected`` if none fits.

    ``content`` is UTF-8 (``records.to_utf8`` has transcoded UTF-16/32): all of it is checked to be.
    """
    head = content[:SNIFF_BYTES]
    if not head.strip():
        raise RecordRejected("empty record")
    if b"\x00" in head:
        raise RecordRejected(
            "not text: the record contains NUL bytes (binary file, or UTF-16/UTF-32 without byte-order mark?)"
        )
    check_utf8(content)
    text = head.decode("utf-8", errors="ignore")  # only a character cut by the window can be dropped
    start = text.lstrip("\ufeff \t\r\n")[:1]
    if start in ("{", "["):
        return "api_v2_json"
    if legacy_xml.looks_like_legacy_xml(head):
        return "legacy_xml"
    if classic_page.looks_like_classic_page(text):
        return "classic_page"
    raise RecordRejected("unrecognised format: not API v2 JSON, legacy XML or a classic study page")


def check_utf8(content: bytes) -> None:
    """Raise ``RecordRejected`` unless ``content`` is UTF-8 throughout (checked piecewise: no text copy)."""
    if content.isascii():
        return
    decoder = codecs.getincrementaldecoder("utf-8")()
    for start in range(0, len(content), UTF8_CHECK_BYTES):
        piece = content[start : start + UTF8_CHECK_BYTES]
        try:
            decoder.decode(piece, final=start + UTF8_CHECK_BYTES >= len(content))
        except UnicodeDecodeError as error:
            offset = start - len(error.object) + len(piece) + error.start  # error.object: held + piece
            raise RecordRejected(
                f"not text: invalid UTF-8 at byte {offset}, and no UTF-16/UTF-32 byte-order mark"
            ) from None


# Structure of a JSON text without its strings: escapes (\" \\ \n …) go first, then every byte but
# brackets and quotes; what is left of the strings (adjacent quotes merge harmlessly) is cut.
_ESCAPE = re.compile(rb"\\.", re.DOTALL)
_NOT_STRUCTURE = bytes(range(256)).translate(None, b'{}[]"')
_BRACKETS = bytes.maketrans(b"{}[]", b"()()")
_STRING = re.compile(rb'"[^"]*"')


def check_json_depth(content: bytes, max_depth: int) -> None:
    """Raise ``RecordRejected`` if the JSON text nests objects/arrays deeper than ``max_depth``.

    Done on the bytes, before decoding, at C speed: each pass removes the innermost ``()`` pairs,
    one level, so at most ``max_depth`` passes over the brackets are made. Unbalanced brackets
    (not JSON, or cut short) are left for the parser to name.
    """
    skeleton = _ESCAPE.sub(b"", content).translate(_BRACKETS, _NOT_STRUCTURE).replace(b'""', b"")
    if b'"' in skeleton:
        skeleton = _STRING.sub(b"", skeleton)
    for _ in range(max_depth):
        inner = skeleton.replace(b"()", b"")
        if len(inner) == len(skeleton):  # all levels removed, or what is left does not pair up
            return
        skeleton = inner
    if b"()" in skeleton:
        raise RecordRejected(
            f"JSON nests objects and arrays deeper than the cap of {max_depth} levels ({MAX_JSON_DEPTH_ENV})"
        )


# An XML declaration naming UTF-16/32, on text that is UTF-8 by now (``to_utf8`` transcoded it).
_WIDE_XML_DECLARATION = re.compile(
    rb"""\s*<\?xml\s[^>]*?encoding\s*=\s*["']((?:UTF-?16|UTF-?32)(?:-?[LB]E)?)["']""", re.IGNORECASE
)


def _xml_as_utf8(content: bytes) -> bytes:
    """Say UTF-8 in the XML declaration of a record transcoded from UTF-16/32 (expat believes it).

    Safe whoever transcoded it (here or the landing zone): bytes that are UTF-8 without NULs cannot
    be UTF-16/32, so such a declaration can only be stale.
    """
    declaration = _WIDE_XML_DECLARATION.match(content)
    if declaration is None:
        return content
    return content[: declaration.start(1)] + b"UTF-8" + content[declaration.end(1) :]


PARSERS = {
    "api_v2_json": api_v2_json.parse,
    "classic_page": classic_page.parse,
    "legacy_xml": legacy_xml.parse,
}


def parse_record(
    raw: RawRecord,
    keep_contact_details: bool = False,
    raw_hash: str | None = None,
    limits: Limits | None = None,
) -> ParsedRecord:
    """Parse one record; a bad record becomes a rejection, never an exception.

    Contacts' phone numbers and e-mail addresses are personal data: they are removed from the
    canonical record (hence from every table) unless ``keep_contact_details`` opts in.
    ``raw_hash`` (``source_digest``) is carried along to be stored with the study. ``limits``
    (default: ``Limits()``, from the environment) caps the record's size and JSON nesting.

    A record the landing zone already rejected (``raw.rejection``) is not parsed; its excerpt is
    of the little it read, if anything. UTF-16/UTF-32 with a byte-order mark is read as UTF-8.
    """
    if raw.rejection is not None:
        return ParsedRecord(
            raw.source_uri, None, None, raw.rejection, excerpt(raw.content) if raw.content else None, raw_hash
        )
    limits = limits or Limits()
    source_format: str | None = None
    content = raw.content
    try:
        if len(content) > limits.max_record_bytes:
            raise RecordRejected(limits.over_size(f"record is {len(content):,} bytes, larger than"))
        content = to_utf8(content)
        source_format = detect_format(content)
        if source_format == "api_v2_json":
            check_json_depth(content, limits.max_json_depth)
        elif source_format == "legacy_xml":
            content = _xml_as_utf8(content)
        study = PARSERS[source_format](content)
    except RecordRejected as error:
        return ParsedRecord(raw.source_uri, source_format, None, str(error), excerpt(content), raw_hash)
    except RecursionError:  # nesting deep enough to exhaust a parser's recursion (XML, say)
        reason = "nested too deeply to parse: the parser ran out of recursion depth"
        return ParsedRecord(raw.source_uri, source_format, None, reason, excerpt(content), raw_hash)
    if not keep_contact_details:
        redact_contact_details(study)
    return ParsedRecord(raw.source_uri, source_format, study, None, None, raw_hash)


CONTACT_DETAILS = ("phone", "phoneExt", "email")


def redact_contact_details(study: dict[str, Any]) -> None:
    """Drop phone numbers and e-mails of central, site and results contacts, in place (names, titles,
    organisations and roles stay). The canonical record is also what ``raw_study_record`` keeps, so
    nothing of them reaches any table."""
    module = study.get("protocolSection", {}).get("contactsLocationsModule") or {}
    contacts = [*module.get("centralContacts", [])]
    for location in module.get("locations", []):
        contacts.extend(location.get("contacts", []))
    more_info = (study.get("resultsSection") or {}).get("moreInfoModule") or {}
    if more_info.get("pointOfContact"):
        contacts.append(more_info["pointOfContact"])
    for contact in contacts:
        for key in CONTACT_DETAILS:
            contact.pop(key, None)


def excerpt(content: bytes, limit: int = 200) -> str:
    """A short, printable start of a record for the rejections table."""
    text = content[: limit * 4].decode("utf-8", errors="replace")
    printable = "".join(ch if ch.isprintable() or ch in "\n\t" else "\ufffd" for ch in text)
    return printable[:limit]
