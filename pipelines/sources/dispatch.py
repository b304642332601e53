"""Recognise a raw record's format from its bytes and parse it into the canonical record."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from pipelines.sources import api_v2_json, classic_page, legacy_xml
from pipelines.sources.records import RawRecord, RecordRejected

SNIFF_BYTES = 4096


@dataclass(frozen=True, slots=True)
class ParsedRecord:
    """A raw record's fate: its canonical study, or the reason it was rejected."""

    source_uri: str
    source_format: str | None
    study: dict[str, Any] | None
    rejection_reason: str | None
    excerpt: str | None
    raw_hash: str | None = None


def source_digest(raw: RawRecord, keep_contact_details: bool) -> str:
    """BLAKE2b-128 of a raw record's bytes, keyed by the one setting that changes what they parse to.

    A record whose digest the warehouse already holds (made by the same code) is not parsed again:
    that is what makes a refresh of a mostly unchanged landing folder cheap.
    """
    person = b"keep-contacts" if keep_contact_details else b"redacted"
    return hashlib.blake2b(raw.content, digest_size=16, person=person).hexdigest()


def detect_format(content: bytes) -> str:
    """Name the record's format from its first bytes; raise ``RecordRejected`` if none fits."""
    head = content[:SNIFF_BYTES]
    if not head.strip():
        raise RecordRejected("empty record")
    if b"\x00" in head:
        raise RecordRejected("not text: the record contains NUL bytes (binary file?)")
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError as error:
        if error.start < len(head) - 4:  # a multi-byte character cut by the sniff window is fine
            raise RecordRejected(f"not text: invalid UTF-8 at byte {error.start}") from None
        text = head[: error.start].decode("utf-8")
    start = text.lstrip("\ufeff \t\r\n")[:1]
    if start in ("{", "["):
        return "api_v2_json"
    if legacy_xml.looks_like_legacy_xml(head):
        return "legacy_xml"
    if classic_page.looks_like_classic_page(text):
        return "classic_page"
    raise RecordRejected("unrecognised format: not API v2 JSON, legacy XML or a classic study page")


PARSERS = {
    "api_v2_json": api_v2_json.parse,
    "classic_page": classic_page.parse,
    "legacy_xml": legacy_xml.parse,
}


def parse_record(
    raw: RawRecord, keep_contact_details: bool = False, raw_hash: str | None = None
) -> ParsedRecord:
    """Parse one record; a bad record becomes a rejection, never an exception.

    Contacts' phone numbers and e-mail addresses are personal data: they are removed from the
    canonical record (hence from every table) unless ``keep_contact_details`` opts in.
    ``raw_hash`` (``source_digest``) is carried along to be stored with the study.
    """
    source_format: str | None = None
    try:
        source_format = detect_format(raw.content)
        study = PARSERS[source_format](raw.content)
    except RecordRejected as error:
        return ParsedRecord(raw.source_uri, source_format, None, str(error), excerpt(raw.content), raw_hash)
    if not keep_contact_details:
        redact_contact_details(study)
    return ParsedRecord(raw.source_uri, source_format, study, None, None, raw_hash)


CONTACT_DETAILS = ("phone", "phoneExt", "email")


def redact_contact_details(study: dict[str, Any]) -> None:
    """Drop phone numbers and e-mails of central and site contacts, in place (names and roles stay)."""
    module = study.get("protocolSection", {}).get("contactsLocationsModule") or {}
    contacts = [*module.get("centralContacts", [])]
    for location in module.get("locations", []):
        contacts.extend(location.get("contacts", []))
    for contact in contacts:
        for key in CONTACT_DETAILS:
            contact.pop(key, None)


def excerpt(content: bytes, limit: int = 200) -> str:
    """A short, printable start of a record for the rejections table."""
    text = content[: limit * 4].decode("utf-8", errors="replace")
    printable = "".join(ch if ch.isprintable() or ch in "\n\t" else "\ufffd" for ch in text)
    return printable[:limit]
