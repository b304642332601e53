"""The analysis library (``sql/analysis``) and the analysts' views, on warehouses built from the real samples.

Expected values were read off the records in ``warehouse/landing`` (each test says where), so a
query that joins, groups or filters wrongly fails here, not in an analyst's report.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import pytest

from pipelines.queries import ANALYSIS_DIR, NamedQuery, find_query, load_queries
from tests.conftest import LANDING, run_ingest

REQUIRED = {
    "trials_by_phase_and_status",
    "trials_and_sites_per_country",
    "enrollment_by_phase",
    "sponsors_by_trials",
    "most_common_exclusion_criteria",
    "outcomes_by_time_frame",
    "results_overdue",
    "recruitment_status_changes",
}
# Each view and the table whose rows it keeps one for one (v_study_intervention: see its test).
VIEWS = {
    "v_study_site": "bridge_study_site",
    "v_study_outcome": "fact_outcome",
    "v_study_eligibility": "fact_eligibility",
    "v_study_condition": "fact_condition",
    "v_study_sponsor": "fact_sponsor",
    "v_study_intervention": "fact_intervention",
}
# Loaded in three versions for the status-history query; its plain time frames suit the time-frame query.
STUDY = LANDING / "api_v2" / "NCT03475563.json"


@pytest.fixture(scope="module")
def conn(sample_warehouse: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    with duckdb.connect(str(sample_warehouse), read_only=True) as connection:
        yield connection


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory) -> Iterator[duckdb.DuckDBPyConnection]:
    """NCT03475563 loaded three times: as published (UNKNOWN, updated 2019-11-27), then still UNKNOWN
    with a new enrollment estimate (2020-01-10), then COMPLETED (2020-02-14)."""
    tmp = tmp_path_factory.mktemp("history")
    db = tmp / "w.duckdb"
    assert run_ingest([STUDY], db, tmp / "staging").success

    def load_version(record: dict, posted: str) -> None:
        record["protocolSection"]["statusModule"]["lastUpdatePostDateStruct"]["date"] = posted
        path = tmp / posted / STUDY.name
        path.parent.mkdir()
        path.write_text(json.dumps(record))
        assert run_ingest([path], db, tmp / f"staging-{posted}").success

    record = json.loads(STUDY.read_text())
    record["protocolSection"]["designModule"]["enrollmentInfo"]["count"] = 120
    load_version(record, "2020-01-10")
    status = record["protocolSection"]["statusModule"]
    status["overallStatus"] = "COMPLETED"
    del status["lastKnownStatus"]  # only an UNKNOWN status has one
    load_version(record, "2020-02-14")
    with duckdb.connect(str(db), read_only=True) as connection:
        assert connection.execute("SELECT count(*) FROM dim_study_history").fetchall() == [(3,)]
        yield connection


def run(conn: duckdb.DuckDBPyConnection, name: str) -> list[dict[str, Any]]:
    cursor = conn.execute(find_query(name).sql)
    columns = [column[0] for column in cursor.description]
    return [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]


def count(conn: duckdb.DuckDBPyConnection, sql: str) -> int:
    return conn.execute(sql).fetchall()[0][0]


# --- the library itself ---


def test_names_are_unique_and_match_their_files() -> None:
    queries = load_queries()
    names = [query.name for query in queries]
    assert names == sorted(path.stem for path in ANALYSIS_DIR.glob("*.sql"))
    assert len(set(names)) == len(names)
    assert set(names) >= REQUIRED and len(names) >= len(REQUIRED) + 2
    assert all(query.question.endswith("?") and query.notes for query in queries)


def test_every_query_has_a_test_of_its_values() -> None:
    assert {q.name for q in load_queries()} <= {name.removeprefix("test_") for name in globals()}


def test_find_query_returns_the_file_and_suggests_close_names() -> None:
    query = find_query("enrollment_by_phase")
    assert query.path == ANALYSIS_DIR / "enrollment_by_phase.sql"
    assert query.question.startswith("How many participants do trials enrol")
    assert query.sql == query.path.read_text()
    with pytest.raises(ValueError, match=r"'trials_by_phase'.*did you mean trials_by_phase_and_status, "):
        find_query("trials_by_phase")
    with pytest.raises(
        ValueError, match=r"known queries: conditions_by_mesh_term, .*trials_by_phase_and_status"
    ):
        find_query("xyz")


GOOD_HEADER = "-- name: {stem}\n-- question: How many?\n"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("SELECT 1;\n", "no header"),
        ("-- just a comment\nSELECT 1;\n", "no header"),
        ("-- name: other_name\n-- question: How many?\nSELECT 1;\n", "must be the file's snake_case name"),
        ("-- name: {stem}\nSELECT 1;\n", "header lacks question"),
        (GOOD_HEADER + "-- Notes: typo of notes\nSELECT 1;\n", "unknown header field `Notes`"),
        (GOOD_HEADER + "-- question: again?\nSELECT 1;\n", "`question` given twice"),
        (GOOD_HEADER, "no SQL after the header"),
    ],
    ids=["no-comment", "no-fields", "wrong-name", "no-question", "unknown-field", "twice", "no-sql"],
)
def test_a_broken_file_is_rejected_by_name(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "bad_query.sql"
    path.write_text(text.format(stem=path.stem))
    with pytest.raises(ValueError, match=message) as error:
        load_queries(tmp_path)
    assert str(path) in str(error.value)


def test_header_notes_may_span_lines(tmp_path: Path) -> None:
    path = tmp_path / "two_lines.sql"
    notes = "-- notes: first,\n--   then: second.\n-- An ordinary comment ends the header.\n"
    path.write_text(GOOD_HEADER.format(stem=path.stem) + notes + "SELECT 1;\n")
    assert load_queries(tmp_path) == [
        NamedQuery("two_lines", "How many?", "first, then: second.", path, path.read_text())
    ]


@pytest.mark.parametrize("query", load_queries(), ids=lambda q: q.name)
def test_every_query_runs_read_only(conn: duckdb.DuckDBPyConnection, query: NamedQuery) -> None:
    assert conn.execute(query.sql).fetchall() is not None


# --- each query's values, checked against the records ---


def test_trials_by_phase_and_status(conn: duckdb.DuckDBPyConnection) -> None:
    rows = run(conn, "trials_by_phase_and_status")
    # NCT04371601 (classic page): "Early Phase 1", "Active, not recruiting"; sorts first.
    assert rows[0] == {
        "phase": "EARLY_PHASE1",
        "overall_status": "ACTIVE_NOT_RECRUITING",
        "trials": 1,
        "trials_with_results": 0,
    }
    # Completed phase 2: NCT02210780 and NCT02438137 (with results), NCT04361942, NCT04452435.
    assert {"phase": "PHASE2", "overall_status": "COMPLETED", "trials": 4, "trials_with_results": 2} in rows
    # Observational NCT01076361 and NCT05594173 give no phase; both posted results.
    assert {"phase": None, "overall_status": "COMPLETED", "trials": 2, "trials_with_results": 2} in rows
    phases = list(dict.fromkeys(row["phase"] for row in rows))
    assert phases == ["EARLY_PHASE1", "PHASE1/PHASE2", "PHASE2", "PHASE3", "PHASE4", "NA", None]
    assert sum(row["trials"] for row in rows) == 23


def test_trials_and_sites_per_country(conn: duckdb.DuckDBPyConnection) -> None:
    rows = {row["country"]: row for row in run(conn, "trials_and_sites_per_country")}
    # NCT02465060 alone lists 1,214 US sites (and 4 in Puerto Rico) of its 1,218 facilities.
    assert rows["United States"] == {
        "country_code": "US",
        "country": "United States",
        "trials": 10,
        "sites": 1519,
        "site_listings": 1532,
    }
    assert rows["Puerto Rico"] | {"country": None} == {
        "country_code": "PR",
        "country": None,
        "trials": 1,
        "sites": 4,
        "site_listings": 4,
    }
    # NCT04371601's only site is in Fuzhou, Fujian, China.
    assert (rows["China"]["country_code"], rows["China"]["trials"], rows["China"]["sites"]) == ("CN", 1, 1)
    # NCT01076361 lists a site in "Former Serbia and Montenegro", which has no ISO code: a row of its own.
    assert rows["Former Serbia and Montenegro"]["country_code"] is None
    assert next(iter(rows)) == "United States"
    assert sum(row["site_listings"] for row in rows.values()) == count(
        conn, "SELECT count(*) FROM bridge_study_site"
    )


def test_enrollment_by_phase(conn: duckdb.DuckDBPyConnection) -> None:
    rows = {(row.pop("phase"), row.pop("enrollment_type")): row for row in run(conn, "enrollment_by_phase")}
    # Actual enrollments of the four completed phase 2 trials: 24, 65, 106, 194.
    assert rows["PHASE2", "ACTUAL"] == {
        "trials": 4,
        "min_enrollment": 24,
        "q1_enrollment": 54.75,
        "median_enrollment": 85.5,
        "q3_enrollment": 128.0,
        "max_enrollment": 194,
    }
    # NCT02465060's anticipated 6,452 stays out of the actual figures.
    assert (
        rows["PHASE2", "ESTIMATED"]["trials"] == 1 and rows["PHASE2", "ESTIMATED"]["max_enrollment"] == 6452
    )
    # NA: the two withdrawn trials' 0, then 3, 31, 250, 456.
    assert rows["NA", "ACTUAL"]["min_enrollment"] == 0 and rows["NA", "ACTUAL"]["median_enrollment"] == 17.0
    # NCT01220531 (expanded access) and NCT03182660 (withheld) give no enrollment.
    assert sum(row["trials"] for row in rows.values()) == 21
    assert list(rows) == [
        ("EARLY_PHASE1", "ACTUAL"),
        ("PHASE1/PHASE2", "ACTUAL"),
        ("PHASE2", "ACTUAL"),
        ("PHASE2", "ESTIMATED"),
        ("PHASE3", "ACTUAL"),
        ("PHASE4", "ACTUAL"),
        ("NA", "ACTUAL"),
        (None, "ACTUAL"),
        (None, "ESTIMATED"),
    ]


def test_sponsors_by_trials(conn: duckdb.DuckDBPyConnection) -> None:
    rows = run(conn, "sponsors_by_trials")
    # Medtronic leads NCT01076361 and collaborates on NCT00277524; the NCI leads NCT02465060 and
    # collaborates on NCT00023673. Everyone else leads or collaborates once, except the NIH (twice).
    assert rows[:2] == [
        {
            "sponsor_name": "Medtronic",
            "sponsor_class": "INDUSTRY",
            "lead_trials": 1,
            "collaborator_trials": 1,
            "lead_trials_with_results": 1,
        },
        {
            "sponsor_name": "National Cancer Institute (NCI)",
            "sponsor_class": "NIH",
            "lead_trials": 1,
            "collaborator_trials": 1,
            "lead_trials_with_results": 0,
        },
    ]
    nih = next(row for row in rows if row["sponsor_name"] == "National Institutes of Health (NIH)")
    assert (nih["lead_trials"], nih["collaborator_trials"]) == (0, 2)
    # The two classic pages name no sponsor: 21 of the 23 trials have a lead.
    assert sum(row["lead_trials"] for row in rows) == 21


def test_most_common_exclusion_criteria(conn: duckdb.DuckDBPyConnection) -> None:
    rows = run(conn, "most_common_exclusion_criteria")
    # No two samples share an exclusion; NCT02028676 repeats "Participating in ARROW" (two sub-studies)
    # and NCT03630471 one item for its two participant groups.
    assert rows[0] == {"criterion": "participating in arrow", "trials": 1, "items": 2}
    assert rows[1]["criterion"].startswith("unable to communicate clearly") and rows[1]["items"] == 2
    # NCT04361942 writes "- Pregnancy.": lower-cased, full stop dropped.
    assert {"criterion": "pregnancy", "trials": 1, "items": 1} in rows
    assert sum(row["items"] for row in rows) == count(
        conn, "SELECT count(*) FROM fact_eligibility WHERE criterion_type = 'EXCLUSION'"
    )


def test_outcomes_by_time_frame(history: duckdb.DuckDBPyConnection) -> None:
    # NCT03475563's outcomes: primary "1 day", "30 days", "1 year"; secondary "30 days" x2, "1 day" x2.
    assert run(history, "outcomes_by_time_frame") == [
        {"time_frame_bucket": "<= 7 days", "outcomes": 3, "primary_outcomes": 1, "trials": 1},
        {"time_frame_bucket": "<= 1 month", "outcomes": 3, "primary_outcomes": 1, "trials": 1},
        {"time_frame_bucket": "<= 1 year", "outcomes": 1, "primary_outcomes": 1, "trials": 1},
    ]


def test_outcomes_by_time_frame_counts_each_outcome_once(conn: duckdb.DuckDBPyConnection) -> None:
    # Outcomes with several time points ("1,3,6,12months", "Day14 and Day 21") must not count twice.
    rows = run(conn, "outcomes_by_time_frame")
    assert sum(row["outcomes"] for row in rows) == count(conn, "SELECT count(*) FROM fact_outcome") == 196


def test_results_overdue(conn: duckdb.DuckDBPyConnection) -> None:
    rows = run(conn, "results_overdue")
    # Every sample without results whose primary completion is past, oldest first; left out are the
    # withdrawn NCT00973089 and NCT02591810, expanded-access NCT01220531 and NCT03182660 (no date).
    assert [(row["nct_id"], row["primary_completion_date"]) for row in rows] == [
        ("NCT02591940", date(2015, 12, 1)),
        ("NCT04207047", date(2018, 10, 31)),
        ("NCT03630471", date(2019, 1, 20)),
        ("NCT03459976", date(2019, 3, 1)),
        ("NCT03475563", date(2019, 12, 30)),
        ("NCT04349592", date(2020, 8, 14)),
        ("NCT04452435", date(2020, 10, 13)),
        ("NCT04361942", date(2021, 10, 28)),
        ("NCT04371601", date(2021, 12, 31)),
        ("NCT02465060", date(2022, 6, 30)),
    ]
    # NCT04371601's page still says "Estimated Primary Completion Date: December 31, 2021".
    assert rows[8]["primary_completion_date_type"] == "ESTIMATED"
    assert all(row["days_since_primary_completion"] > 365 for row in rows)


def test_recruitment_status_changes(
    conn: duckdb.DuckDBPyConnection, history: duckdb.DuckDBPyConnection
) -> None:
    # One load holds one version of each study: nothing changed.
    assert run(conn, "recruitment_status_changes") == []
    # The enrollment-only version of 2020-01-10 neither is a transition nor restarts the UNKNOWN stretch.
    assert run(history, "recruitment_status_changes") == [
        {
            "nct_id": "NCT03475563",
            "from_status": "UNKNOWN",
            "to_status": "COMPLETED",
            "from_status_since": date(2019, 11, 27),
            "changed_on": date(2020, 2, 14),
            "days_in_from_status": 79,
        }
    ]


def test_conditions_by_mesh_term(conn: duckdb.DuckDBPyConnection) -> None:
    rows = run(conn, "conditions_by_mesh_term")
    # Endometrial Neoplasms: NCT02465060 and NCT03459976; Heart Failure: NCT00277524 and NCT01076361;
    # Lung Neoplasms: NCT00023673 and NCT02465060 (all legacy XML: no MeSH ids).
    assert [(row["mesh_term"], row["trials"], row["direct_trials"]) for row in rows[:3]] == [
        ("Endometrial Neoplasms", 2, 2),
        ("Heart Failure", 2, 2),
        ("Lung Neoplasms", 2, 2),
    ]
    # API v2 ancestors carry ids: NCT00763412 and NCT02028676 reach Digestive System Diseases only so.
    assert rows[3] == {
        "mesh_term": "Digestive System Diseases",
        "mesh_id": "D000004066",
        "trials": 2,
        "direct_trials": 0,
        "ancestor_trials": 2,
    }
    axial = next(row for row in rows if row["mesh_term"] == "Axial Spondyloarthritis")
    assert (axial["mesh_id"], axial["trials"]) == ("D000089183", 1)


def test_results_by_sponsor_class(conn: duckdb.DuckDBPyConnection) -> None:
    # INDUSTRY: NCT00277524 (terminated), NCT01076361, NCT02210780, NCT02552212 posted results;
    # NCT04349592 and NCT04452435 did not. The NULL class is classic page NCT04361942.
    assert run(conn, "results_by_sponsor_class") == [
        {
            "lead_sponsor_class": "INDUSTRY",
            "finished_trials": 6,
            "with_results": 4,
            "share_with_results": 0.67,
        },
        {"lead_sponsor_class": "OTHER", "finished_trials": 5, "with_results": 4, "share_with_results": 0.8},
        {"lead_sponsor_class": "INDIV", "finished_trials": 1, "with_results": 1, "share_with_results": 1.0},
        {"lead_sponsor_class": None, "finished_trials": 1, "with_results": 0, "share_with_results": 0.0},
    ]


def test_eligibility_age_ranges(conn: duckdb.DuckDBPyConnection) -> None:
    rows = run(conn, "eligibility_age_ranges")
    # "18 Years" and no maximum is the commonest range (8 trials), then no limits at all (5).
    assert rows[:3] == [
        {"minimum_age_years": 18.0, "maximum_age_years": None, "admits_children": False, "trials": 8},
        {"minimum_age_years": None, "maximum_age_years": None, "admits_children": None, "trials": 5},
        {"minimum_age_years": 18.0, "maximum_age_years": 70.0, "admits_children": False, "trials": 2},
    ]
    # NCT02028676 (ARROW) admits children from "3 Months" to "17 Years".
    assert {
        "minimum_age_years": 0.25,
        "maximum_age_years": 17.0,
        "admits_children": True,
        "trials": 1,
    } in rows
    assert sum(row["trials"] for row in rows) == 23


# --- the views ---


@pytest.mark.parametrize(("view", "table"), VIEWS.items())
def test_views_keep_their_base_rows_and_are_documented(
    conn: duckdb.DuckDBPyConnection, view: str, table: str
) -> None:
    if view == "v_study_intervention":
        # One row per arm receiving an intervention, plus interventions no arm names (e.g. NCT01220531).
        linked = count(conn, f"SELECT count(*) FROM {view} WHERE arm_ordinal IS NOT NULL")
        assert linked == count(conn, "SELECT count(*) FROM bridge_arm_intervention") == 156
        assert count(conn, f"SELECT count(*) FROM {view} WHERE arm_ordinal IS NULL") == 9
        assert count(conn, f"SELECT count(DISTINCT (nct_id, intervention_ordinal)) FROM {view}") == count(
            conn, f"SELECT count(*) FROM {table}"
        )
    else:
        assert count(conn, f"SELECT count(*) FROM {view}") == count(conn, f"SELECT count(*) FROM {table}") > 0
    assert (
        count(conn, f"SELECT count(*) FROM duckdb_views() WHERE view_name = '{view}' AND comment <> ''") == 1
    )
    undocumented = conn.execute(
        "SELECT column_name FROM duckdb_columns() WHERE table_name = $view AND coalesce(comment, '') = ''",
        {"view": view},
    ).fetchall()
    assert undocumented == []


def test_v_study_site_joins_site_and_study(conn: duckdb.DuckDBPyConnection) -> None:
    rows = conn.execute(
        "SELECT city, country, country_code, phase, overall_status FROM v_study_site WHERE nct_id = 'NCT04371601'"
    ).fetchall()
    assert rows == [("Fuzhou", "China", "CN", "EARLY_PHASE1", "ACTIVE_NOT_RECRUITING")]
    per_study = conn.execute(
        "SELECT nct_id, count(*) FROM v_study_site GROUP BY nct_id ORDER BY count(*) DESC LIMIT 1"
    ).fetchall()
    assert per_study == [("NCT02465060", 1218)]


def test_v_study_intervention_and_condition_values(conn: duckdb.DuckDBPyConnection) -> None:
    # NCT05594173's only intervention names no arm group; it stays, with NULL arm columns.
    assert conn.execute(
        "SELECT intervention_name, arm_ordinal, arm_type FROM v_study_intervention WHERE nct_id = 'NCT05594173'"
    ).fetchall() == [("Food texture modification", None, None)]
    # NCT02552212's first condition is itself a MeSH heading the registry matched, with its id.
    assert conn.execute(
        "SELECT condition_name, mesh_term, mesh_id, study_mesh_terms[3], phase FROM v_study_condition"
        " WHERE nct_id = 'NCT02552212' AND ordinal = 1"
    ).fetchall() == [
        (
            "Axial Spondyloarthritis",
            "Axial Spondyloarthritis",
            "D000089183",
            "Axial Spondyloarthritis",
            "PHASE3",
        )
    ]
