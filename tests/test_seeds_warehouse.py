"""The two seed pages, end to end: every field read off the pages, as the warehouse stores it."""

from __future__ import annotations

from datetime import date

import duckdb
import pytest

from tests.conftest import SEEDS, run_ingest


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> duckdb.DuckDBPyConnection:
    root = tmp_path_factory.mktemp("seeds")
    assert run_ingest([SEEDS], root / "trials.duckdb", root / "staging").success
    with duckdb.connect(str(root / "trials.duckdb"), read_only=True) as conn:
        yield conn


def rows(db: duckdb.DuckDBPyConnection, sql: str) -> list[tuple]:
    return db.execute(sql).fetchall()


def study(db: duckdb.DuckDBPyConnection, nct_id: str) -> dict:
    cursor = db.execute("SELECT * FROM dim_study WHERE nct_id = ?", [nct_id])
    names = [column[0] for column in cursor.description]
    return dict(zip(names, cursor.fetchone(), strict=True))


def test_nct04361942_study_row(db: duckdb.DuckDBPyConnection) -> None:
    row = study(db, "NCT04361942")
    expected = {
        "brief_title": "Treatment of Severe COVID-19 Pneumonia With Allogeneic Mesenchymal Stromal Cells (COVID_MSV)",
        "acronym": "COVID_MSV",
        "official_title": "Double Blind, Placebo-controlled, Phase II Trial to Evaluate Safety and Efficacy of "
        "Allogenic Mesenchymal Stromal Cells MSV_allo for Treatment of Acute Respiratory Failure in Patients "
        "With COVID-19 Pneumonia (COVID_MSV)",
        "org_study_id": "TerCel_007",
        "overall_status": "COMPLETED",
        "study_type": "INTERVENTIONAL",
        "phase": "PHASE2",
        "enrollment_count": 24,
        "enrollment_type": "ACTUAL",
        "allocation": "RANDOMIZED",
        "intervention_model": "PARALLEL",
        "intervention_model_description": None,
        "masking": "TRIPLE",
        "who_masked": "PARTICIPANT/CARE_PROVIDER/INVESTIGATOR",
        "masking_description": "Both experimental and Placebo will receive a similar endovenous injection with "
        "either cells or placebo. Blind to participant, investigator ans care providers",
        "primary_purpose": "TREATMENT",
        "start_date": date(2020, 5, 1),
        "start_date_precision": "day",
        "start_date_type": "ACTUAL",
        "primary_completion_date": date(2021, 10, 28),
        "primary_completion_date_type": "ACTUAL",
        "completion_date": date(2021, 10, 28),
        "completion_date_type": "ACTUAL",
        "first_posted_date": date(2020, 4, 24),
        "first_posted_date_type": None,
        "last_update_posted_date": date(2022, 6, 7),
        "status_verified_date": date(2022, 6, 1),
        "status_verified_date_precision": "month",
        "minimum_age_years": 18.0,
        "maximum_age_years": None,
        "minimum_age_raw": "18 Years",
        "sex": "ALL",
        "std_ages": "ADULT/OLDER_ADULT",
        "accepts_healthy_volunteers": False,
        "lead_sponsor_name": None,
        "responsible_party_type": None,
        "responsible_party_name": "Red de Terapia Celular",
        "is_fda_regulated_drug": False,
        "is_fda_regulated_device": False,
        "has_results": False,
        "is_criteria_nesting_inferred": True,
        "source_format": "classic_page",
    }
    assert {key: row[key] for key in expected} == expected
    assert row["source_uri"].endswith("NCT04361942.txt")


def test_nct04371601_study_row(db: duckdb.DuckDBPyConnection) -> None:
    row = study(db, "NCT04371601")
    expected = {
        "acronym": None,
        "overall_status": "ACTIVE_NOT_RECRUITING",
        "phase": "EARLY_PHASE1",
        "enrollment_count": 60,
        "masking": "NONE",
        "who_masked": None,
        "start_date": date(2020, 3, 1),
        "start_date_type": "ACTUAL",
        "primary_completion_date": date(2021, 12, 31),
        "primary_completion_date_type": "ESTIMATED",
        "completion_date": date(2022, 12, 31),
        "completion_date_type": "ESTIMATED",
        "first_posted_date": date(2020, 5, 1),
        "last_update_posted_date": date(2020, 5, 1),
        "status_verified_date": date(2020, 3, 1),
        "minimum_age_years": 18.0,
        "maximum_age_years": 70.0,
        "maximum_age_raw": "70 Years",
        "responsible_party_name": "Fuzhou General Hospital",
        "is_criteria_nesting_inferred": False,
    }
    assert {key: row[key] for key in expected} == expected
    assert row["intervention_model_description"].startswith("Control group: conventional symptomatic")
    assert "106 / Kg body weight" in row["intervention_model_description"]


def test_descriptions(db: duckdb.DuckDBPyConnection) -> None:
    texts = dict(
        (nct, (summary, detail))
        for nct, summary, detail in rows(
            db, "SELECT nct_id, brief_summary, detailed_description FROM dim_study_description"
        )
    )
    assert texts["NCT04361942"][0] is None
    assert texts["NCT04361942"][1].startswith("Novel coronavirus COVID-19 has spread quickly")
    assert texts["NCT04361942"][1].count("\n\n") == 3
    assert texts["NCT04371601"][0].startswith("The outbreak of coronavirus disease 2019 (COVID-19)")
    assert texts["NCT04371601"][1].endswith("thereby dampening the inflammatory response.")


def test_outcomes_are_unspecified_in_page_order(db: duckdb.DuckDBPyConnection) -> None:
    outcomes = rows(
        db, "SELECT nct_id, outcome_type, ordinal, measure, time_frame FROM fact_outcome ORDER BY ALL"
    )
    assert {row[1] for row in outcomes} == {"UNSPECIFIED"}
    assert [row[4] for row in outcomes if row[0] == "NCT04361942"] == [
        "0-7 days", "28 days", "0-7days", "0-28 days", "0-180 days", "0-180 days", "0-180 days"
    ]  # fmt: skip
    assert [row[4] for row in outcomes if row[0] == "NCT04371601"] == [
        "12 months", "1,3,6,12months", "1,3,6,12months", "1,3,6months", "1,3,6,12months"
    ]  # fmt: skip
    assert outcomes[1][3] == "Rate of mortality"


def test_eligibility_items_with_the_nested_respiratory_criteria(db: duckdb.DuckDBPyConnection) -> None:
    items = rows(
        db,
        "SELECT criterion_type, ordinal, parent_ordinal, depth, criterion_text FROM fact_eligibility"
        " WHERE nct_id = 'NCT04361942' ORDER BY ordinal",
    )
    assert [(kind, parent, depth) for kind, _, parent, depth, _ in items] == [
        ("INCLUSION", None, 0), ("INCLUSION", None, 0), ("INCLUSION", None, 0),
        ("INCLUSION", 3, 1), ("INCLUSION", 3, 1), ("INCLUSION", 3, 1), ("INCLUSION", 3, 1),
        ("INCLUSION", None, 0),
        ("EXCLUSION", None, 0), ("EXCLUSION", None, 0), ("EXCLUSION", None, 0), ("EXCLUSION", None, 0),
        ("EXCLUSION", None, 0),
    ]  # fmt: skip
    assert items[4][4] == "Respiratory rate (FR) ≥ 30 rpm."
    assert items[7][4] == "Consent of the patient or his legal representative for participation in the study."
    other = rows(
        db, "SELECT criterion_type, count(*) FROM fact_eligibility WHERE nct_id = 'NCT04371601' GROUP BY 1"
    )
    assert sorted(other) == [("EXCLUSION", 7), ("INCLUSION", 2)]


def test_sites_officials_and_ids(db: duckdb.DuckDBPyConnection) -> None:
    assert rows(
        db,
        "SELECT b.nct_id, facility_name, city, state, zip, country, country_code, latitude FROM bridge_study_site b"
        " JOIN dim_site USING (site_id) ORDER BY 1",
    ) == [
        (
            "NCT04361942",
            "Hospital Universitario Rio Hortega",
            "Valladolid",
            None,
            "47012",
            "Spain",
            "ES",
            None,
        ),
        ("NCT04371601", "Fuzhou General Hospital", "Fuzhou", "Fujian", "350025", "China", "CN", None),
    ]
    assert rows(db, "SELECT nct_id, role, official_name, degrees, affiliation FROM fact_official ORDER BY 1, ordinal") == [
        ("NCT04361942", "STUDY_CHAIR", "Julia Barbado", "MD, PhD", "University Hospital Río Hortega, Valladolid, Spain"),
        ("NCT04361942", "STUDY_DIRECTOR", "Rosa Conde", "MD, PhD", "University Hospital Río Hortega, Valladolid, Spain"),
        ("NCT04361942", "PRINCIPAL_INVESTIGATOR", "Margarita González-Vallinas", "PhD", "University of Valladolid"),
        ("NCT04371601", "STUDY_CHAIR", "Jianming Tan Tan", "M.D and Ph.D", "Fuzhou General Hospital"),
    ]  # fmt: skip
    assert rows(db, "SELECT nct_id, secondary_id, id_type FROM fact_secondary_id") == [
        ("NCT04361942", "2020-001682-36", "EUDRACT_NUMBER")
    ]
    assert rows(db, "SELECT nct_id, count(*) FROM fact_unlabelled_term GROUP BY 1 ORDER BY 1") == [
        ("NCT04361942", 3),
        ("NCT04371601", 2),
    ]
    assert rows(db, "SELECT nct_id, condition_name FROM fact_condition ORDER BY 1") == [
        ("NCT04361942", "COVID-19 Pneumonia"),
        ("NCT04371601", "COVID-19 Pneumonia"),
    ]


def test_arms_and_their_interventions(db: duckdb.DuckDBPyConnection) -> None:
    pairs = rows(
        db,
        "SELECT a.arm_label, a.arm_type, i.intervention_type, i.intervention_name, i.description"
        " FROM bridge_arm_intervention b JOIN fact_arm a USING (nct_id, arm_ordinal)"
        " JOIN fact_intervention i USING (nct_id, intervention_ordinal)"
        " WHERE b.nct_id = 'NCT04371601' ORDER BY b.arm_ordinal, b.intervention_ordinal",
    )
    assert pairs == [
        ("Control group", "ACTIVE_COMPARATOR", "DRUG", "Oseltamivir", "Oseltamivir capsules"),
        ("Control group", "ACTIVE_COMPARATOR", "DRUG", "hormones", "a moderate amount of hormone"),
        ("Control group", "ACTIVE_COMPARATOR", "DEVICE", "oxygen therapy",
         "oxygen therapy,mechanical ventilation and other supportive therapies"),
        ("Experimental group", "EXPERIMENTAL", "DRUG", "Oseltamivir", "Oseltamivir capsules"),
        ("Experimental group", "EXPERIMENTAL", "DRUG", "hormones", "a moderate amount of hormone"),
        ("Experimental group", "EXPERIMENTAL", "DEVICE", "oxygen therapy",
         "oxygen therapy,mechanical ventilation and other supportive therapies"),
        ("Experimental group", "EXPERIMENTAL", "PROCEDURE", "mesenchymal stem cells", "mesenchymal stem cells"),
    ]  # fmt: skip
    assert rows(
        db,
        "SELECT intervention_type, intervention_name, other_names FROM fact_intervention WHERE nct_id = 'NCT04361942'",
    ) == [("BIOLOGICAL", "Mesenchymal Stromal Cells", ["MSV"]), ("OTHER", "Placebo", None)]


def test_the_whole_canonical_record_is_queryable(db: duckdb.DuckDBPyConnection) -> None:
    [(title_line,)] = rows(
        db, "SELECT record_json->>'$.extras.titleLine' FROM raw_study_record WHERE nct_id = 'NCT04361942'"
    )
    assert title_line.endswith("(COVID_MSV) (COVID_MSV)")
