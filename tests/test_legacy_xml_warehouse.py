"""Every legacy XML sample through the whole pipeline, loose and zipped as in AllPublicXML.zip."""

from __future__ import annotations

import zipfile
from pathlib import Path
from xml.etree import ElementTree

import duckdb
import pytest

from tests.conftest import FIXTURES, run_ingest
from tests.conftest import LEGACY_XML_SAMPLES as SAMPLES

BAD = FIXTURES / "legacy_xml" / "bad"
ATTACKS = sorted(BAD.iterdir())


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("xml")
    archive = root / "AllPublicXML.zip"
    with zipfile.ZipFile(archive, "w") as out:
        for path in SAMPLES:
            out.write(path, f"{path.stem[:7]}xxxx/{path.name}")
    assert run_ingest([archive, BAD], root / "t.duckdb", root / "staging").success
    return root / "t.duckdb"


def query(db: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(db), read_only=True) as conn:
        return conn.execute(sql).fetchall()


def test_every_sample_loads_and_every_attack_is_rejected(db: Path) -> None:
    assert query(db, "SELECT records_read, records_new, records_rejected FROM meta_load_run") == [
        (len(SAMPLES) + len(ATTACKS), len(SAMPLES), len(ATTACKS))
    ]
    loaded = {row[0] for row in query(db, "SELECT nct_id FROM dim_study WHERE source_format = 'legacy_xml'")}
    assert loaded == {path.stem for path in SAMPLES}
    uris = query(db, "SELECT source_uri FROM dim_study WHERE nct_id = 'NCT02465060'")
    assert uris[0][0].endswith("AllPublicXML.zip!NCT0246xxxx/NCT02465060.xml")
    reasons = dict(query(db, "SELECT regexp_extract(source_uri, '[^/]+$'), reason FROM meta_rejection"))
    assert reasons["billion_laughs.xml"].startswith("XML refused for security")
    assert reasons["external_entity.xml"].startswith("XML refused for security")
    assert "passwd" not in " ".join(reasons.values()).replace("external_entity", "")


@pytest.mark.parametrize("path", SAMPLES, ids=lambda p: p.stem)
def test_child_rows_match_the_xml(db: Path, path: Path) -> None:
    """Counts read from the XML with plain ElementTree, not with the parser under test."""
    root = ElementTree.parse(path).getroot()
    nct_id = root.findtext("id_info/nct_id")
    expected = {
        "bridge_study_site": len(root.findall("location")),
        "fact_outcome": sum(
            len(root.findall(tag)) for tag in ("primary_outcome", "secondary_outcome", "other_outcome")
        ),
        "fact_condition": len(root.findall("condition")),
        "fact_keyword": len(root.findall("keyword")),
        "fact_arm": len(root.findall("arm_group")),
        "fact_intervention": len(root.findall("intervention")),
        "fact_official": len(root.findall("overall_official")),
        "fact_reference": len(root.findall("reference")) + len(root.findall("results_reference")),
    }
    actual = {
        table: query(db, f"SELECT count(*) FROM {table} WHERE nct_id = '{nct_id}'")[0][0]
        for table in expected
    }
    assert actual == expected


def test_known_facts(db: Path) -> None:
    assert query(db, "SELECT count(*) FROM bridge_study_site WHERE nct_id = 'NCT02465060'") == [(1218,)]
    withheld = query(
        db,
        "SELECT overall_status, study_type, brief_title IS NULL FROM dim_study WHERE nct_id = 'NCT03182660'",
    )
    assert withheld == [("WITHHELD", None, False)]
    assert query(db, "SELECT count(*) FROM fact_contact WHERE phone IS NOT NULL OR email IS NOT NULL") == [
        (0,)
    ]
    registries = query(db, "SELECT count(*) FROM dim_study WHERE is_patient_registry")
    assert registries[0][0] >= 1
