"""Classic study pages saved as text (the project's two seed records) → canonical API v2 records.

The golden records below were read off the pages by hand. Variants (CRLF, missing, moved or
altered blocks, junk) are made from the seed text in the tests rather than stored as fixtures.
"""

from __future__ import annotations

import copy
import os
from pathlib import Path
from typing import Any

import pytest

from pipelines.sources.classic_page import looks_like_classic_page, parse
from pipelines.sources.records import RecordRejected

FIXTURES = Path(__file__).parent / "fixtures" / "classic"
SEED_MSV = FIXTURES / "000_0d7b5526ab6eaaff.txt"  # NCT04361942
SEED_FUZHOU = FIXTURES / "001_99fb39e7e4eddd68.txt"  # NCT04371601

RESPIRATORY_PARENT = (
    "Admitted to the Intensive Care Unit with pneumonia by COVID-19 infection in the last 48 hours, "
    "that meet at least one of these criteria:"
)

EXPECTED_MSV: dict[str, Any] = {
    "protocolSection": {
        "identificationModule": {
            "nctId": "NCT04361942",
            "briefTitle": (
                "Treatment of Severe COVID-19 Pneumonia With Allogeneic Mesenchymal Stromal Cells (COVID_MSV)"
            ),
            "acronym": "COVID_MSV",
            "officialTitle": (
                "Double Blind, Placebo-controlled, Phase II Trial to Evaluate Safety and Efficacy of "
                "Allogenic Mesenchymal Stromal Cells MSV_allo for Treatment of Acute Respiratory Failure in "
                "Patients With COVID-19 Pneumonia (COVID_MSV)"
            ),
            "orgStudyIdInfo": {"id": "TerCel_007"},
            "secondaryIdInfos": [{"id": "2020-001682-36", "type": "EUDRACT_NUMBER"}],
        },
        "statusModule": {
            "overallStatus": "COMPLETED",
            "statusVerifiedDate": "2022-06",
            "startDateStruct": {"date": "2020-05-01", "type": "ACTUAL"},
            "primaryCompletionDateStruct": {"date": "2021-10-28", "type": "ACTUAL"},
            "completionDateStruct": {"date": "2021-10-28", "type": "ACTUAL"},
            "studyFirstPostDateStruct": {"date": "2020-04-24"},
            "lastUpdatePostDateStruct": {"date": "2022-06-07"},
        },
        "oversightModule": {"isFdaRegulatedDrug": False, "isFdaRegulatedDevice": False},
        "descriptionModule": {
            "detailedDescription": "\n\n".join(
                [
                    "Novel coronavirus COVID-19 has spread quickly from Wuhan China to worldwide. On 15 "
                    "April 2020, the World Health Organization (WHO) has reported 1.914.916 confirmed "
                    "cases and 123.010 deaths globally, being a severe threat to public health.",
                    "Some patients develop overwhelming lung inflammation and acute respiratory failure. "
                    "Several reports demonstrated that COVID-19 specifically recognized the angiotensin I"
                    " converting ezyme 2 repector (ACE2) and ACE2-positive cells are infected by the "
                    "virus. ACE2 receptor is widely present on the human cells surface such as alveolar "
                    "type II cells and capillary endothelium, among others. COVID-19 infects cells and "
                    "stimulates a terrible cytokine storm in the lung followed by edema, dysfunction of "
                    "the air exchange and acute respiratory distress which may lead to death. Further, "
                    "once COVID-19 enters in blood circulation, it can easy spread to some systems and "
                    "organs, causing significant damage. Under these circumstances, it is reasonable to "
                    "believe that the inhibition of inflammatory response is the key to treat COVID-19 "
                    "pneumonia.",
                    "Mesenchymal stem cells (MSCs) have been widely used in the immune-mediated inflammatory "
                    "diseases. MSCs can regulate both innate and adaptive immunity by suppressing the "
                    "proliferation, differentiation and activation of different cells. Some studies have "
                    "shown that MSCs can significantly reduce acute lung injury in mice caused by H9N2 and "
                    "H5N1 virus, reducing proinflammatory cytokines and inflammatory cells into the lungs.",
                    "These immunomodulatory properties of MSCs support performance of the Phase I/II, "
                    "double-blind (neither the participant nor the investigator will know if active drug or "
                    "placebo is assigned), placebo-controlled, randomized (assigned by chance), in which "
                    "subjects with severe COVID-19 pneumonia shall be received either MSCs (1 million "
                    "cells/kg) or placebo by intravenous injection. The administration of cells will be done "
                    "only once.",
                ]
            ),
        },
        "conditionsModule": {"conditions": ["COVID-19 Pneumonia"]},
        "designModule": {
            "studyType": "INTERVENTIONAL",
            "phases": ["PHASE2"],
            "enrollmentInfo": {"count": 24, "type": "ACTUAL"},
            "designInfo": {
                "allocation": "RANDOMIZED",
                "interventionModel": "PARALLEL",
                "primaryPurpose": "TREATMENT",
                "maskingInfo": {
                    "masking": "TRIPLE",
                    "whoMasked": ["PARTICIPANT", "CARE_PROVIDER", "INVESTIGATOR"],
                    "maskingDescription": (
                        "Both experimental and Placebo will receive a similar endovenous injection with "
                        "either cells or placebo. Blind to participant, investigator ans care providers"
                    ),
                },
            },
        },
        "armsInterventionsModule": {
            "armGroups": [
                {
                    "label": "Experimental",
                    "type": "EXPERIMENTAL",
                    "description": "Intravenous injection of 1 million MSV cells/Kg in 100 ml of saline",
                    "interventionNames": ["Biological: Mesenchymal Stromal Cells"],
                },
                {
                    "label": "Placebo",
                    "type": "PLACEBO_COMPARATOR",
                    "description": "Intravenous injection of 100 ml of saline containing no cells",
                    "interventionNames": ["Other: Placebo"],
                },
            ],
            "interventions": [
                {
                    "type": "BIOLOGICAL",
                    "name": "Mesenchymal Stromal Cells",
                    "description": "Intravenous injection of 1 million MSV cells/Kg diluted in 100 ml saline",
                    "armGroupLabels": ["Experimental"],
                    "otherNames": ["MSV"],
                },
                {
                    "type": "OTHER",
                    "name": "Placebo",
                    "description": "Intravenous injection of 100 ml saline containing no cells",
                    "armGroupLabels": ["Placebo"],
                },
            ],
        },
        "eligibilityModule": {
            "eligibilityCriteria": (
                "Inclusion Criteria:\n"
                "\n"
                "* Women or men of ≥ 18 years of age\n"
                "* SARS-CoV-2 infection confirmed by molecular testing.\n"
                f"* {RESPIRATORY_PARENT}\n"
                "\n"
                "  * Respiratory distress.\n"
                "  * Respiratory rate (FR) ≥ 30 rpm.\n"
                "  * Basal oxygen saturation at rest ≤ 93%.\n"
                "  * Arterial partial pressure of oxygen (PaO₂) / inspiratory fraction of oxygen (FiO₂) "
                "≤300mmHg\n"
                "* Consent of the patient or his legal representative for participation in the study.\n"
                "\n"
                "Exclusion Criteria:\n"
                "\n"
                "* Active tumor disease.\n"
                "* Pregnancy.\n"
                "* Participation in another clinical trial for the same pathology.\n"
                "* Any circumstance that in the researcher's opinion justifies the patient's "
                "non-participation in the trial.\n"
                "* Lack of signed consent for participation."
            ),
            "healthyVolunteers": False,
            "sex": "ALL",
            "minimumAge": "18 Years",
            "stdAges": ["ADULT", "OLDER_ADULT"],
        },
        "contactsLocationsModule": {
            "overallOfficials": [
                {
                    "name": "Julia Barbado, MD, PhD",
                    "affiliation": "University Hospital Río Hortega, Valladolid, Spain",
                    "role": "STUDY_CHAIR",
                },
                {
                    "name": "Rosa Conde, MD, PhD",
                    "affiliation": "University Hospital Río Hortega, Valladolid, Spain",
                    "role": "STUDY_DIRECTOR",
                },
                {
                    "name": "Margarita González-Vallinas, PhD",
                    "affiliation": "University of Valladolid",
                    "role": "PRINCIPAL_INVESTIGATOR",
                },
            ],
            "locations": [
                {
                    "facility": "Hospital Universitario Rio Hortega",
                    "city": "Valladolid",
                    "zip": "47012",
                    "country": "Spain",
                }
            ],
        },
    },
    "hasResults": False,
    "extras": {
        "titleLine": (
            "Treatment of Severe COVID-19 Pneumonia With Allogeneic Mesenchymal Stromal Cells (COVID_MSV) "
            "(COVID_MSV)"
        ),
        "responsiblePartyName": "Red de Terapia Celular",
        "criteriaNestingInferred": True,
        "unspecifiedOutcomes": [
            {
                "measure": (
                    "Proportion of patients who have achieved withdrawal of invasive mechanical ventilation"
                ),
                "timeFrame": "0-7 days",
                "description": "Index of therapy success to preserve Intensive Care Hospitalization space",
            },
            {
                "measure": "Rate of mortality",
                "timeFrame": "28 days",
                "description": "To measure global success",
            },
            {
                "measure": "Proportion of patients who have achieved clinical response",
                "timeFrame": "0-7days",
                "description": (
                    "Index based in the 4 most relevant symptoms and signs: fever, shortness of bread, "
                    "%Hemoglobin Saturation and PaO2 / FiO2"
                ),
            },
            {
                "measure": "Proportion of patients who have achieved radiological responses",
                "timeFrame": "0-28 days",
                "description": "Evaluation of pneumonia changes",
            },
            {
                "measure": "Blood white cell counts and their subpopulations.",
                "timeFrame": "0-180 days",
                "description": "Haemogram and cell subpopulations",
            },
            {
                "measure": "Cellular markers of inflammation",
                "timeFrame": "0-180 days",
                "description": "Lymphocyte profiles, CD3, CD19, CD16+CD56, CD4/CD8, Tregs",
            },
            {
                "measure": "Cytokines and chemokines in peripheral blood",
                "timeFrame": "0-180 days",
                "description": "IL-10, IL-6, IP-10, TNF-alpha",
            },
        ],
        "unlabelledTermLines": [
            "COVID-19 Mesenchymal Stromal Cells MSV",
            "COVID-19 Pneumonia Respiratory Tract Infections Infections Pneumonia, Viral Virus Diseases",
            "Coronavirus Infections Coronaviridae Infections Nidovirales Infections RNA Virus Infections "
            "Lung Diseases Respiratory Tract Diseases",
        ],
    },
}

CONTROL_THERAPIES = (
    "conventional symptomatic treatments such as antiviral (oseltamivir), hormones, oxygen therapy, "
    "mechanical ventilation and other supportive therapies"
)
BOTH_ARMS = ["Control group", "Experimental group"]

EXPECTED_FUZHOU: dict[str, Any] = {
    "protocolSection": {
        "identificationModule": {
            "nctId": "NCT04371601",
            "briefTitle": (
                "Safety and Effectiveness of Mesenchymal Stem Cells in the Treatment of Pneumonia of "
                "Coronavirus Disease 2019"
            ),
            "officialTitle": (
                "Safety and Effectiveness of Mesenchymal Stem Cells in the Treatment of Pneumonia of "
                "Coronavirus Disease 2019"
            ),
            "orgStudyIdInfo": {"id": "MSC-CoViD-2020"},
        },
        "statusModule": {
            "overallStatus": "ACTIVE_NOT_RECRUITING",
            "statusVerifiedDate": "2020-03",
            "startDateStruct": {"date": "2020-03-01", "type": "ACTUAL"},
            "primaryCompletionDateStruct": {"date": "2021-12-31", "type": "ESTIMATED"},
            "completionDateStruct": {"date": "2022-12-31", "type": "ESTIMATED"},
            "studyFirstPostDateStruct": {"date": "2020-05-01"},
            "lastUpdatePostDateStruct": {"date": "2020-05-01"},
        },
        "oversightModule": {"isFdaRegulatedDrug": False, "isFdaRegulatedDevice": False},
        "descriptionModule": {
            "briefSummary": "\n\n".join(
                [
                    "The outbreak of coronavirus disease 2019 (COVID-19) at the end of 2019 has seen "
                    "numerous patients experiencing severe acute lung injury (ALI), which developed into "
                    "severe respiratory distress syndrome (ARDS). The mortality was as high as 20% -40%. "
                    "Due to the lack of effective antiviral treatments, supporting treatment is the "
                    "predominant therapy for COVID-19 pneumonia. Its cure is essentially dependent on the"
                    " patient's immunity. While the immune system eliminates the virus, numerous "
                    "inflammatory cytokines are produced and a cytokine storm occurs in severe cases.",
                    "Mesenchymal stem cells (MSCs) play an important role in injury repair and immune "
                    "regulation, showing advantageous prospects in the treatment of COVID-19 pneumonia. MSCs "
                    "prevent cytokine storms by retarding the TNF-α pathway, alleviate sepsis by modulating "
                    "macrophages, neutrophils, NK cells, DC cells, T lymphocytes and B lymphocytes. After "
                    "infused, MSCs aggregate in the lungs, improve the lung microenvironment, protect "
                    "alveolar epithelia, and improve pulmonary fibrosis and pulmonary function.",
                ]
            ),
            "detailedDescription": "\n\n".join(
                [
                    "In vitro, Mesenchymal stem cells were revealed to inhibit the secretion of inflammatory "
                    "cytokines by spleen lymphocytes and up-regulate regulatory T cells, thereby inhibiting "
                    "the secretion of interferon-γ(IFN-γ) induced by lymphocytes and Tumor Necrosis "
                    "Factor(TNF) induced by macrophage.",
                    "Animal models and preclinical studies have shown that mesenchymal stem cells (MSCs) "
                    "were implanted into inflammatory lung tissues after infusion, which significantly "
                    "improved the clinical manifestations and histopathological lesions caused by acute "
                    "lung injury. Mesenchymal stem cells inhibited the effects of interleukin-1 (IL-1) "
                    "through regulatory T cells (CD4 + CD25 + FOXP3 + Treg cells) and by antagonizing the"
                    " expression interleukin-1 receptor (IL1-RA). Mesenchymal stem cells significantly "
                    "down-regulated pro-inflammatory factors by inhibiting the expression of IL-1, TNF "
                    "and IFN-γ in lung tissue, and up-regulated anti-inflammatory factor by enhancing the"
                    " expression of IL -10 and regulatory T cells, respectively, thereby dampening the "
                    "inflammatory response.",
                ]
            ),
        },
        "conditionsModule": {"conditions": ["COVID-19 Pneumonia"]},
        "designModule": {
            "studyType": "INTERVENTIONAL",
            "phases": ["EARLY_PHASE1"],
            "enrollmentInfo": {"count": 60, "type": "ACTUAL"},
            "designInfo": {
                "allocation": "RANDOMIZED",
                "interventionModel": "PARALLEL",
                "interventionModelDescription": (
                    f"Control group: {CONTROL_THERAPIES}; Experimental group: On the basis of the "
                    "above-mentioned conventional symptomatic treatment and supportive therapy, umbilical "
                    "cord mesenchymal stem cells were given at 106 / Kg body weight / time, once every 4 "
                    "days for a total of 4 times. Peripheral intravenous infusion was given within 3 days of "
                    "first admission."
                ),
                "primaryPurpose": "TREATMENT",
                "maskingInfo": {"masking": "NONE"},
            },
        },
        "armsInterventionsModule": {
            "armGroups": [
                {
                    "label": "Control group",
                    "type": "ACTIVE_COMPARATOR",
                    "description": CONTROL_THERAPIES,
                    "interventionNames": ["Drug: Oseltamivir", "Drug: hormones", "Device: oxygen therapy"],
                },
                {
                    "label": "Experimental group",
                    "type": "EXPERIMENTAL",
                    "description": (
                        "On the basis of the above-mentioned conventional symptomatic treatment and "
                        "supportive therapy, umbilical cord mesenchymal stem cells were given at 106/Kg body "
                        "weight / time, once every 4 days for a total of 4 times. Peripheral intravenous "
                        "infusion was given within 3 days of first admission"
                    ),
                    "interventionNames": [
                        "Drug: Oseltamivir",
                        "Drug: hormones",
                        "Device: oxygen therapy",
                        "Procedure: mesenchymal stem cells",
                    ],
                },
            ],
            "interventions": [
                {
                    "type": "DRUG",
                    "name": "Oseltamivir",
                    "description": "Oseltamivir capsules",
                    "armGroupLabels": BOTH_ARMS,
                },
                {
                    "type": "DRUG",
                    "name": "hormones",
                    "description": "a moderate amount of hormone",
                    "armGroupLabels": BOTH_ARMS,
                },
                {
                    "type": "DEVICE",
                    "name": "oxygen therapy",
                    "description": "oxygen therapy,mechanical ventilation and other supportive therapies",
                    "armGroupLabels": BOTH_ARMS,
                },
                {
                    "type": "PROCEDURE",
                    "name": "mesenchymal stem cells",
                    "description": "mesenchymal stem cells",
                    "armGroupLabels": ["Experimental group"],
                },
            ],
        },
        "eligibilityModule": {
            "eligibilityCriteria": (
                "Inclusion Criteria:\n"
                "\n"
                "* patients with severe COVID-19 pneumonia\n"
                "* willing to give informed consent\n"
                "\n"
                "Exclusion Criteria:\n"
                "\n"
                "* patients with mild COVID-19 pneumonia\n"
                "* liver dysfunction\n"
                "* concomitant with other active infection\n"
                "* renal dysfunction\n"
                "* Heart failure >grade 2\n"
                "* pregnant\n"
                "* history of COPD"
            ),
            "healthyVolunteers": False,
            "sex": "ALL",
            "minimumAge": "18 Years",
            "maximumAge": "70 Years",
            "stdAges": ["ADULT", "OLDER_ADULT"],
        },
        "contactsLocationsModule": {
            "overallOfficials": [
                {
                    "name": "Jianming Tan Tan, M.D and Ph.D",
                    "affiliation": "Fuzhou General Hospital",
                    "role": "STUDY_CHAIR",
                }
            ],
            "locations": [
                {
                    "facility": "Fuzhou General Hospital",
                    "city": "Fuzhou",
                    "state": "Fujian",
                    "zip": "350025",
                    "country": "China",
                }
            ],
        },
    },
    "hasResults": False,
    "extras": {
        "titleLine": (
            "Safety and Effectiveness of Mesenchymal Stem Cells in the Treatment of Pneumonia of "
            "Coronavirus Disease 2019"
        ),
        "responsiblePartyName": "Fuzhou General Hospital",
        "unspecifiedOutcomes": [
            {
                "measure": "Changes of oxygenation index (PaO2/FiO2) ,blood gas test",
                "timeFrame": "12 months",
                "description": "Improvement of pulmonary function",
            },
            {
                "measure": "Detection of TNF-α levels, IL-10 levels",
                "timeFrame": "1,3,6,12months",
                "description": "Cytokines level",
            },
            {
                "measure": (
                    "Detection of immune cells that secret cytokines, including CXCR3+, CD4+, CD8+, NK+ "
                    "cells, and regulatory T cells (CD4 + CD25 + FOXP3 + Treg cells)."
                ),
                "timeFrame": "1,3,6,12months",
                "description": "Immunological status",
            },
            {
                "measure": "Changes of oxygenation index (PaO2/FiO2) ,blood gas test",
                "timeFrame": "1,3,6months",
                "description": "Improvement of pulmonary function",
            },
            {
                "measure": "Changes of c-reactive protein and calcitonin",
                "timeFrame": "1,3,6,12months",
                "description": "Infection biomarkers",
            },
        ],
        "unlabelledTermLines": [
            "Pneumonia COVID-19 Respiratory Tract Infections Infections Lung Diseases Respiratory Tract "
            "Diseases Coronavirus Infections Coronaviridae Infections Nidovirales Infections RNA Virus "
            "Infections",
            "Virus Diseases Pneumonia, Viral Oseltamivir Hormones Hormones, Hormone Substitutes, and Hormone "
            "Antagonists Physiological Effects of Drugs Antiviral Agents Anti-Infective Agents Enzyme "
            "Inhibitors Molecular Mechanisms of Pharmacological Action",
        ],
    },
}

SEEDS = [(SEED_MSV, EXPECTED_MSV), (SEED_FUZHOU, EXPECTED_FUZHOU)]


def seed_text(path: Path) -> str:
    return path.read_text(encoding="utf-8")


def parse_text(text: str) -> dict[str, Any]:
    return parse(text.encode("utf-8"))


def without_lines(text: str, first: str, last: str) -> str:
    """The text without the lines from the one starting with first to the one starting with last."""
    lines = text.split("\n")
    start = next(i for i, line in enumerate(lines) if line.startswith(first))
    end = next(i for i, line in enumerate(lines) if i >= start and line.startswith(last))
    return "\n".join(lines[:start] + lines[end + 1 :])


def block(text: str, first: str, last: str) -> str:
    lines = text.split("\n")
    start = next(i for i, line in enumerate(lines) if line.startswith(first))
    end = next(i for i, line in enumerate(lines) if i >= start and line.startswith(last))
    return "\n".join(lines[start : end + 1])


def moved_after(text: str, first: str, last: str, anchor: str) -> str:
    """The block of lines first..last moved to just after the line starting with anchor."""
    moved = block(text, first, last)
    rest = without_lines(text, first, last).split("\n")
    at = next(i for i, line in enumerate(rest) if line.startswith(anchor))
    return "\n".join([*rest[: at + 1], moved, *rest[at + 1 :]])


def replaced(text: str, old: str, new: str, count: int = 1) -> str:
    assert text.count(old) >= count, old
    return text.replace(old, new, count)


def rejection(content: bytes) -> str:
    with pytest.raises(RecordRejected) as error:
        parse(content)
    return str(error.value)


# --- golden records ------------------------------------------------------------------------------


def test_nct04361942_golden() -> None:
    assert parse(SEED_MSV.read_bytes()) == EXPECTED_MSV


def test_nct04371601_golden() -> None:
    assert parse(SEED_FUZHOU.read_bytes()) == EXPECTED_FUZHOU


# --- robustness ----------------------------------------------------------------------------------


@pytest.mark.parametrize(("path", "expected"), SEEDS, ids=["NCT04361942", "NCT04371601"])
def test_crlf_and_bom_parse_the_same(path: Path, expected: dict[str, Any]) -> None:
    content = b"\xef\xbb\xbf" + seed_text(path).replace("\n", "\r\n").encode("utf-8")
    assert parse(content) == expected


def test_page_without_locations_has_no_locations_key() -> None:
    text = without_lines(seed_text(SEED_MSV), "Spain | |", "Valladolid, Spain, 47012 |")
    expected = copy.deepcopy(EXPECTED_MSV)
    del expected["protocolSection"]["contactsLocationsModule"]["locations"]
    assert parse_text(text) == expected


def test_page_without_outcomes() -> None:
    text = without_lines(seed_text(SEED_FUZHOU), "- Changes of oxygenation index", "- Changes of c-reactive")
    expected = copy.deepcopy(EXPECTED_FUZHOU)
    del expected["extras"]["unspecifiedOutcomes"]
    assert parse_text(text) == expected


@pytest.mark.parametrize(
    ("first", "last", "anchor"),
    [
        ("Choosing to participate", "- Lack of signed consent", "TerCel_007 2020-001682-36"),
        (
            "Arm | Intervention/treatment |",
            "Intravenous injection of 100 ml saline",
            "- Lack of signed consent",
        ),
        (
            "- Proportion of patients who have achieved withdrawal",
            "- Cytokines and chemokines",
            "Coronavirus",
        ),
    ],
    ids=["eligibility-after-ids", "arms-after-eligibility", "outcomes-at-the-end"],
)
def test_reordered_sections_parse_the_same(first: str, last: str, anchor: str) -> None:
    text = moved_after(seed_text(SEED_MSV), first, last, anchor)
    assert text != seed_text(SEED_MSV)
    assert parse_text(text) == EXPECTED_MSV


def test_page_without_condition_table_keeps_the_arm_interventions() -> None:
    """Without the table all text before "Study Type" is summary; interventions come from the arms."""
    text = without_lines(seed_text(SEED_MSV), "Condition or disease |", "COVID-19 Pneumonia | Biological")
    study = parse_text(text)["protocolSection"]
    assert "detailedDescription" not in study["descriptionModule"]
    assert study["descriptionModule"]["briefSummary"].startswith("Novel coronavirus COVID-19")
    assert "conditionsModule" not in study
    assert "phases" not in study["designModule"]
    assert study["armsInterventionsModule"] == EXPECTED_MSV["protocolSection"]["armsInterventionsModule"]


# --- rejections ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"", "empty record"),
        (b"  \r\n\n\t\n", "empty record"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + os.urandom(64), "not text: invalid UTF-8 at byte 0"),
        (b"GIF89a\x01\x00\x01\x00\x00\x00\x00;", "not text: control character"),
        (b"Shopping list\nMilk | 2 |\nEggs: | 12 |\n", "no NCT identifier found"),
    ],
    ids=["empty", "blank", "png", "nul-bytes", "other-text"],
)
def test_not_a_study_page_is_rejected(content: bytes, reason: str) -> None:
    assert rejection(content).startswith(reason)


def test_page_without_nct_id_is_rejected() -> None:
    text = seed_text(SEED_MSV).replace("NCT04361942", "")
    assert rejection(text.encode()) == "no NCT identifier found"


def test_page_with_two_nct_ids_is_rejected() -> None:
    text = replaced(
        seed_text(SEED_MSV), "ClinicalTrials.gov Identifier: | NCT04361942 |", "Identifier: | x |"
    )
    text = replaced(text, "Identifier: | x |", "ClinicalTrials.gov Identifier: | NCT09999999 |")
    assert rejection(text.encode()) == "conflicting NCT identifiers: NCT04361942, NCT09999999"


def test_page_cut_before_eligibility_names_what_is_missing() -> None:
    text = seed_text(SEED_MSV)
    reason = rejection(text[: text.index("Choosing to participate")].encode())
    assert reason == (
        "truncated or incomplete page: missing the eligibility block (Sexes Eligible for Study), "
        "the study IDs (Other Study ID Numbers), the record dates (Last Verified)"
    )


def test_page_cut_inside_the_ids_block_names_what_is_missing() -> None:
    text = seed_text(SEED_FUZHOU)
    reason = rejection(text[: text.index("MSC-CoViD-2020")].encode())
    assert reason == (
        "truncated or incomplete page: missing the study IDs (Other Study ID Numbers), "
        "the record dates (Last Verified)"
    )


@pytest.mark.parametrize(
    ("old", "new", "reason"),
    [
        (
            "Recruitment Status :\nCompleted",
            "Recruitment Status :\nPaused",
            "unknown overall status: 'Paused'",
        ),
        ("| Phase 2 |", "| Phase 5 |", "unknown phase: 'Phase 5'"),
        ("Masking: | Triple (Participant", "Masking: | Triple (Patient", "unknown masked role: 'Patient'"),
        ("| Parallel Assignment |", "| Parallel |", "unknown intervention model: 'Parallel'"),
        (
            "Experimental: Experimental",
            "Experimental Arm: Experimental",
            "unknown arm group type: 'Experimental Arm'",
        ),
        ("( EudraCT Number )", "( EudraCT )", "unknown secondary ID type: 'EudraCT'"),
        ("Sexes Eligible for Study: | All |", "Sexes Eligible for Study: | Both |", "unknown sex: 'Both'"),
        ("| May 1, 2020 |", "| Spring 2020 |", "unreadable Actual Study Start Date date: 'Spring 2020'"),
        ("| 24 participants |", "| about 24 |", "unreadable Actual Enrollment: 'about 24'"),
        ("Biological: Mesenchymal Stromal Cells Other", "Cells: MSV Other", "unknown intervention type in"),
    ],
)
def test_unknown_display_values_are_rejected_not_guessed(old: str, new: str, reason: str) -> None:
    assert rejection(replaced(seed_text(SEED_MSV), old, new).encode()).startswith(reason)


# --- smaller rules, on variants of the seeds -----------------------------------------------------


def test_title_with_one_trailing_group_has_no_acronym() -> None:
    text = replaced(seed_text(SEED_MSV), "(COVID_MSV) (COVID_MSV)\n", "(COVID_MSV)\n")
    identification = parse_text(text)["protocolSection"]["identificationModule"]
    assert (
        identification["briefTitle"] == EXPECTED_MSV["protocolSection"]["identificationModule"]["briefTitle"]
    )
    assert "acronym" not in identification


def test_study_ids_with_domains_and_untyped_ids() -> None:
    text = replaced(
        seed_text(SEED_MSV),
        "TerCel_007 2020-001682-36 ( EudraCT Number ) |",
        "TerCel_007 2020-001682-36 ( EudraCT Number ) RTC-7 ( Other Identifier: Red TerCel ) "
        "R01HL000001 ( U.S. NIH Grant/Contract ) LOCAL-9 |",
    )
    identification = parse_text(text)["protocolSection"]["identificationModule"]
    assert identification["orgStudyIdInfo"] == {"id": "TerCel_007"}
    assert identification["secondaryIdInfos"] == [
        {"id": "2020-001682-36", "type": "EUDRACT_NUMBER"},
        {"id": "RTC-7", "type": "OTHER", "domain": "Red TerCel"},
        {"id": "R01HL000001", "type": "NIH"},
        {"id": "LOCAL-9"},
    ]


def test_month_precision_dates_and_estimated_enrollment() -> None:
    text = replaced(
        seed_text(SEED_MSV),
        "Actual Study Start Date : | May 1, 2020 |",
        "Estimated Study Start Date : | May 2020 |",
    )
    text = replaced(
        text, "Actual Enrollment : | 24 participants |", "Estimated Enrollment : | 1,200 participants |"
    )
    study = parse_text(text)["protocolSection"]
    assert study["statusModule"]["startDateStruct"] == {"date": "2020-05", "type": "ESTIMATED"}
    assert study["designModule"]["enrollmentInfo"] == {"count": 1200, "type": "ESTIMATED"}


def test_unmapped_rows_and_disagreeing_values_go_to_other_fields() -> None:
    text = replaced(
        seed_text(SEED_MSV),
        "Last Verified: | June 2022 |",
        "Last Verified: | June 2022 |\n"
        "Plan Description: | Data shared on request |\n"
        "Last Update Posted: | June 8, 2022 |",
    )
    study = parse_text(text)
    assert study["protocolSection"]["statusModule"]["lastUpdatePostDateStruct"] == {"date": "2022-06-07"}
    assert study["extras"]["otherFields"] == [
        {"label": "Plan Description", "value": "Data shared on request"},
        {"label": "Last Update Posted", "value": "June 8, 2022"},
    ]


def test_text_outside_every_section_is_kept_unplaced() -> None:
    text = replaced(
        seed_text(SEED_MSV),
        "Responsible Party: | Red de Terapia Celular |",
        "Responsible Party: | Red de Terapia Celular |\nA stray note",
    )
    text = replaced(text, "Spain | |", "Contact: Nobody Yet\nSpain | |")
    assert parse_text(text)["extras"]["unplacedLines"] == ["Contact: Nobody Yet", "A stray note"]


def test_results_tab_and_results_first_posted() -> None:
    text = replaced(seed_text(SEED_MSV), "- No Results Posted", "- Study Results")
    text = replaced(
        text,
        "Last Update Posted : June 7, 2022",
        "Results First Posted : May 3, 2023\nLast Update Posted : June 7, 2022",
    )
    study = parse_text(text)
    assert study["hasResults"] is True
    assert study["protocolSection"]["statusModule"]["resultsFirstPostDateStruct"] == {"date": "2023-05-03"}


def test_other_names_listed_one_per_line() -> None:
    text = replaced(seed_text(SEED_MSV), "Other Name: MSV |", "Other Names:\n- MSV\n- MSV_allo |")
    interventions = parse_text(text)["protocolSection"]["armsInterventionsModule"]["interventions"]
    assert interventions[0]["otherNames"] == ["MSV", "MSV_allo"]
    assert interventions[0]["description"] == (
        "Intravenous injection of 1 million MSV cells/Kg diluted in 100 ml saline"
    )


def test_two_arms_describing_one_intervention_differently_keep_the_first() -> None:
    text = replaced(
        seed_text(SEED_FUZHOU),
        "Drug: Oseltamivir\nOseltamivir capsules Drug: hormones a moderate amount of hormone Device: "
        "oxygen therapy oxygen therapy,mechanical ventilation and other supportive therapies Procedure",
        "Drug: Oseltamivir\nOseltamivir 75 mg capsules Drug: hormones a moderate amount of hormone Device: "
        "oxygen therapy oxygen therapy,mechanical ventilation and other supportive therapies Procedure",
    )
    study = parse_text(text)
    expected = EXPECTED_FUZHOU["protocolSection"]["armsInterventionsModule"]
    assert study["protocolSection"]["armsInterventionsModule"] == expected
    assert study["extras"]["otherFields"] == [
        {"label": "Intervention description (Drug: Oseltamivir)", "value": "Oseltamivir 75 mg capsules"}
    ]


def test_sites_with_states_statuses_contacts_and_comma_countries() -> None:
    text = replaced(
        seed_text(SEED_MSV),
        "Spain | |\nHospital Universitario Rio Hortega | |\nValladolid, Spain, 47012 |",
        "United States, California | |\n"
        "Stanford University | Recruiting |\n"
        "Stanford, California, United States, 94305 |\n"
        "Contact: Jane Doe, MD 650-555-0100 jane.doe@example.org\n"
        "Korea, Republic of | |\n"
        "Seoul National University Hospital | |\n"
        "Seoul, Korea, Republic of, 03080 |\n"
        "Not yet recruiting\n"
        "Samsung Medical Center | |\n"
        "Seoul, Korea, Republic of |\n"
        "Spain | |\n"
        "Hospital Universitari Parc Taulí | |\n"
        "Sabadell, Barcelona, Spain, 08208 |",
    )
    assert parse_text(text)["protocolSection"]["contactsLocationsModule"]["locations"] == [
        {
            "facility": "Stanford University",
            "status": "RECRUITING",
            "city": "Stanford",
            "state": "California",
            "zip": "94305",
            "country": "United States",
            "contacts": [{"name": "Jane Doe, MD", "role": "CONTACT"}],
        },
        {
            "facility": "Seoul National University Hospital",
            "city": "Seoul",
            "zip": "03080",
            "country": "Korea, Republic of",
            "status": "NOT_YET_RECRUITING",
        },
        {"facility": "Samsung Medical Center", "city": "Seoul", "country": "Korea, Republic of"},
        {
            "facility": "Hospital Universitari Parc Taulí",
            "city": "Sabadell",
            "state": "Barcelona",
            "zip": "08208",
            "country": "Spain",
        },
    ]


def test_observational_page() -> None:
    text = seed_text(SEED_MSV)
    text = replaced(text, "| Interventional (Clinical Trial) |", "| Observational [Patient Registry] |")
    text = without_lines(text, "Allocation: |", "Primary Purpose: |")
    text = replaced(
        text,
        "Official Title:",
        "Observational Model: | Cohort |\nTime Perspective: | Prospective |\n"
        "Target Follow-Up Duration: | 6 Months |\nOfficial Title:",
    )
    text = replaced(text, "Arm | Intervention/treatment |", "Group/Cohort | Intervention/treatment |")
    text = replaced(text, "Experimental: Experimental\n", "Treated: cells\n")
    text = replaced(text, "Placebo Comparator: Placebo\n", "Untreated\n")
    text = replaced(
        text,
        "Sexes Eligible for Study: | All |",
        "Sampling Method: | Non-Probability Sample |\nSexes Eligible for Study: | All |",
    )
    study = parse_text(text)["protocolSection"]
    assert study["designModule"] == {
        "studyType": "OBSERVATIONAL",
        "patientRegistry": True,
        "phases": ["PHASE2"],
        "enrollmentInfo": {"count": 24, "type": "ACTUAL"},
        "designInfo": {"observationalModel": "COHORT", "timePerspective": "PROSPECTIVE"},
        "targetDuration": "6 Months",
    }
    assert [group["label"] for group in study["armsInterventionsModule"]["armGroups"]] == [
        "Treated: cells",
        "Untreated",
    ]
    assert "type" not in study["armsInterventionsModule"]["armGroups"][0]
    assert study["eligibilityModule"]["samplingMethod"] == "NON_PROBABILITY_SAMPLE"
    assert (
        study["eligibilityModule"]["eligibilityCriteria"]
        == EXPECTED_MSV["protocolSection"]["eligibilityModule"]["eligibilityCriteria"]
    )


def criteria_of(lines: list[str]) -> tuple[str, bool]:
    """eligibilityCriteria and the nesting flag of NCT04371601 with its criteria lines replaced."""
    text = seed_text(SEED_FUZHOU)
    old = block(text, "Inclusion Criteria:", "- history of COPD")
    study = parse_text(replaced(text, old, "\n".join(lines)))
    return study["protocolSection"]["eligibilityModule"][
        "eligibilityCriteria"
    ], "criteriaNestingInferred" in study["extras"]


def test_criteria_sub_list_closes_at_the_next_block_item() -> None:
    assert criteria_of(
        [
            "Inclusion Criteria:",
            "-",
            "Any of:",
            "- a",
            "- b",
            "-",
            "A block item",
            "- c",
            "Exclusion Criteria:",
            "- d",
        ]
    ) == (
        "Inclusion Criteria:\n\n* Any of:\n\n  * a\n  * b\n* A block item\n* c\n\nExclusion Criteria:\n\n* d",
        True,
    )


def test_criteria_only_child_stays_in_its_sub_list() -> None:
    assert criteria_of(
        ["Inclusion Criteria:", "- a", "-", "Any of:", "- b", "Exclusion Criteria:", "- c"]
    ) == (
        "Inclusion Criteria:\n\n* a\n* Any of:\n\n  * b\n\nExclusion Criteria:\n\n* c",
        True,
    )


def test_criteria_other_text_stays_a_paragraph_and_nothing_is_nested() -> None:
    assert criteria_of(
        [
            "Eligibility criteria:",
            "For adolescent participants:",
            "- Enrolled",
            "- Distressed",
            "For parents:",
            "- Caregiver",
        ]
    ) == (
        "Eligibility criteria:\n\nFor adolescent participants:\n\n* Enrolled\n* Distressed\n\n"
        "For parents:\n\n* Caregiver",
        False,
    )


# --- format sniffing -----------------------------------------------------------------------------


@pytest.mark.parametrize("path", [SEED_MSV, SEED_FUZHOU], ids=["NCT04361942", "NCT04371601"])
def test_seeds_look_like_classic_pages(path: Path) -> None:
    assert looks_like_classic_page(seed_text(path)[:4096])


@pytest.mark.parametrize("name", ["not_classic_NCT00973089.json", "not_classic_NCT03182660.xml"])
def test_json_and_xml_do_not_look_like_classic_pages(name: str) -> None:
    assert not looks_like_classic_page((FIXTURES / name).read_text(encoding="utf-8")[:4096])


def test_json_quoting_a_classic_page_is_not_one() -> None:
    assert not looks_like_classic_page('{"note": "ClinicalTrials.gov Identifier: NCT04361942 |"}')
