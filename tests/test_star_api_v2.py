"""Every API v2 sample loads into the star tables with its values and all its child rows.

Expected values come from the JSON through a separate, plain reader (``json`` + dict lookups),
not through the polars mapping under test.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import polars as pl
import pytest

from pipelines.canonical import record_frame
from pipelines.sources.dispatch import parse_record
from pipelines.sources.landing import iter_raw_records
from pipelines.transform.star import build_tables
from tests.conftest import API_V2_SAMPLES, FIXTURES


@pytest.fixture(scope="module")
def tables() -> dict[str, pl.DataFrame]:
    return build_tables(record_frame(parse_record(r) for r in iter_raw_records(API_V2_SAMPLES)))


def _protocol(path: Path) -> dict:
    return json.loads(path.read_text())["protocolSection"]


def _rows(tables: dict[str, pl.DataFrame], table: str, nct_id: str) -> pl.DataFrame:
    return tables[table].filter(pl.col("nct_id") == nct_id)


@pytest.mark.parametrize("path", API_V2_SAMPLES, ids=lambda p: p.stem)
def test_child_row_counts_match_the_json(tables: dict[str, pl.DataFrame], path: Path) -> None:
    record = json.loads(path.read_text())
    protocol = record["protocolSection"]
    derived = record.get("derivedSection", {})
    sponsors = protocol.get("sponsorCollaboratorsModule", {})
    contacts = protocol.get("contactsLocationsModule", {})
    nct_id = protocol["identificationModule"]["nctId"]
    outcomes = protocol.get("outcomesModule", {})
    arms = protocol.get("armsInterventionsModule", {})
    expected = {
        "dim_study": 1,
        "bridge_study_site": len(protocol.get("contactsLocationsModule", {}).get("locations", [])),
        "fact_outcome": sum(
            len(outcomes.get(k, [])) for k in ("primaryOutcomes", "secondaryOutcomes", "otherOutcomes")
        ),
        "fact_condition": len(protocol.get("conditionsModule", {}).get("conditions", [])),
        "fact_keyword": len(protocol.get("conditionsModule", {}).get("keywords", [])),
        "fact_arm": len(arms.get("armGroups", [])),
        "fact_intervention": len(arms.get("interventions", [])),
        "fact_official": len(protocol.get("contactsLocationsModule", {}).get("overallOfficials", [])),
        "fact_secondary_id": len(protocol["identificationModule"].get("secondaryIdInfos", [])),
        "fact_sponsor": ("leadSponsor" in sponsors) + len(sponsors.get("collaborators", [])),
        "fact_contact": len(contacts.get("centralContacts", []))
        + sum(len(site.get("contacts", [])) for site in contacts.get("locations", [])),
        "fact_mesh_term": sum(
            len(derived.get(module, {}).get(field, []))
            for module in ("conditionBrowseModule", "interventionBrowseModule")
            for field in ("meshes", "ancestors")
        ),
        "fact_reference": len(protocol.get("referencesModule", {}).get("references", [])),
        "fact_result_outcome": len(
            record.get("resultsSection", {}).get("outcomeMeasuresModule", {}).get("outcomeMeasures", [])
        ),
    }
    assert {table: _rows(tables, table, nct_id).height for table in expected} == expected


@pytest.mark.parametrize("path", API_V2_SAMPLES, ids=lambda p: p.stem)
def test_dim_study_values_match_the_json(tables: dict[str, pl.DataFrame], path: Path) -> None:
    protocol = _protocol(path)
    ident, status, design = (
        protocol["identificationModule"],
        protocol["statusModule"],
        protocol["designModule"],
    )
    row = _rows(tables, "dim_study", ident["nctId"]).row(0, named=True)
    start = status.get("startDateStruct", {})
    assert row["brief_title"] == ident.get("briefTitle")
    assert row["official_title"] == ident.get("officialTitle")
    assert row["overall_status"] == status["overallStatus"]
    assert row["study_type"] == design["studyType"]
    assert row["phase"] == ("/".join(design["phases"]) if design.get("phases") else None)
    assert row["enrollment_count"] == design.get("enrollmentInfo", {}).get("count")
    assert row["enrollment_type"] == design.get("enrollmentInfo", {}).get("type")
    assert row["start_date_type"] == start.get("type")
    if "date" in start:
        parts = [int(x) for x in start["date"].split("-")] + [1, 1]
        assert row["start_date"] == date(*parts[:3])
        assert row["start_date_precision"] == {1: "year", 2: "month", 3: "day"}[start["date"].count("-") + 1]
    assert row["accepts_healthy_volunteers"] == protocol["eligibilityModule"].get("healthyVolunteers")
    assert row["sex"] == protocol["eligibilityModule"].get("sex")


def test_known_facts_of_the_samples(tables: dict[str, pl.DataFrame]) -> None:
    study = tables["dim_study"].filter(pl.col("nct_id") == "NCT00973089").row(0, named=True)
    assert (study["overall_status"], study["enrollment_count"]) == ("WITHDRAWN", 0)
    no_type = tables["dim_study"].filter(pl.col("nct_id") == "NCT00763412").row(0, named=True)
    assert no_type["start_date_type"] is None and no_type["start_date"] is not None
    sites = _rows(tables, "bridge_study_site", "NCT02210780").join(tables["dim_site"], on="site_id")
    assert sites.height == 42 and sites["facility_name"].null_count() == 42
    assert set(tables["dim_site"]["country_code"].drop_nulls()) >= {"US"}
    assert tables["dim_site"]["country_code"].null_count() == 0
    nested = _rows(tables, "fact_eligibility", "NCT02552212").filter(pl.col("depth") == 1)
    assert nested["criterion_text"].to_list()[:2] == [
        "Bath Ankylosing Spondylitis Disease Activity Index (BASDAI) score >= 4",
        "Spinal pain >= 4 on a 0 to 10 Numerical Rating Scale (NRS)",
    ]


def test_posted_outcomes_match_aacts_own_expected_rows(tables: dict[str, pl.DataFrame]) -> None:
    """AACT's expected ``outcomes`` rows for NCT05594173 (its test fixture) as an independent oracle."""
    oracle = pl.read_csv(FIXTURES / "api_v2" / "NCT05594173.aact_expected_outcomes.txt", separator="|")
    ours = _rows(tables, "fact_result_outcome", "NCT05594173").sort("result_ordinal")
    columns = {
        "outcome_type": "outcome_type",
        "title": "title",
        "description": "description",
        "time_frame": "time_frame",
        "population": "population",
        "units": "units",
        "dispersion_type": "dispersion_type",
        "param_type": "param_type",
    }
    assert ours.select(list(columns)).rows() == oracle.select(list(columns.values())).rows()


def test_results_tables_hold_every_posted_value(tables: dict[str, pl.DataFrame]) -> None:
    results = json.loads((API_V2_SAMPLES[0].parent / "NCT05594173.json").read_text())["resultsSection"]
    measures = results["outcomeMeasuresModule"]["outcomeMeasures"]
    measurements = [
        (m, c, k, v)
        for m in measures
        for c in m.get("classes", [])
        for k in c["categories"]
        for v in k["measurements"]
    ]
    rows = _rows(tables, "fact_result_measurement", "NCT05594173")
    assert rows.height == len(measurements)
    assert sorted(rows["value_raw"].to_list()) == sorted(v["value"] for *_, v in measurements)
    assert _rows(tables, "fact_result_group", "NCT05594173").height == sum(len(m["groups"]) for m in measures)


def test_contact_details_are_dropped_unless_kept() -> None:
    sample = next(p for p in API_V2_SAMPLES if p.stem == "NCT03475563")
    assert b"@" in sample.read_bytes()  # the record does carry e-mail addresses
    [raw] = list(iter_raw_records([sample]))
    redacted, kept = (build_tables(record_frame([parse_record(raw, keep)])) for keep in (False, True))
    assert redacted["fact_contact"]["email"].null_count() == redacted["fact_contact"].height
    assert "@" not in redacted["raw_study_record"]["record_json"][0]
    assert kept["fact_contact"]["email"].drop_nulls().to_list() == ["iotaegui@vhebron.net"]
    assert (
        redacted["fact_contact"]["contact_name"].to_list() == kept["fact_contact"]["contact_name"].to_list()
    )


def test_the_retired_classic_api_json_is_rejected_by_name() -> None:
    """The v1 ``FullStudiesResponse`` (retired in 2024) is an optional format this warehouse does not
    read: one record, rejected with a reason that says what to use instead, never parsed as API v2."""
    [parsed] = [
        parse_record(raw) for raw in iter_raw_records([FIXTURES / "classic_api_v1" / "NCT04780763.json"])
    ]
    assert (parsed.source_format, parsed.study) == ("api_v2_json", None)
    assert (
        parsed.rejection_reason
        == "retired classic API (v1) JSON is not a supported format; use API v2 or XML"
    )
