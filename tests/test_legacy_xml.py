"""Legacy ``<clinical_study>`` XML → canonical record.

Expected values are read from the same files by a separate, plain ``xml.etree`` reader below and
converted with the standard library (``datetime``), not with the code under test.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from collections import Counter
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from pipelines.sources.legacy_xml import looks_like_legacy_xml, parse, textblock_to_markdown
from pipelines.sources.records import RecordRejected
from tests.conftest import FIXTURES
from tests.conftest import LEGACY_XML_SAMPLES as SAMPLES

XML = SAMPLES[0].parent
WITH_RESULTS = [path for path in SAMPLES if b"<clinical_results>" in path.read_bytes()]
MEASURES = "resultsSection.outcomeMeasuresModule.outcomeMeasures"
BAD = FIXTURES / "legacy_xml" / "bad"


def _study(nct_id: str) -> dict[str, Any]:
    return parse((XML / f"{nct_id}.xml").read_bytes())


def _unmapped(study: dict[str, Any]) -> dict[str, Any]:
    """``extras.otherFields`` rows by label: the text, or a list of texts when the label repeats."""
    found: dict[str, Any] = {}
    for row in study["extras"]["otherFields"]:
        label, value = row["label"], row["value"]
        if label not in found:
            found[label] = value
        elif isinstance(found[label], list):
            found[label].append(value)
        else:
            found[label] = [found[label], value]
    return found


# --- the independent reader ------------------------------------------------------------------------


def _iso(display: str) -> str:
    """ "July 2001" → "2001-07", "July 21, 2020" → "2020-07-21", via datetime."""
    for pattern, out in (("%B %d, %Y", "%Y-%m-%d"), ("%B %Y", "%Y-%m")):
        try:
            return datetime.strptime(display, pattern).strftime(out)
        except ValueError:
            continue
    raise AssertionError(f"test reader cannot read date {display!r}")


def _enum(display: str) -> str:
    """Display text → enum spelling for the simple cases ("Active, not recruiting")."""
    return re.sub(r"[^A-Z0-9]+", "_", display.upper()).strip("_")


def _phases(display: str | None) -> list[str] | None:
    """ "Phase 1/Phase 2" → ["PHASE1", "PHASE2"], "N/A" → ["NA"]."""
    if display is None:
        return None
    return ["NA"] if display == "N/A" else [part.replace(" ", "").upper() for part in display.split("/")]


def read_expected(path: Path) -> dict[str, Any]:
    """The facts a canonical record must reproduce, read directly from the XML."""
    root = ET.parse(path).getroot()

    def text(xpath: str) -> str | None:
        value = root.findtext(xpath)
        return value.strip() if value and value.strip() else None

    status = text("overall_status")
    phase = text("phase")
    study_type = text("study_type")
    enrollment = root.find("enrollment")
    expected: dict[str, Any] = {
        "nctId": text("id_info/nct_id"),
        "briefTitle": text("brief_title"),
        "officialTitle": text("official_title"),
        "acronym": text("acronym"),
        "overallStatus": "UNKNOWN" if status == "Unknown status" else _enum(status or ""),
        "phases": _phases(phase),
        "studyType": None if study_type in (None, "N/A") else _enum(study_type.split(" [")[0]),
        "enrollment": None if enrollment is None else int(enrollment.text or ""),
        "enrollmentType": None if enrollment is None else enrollment.get("type"),
        "counts": {
            tag: len(root.findall(tag))
            for tag in (
                "location",
                "primary_outcome",
                "secondary_outcome",
                "other_outcome",
                "arm_group",
                "intervention",
                "overall_official",
                "condition",
                "keyword",
            )
        },
        "dates": {
            tag: _iso(text(tag)) if text(tag) else None
            for tag in (
                "start_date",
                "primary_completion_date",
                "completion_date",
                "verification_date",
                "study_first_submitted",
                "last_update_submitted",
            )
        },
        "hasResults": root.find("clinical_results") is not None,
        "outcomes": [
            _expected_outcome(outcome) for outcome in root.iterfind("clinical_results/outcome_list/outcome")
        ],
    }
    return expected


def _expected_outcome(outcome: ET.Element) -> dict[str, Any]:
    """One posted outcome measure's facts ("Count of Participants" → COUNT_OF_PARTICIPANTS)."""
    measurements = outcome.findall(
        "measure/class_list/class/category_list/category/measurement_list/measurement"
    )
    param = outcome.findtext("measure/param")
    return {
        "type": _enum(outcome.findtext("type") or ""),
        "title": outcome.findtext("title"),
        "timeFrame": outcome.findtext("time_frame"),
        "unitOfMeasure": outcome.findtext("measure/units"),
        "paramType": None if param is None else _enum(param),
        "groups": len(outcome.findall("group_list/group")),
        "measurements": len(measurements),
        "values": Counter(m.get("value") for m in measurements),
    }


def _get(record: dict[str, Any], dotted: str) -> Any:
    for key in dotted.split("."):
        if not isinstance(record, dict) or key not in record:
            return None
        record = record[key]
    return record


CANONICAL_LIST = {
    "location": "contactsLocationsModule.locations",
    "primary_outcome": "outcomesModule.primaryOutcomes",
    "secondary_outcome": "outcomesModule.secondaryOutcomes",
    "other_outcome": "outcomesModule.otherOutcomes",
    "arm_group": "armsInterventionsModule.armGroups",
    "intervention": "armsInterventionsModule.interventions",
    "overall_official": "contactsLocationsModule.overallOfficials",
    "condition": "conditionsModule.conditions",
    "keyword": "conditionsModule.keywords",
}
CANONICAL_DATE = {
    "start_date": "statusModule.startDateStruct.date",
    "primary_completion_date": "statusModule.primaryCompletionDateStruct.date",
    "completion_date": "statusModule.completionDateStruct.date",
    "verification_date": "statusModule.statusVerifiedDate",
    "study_first_submitted": "statusModule.studyFirstSubmitDate",
    "last_update_submitted": "statusModule.lastUpdateSubmitDate",
}


@pytest.mark.parametrize("path", SAMPLES, ids=[p.stem for p in SAMPLES])
def test_every_sample_matches_its_xml(path: Path) -> None:
    study = parse(path.read_bytes())
    expected = read_expected(path)
    protocol = study["protocolSection"]
    assert _get(protocol, "identificationModule.nctId") == expected["nctId"] == path.stem
    assert _get(protocol, "identificationModule.briefTitle") == expected["briefTitle"]
    assert _get(protocol, "identificationModule.officialTitle") == expected["officialTitle"]
    assert _get(protocol, "identificationModule.acronym") == expected["acronym"]
    assert _get(protocol, "statusModule.overallStatus") == expected["overallStatus"]
    assert _get(protocol, "designModule.phases") == expected["phases"]
    assert _get(protocol, "designModule.studyType") == expected["studyType"]
    assert _get(protocol, "designModule.enrollmentInfo.count") == expected["enrollment"]
    enrollment_type = {"Actual": "ACTUAL", "Anticipated": "ESTIMATED", None: None}[expected["enrollmentType"]]
    assert _get(protocol, "designModule.enrollmentInfo.type") == enrollment_type
    for tag, count in expected["counts"].items():
        assert len(_get(protocol, CANONICAL_LIST[tag]) or []) == count, tag
    for tag, date in expected["dates"].items():
        assert _get(protocol, CANONICAL_DATE[tag]) == date, tag
    assert study["hasResults"] is expected["hasResults"]
    assert bool(_get(study, MEASURES)) is bool(expected["outcomes"])
    json.dumps(study)  # plain JSON types only


def test_records_decode_with_the_warehouse_schema() -> None:
    canonical = pytest.importorskip("pipelines.canonical", exc_type=ImportError)
    polars = pytest.importorskip("polars")
    texts = [json.dumps(parse(path.read_bytes())) for path in SAMPLES]
    decoded = polars.Series(texts).str.json_decode(canonical.STUDY_DTYPE)
    assert decoded.struct.field("protocolSection").struct.field("identificationModule").struct.field(
        "nctId"
    ).to_list() == [p.stem for p in SAMPLES]


# --- posted results: outcome measures ----------------------------------------------------------------


def _measurements(measure: dict[str, Any]) -> list[dict[str, str]]:
    return [
        value
        for group in measure.get("classes", [])
        for category in group["categories"]
        for value in category.get("measurements", [])
    ]


@pytest.mark.parametrize("path", WITH_RESULTS, ids=[p.stem for p in WITH_RESULTS])
def test_outcome_measures_match_their_xml(path: Path) -> None:
    expected = read_expected(path)["outcomes"]
    measures = _get(parse(path.read_bytes()), MEASURES)
    assert len(measures) == len(expected) > 0
    for number, (measure, facts) in enumerate(zip(measures, expected, strict=True)):
        for key in ("type", "title", "timeFrame", "unitOfMeasure", "paramType"):
            assert measure.get(key) == facts[key], (number, key)
        assert len(measure["groups"]) == facts["groups"], number
        values = _measurements(measure)
        assert len(values) == facts["measurements"], number
        assert Counter(value["value"] for value in values) == facts["values"], number


@pytest.mark.parametrize("path", WITH_RESULTS, ids=[p.stem for p in WITH_RESULTS])
def test_outcome_measures_become_warehouse_rows(path: Path) -> None:
    from pipelines.canonical import record_frame
    from pipelines.sources.dispatch import parse_record
    from pipelines.sources.records import RawRecord
    from pipelines.transform.star import build_tables
    from schemas.star import MODELS

    tables = build_tables(record_frame([parse_record(RawRecord("x", path.read_bytes()))]))
    expected = read_expected(path)["outcomes"]
    root = ET.parse(path).getroot()
    assert tables["fact_result_outcome"].height == len(expected)
    assert tables["fact_result_group"].height == sum(facts["groups"] for facts in expected)
    counts = root.findall(
        "clinical_results/outcome_list/outcome/measure/analyzed_list/analyzed/count_list/count"
    )
    assert tables["fact_result_denom"].height == len(counts)
    measurements = root.findall("clinical_results/outcome_list/outcome/measure//measurement")
    assert tables["fact_result_measurement"].height == len(measurements) > 0
    for name in ("fact_result_outcome", "fact_result_group", "fact_result_denom", "fact_result_measurement"):
        MODELS[name].validate(tables[name], lazy=True)


def test_outcome_measure_in_api_v2_shape() -> None:
    measures = _get(_study("NCT00023673"), MEASURES)
    survival = measures[1]
    assert {key: survival[key] for key in ("type", "paramType", "dispersionType", "unitOfMeasure")} == {
        "type": "PRIMARY",
        "paramType": "NUMBER",
        "dispersionType": "95% Confidence Interval",  # display text, as API v2 writes it
        "unitOfMeasure": "percentage of participants",
    }
    assert survival["populationDescription"].startswith("Eligible patients at the MTD dose level")
    assert [group["id"] for group in survival["groups"]] == ["O1"]
    assert survival["denoms"] == [{"units": "Participants", "counts": [{"groupId": "O1", "value": "53"}]}]
    assert survival["classes"] == [
        {
            "categories": [
                {
                    "measurements": [
                        {"groupId": "O1", "value": "75.5", "lowerLimit": "61.5", "upperLimit": "85.0"}
                    ]
                }
            ]
        }
    ]
    toxicity = measures[2]["classes"][0]  # a named class with its own denominator, as API v2 has
    assert toxicity == {
        "title": "Chemotherapy/Acute RT non-hematologic: Grade 1",
        "denoms": [{"units": "Participants", "counts": [{"groupId": "O1", "value": "53"}]}],
        "categories": [{"measurements": [{"groupId": "O1", "value": "4"}]}],
    }
    leads = _get(_study("NCT01076361"), MEASURES)[0]  # participants and leads analyzed
    assert leads["denomUnitsSelected"] == "Participants"
    assert [denom["units"] for denom in leads["denoms"]] == ["Participants", "leads"]
    spread = _measurements(_get(_study("NCT00277524"), MEASURES)[-1])
    assert {"groupId", "value", "spread"} <= spread[0].keys()


def test_outcome_measure_optional_parts_and_unknown_values() -> None:
    baseline, outcomes = (XML / "NCT01076361.xml").read_bytes().split(b"<outcome_list>")

    def measure(*edits: tuple[bytes, bytes]) -> dict[str, Any]:
        """The sample's one outcome measure, after editing its ``<outcome>`` (not the baseline)."""
        edited = outcomes
        for old, new in edits:
            assert old in edited
            edited = edited.replace(old, new, 1)
        return _get(parse(baseline + b"<outcome_list>" + edited), MEASURES)[0]

    posting_date = (b"<population>22 Model", b"<posting_date>03/2025</posting_date><population>22 Model")
    edited = measure(
        (b"<param>Number</param>", b"<param>Geometric Least Squares Mean</param>"),
        (b'upper_limit="95.04"/>', b'upper_limit="95.04">Life-table estimate at 5 years</measurement>'),
        (b"<measurement_list>", b"<title>All leads</title><measurement_list>"),
        posting_date,
    )
    assert edited["paramType"] == "GEOMETRIC_LEAST_SQUARES_MEAN"
    assert edited["anticipatedPostingDate"] == "2025-03"
    assert edited["classes"][0]["categories"] == [
        {
            "title": "All leads",
            "measurements": [
                {
                    "groupId": "O1",
                    "value": "92.3",
                    "lowerLimit": "88.3",
                    "upperLimit": "95.04",
                    "comment": "Life-table estimate at 5 years",
                }
            ],
        }
    ]
    year_only = (posting_date[0], posting_date[1].replace(b"03/2025", b"2026"))
    assert measure(year_only)["anticipatedPostingDate"] == "2026"
    unknown = measure(
        (b"<type>Primary</type>", b"<type>Tertiary</type>"),
        (b"<param>Number</param>", b"<param>Mode</param>"),
        (posting_date[0], posting_date[1].replace(b"03/2025", b"soon")),
    )
    assert not {"type", "paramType", "anticipatedPostingDate"} & unknown.keys()  # not guessed at
    assert unknown["title"].startswith("Survival Probability")  # the rest of the outcome is kept


def test_results_stay_out_of_extras() -> None:
    for path in WITH_RESULTS:
        labels = [row["label"] for row in parse(path.read_bytes())["extras"]["otherFields"]]
        assert labels, path.stem
        assert not [label for label in labels if label.startswith("clinical_results")], path.stem


# --- specific records ------------------------------------------------------------------------------


def test_withheld_record_keeps_what_it_has() -> None:
    study = _study("NCT03182660")
    protocol = study["protocolSection"]
    assert protocol["identificationModule"] == {
        "nctId": "NCT03182660",
        "orgStudyIdInfo": {"id": "LUM-ABU-AP-17-02"},
        "briefTitle": "[Trial of device that is not approved or cleared by the U.S. FDA]",
        "officialTitle": "[Trial of device that is not approved or cleared by the U.S. FDA]",
    }
    assert protocol["statusModule"]["overallStatus"] == "WITHHELD"
    assert protocol["statusModule"]["studyFirstPostDateStruct"] == {"date": "2017-06-09", "type": "ACTUAL"}
    assert protocol["sponsorCollaboratorsModule"] == {
        "leadSponsor": {"name": "[Redacted]"},  # no agency_class: no class invented
        "responsibleParty": {"oldNameTitle": "[Redacted]", "oldOrganization": "[Redacted]"},
    }
    assert "designModule" not in protocol  # study type "N/A" has no API v2 enum ...
    assert _unmapped(study)["study_type"] == "N/A"  # ... so it is kept here
    assert study["hasResults"] is False


def test_all_1218_locations_are_kept() -> None:
    locations = _study("NCT02465060")["protocolSection"]["contactsLocationsModule"]["locations"]
    assert len(locations) == 1218
    assert {"facility", "status", "city", "country"} <= locations[0].keys()
    assert {location["status"] for location in locations} <= {
        "RECRUITING",
        "ACTIVE_NOT_RECRUITING",
        "SUSPENDED",
    }


def test_patient_registry_flag() -> None:
    registry = _study("NCT01076361")["protocolSection"]["designModule"]
    assert registry["studyType"] == "OBSERVATIONAL"
    assert registry["patientRegistry"] is True
    assert registry["designInfo"] == {"observationalModel": "COHORT", "timePerspective": "PROSPECTIVE"}
    assert registry["targetDuration"] == "5 Years"
    plain = _study("NCT00277524")["protocolSection"]["designModule"]
    assert (plain["studyType"], plain["patientRegistry"]) == ("OBSERVATIONAL", False)


def test_expanded_access_record() -> None:
    protocol = _study("NCT01220531")["protocolSection"]
    assert protocol["statusModule"]["overallStatus"] == "AVAILABLE"
    assert protocol["designModule"] == {
        "studyType": "EXPANDED_ACCESS",
        "expandedAccessTypes": {"intermediate": True, "treatment": True},
    }
    assert protocol["sponsorCollaboratorsModule"]["responsibleParty"]["type"] == "SPONSOR_INVESTIGATOR"


def test_unknown_status_keeps_last_known_status() -> None:
    status = _study("NCT02591940")["protocolSection"]["statusModule"]
    assert (status["overallStatus"], status["lastKnownStatus"]) == ("UNKNOWN", "ENROLLING_BY_INVITATION")


def test_anticipated_enrollment_and_dates_are_estimated() -> None:
    protocol = _study("NCT02591940")["protocolSection"]
    assert protocol["designModule"]["enrollmentInfo"] == {"count": 140, "type": "ESTIMATED"}
    assert protocol["statusModule"]["completionDateStruct"] == {"date": "2016-12", "type": "ESTIMATED"}
    posted = _study("NCT00023673")["protocolSection"]["statusModule"]["studyFirstPostDateStruct"]
    assert posted == {"date": "2003-04-09", "type": "ESTIMATED"}  # type="Estimate"


def test_month_precision_dates_without_type() -> None:
    status = _study("NCT00023673")["protocolSection"]["statusModule"]
    assert status["startDateStruct"] == {"date": "2001-07"}  # no type attribute → no type key
    assert status["primaryCompletionDateStruct"] == {"date": "2009-01", "type": "ACTUAL"}
    assert status["statusVerifiedDate"] == "2017-11"
    day = _study("NCT04452435")["protocolSection"]["statusModule"]["startDateStruct"]
    assert day == {"date": "2020-07-21", "type": "ACTUAL"}


def test_design_sponsors_and_oversight() -> None:
    protocol = _study("NCT04349592")["protocolSection"]
    assert protocol["designModule"]["designInfo"]["maskingInfo"] == {
        "masking": "QUADRUPLE",
        "whoMasked": ["PARTICIPANT", "CARE_PROVIDER", "INVESTIGATOR", "OUTCOMES_ASSESSOR"],
        "maskingDescription": "Double-blinded trial",
    }
    assert protocol["oversightModule"] == {
        "oversightHasDmc": True,
        "isFdaRegulatedDrug": False,
        "isFdaRegulatedDevice": False,
        "isUsExport": False,
    }
    sponsors = _study("NCT00023673")["protocolSection"]["sponsorCollaboratorsModule"]
    assert sponsors["leadSponsor"] == {"name": "Radiation Therapy Oncology Group", "class": "OTHER"}
    assert sponsors["collaborators"] == [{"name": "National Cancer Institute (NCI)", "class": "NIH"}]
    assert _study("NCT02591810")["protocolSection"]["designModule"]["phases"] == ["NA"]


def test_arms_name_their_interventions_as_api_v2_does() -> None:
    arms = _study("NCT04452435")["protocolSection"]["armsInterventionsModule"]
    assert arms["armGroups"] == [
        {"label": "C21", "type": "EXPERIMENTAL", "interventionNames": ["Drug: C21"]},
        {"label": "Placebo", "type": "PLACEBO_COMPARATOR", "interventionNames": ["Drug: Placebo"]},
    ]
    assert arms["interventions"][0] == {
        "type": "DRUG",
        "name": "C21",
        "description": "C21",
        "armGroupLabels": ["C21"],
    }


def test_references_links_and_meshes() -> None:
    study = _study("NCT00023673")
    references = study["protocolSection"]["referencesModule"]["references"]
    root = ET.parse(XML / "NCT00023673.xml").getroot()
    assert [r["type"] for r in references] == ["BACKGROUND"] * len(root.findall("reference")) + [
        "RESULT"
    ] * len(root.findall("results_reference"))
    assert all("citation" in r for r in references)
    meshes = study["derivedSection"]["conditionBrowseModule"]["meshes"]
    assert meshes == [{"term": t.text} for t in root.findall("condition_browse/mesh_term")]
    links = _study("NCT02028676")["protocolSection"]["referencesModule"]["seeAlsoLinks"]
    assert {"label": "main ARROW trial webpage", "url": "http://www.arrowtrial.org/"} in links


def test_contacts_keep_names_and_roles_but_no_phone_or_email() -> None:
    for path in SAMPLES:
        root = ET.parse(path).getroot()
        phones_and_emails = {e.text.strip() for tag in ("phone", "email") for e in root.iter(tag) if e.text}
        dumped = json.dumps(parse(path.read_bytes()), ensure_ascii=False)
        assert not [value for value in phones_and_emails if value in dumped], path.stem
        assert not re.search(r'"[^"]*(phone|email)[^"]*":', dumped), path.stem
    contacts = _study("NCT01220531")["protocolSection"]["contactsLocationsModule"]
    assert contacts["centralContacts"] == [
        {"name": "M. Louise Markert, M.D., Ph.D", "role": "CONTACT"},
        {"name": "Stephanie Gupton, RN, CPNP", "role": "CONTACT"},
    ]
    assert contacts["locations"][0]["contacts"][-1] == {
        "name": "M. Louise Markert, M.D., Ph.D",
        "role": "PRINCIPAL_INVESTIGATOR",
    }


def test_eligibility_fields() -> None:
    eligibility = _study("NCT04452435")["protocolSection"]["eligibilityModule"]
    assert (eligibility["sex"], eligibility["minimumAge"], eligibility["maximumAge"]) == (
        "ALL",
        "18 Years",
        "70 Years",
    )
    assert eligibility["healthyVolunteers"] is False
    observational = _study("NCT01076361")
    eligibility = observational["protocolSection"]["eligibilityModule"]
    assert "minimumAge" not in eligibility and "maximumAge" not in eligibility  # "N/A": no limit
    assert not {"eligibility/minimum_age", "eligibility/maximum_age"} & _unmapped(observational).keys()
    assert eligibility["samplingMethod"] == "NON_PROBABILITY_SAMPLE"
    assert eligibility["studyPopulation"] == "Subjects implanted with a 4968 lead."


def test_unmapped_fields_are_kept_in_extras() -> None:
    unmapped = _unmapped(_study("NCT00023673"))
    assert (
        unmapped["required_header/download_date"] == "ClinicalTrials.gov processed this data on May 11, 2018"
    )
    assert unmapped["source"] == "Radiation Therapy Oncology Group"
    assert unmapped["last_update_submitted_qc"] == "November 27, 2017"
    assert unmapped["number_of_arms"] == "4"
    assert unmapped["location_countries/country"] == ["Canada", "United States"]
    assert not any(key.startswith("clinical_results") for key in unmapped)


def test_a_value_outside_the_vocabularies_lands_in_extras_not_in_the_record() -> None:
    content = (XML / "NCT04452435.xml").read_bytes()
    content = content.replace(b"<overall_status>Completed<", b"<overall_status>Paused for lunch<")
    content = content.replace(b'<start_date type="Actual">July 21, 2020<', b"<start_date>Summer 2020<")
    content = content.replace(b"</clinical_study>", b"<is_section_801>Yes</is_section_801></clinical_study>")
    study = parse(content)
    assert "overallStatus" not in study["protocolSection"]["statusModule"]
    assert "startDateStruct" not in study["protocolSection"]["statusModule"]
    unmapped = _unmapped(study)
    assert unmapped["overall_status"] == "Paused for lunch"
    assert unmapped["start_date"] == "Summer 2020"
    assert unmapped["is_section_801"] == "Yes"


# --- textblocks ---------------------------------------------------------------------------------------


def test_brief_summary_paragraphs() -> None:
    summary = _study("NCT04452435")["protocolSection"]["descriptionModule"]["briefSummary"]
    assert summary == (
        "This is a randomised, double-blind, placebo-controlled phase 2 trial investigating the safety "
        "and efficacy of C21 in subjects who are hospitalised with COVID-19 infection, but not in need "
        "of mechanical invasive or non-invasive ventilation.\n\n"
        "In total, approximately 100 subjects will be enrolled and randomised to receive twice daily "
        "oral administration of either standard of care (SoC) + placebo (N=50) or SoC + C21 (N=50). "
        "Subjects will be treated for 7 days."
    )


def test_criteria_become_api_v2_style_markdown() -> None:
    criteria = _study("NCT04452435")["protocolSection"]["eligibilityModule"]["eligibilityCriteria"]
    assert criteria.startswith(
        "Inclusion Criteria:\n\n1. Written informed consent, consistent with ICH-GCP R2 and local laws, "
        "obtained before the initiation of any trial related procedure\n2. Diagnosis of coronavirus"
    )
    assert (
        "\n5. Any of the following findings at Visit 1:\n\n   * Positive results for hepatitis B" in criteria
    )
    assert "\n   * Positive pregnancy test (see Section 8.2.3)\n6. Clinically significant" in criteria
    assert (
        "\n9. Treatment with any of the medications listed below within 1 week prior to Visit 1:\n\n   1. "
        in criteria
    )
    assert "\n   2. Warfarin\n10. Pregnant or breast-feeding female subjects\n11. " in criteria
    assert "\n\nExclusion Criteria:\n\n1. Any previous" in criteria
    assert "\r" not in criteria and "  " not in criteria.replace("\n   ", "\n")


def test_textblock_layout_rules() -> None:
    legacy = (
        "\r\n        Inclusion Criteria:\r\n\r\n"
        "          -  first item wrapped\r\n             onto a second line\r\n\r\n"
        "               -  nested bullet\r\n\r\n"
        "          -  second item\r\n\r\n"
        "        Exclusion Criteria:\r\n\r\n"
        "          1. numbered\r\n\r\n"
        "               -  under a number\r\n\r\n"
        "             a note continuing item 1\r\n\r\n"
        "         10. ten\r\n      "
    )
    assert textblock_to_markdown(legacy) == (
        "Inclusion Criteria:\n\n"
        "* first item wrapped onto a second line\n\n"
        "  * nested bullet\n"
        "* second item\n\n"
        "Exclusion Criteria:\n\n"
        "1. numbered\n\n"
        "   * under a number\n\n"
        "   a note continuing item 1\n\n"
        "10. ten"
    )
    assert textblock_to_markdown("\n      One line\n      and its wrap.\n\n\n      Two.\n    ") == (
        "One line and its wrap.\n\nTwo."
    )
    assert textblock_to_markdown("\n   \n") == ""


# --- sniffing and rejections ------------------------------------------------------------------------


def test_sniff() -> None:
    for path in SAMPLES:
        assert looks_like_legacy_xml(path.read_bytes()[:4096]), path.stem
    assert looks_like_legacy_xml(b"\xef\xbb\xbf<!-- exported -->\n<clinical_study rank='1'>")
    assert looks_like_legacy_xml(b"<clinical_study>")
    assert looks_like_legacy_xml((BAD / "billion_laughs.xml").read_bytes())  # so parse says why not
    assert not looks_like_legacy_xml((BAD / "rss.xml").read_bytes())
    assert not looks_like_legacy_xml(b'{"protocolSection": {"x": "<clinical_study>"}}')
    assert not looks_like_legacy_xml(b"NCT00000000 is a clinical_study about <clinical_study>")
    assert not looks_like_legacy_xml(b"")
    assert not looks_like_legacy_xml(b"<clinical_studies>")


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("not_well_formed.xml", r"not well-formed XML: mismatched tag: line 7, column 2"),
        ("billion_laughs.xml", r"refused for security.*DTD"),
        ("external_entity.xml", r"refused for security.*DTD"),
        ("external_dtd.xml", r"refused for security.*DTD"),
        ("rss.xml", r"root element is <rss>, not <clinical_study>"),
        ("no_nct_id.xml", r"no id_info/nct_id"),
        ("junk.bin", r"not well-formed XML: .*line 1, column \d+"),
    ],
)
def test_bad_input_is_rejected_with_a_reason(name: str, reason: str) -> None:
    with pytest.raises(RecordRejected, match=reason) as caught:
        parse((BAD / name).read_bytes())
    assert "root:" not in str(caught.value)  # nothing of /etc/passwd leaks into the reason


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"", r"not well-formed XML: no element found"),
        (b'{"protocolSection": {}}', r"not well-formed XML"),
        (b"<clinical_study><id_info><nct_id>12345</nct_id></id_info></clinical_study>", r"malformed"),
        (b'<?xml version="1.0" encoding="klingon"?><clinical_study/>', r"unsupported encoding"),
    ],
)
def test_other_bad_input(content: bytes, reason: str) -> None:
    with pytest.raises(RecordRejected, match=reason):
        parse(content)
