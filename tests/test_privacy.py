"""Personal contact details never reach the warehouse by default, wherever a source record states them."""

from __future__ import annotations

import gzip
import re
from pathlib import Path

import duckdb
import orjson

from tests.conftest import API_V2_SAMPLES, CORPUS, LEGACY_XML_SAMPLES, run_ingest

CONTACT_KEYS = {"phone", "phoneExt", "email"}  # API v2 contact objects
XML_CONTACT = re.compile(rb"<(phone|phone_ext|email)>([^<]+)</\1>")


def _api_values(node: object) -> set[str]:
    """Every value under a contact key anywhere in an API v2 record (read independently of the parser)."""
    if isinstance(node, dict):
        found = {str(v) for k, v in node.items() if k in CONTACT_KEYS and v}
        return found.union(*(_api_values(v) for v in node.values()))
    if isinstance(node, list):
        return set().union(*(_api_values(v) for v in node))
    return set()


def _contact_values() -> set[str]:
    values = set().union(*(_api_values(orjson.loads(path.read_bytes())) for path in API_V2_SAMPLES))
    for path in LEGACY_XML_SAMPLES:
        values |= {match[1].decode().strip() for match in XML_CONTACT.finditer(path.read_bytes())}
    # an extension ("7802") or a placeholder ("phone") identifies nobody and occurs in other text
    return {value for value in values if "@" in value or sum(ch.isdigit() for ch in value) >= 7}


def _occurrences(db: Path, values: set[str]) -> list[tuple[str, str, str]]:
    """(table, column, value) for every text column of every table holding one of ``values``."""
    with duckdb.connect(str(db), read_only=True) as conn:
        conn.execute("CREATE TEMP TABLE contact_value (v VARCHAR)")
        conn.executemany("INSERT INTO contact_value VALUES (?)", [[v] for v in values])
        columns = conn.execute(
            "SELECT table_name, column_name FROM duckdb_columns() WHERE data_type = 'VARCHAR'"
            " AND NOT internal AND table_name <> 'contact_value' AND schema_name = 'main'"
            " AND table_name IN (SELECT table_name FROM duckdb_tables())"
        ).fetchall()
        found = []
        for table, column in columns:
            found += conn.execute(
                f'SELECT DISTINCT ?, ?, v FROM "{table}", contact_value WHERE contains("{column}", v)',
                [table, column],
            ).fetchall()
    return found


def test_no_contact_phone_or_email_is_stored_anywhere_by_default(sample_warehouse: Path) -> None:
    values = _contact_values()
    assert len(values) >= 8  # the samples do state contact details: site contacts, a results contact
    assert any("@" in value for value in values)
    assert _occurrences(sample_warehouse, values) == []


def _without_contact_keys(node: object) -> object:
    if isinstance(node, dict):
        return {k: _without_contact_keys(v) for k, v in node.items() if k not in CONTACT_KEYS}
    if isinstance(node, list):
        return [_without_contact_keys(v) for v in node]
    return node


def test_no_contact_phone_or_email_from_the_corpus_is_stored(corpus_warehouse: Path) -> None:
    """Some registrants also write a phone or an e-mail into an official's name or affiliation or into a
    description: that text is published as such and kept; only the contact fields are personal data."""
    with gzip.open(CORPUS) as lines:
        studies = [orjson.loads(line) for line in lines]
    elsewhere = "\n".join(orjson.dumps(_without_contact_keys(study)).decode() for study in studies)
    values = {
        value
        for value in set().union(*map(_api_values, studies))
        if ("@" in value or sum(ch.isdigit() for ch in value) >= 7) and value not in elsewhere
    }
    assert len(values) > 100
    assert _occurrences(corpus_warehouse, values) == []


def test_keep_contact_details_keeps_them(tmp_path: Path) -> None:
    sample = next(path for path in API_V2_SAMPLES if path.stem == "NCT00763412")  # a results point of contact
    db = tmp_path / "w.duckdb"
    assert run_ingest([sample], db, tmp_path / "staging", keep_contact_details=True).success
    found = {value for _, _, value in _occurrences(db, _api_values(orjson.loads(sample.read_bytes())))}
    assert "arbelaez_a@kids.wustl.edu" in found
