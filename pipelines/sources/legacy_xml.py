"""Legacy ClinicalTrials.gov XML: one ``<clinical_study>`` (public.xsd, the AllPublicXML era).

``parse`` turns a record into the canonical record (the API v2 study structure, API v2 key names
and enum spellings). The mapping is declarative: ``STUDY_FIELDS`` is the one table of XML path →
canonical path, with a converter per field for display text → enum, "July 21, 2020" → "2020-07-21",
Yes/No → bool and ``<textblock>`` → Markdown. Nothing is invented: a field the XML does not give
is left out, and a value the tables cannot convert is not guessed at.

Nothing is lost silently either. Every element the table did not map (older tags such as
``firstreceived_date`` or ``is_section_801``, ``required_header``, ``source``,
``number_of_arms``, ``location_countries``, values outside the known vocabularies, …) is kept in
``extras.otherFields`` as ``{label: "tag/path", value: text}`` rows in document order (the
warehouse's ``fact_other_field``; ``"@name"`` marks an attribute). Three things are deliberately left out:

- most of ``clinical_results``, the posted results (``hasResults`` says they exist). Only the
  outcome measures are mapped, to ``resultsSection.outcomeMeasuresModule`` (``RESULT_OUTCOME``),
  because the warehouse's ``fact_result_*`` tables read them. Participant flow, baseline, adverse
  events, outcome analyses (``analysis_list``), agreements, limitations and the results point of
  contact have no warehouse table and are not mapped: read them from API v2 records. Neither are
  the measure's copies of the outcome's title, description and population (API v2 has them once)
  nor the obsolete ``safety_issue``; API v2's ``reportingStatus`` has no legacy element and is not
  inferred. None of ``clinical_results`` goes to extras (a large tree of numbers, and a contact
  with personal data), so there a value outside ``OUTCOME_TYPE``/``PARAM_TYPE`` is dropped rather
  than kept; both tables cover public.xsd's enumerations.
- phone numbers, extensions and e-mail addresses of contacts: personal data the warehouse does
  not keep (names and roles are kept).
- XML comments and the whitespace layout of the file.

Security: the bytes are parsed with ``defusedxml`` with DTDs forbidden, so entity expansion
("billion laughs"), external entities (``file:///etc/passwd``) and network fetches cannot happen;
such documents are rejected, as are malformed XML, another root element and a missing NCT id.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any
from xml.etree.ElementTree import Element, ParseError

import defusedxml.ElementTree as defused_et
from defusedxml import DefusedXmlException, DTDForbidden

from pipelines.sources.records import RecordRejected
from pipelines.vocabulary import (
    AGENCY_CLASS,
    ALLOCATION,
    ARM_GROUP_TYPE,
    BIOSPEC_RETENTION,
    DATE_TYPE,
    HEALTHY_VOLUNTEERS,
    INTERVENTION_MODEL,
    INTERVENTION_TYPE,
    IPD_INFO_TYPE,
    IPD_SHARING,
    LOCATION_STATUS,
    OBSERVATIONAL_MODEL,
    OFFICIAL_ROLE,
    OVERALL_STATUS,
    PATIENT_REGISTRY,
    PRIMARY_PURPOSE,
    RESPONSIBLE_PARTY_TYPE,
    SAMPLING_METHOD,
    SEX,
    STUDY_TYPE,
    TIME_PERSPECTIVE,
    YES_NO,
    iso_date,
    masking_info,
    phases,
)

NCT_ID = re.compile(r"NCT\d{8}")

# --- converters: one element → canonical value ----------------------------------------------------
# A converter returns None when it cannot convert: the element then lands in extras with its text,
# so one value outside the vocabularies costs that field, not the whole record. NOT_GIVEN means the
# element explicitly says "no value" (age "N/A"), which API v2 expresses by omission.

Converter = Callable[[Element], Any]
NOT_GIVEN = object()


def _text(element: Element) -> str | None:
    """The element's text with CR (``&#xD;``) line ends normalised and outer whitespace removed."""
    text = (element.text or "").replace("\r\n", "\n").replace("\r", "\n").strip()
    return text or None


def _enum(table: Mapping[str, Any]) -> Converter:
    """A converter looking the element's text up in a vocabulary table."""
    return lambda element: table.get(_text(element) or "")


def _lenient(convert: Callable[[str], Any]) -> Converter:
    """A converter from a vocabulary helper, which raises ``RecordRejected`` for unknown text."""

    def converter(element: Element) -> Any:
        text = _text(element)
        try:
            return None if text is None else convert(text)
        except RecordRejected:
            return None

    return converter


def _wrap(key: str) -> Converter:
    """A converter making ``{key: text}``, for lists of one-field objects (MeSH terms, ids)."""

    def convert(element: Element) -> dict[str, str] | None:
        text = _text(element)
        return {key: text} if text else None

    return convert


_date = _lenient(lambda text: iso_date("legacy XML", text))  # "July 2001" → "2001-07"
_phases = _lenient(phases)  # "Phase 1/Phase 2" → ["PHASE1", "PHASE2"]
_masking = _lenient(masking_info)  # "Double (Participant, Investigator)" → {masking, whoMasked}


def _date_struct(element: Element) -> dict[str, str] | None:
    """A date with its optional ``type`` attribute: ``{date, type}`` (no type key if none given)."""
    date = _date(element)
    kind = element.get("type")
    if date is None or (kind is not None and kind not in DATE_TYPE):
        return None
    return {"date": date, "type": DATE_TYPE[kind]} if kind else {"date": date}


def _enrollment(element: Element) -> dict[str, Any] | None:
    """``<enrollment type="Anticipated">120</enrollment>`` → ``{count: 120, type: ESTIMATED}``."""
    text = _text(element)
    kind = element.get("type")
    if text is None or not text.isdigit() or (kind is not None and kind not in DATE_TYPE):
        return None
    return {"count": int(text), "type": DATE_TYPE[kind]} if kind else {"count": int(text)}


def _age(element: Element) -> Any:
    """ "18 Years" is kept as written; "N/A" (no limit) is expressed in API v2 by omission."""
    text = _text(element)
    return NOT_GIVEN if text == "N/A" else text


def _textblock(element: Element) -> str | None:
    text = textblock_to_markdown(element.text or "")
    return text or None


# --- textblocks -------------------------------------------------------------------------------------

_LIST_MARKER = re.compile(r"(?P<marker>-|\d{1,3}\.)\s+(?=\S)")


def _paragraphs(text: str) -> Iterator[tuple[int, str]]:
    """Blank-line separated paragraphs: (indentation of the first line, lines joined by a space)."""
    for block in re.split(r"\n\s*\n", text):
        lines = [line for line in block.split("\n") if line.strip()]
        if lines:
            yield len(lines[0]) - len(lines[0].lstrip()), " ".join(line.strip() for line in lines)


def textblock_to_markdown(text: str) -> str:
    """Turn a legacy ``<textblock>`` into Markdown close to the text API v2 serves.

    The legacy XML was laid out for fixed-width display: lines indented and wrapped at about 100
    columns, CR line ends (``&#xD;``), a blank line between paragraphs, and lists drawn as
    ``-  `` bullets or ``1. `` numbers whose text column (shared by their wrapped lines) shows
    the nesting. The layout carries no meaning beyond paragraphs and lists, so:

    - CRs go, paragraphs are cut at blank lines and their lines joined with single spaces;
    - a paragraph starting with ``-`` or a number and a dot is a list item: ``-`` becomes ``* ``,
      numbers are kept. An item indented to or past the text column of an open item is nested in
      it and is indented by its parent's marker width (two spaces under ``* ``, three under
      ``1. ``, as API v2 does); a plain paragraph indented to an open item's text column
      continues that item;
    - items of one list follow each other on the next line; anything else is separated by a
      blank line (API v2 puts one before a nested list, none after it).

    Characters Markdown would interpret (``<``, ``[``, ``*``) are not escaped: the text stays as
    written. Used for every textblock (summaries, descriptions, criteria, study population).
    """
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    out: list[str] = []
    open_items: list[tuple[int, str]] = []  # per open item: source text column, output indent
    previous_item_depth: int | None = None
    for indent, paragraph in _paragraphs(text):
        while open_items and indent < open_items[-1][0]:
            open_items.pop()
        prefix = open_items[-1][1] if open_items else ""
        item = _LIST_MARKER.match(paragraph)
        if item is None:
            out.extend(("\n\n" if out else "", prefix, paragraph))
            previous_item_depth = None
            continue
        depth = len(open_items)
        marker = "* " if item["marker"] == "-" else item["marker"] + " "
        tight = previous_item_depth is not None and depth <= previous_item_depth
        out.extend(("\n" if tight else "\n\n" if out else "", prefix, marker, paragraph[item.end() :]))
        open_items.append((indent + item.end(), prefix + " " * len(marker)))
        previous_item_depth = depth
    return "".join(out)


# --- the mapping table --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Field:
    """One XML path (below the parent element) mapped to a dotted canonical path.

    ``convert`` turns a leaf element into its value; ``sub`` instead maps a nested element field
    by field into an object (``fixed`` keys are added to each non-empty one, e.g. a reference's
    type), and ``attributes`` (XML name → key) puts the element's own attributes first in that
    object (a result group's ``group_id``); ``"."`` in a ``sub`` field is the element itself.
    ``many`` collects every match into a list; fields sharing a key extend one list.
    """

    xml: str
    key: str
    convert: Converter = _text
    many: bool = False
    sub: tuple[Field, ...] = ()
    fixed: Mapping[str, str] = field(default_factory=dict)
    attributes: Mapping[str, str] = field(default_factory=dict)


RESPONSIBLE_PARTY = (
    Field("responsible_party_type", "type", _enum(RESPONSIBLE_PARTY_TYPE)),
    Field("investigator_full_name", "investigatorFullName"),
    Field("investigator_title", "investigatorTitle"),
    Field("investigator_affiliation", "investigatorAffiliation"),
    Field("name_title", "oldNameTitle"),  # the old layout: a name/title and an organization only
    Field("organization", "oldOrganization"),
)
EXPANDED_ACCESS_TYPES = (
    Field("expanded_access_type_individual", "individual", _enum(YES_NO)),
    Field("expanded_access_type_intermediate", "intermediate", _enum(YES_NO)),
    Field("expanded_access_type_treatment", "treatment", _enum(YES_NO)),
)
DESIGN_INFO = (
    Field("allocation", "allocation", _enum(ALLOCATION)),
    Field("intervention_model", "interventionModel", _enum(INTERVENTION_MODEL)),
    Field("intervention_model_description", "interventionModelDescription"),
    Field("primary_purpose", "primaryPurpose", _enum(PRIMARY_PURPOSE)),
    Field("observational_model", "observationalModel", _enum(OBSERVATIONAL_MODEL)),
    Field("time_perspective", "timePerspective", _enum(TIME_PERSPECTIVE)),
    Field("masking", "maskingInfo", _masking),
    Field("masking_description", "maskingInfo.maskingDescription"),
)
SPONSOR = (Field("agency", "name"), Field("agency_class", "class", _enum(AGENCY_CLASS)))
OUTCOME = (Field("measure", "measure"), Field("description", "description"), Field("time_frame", "timeFrame"))
ARM_GROUP = (
    Field("arm_group_label", "label"),
    Field("arm_group_type", "type", _enum(ARM_GROUP_TYPE)),
    Field("description", "description"),
)
INTERVENTION = (
    Field("intervention_type", "type", _enum(INTERVENTION_TYPE)),
    Field("intervention_name", "name"),
    Field("description", "description"),
    Field("arm_group_label", "armGroupLabels", many=True),
    Field("other_name", "otherNames", many=True),
)
CONTACT = (Field("last_name", "name"),)  # phone, phone_ext and email are personal data: not kept
INVESTIGATOR = (Field("last_name", "name"), Field("role", "role", _enum(OFFICIAL_ROLE)))
OFFICIAL = (*INVESTIGATOR, Field("affiliation", "affiliation"))
LOCATION = (
    Field("facility/name", "facility"),
    Field("status", "status", _enum(LOCATION_STATUS)),
    Field("facility/address/city", "city"),
    Field("facility/address/state", "state"),
    Field("facility/address/zip", "zip"),
    Field("facility/address/country", "country"),
    Field("contact", "contacts", many=True, sub=CONTACT, fixed={"role": "CONTACT"}),
    Field("contact_backup", "contacts", many=True, sub=CONTACT, fixed={"role": "CONTACT"}),
    Field("investigator", "contacts", many=True, sub=INVESTIGATOR),
)
REFERENCE = (Field("PMID", "pmid"), Field("citation", "citation"))
LINK = (Field("url", "url"), Field("description", "label"))
STUDY_DOC = (
    Field("doc_id", "id"),
    Field("doc_type", "type"),
    Field("doc_url", "url"),
    Field("doc_comment", "comment"),
)
PROVIDED_DOCUMENT = (
    Field("document_type", "label"),
    Field("document_has_protocol", "hasProtocol", _enum(YES_NO)),
    Field("document_has_icf", "hasIcf", _enum(YES_NO)),
    Field("document_has_sap", "hasSap", _enum(YES_NO)),
    Field("document_date", "date", _date),
)

# Results: ``<outcome>`` → an API v2 outcome measure. Group ids are kept as the XML writes them
# ("O1"; API v2 numbers them "OG000"): they only link a measure's groups, denoms and measurements.
# ``denomUnitsSelected`` and a class's ``denoms`` are API v2 keys the warehouse does not read
# (not in ``STUDY_SPEC``): mapped all the same, they stay in the record JSON as API v2 has them.
OUTCOME_TYPE = {
    "Primary": "PRIMARY",
    "Secondary": "SECONDARY",
    "Other Pre-specified": "OTHER_PRE_SPECIFIED",
    "Post-Hoc": "POST_HOC",
}
PARAM_TYPE = {  # public.xsd measure_param_enum; the dispersion is display text in both formats
    "Mean": "MEAN",
    "Median": "MEDIAN",
    "Number": "NUMBER",
    "Count of Participants": "COUNT_OF_PARTICIPANTS",
    "Count of Units": "COUNT_OF_UNITS",
    "Least Squares Mean": "LEAST_SQUARES_MEAN",
    "Geometric Mean": "GEOMETRIC_MEAN",
    "Geometric Least Squares Mean": "GEOMETRIC_LEAST_SQUARES_MEAN",
    "Log Mean": "LOG_MEAN",
}
_POSTING_DATE = re.compile(r"(?:(?P<month>\d{2})/)?(?P<year>\d{4})")


def _posting_date(element: Element) -> str | None:
    """An unposted outcome's anticipated posting date: "03/2025" → "2025-03", "2025" as is."""
    found = _POSTING_DATE.fullmatch(_text(element) or "")
    if found is None:
        return None
    return f"{found['year']}-{found['month']}" if found["month"] else found["year"]


COUNTS = {"group_id": "groupId", "value": "value"}
DENOM = (Field("units", "units"), Field("count_list/count", "counts", many=True, attributes=COUNTS))
MEASUREMENT_VALUES = {**COUNTS, "spread": "spread", "lower_limit": "lowerLimit", "upper_limit": "upperLimit"}
CATEGORY = (
    Field("title", "title"),
    Field(
        "measurement_list/measurement",
        "measurements",
        many=True,
        sub=(Field(".", "comment"),),  # the measurement's text: a note on its value ("NA: ...")
        attributes=MEASUREMENT_VALUES,
    ),
)
MEASURE_CLASS = (
    Field("title", "title"),
    Field("analyzed_list/analyzed", "denoms", many=True, sub=DENOM),  # the class's own denominators
    Field("category_list/category", "categories", many=True, sub=CATEGORY),
)
RESULT_GROUP = (Field("title", "title"), Field("description", "description"))
RESULT_OUTCOME = (
    Field("type", "type", _enum(OUTCOME_TYPE)),
    Field("title", "title"),
    Field("description", "description"),
    Field("population", "populationDescription"),
    Field("posting_date", "anticipatedPostingDate", _posting_date),
    Field("measure/param", "paramType", _enum(PARAM_TYPE)),
    Field("measure/dispersion", "dispersionType"),
    Field("measure/units", "unitOfMeasure"),
    Field("time_frame", "timeFrame"),
    Field("measure/units_analyzed", "denomUnitsSelected"),
    Field("group_list/group", "groups", many=True, sub=RESULT_GROUP, attributes={"group_id": "id"}),
    Field("measure/analyzed_list/analyzed", "denoms", many=True, sub=DENOM),
    Field("measure/class_list/class", "classes", many=True, sub=MEASURE_CLASS),
)

# Canonical module (dotted path from the study root) → its fields, XML paths below <clinical_study>.
STUDY_FIELDS: dict[str, tuple[Field, ...]] = {
    "protocolSection.identificationModule": (
        Field("id_info/nct_id", "nctId"),
        Field("id_info/nct_alias", "nctIdAliases", many=True),
        Field("id_info/org_study_id", "orgStudyIdInfo.id"),
        Field("id_info/secondary_id", "secondaryIdInfos", _wrap("id"), many=True),
        Field("brief_title", "briefTitle"),
        Field("official_title", "officialTitle"),
        Field("acronym", "acronym"),
    ),
    "protocolSection.statusModule": (
        Field("verification_date", "statusVerifiedDate", _date),
        Field("overall_status", "overallStatus", _enum(OVERALL_STATUS)),
        Field("last_known_status", "lastKnownStatus", _enum(OVERALL_STATUS)),
        Field("why_stopped", "whyStopped"),
        Field("has_expanded_access", "expandedAccessInfo.hasExpandedAccess", _enum(YES_NO)),
        Field("start_date", "startDateStruct", _date_struct),
        Field("primary_completion_date", "primaryCompletionDateStruct", _date_struct),
        Field("completion_date", "completionDateStruct", _date_struct),
        Field("study_first_submitted", "studyFirstSubmitDate", _date),
        Field("study_first_submitted_qc", "studyFirstSubmitQcDate", _date),
        Field("study_first_posted", "studyFirstPostDateStruct", _date_struct),
        Field("results_first_submitted", "resultsFirstSubmitDate", _date),
        Field("results_first_submitted_qc", "resultsFirstSubmitQcDate", _date),
        Field("results_first_posted", "resultsFirstPostDateStruct", _date_struct),
        Field("disposition_first_submitted", "dispFirstSubmitDate", _date),
        Field("disposition_first_submitted_qc", "dispFirstSubmitQcDate", _date),
        Field("disposition_first_posted", "dispFirstPostDateStruct", _date_struct),
        Field("last_update_submitted", "lastUpdateSubmitDate", _date),
        Field("last_update_posted", "lastUpdatePostDateStruct", _date_struct),
    ),
    "protocolSection.sponsorCollaboratorsModule": (
        Field("sponsors/lead_sponsor", "leadSponsor", sub=SPONSOR),
        Field("sponsors/collaborator", "collaborators", many=True, sub=SPONSOR),
        Field("responsible_party", "responsibleParty", sub=RESPONSIBLE_PARTY),
    ),
    "protocolSection.oversightModule": (
        Field("oversight_info/has_dmc", "oversightHasDmc", _enum(YES_NO)),
        Field("oversight_info/is_fda_regulated_drug", "isFdaRegulatedDrug", _enum(YES_NO)),
        Field("oversight_info/is_fda_regulated_device", "isFdaRegulatedDevice", _enum(YES_NO)),
        Field("oversight_info/is_unapproved_device", "isUnapprovedDevice", _enum(YES_NO)),
        Field("oversight_info/is_ppsd", "isPpsd", _enum(YES_NO)),
        Field("oversight_info/is_us_export", "isUsExport", _enum(YES_NO)),
    ),
    "protocolSection.descriptionModule": (
        Field("brief_summary/textblock", "briefSummary", _textblock),
        Field("detailed_description/textblock", "detailedDescription", _textblock),
    ),
    "protocolSection.conditionsModule": (
        Field("condition", "conditions", many=True),
        Field("keyword", "keywords", many=True),
    ),
    "protocolSection.designModule": (
        Field("study_type", "studyType", _enum(STUDY_TYPE)),
        Field("study_type", "patientRegistry", _enum(PATIENT_REGISTRY)),
        Field("expanded_access_info", "expandedAccessTypes", sub=EXPANDED_ACCESS_TYPES),
        Field("phase", "phases", _phases),
        Field("study_design_info", "designInfo", sub=DESIGN_INFO),
        Field("biospec_retention", "bioSpec.retention", _enum(BIOSPEC_RETENTION)),
        Field("biospec_descr/textblock", "bioSpec.description", _textblock),
        Field("enrollment", "enrollmentInfo", _enrollment),
        Field("target_duration", "targetDuration"),
    ),
    "protocolSection.armsInterventionsModule": (
        Field("arm_group", "armGroups", many=True, sub=ARM_GROUP),
        Field("intervention", "interventions", many=True, sub=INTERVENTION),
    ),
    "protocolSection.outcomesModule": (
        Field("primary_outcome", "primaryOutcomes", many=True, sub=OUTCOME),
        Field("secondary_outcome", "secondaryOutcomes", many=True, sub=OUTCOME),
        Field("other_outcome", "otherOutcomes", many=True, sub=OUTCOME),
    ),
    "protocolSection.eligibilityModule": (
        Field("eligibility/criteria/textblock", "eligibilityCriteria", _textblock),
        Field("eligibility/healthy_volunteers", "healthyVolunteers", _enum(HEALTHY_VOLUNTEERS)),
        Field("eligibility/gender", "sex", _enum(SEX)),
        Field("eligibility/gender_based", "genderBased", _enum(YES_NO)),
        Field("eligibility/gender_description", "genderDescription"),
        Field("eligibility/minimum_age", "minimumAge", _age),
        Field("eligibility/maximum_age", "maximumAge", _age),
        Field("eligibility/study_pop/textblock", "studyPopulation", _textblock),
        Field("eligibility/sampling_method", "samplingMethod", _enum(SAMPLING_METHOD)),
    ),
    "protocolSection.contactsLocationsModule": (
        Field("overall_contact", "centralContacts", many=True, sub=CONTACT, fixed={"role": "CONTACT"}),
        Field("overall_contact_backup", "centralContacts", many=True, sub=CONTACT, fixed={"role": "CONTACT"}),
        Field("overall_official", "overallOfficials", many=True, sub=OFFICIAL),
        Field("location", "locations", many=True, sub=LOCATION),
    ),
    "protocolSection.referencesModule": (
        Field("reference", "references", many=True, sub=REFERENCE, fixed={"type": "BACKGROUND"}),
        Field("results_reference", "references", many=True, sub=REFERENCE, fixed={"type": "RESULT"}),
        Field("link", "seeAlsoLinks", many=True, sub=LINK),
        Field("study_docs/study_doc", "availIpds", many=True, sub=STUDY_DOC),
    ),
    "protocolSection.ipdSharingStatementModule": (
        Field("patient_data/sharing_ipd", "ipdSharing", _enum(IPD_SHARING)),
        Field("patient_data/ipd_description", "description"),
        Field("patient_data/ipd_info_type", "infoTypes", _enum(IPD_INFO_TYPE), many=True),
        Field("patient_data/ipd_time_frame", "timeFrame"),
        Field("patient_data/ipd_access_criteria", "accessCriteria"),
        Field("patient_data/ipd_url", "url"),
    ),
    "documentSection.largeDocumentModule": (
        Field("provided_document_section/provided_document", "largeDocs", many=True, sub=PROVIDED_DOCUMENT),
    ),
    "derivedSection": (
        Field("condition_browse/mesh_term", "conditionBrowseModule.meshes", _wrap("term"), many=True),
        Field("intervention_browse/mesh_term", "interventionBrowseModule.meshes", _wrap("term"), many=True),
        Field("removed_countries/country", "miscInfoModule.removedCountries", many=True),
    ),
    "resultsSection.outcomeMeasuresModule": (
        Field("clinical_results/outcome_list/outcome", "outcomeMeasures", many=True, sub=RESULT_OUTCOME),
    ),
}

# Never copied to extras: the results, mapped or not (see the module docstring), and contacts'
# personal data.
NOT_KEPT = frozenset({"clinical_results", "phone", "phone_ext", "email"})

# --- parsing -----------------------------------------------------------------------------------------


def looks_like_legacy_xml(head: bytes) -> bool:
    """Cheap sniff: is ``<clinical_study`` the first element, after an optional XML declaration,
    comments and a DOCTYPE? (A DOCTYPE is skipped so that such a file reaches ``parse`` and is
    rejected there with the security reason, not as an unknown format.)"""
    position = 3 if head.startswith(b"\xef\xbb\xbf") else 0
    while prolog := _PROLOG.match(head, position):
        position = prolog.end()
    return _ROOT_START.match(head, position) is not None


_PROLOG = re.compile(rb"\s*(?:<\?.*?\?>|<!--.*?-->|<!DOCTYPE[^\[>]*(?:\[.*?\])?\s*>)", re.DOTALL)
_ROOT_START = re.compile(rb"\s*<clinical_study[\s>/]")


def parse(content: bytes) -> dict[str, Any]:
    """Parse one ``<clinical_study>`` record into the canonical (API v2 shaped) study dict."""
    root = _parse_xml(content)
    if root.tag != "clinical_study":
        raise RecordRejected(f"XML root element is <{root.tag}>, not <clinical_study>: not a study record")
    nct_element = root.find("id_info/nct_id")
    nct_id = None if nct_element is None else _text(nct_element)
    if nct_id is None:
        raise RecordRejected("legacy XML study has no id_info/nct_id")
    if not NCT_ID.fullmatch(nct_id):
        raise RecordRejected(f"legacy XML id_info/nct_id is malformed: {nct_id!r}")

    used: set[int] = set()
    children = _children(root)
    study: dict[str, Any] = {}
    for path, fields in STUDY_FIELDS.items():
        module = _apply(fields, children, used)
        if module:
            _put(study, path, module)
    _add_intervention_names(
        study["protocolSection"].get("armsInterventionsModule", {}), children.get("intervention", [])
    )
    study["hasResults"] = "clinical_results" in children
    unmapped = _unmapped(root, used)
    if unmapped:
        study["extras"] = {"otherFields": unmapped}
    return study


def _parse_xml(content: bytes) -> Element:
    """Parse with defusedxml: no DTD, hence no entity expansion, external entity or network access."""
    try:
        return defused_et.fromstring(content, forbid_dtd=True)
    except DTDForbidden as error:
        raise RecordRejected(
            f"XML refused for security: it declares a DTD (<!DOCTYPE {error.name}>); DTDs and entity "
            "declarations are not accepted (entity expansion, external entities)"
        ) from None
    except DefusedXmlException as error:
        raise RecordRejected(f"XML refused for security: {error}") from None
    except ParseError as error:
        raise RecordRejected(f"not well-formed XML: {error}") from None
    except LookupError as error:  # an XML declaration naming an encoding Python does not know
        raise RecordRejected(f"XML declares an unsupported encoding: {error}") from None


def _children(element: Element) -> dict[str, list[Element]]:
    """The element's children by tag, so each field finds its elements without rescanning, and
    the element itself as ``"."`` (for its text beside its attributes: a measurement's comment)."""
    index: dict[str, list[Element]] = {".": [element]}
    for child in element:
        index.setdefault(child.tag, []).append(child)
    return index


def _select(children: Mapping[str, list[Element]], path: str) -> list[Element]:
    """The elements at ``path``: the first step from the index, the rest (small) by ElementPath."""
    head, _, rest = path.partition("/")
    found = children.get(head, [])
    return [match for element in found for match in element.iterfind(rest)] if rest else found


def _apply(fields: tuple[Field, ...], children: Mapping[str, list[Element]], used: set[int]) -> dict:
    """Map one element's children by ``fields``; ``used`` collects the leaves that were mapped."""
    out: dict[str, Any] = {}
    for spec in fields:
        values = []
        for element in _select(children, spec.xml):
            value = _convert(spec, element, used)
            if value is not None:
                values.append(value)
            if not spec.many:
                break
        if values:
            _put(out, spec.key, values if spec.many else values[0])
    return out


def _convert(spec: Field, element: Element, used: set[int]) -> Any:
    if spec.sub or spec.attributes:
        mapped = {key: element.get(name) for name, key in spec.attributes.items() if name in element.attrib}
        mapped.update(_apply(spec.sub, _children(element), used))
        return {**mapped, **spec.fixed} if mapped else None
    value = spec.convert(element)
    if value is None:
        return None
    used.add(id(element))
    return None if value is NOT_GIVEN else value


def _put(target: dict[str, Any], dotted: str, value: Any) -> None:
    """Set ``value`` at a dotted path, extending a list or merging an object already there."""
    *parents, key = dotted.split(".")
    for name in parents:
        target = target.setdefault(name, {})
    existing = target.get(key)
    if isinstance(existing, list):
        existing.extend(value)
    elif isinstance(existing, dict):
        existing.update(value)
    else:
        target[key] = value


def _add_intervention_names(module: dict[str, Any], interventions: list[Element]) -> None:
    """Give each arm the ``interventionNames`` API v2 lists ("Drug: Placebo", display type as the
    XML writes it), from the interventions' arm labels: the XML links them that way round only."""
    names_by_arm: dict[str, list[str]] = {}
    for intervention in interventions:
        kind, name = intervention.findtext("intervention_type"), intervention.findtext("intervention_name")
        if kind and name:
            for label in intervention.iterfind("arm_group_label"):
                names_by_arm.setdefault((label.text or "").strip(), []).append(
                    f"{kind.strip()}: {name.strip()}"
                )
    for arm in module.get("armGroups", []):
        if arm.get("label") in names_by_arm:
            arm["interventionNames"] = names_by_arm[arm["label"]]


def _unmapped(root: Element, used: set[int]) -> list[dict[str, str]]:
    """Every leaf value and attribute the table did not map, as ``{label: tag path, value}`` rows."""
    found: list[dict[str, str]] = []

    def visit(element: Element, path: str) -> None:
        if id(element) in used:
            return
        for name, value in element.attrib.items():
            found.append({"label": f"{path}@{name}", "value": value})
        if len(element) == 0:
            text = _text(element)
            if text is not None:
                found.append({"label": path, "value": text})
        for child in element:
            if child.tag not in NOT_KEPT:
                visit(child, f"{path}/{child.tag}" if path else child.tag)

    visit(root, "")
    return found
