"""ClinicalTrials.gov display text → API v2 enum values.

The classic study pages and the legacy XML show the registry's controlled vocabularies as display
text ("Active, not recruiting", "Phase 1/Phase 2", "Parallel Assignment"); API v2 stores them as
enums (``ACTIVE_NOT_RECRUITING``, ``["PHASE1", "PHASE2"]``, ``PARALLEL``). The tables follow the
"text to enum conversion" list of the API v2 migration guide, plus the spellings the classic pages
use ("Estimated" dates, "Interventional (Clinical Trial)", "( EudraCT Number )" labels).

They are about display text in general, not about one page layout, so every source format can map
through them. :func:`lookup` and the helpers reject a value they do not know with
``RecordRejected`` naming the field: a wrong enum in the warehouse is worse than a rejected record.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date
from typing import TypeVar

from pipelines.sources.records import RecordRejected

T = TypeVar("T")

OVERALL_STATUS = {
    "Active, not recruiting": "ACTIVE_NOT_RECRUITING",
    "Completed": "COMPLETED",
    "Enrolling by invitation": "ENROLLING_BY_INVITATION",
    "Not yet recruiting": "NOT_YET_RECRUITING",
    "Recruiting": "RECRUITING",
    "Suspended": "SUSPENDED",
    "Terminated": "TERMINATED",
    "Withdrawn": "WITHDRAWN",
    "Available": "AVAILABLE",  # the four expanded-access statuses
    "No longer available": "NO_LONGER_AVAILABLE",
    "Temporarily not available": "TEMPORARILY_NOT_AVAILABLE",
    "Approved for marketing": "APPROVED_FOR_MARKETING",
    "Withheld": "WITHHELD",
    "Unknown status": "UNKNOWN",
}
# A site's recruitment status: API v2 allows neither WITHHELD nor UNKNOWN for a location.
LOCATION_STATUS = {
    display: enum for display, enum in OVERALL_STATUS.items() if enum not in ("WITHHELD", "UNKNOWN")
}
DATE_TYPE = {
    "Actual": "ACTUAL",
    "Estimated": "ESTIMATED",
    "Estimate": "ESTIMATED",
    "Anticipated": "ESTIMATED",
}
STUDY_TYPE = {
    "Interventional": "INTERVENTIONAL",
    "Interventional (Clinical Trial)": "INTERVENTIONAL",
    "Observational": "OBSERVATIONAL",
    "Observational [Patient Registry]": "OBSERVATIONAL",
    "Expanded Access": "EXPANDED_ACCESS",
}
# API v2 states designModule.patientRegistry for observational studies; the study type says which.
PATIENT_REGISTRY = {"Observational": False, "Observational [Patient Registry]": True}
PHASES = {
    "Early Phase 1": ("EARLY_PHASE1",),
    "Phase 0": ("EARLY_PHASE1",),  # public.xsd 2017-02-13 renamed "Phase 0" to "Early Phase 1"
    "Phase 1": ("PHASE1",),
    "Phase 1/Phase 2": ("PHASE1", "PHASE2"),
    "Phase 1 Phase 2": ("PHASE1", "PHASE2"),  # the same, when a text copy lost the line break
    "Phase 2": ("PHASE2",),
    "Phase 2/Phase 3": ("PHASE2", "PHASE3"),
    "Phase 2 Phase 3": ("PHASE2", "PHASE3"),
    "Phase 3": ("PHASE3",),
    "Phase 4": ("PHASE4",),
    "Not Applicable": ("NA",),
    "N/A": ("NA",),
}
ALLOCATION = {"Randomized": "RANDOMIZED", "Non-Randomized": "NON_RANDOMIZED", "N/A": "NA"}
INTERVENTION_MODEL = {
    "Single Group Assignment": "SINGLE_GROUP",
    "Parallel Assignment": "PARALLEL",
    "Crossover Assignment": "CROSSOVER",
    "Factorial Assignment": "FACTORIAL",
    "Sequential Assignment": "SEQUENTIAL",
}
MASKING = {
    "None (Open Label)": "NONE",
    "None": "NONE",
    "Single": "SINGLE",
    "Double": "DOUBLE",
    "Triple": "TRIPLE",
    "Quadruple": "QUADRUPLE",
}
WHO_MASKED = {
    "Participant": "PARTICIPANT",
    "Care Provider": "CARE_PROVIDER",
    "Investigator": "INVESTIGATOR",
    "Outcomes Assessor": "OUTCOMES_ASSESSOR",
}
PRIMARY_PURPOSE = {
    "Treatment": "TREATMENT",
    "Prevention": "PREVENTION",
    "Diagnostic": "DIAGNOSTIC",
    "Supportive Care": "SUPPORTIVE_CARE",
    "Screening": "SCREENING",
    "Health Services Research": "HEALTH_SERVICES_RESEARCH",
    "Basic Science": "BASIC_SCIENCE",
    "Device Feasibility": "DEVICE_FEASIBILITY",
    "Educational/Counseling/Training": "ECT",
    "Other": "OTHER",
}
OBSERVATIONAL_MODEL = {
    "Cohort": "COHORT",
    "Case-Control": "CASE_CONTROL",
    "Case-Only": "CASE_ONLY",
    "Case-Crossover": "CASE_CROSSOVER",
    "Ecologic or Community": "ECOLOGIC_OR_COMMUNITY",
    "Family-Based": "FAMILY_BASED",
    "Defined Population": "DEFINED_POPULATION",
    "Natural History": "NATURAL_HISTORY",
    "Other": "OTHER",
}
TIME_PERSPECTIVE = {
    "Prospective": "PROSPECTIVE",
    "Retrospective": "RETROSPECTIVE",
    "Cross-Sectional": "CROSS_SECTIONAL",
    "Other": "OTHER",
}
BIOSPEC_RETENTION = {
    "None Retained": "NONE_RETAINED",
    "Samples With DNA": "SAMPLES_WITH_DNA",
    "Samples Without DNA": "SAMPLES_WITHOUT_DNA",
}
ARM_GROUP_TYPE = {
    "Experimental": "EXPERIMENTAL",
    "Active Comparator": "ACTIVE_COMPARATOR",
    "Placebo Comparator": "PLACEBO_COMPARATOR",
    "Sham Comparator": "SHAM_COMPARATOR",
    "No Intervention": "NO_INTERVENTION",
    "Other": "OTHER",
}
INTERVENTION_TYPE = {
    "Drug": "DRUG",
    "Device": "DEVICE",
    "Biological": "BIOLOGICAL",
    "Procedure": "PROCEDURE",
    "Radiation": "RADIATION",
    "Behavioral": "BEHAVIORAL",
    "Genetic": "GENETIC",
    "Dietary Supplement": "DIETARY_SUPPLEMENT",
    "Combination Product": "COMBINATION_PRODUCT",
    "Diagnostic Test": "DIAGNOSTIC_TEST",
    "Other": "OTHER",
}
OFFICIAL_ROLE = {
    "Study Chair": "STUDY_CHAIR",
    "Study Director": "STUDY_DIRECTOR",
    "Principal Investigator": "PRINCIPAL_INVESTIGATOR",
    "Sub-Investigator": "SUB_INVESTIGATOR",
}
CONTACT_ROLE = {"Contact": "CONTACT", **OFFICIAL_ROLE}
SEX = {"All": "ALL", "Female": "FEMALE", "Male": "MALE"}
STD_AGE = {"Child": "CHILD", "Adult": "ADULT", "Older Adult": "OLDER_ADULT"}
SAMPLING_METHOD = {
    "Probability Sample": "PROBABILITY_SAMPLE",
    "Non-Probability Sample": "NON_PROBABILITY_SAMPLE",
}
ORG_STUDY_ID_TYPE = {
    "U.S. NIH Grant/Contract": "NIH",
    "U.S. FDA Grant/Contract": "FDA",
    "U.S. VA Grant/Contract": "VA",
    "U.S. CDC Grant/Contract": "CDC",
    "U.S. AHRQ Grant/Contract": "AHRQ",
    "U.S. SAMHSA Grant/Contract": "SAMHSA",
}
SECONDARY_ID_TYPE = {
    **ORG_STUDY_ID_TYPE,
    "Other Grant/Funding Number": "OTHER_GRANT",
    "EudraCT Number": "EUDRACT_NUMBER",
    "EU Trial (CTIS) Number": "CTIS",
    "Registry Identifier": "REGISTRY",
    "Other Identifier": "OTHER",
}
IPD_SHARING = {"Yes": "YES", "No": "NO", "Undecided": "UNDECIDED"}
AGENCY_CLASS = {"NIH": "NIH", "U.S. Fed": "FED", "Industry": "INDUSTRY", "Other": "OTHER"}
RESPONSIBLE_PARTY_TYPE = {
    "Sponsor": "SPONSOR",
    "Principal Investigator": "PRINCIPAL_INVESTIGATOR",
    "Sponsor-Investigator": "SPONSOR_INVESTIGATOR",
}
HEALTHY_VOLUNTEERS = {"Accepts Healthy Volunteers": True, "Yes": True, "No": False}
IPD_INFO_TYPE = {
    "Study Protocol": "STUDY_PROTOCOL",
    "Statistical Analysis Plan (SAP)": "SAP",
    "Informed Consent Form (ICF)": "ICF",
    "Clinical Study Report (CSR)": "CSR",
    "Analytic Code": "ANALYTIC_CODE",
}
YES_NO = {"Yes": True, "No": False}
_MONTH_NAMES = "January February March April May June July August September October November December"
MONTHS = {name: number for number, name in enumerate(_MONTH_NAMES.split(), 1)}

_MASKING_RE = re.compile(r"(?P<level>\w+) \((?P<who>[^()]+)\)")
_DATE_RE = re.compile(r"(?P<month>[A-Z][a-z]+) (?:(?P<day>\d{1,2}), )?(?P<year>\d{4})")


def lookup(vocabulary: Mapping[str, T], field: str, display: str) -> T:
    """The API v2 value of one display text; an unknown text is rejected, never guessed."""
    try:
        return vocabulary[display]
    except KeyError:
        raise RecordRejected(f"unknown {field}: {display!r}") from None


def phases(display: str) -> list[str]:
    """Phase display text ("Phase 1/Phase 2") → the API v2 ``phases`` list."""
    return list(lookup(PHASES, "phase", display))


def masking_info(display: str) -> dict[str, object]:
    """Masking such as "Triple (Participant, Care Provider, Investigator)" → ``{masking, whoMasked}``.

    "None (Open Label)" is a level of its own, not a level with a list of who is masked.
    """
    if display in MASKING:
        return {"masking": MASKING[display]}
    match = _MASKING_RE.fullmatch(display)
    if match is None:
        raise RecordRejected(f"unknown masking: {display!r}")
    return {
        "masking": lookup(MASKING, "masking", match["level"]),
        "whoMasked": [lookup(WHO_MASKED, "masked role", who.strip()) for who in match["who"].split(",")],
    }


def std_ages(display: str) -> list[str]:
    """Age groups such as "Adult, Older Adult" → ``["ADULT", "OLDER_ADULT"]``."""
    return [lookup(STD_AGE, "age group", age.strip()) for age in display.split(",")]


def iso_date(field: str, display: str) -> str:
    """A display date in ISO form: "May 1, 2020" → "2020-05-01", "June 2022" → "2022-06"."""
    match = _DATE_RE.fullmatch(display)
    month = MONTHS.get(match["month"]) if match else None
    if match is None or month is None:
        raise RecordRejected(f"unreadable {field} date: {display!r}")
    year = int(match["year"])
    if match["day"] is None:
        return f"{year:04d}-{month:02d}"
    try:
        return date(year, month, int(match["day"])).isoformat()
    except ValueError:
        raise RecordRejected(f"impossible {field} date: {display!r}") from None
