"""Pandera (polars) models of every star-schema table: the contract the warehouse load relies on,
and the one definition of each table.

Models validate collected DataFrames (on a LazyFrame pandera checks only dtypes). Key
uniqueness is declared per model (``Config.unique``); relationships between tables are declared
in ``RELATIONSHIPS`` and checked by ``foreign_key_failures`` because pandera checks one frame
at a time.

Each field also documents its column (``schemas.spec.documented``: description, the record path
it is read from, AACT's equivalent) and each ``Config`` its table (``description``; ``metadata``:
how the load writes it, and columns the load adds). sql/ddl/warehouse.sql and docs/dictionary.md
are generated from them (``trials ddl``), so a column is described here and nowhere else.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import pandera.polars as pa
import polars as pl

from schemas.spec import Column, Load, documented

NCT_ID = r"^NCT\d{8}$"
# Study dates: real trials started long before the registry existed, so only absurd values fail.
STUDY_DATES = {"ge": date(1900, 1, 1), "le": date(2100, 12, 31)}
# Registry dates (posting, submission, verification) cannot predate ClinicalTrials.gov.
REGISTRY_DATES = {"ge": date(1990, 1, 1), "le": date(2100, 12, 31)}
PRECISIONS = ["day", "month", "year"]
DATE_TYPES = ["ACTUAL", "ESTIMATED"]

# Where the columns are read from in the canonical record (API v2 paths).
IDENTIFICATION = "protocolSection.identificationModule."
STATUS = "protocolSection.statusModule."
DESIGN = "protocolSection.designModule."
DESIGN_INFO = DESIGN + "designInfo."
ELIGIBILITY = "protocolSection.eligibilityModule."
SPONSORS = "protocolSection.sponsorCollaboratorsModule."
OVERSIGHT = "protocolSection.oversightModule."
ARMS_INTERVENTIONS = "protocolSection.armsInterventionsModule."
CONTACTS_LOCATIONS = "protocolSection.contactsLocationsModule."
LOCATIONS = CONTACTS_LOCATIONS + "locations"
MEASURES = "resultsSection.outcomeMeasuresModule.outcomeMeasures"
BY_STUDY = {"load": Load.REPLACE_BY_STUDY}


field = documented  # a column that is never NULL (pandera's default)


def nullable(description: str, source: str, aact: str | None = None, **checks: Any) -> Any:
    """A nullable column."""
    return documented(description, source, aact, nullable=True, **checks)


def enum(values: list[str], description: str, source: str, aact: str | None = None) -> Any:
    """A nullable column of an API v2 enum: ``values`` are the known ones (``vocabularies``).

    The registry adds enum values over time, so a new one is not a contract failure: it is loaded
    as written and reported as a data issue (``pipelines.validate.vocabulary_issues``).
    """
    return nullable(description, source, aact, metadata={"vocabulary": values})


def ordinal(description: str, source: str) -> Any:
    return field(description, source, ge=1)


def study(
    aact_table: str | None = None, description: str = "Study (dim_study.nct_id).", **checks: Any
) -> Any:
    """The study a row belongs to (``aact_table``: the AACT table the row's table corresponds to)."""
    aact = f"{aact_table}.nct_id" if aact_table else None
    return field(description, IDENTIFICATION + "nctId", aact, str_matches=NCT_ID, **checks)


def position(items: str) -> str:
    return f"derived: position in {items}, from 1"


def outcome_field(key: str) -> str:
    """A field of every registered outcome measure, whichever list holds it."""
    lists = "protocolSection.outcomesModule.{primary,secondary,other}Outcomes"
    return f"{lists}[].{key}; extras.unspecifiedOutcomes[].{key}"


def precision_of(path: str) -> str:
    return f"derived: how much of {path} the source gave (day, month or year)"


STATUSES = [
    "ACTIVE_NOT_RECRUITING", "COMPLETED", "ENROLLING_BY_INVITATION", "NOT_YET_RECRUITING", "RECRUITING",
    "SUSPENDED", "TERMINATED", "WITHDRAWN", "AVAILABLE", "NO_LONGER_AVAILABLE", "TEMPORARILY_NOT_AVAILABLE",
    "APPROVED_FOR_MARKETING", "WITHHELD", "UNKNOWN",
]  # fmt: skip
PHASE = r"^(NA|EARLY_PHASE1|PHASE[1-4])(/(NA|EARLY_PHASE1|PHASE[1-4]))*$"
SOURCE_FORMATS = ["classic_page", "api_v2_json", "legacy_xml"]
HASH = r"^[0-9a-f]{32}$"
START, PRIMARY_COMPLETION, COMPLETION = (
    STATUS + "startDateStruct.",
    STATUS + "primaryCompletionDateStruct.",
    STATUS + "completionDateStruct.",
)
FIRST_POSTED, LAST_UPDATE_POSTED, RESULTS_FIRST_POSTED = (
    STATUS + "studyFirstPostDateStruct.",
    STATUS + "lastUpdatePostDateStruct.",
    STATUS + "resultsFirstPostDateStruct.",
)
# Written by the load beside the validated columns (pipelines.load.load_tables).
LOAD_STAMP = (
    Column(
        "loaded_at",
        pl.Datetime("us", "UTC"),
        "When this version of the study was loaded.",
        source="derived: start of the load that wrote the study",
    ),
    Column(
        "pipeline_version",
        pl.String,
        "Fingerprint of the transformation code that built this study's rows; a study is rebuilt when it "
        "changes.",
        source="derived: pipelines.fingerprint.PIPELINE_VERSION of the load that wrote the study",
    ),
)


class DimStudy(pa.DataFrameModel):
    nct_id: str = study("studies", "ClinicalTrials.gov identifier, e.g. NCT04361942. Key.", unique=True)
    brief_title: str = nullable("Brief (public) title.", IDENTIFICATION + "briefTitle", "studies.brief_title")
    official_title: str = nullable(
        "Official scientific title.", IDENTIFICATION + "officialTitle", "studies.official_title"
    )
    acronym: str = nullable(
        "Study acronym; NULL when the source does not distinguish one.",
        IDENTIFICATION + "acronym",
        "studies.acronym",
    )
    org_study_id: str = nullable(
        'The sponsor\'s own study identifier (first "Other Study ID").',
        IDENTIFICATION + "orgStudyIdInfo.id",
        "id_information.id_value (id_source = 'org_study_id')",
    )
    organization_name: str = nullable(
        "Organization that registered the study (API v2 identificationModule.organization).",
        IDENTIFICATION + "organization.fullName",
        "studies.source",
    )
    overall_status: str = enum(
        STATUSES,
        "Recruitment status: RECRUITING, COMPLETED, ACTIVE_NOT_RECRUITING, UNKNOWN, WITHDRAWN, ...",
        STATUS + "overallStatus",
        "studies.overall_status",
    )
    last_known_status: str = enum(
        STATUSES,
        "Status before it became UNKNOWN, when given.",
        STATUS + "lastKnownStatus",
        "studies.last_known_status",
    )
    why_stopped: str = nullable(
        "Reason a study was stopped, suspended or withdrawn, as written.",
        STATUS + "whyStopped",
        "studies.why_stopped",
    )
    study_type: str = enum(
        ["INTERVENTIONAL", "OBSERVATIONAL", "EXPANDED_ACCESS"],
        "INTERVENTIONAL, OBSERVATIONAL or EXPANDED_ACCESS.",
        DESIGN + "studyType",
        "studies.study_type",
    )
    is_patient_registry: bool = nullable(
        "Observational study that is a patient registry; NULL when not stated.", DESIGN + "patientRegistry"
    )
    phase: str = nullable(
        'Phases joined by "/", e.g. PHASE2 or PHASE1/PHASE2; NA when not applicable.',
        DESIGN + "phases",
        "studies.phase",
        str_matches=PHASE,
    )
    enrollment_count: pl.Int64 = nullable(
        "Number of participants (actual or estimated, see enrollment_type).",
        DESIGN + "enrollmentInfo.count",
        "studies.enrollment",
        ge=0,
    )
    enrollment_type: str = enum(
        DATE_TYPES,
        "ACTUAL or ESTIMATED; NULL when the source does not say.",
        DESIGN + "enrollmentInfo.type",
        "studies.enrollment_type",
    )
    allocation: str = enum(
        ["RANDOMIZED", "NON_RANDOMIZED", "NA"],
        "RANDOMIZED, NON_RANDOMIZED or NA.",
        DESIGN_INFO + "allocation",
        "designs.allocation",
    )
    intervention_model: str = enum(
        ["PARALLEL", "SINGLE_GROUP", "CROSSOVER", "FACTORIAL", "SEQUENTIAL"],
        "PARALLEL, SINGLE_GROUP, CROSSOVER, FACTORIAL or SEQUENTIAL.",
        DESIGN_INFO + "interventionModel",
        "designs.intervention_model",
    )
    intervention_model_description: str = nullable(
        "Free-text description of the intervention model.",
        DESIGN_INFO + "interventionModelDescription",
        "designs.intervention_model_description",
    )
    observational_model: str = nullable(
        "Observational studies: COHORT, CASE_CONTROL, CASE_ONLY, ...",
        DESIGN_INFO + "observationalModel",
        "designs.observational_model",
    )
    time_perspective: str = nullable(
        "Observational studies: PROSPECTIVE, RETROSPECTIVE, CROSS_SECTIONAL, OTHER.",
        DESIGN_INFO + "timePerspective",
        "designs.time_perspective",
    )
    masking: str = enum(
        ["NONE", "SINGLE", "DOUBLE", "TRIPLE", "QUADRUPLE"],
        "NONE, SINGLE, DOUBLE, TRIPLE or QUADRUPLE.",
        DESIGN_INFO + "maskingInfo.masking",
        "designs.masking",
    )
    who_masked: str = nullable(
        'Masked roles joined by "/", e.g. PARTICIPANT/CARE_PROVIDER/INVESTIGATOR.',
        DESIGN_INFO + "maskingInfo.whoMasked",
        str_matches=r"^[A-Z_]+(/[A-Z_]+)*$",
    )
    masking_description: str = nullable(
        "Free-text description of the masking.",
        DESIGN_INFO + "maskingInfo.maskingDescription",
        "designs.masking_description",
    )
    primary_purpose: str = nullable(
        "TREATMENT, PREVENTION, DIAGNOSTIC, SUPPORTIVE_CARE, ...",
        DESIGN_INFO + "primaryPurpose",
        "designs.primary_purpose",
        str_matches=r"^[A-Z_]+$",
    )
    start_date: pl.Date = nullable(
        "Study start date (partial dates at the first day of their month/year).",
        START + "date",
        "studies.start_date",
        **STUDY_DATES,
    )
    start_date_precision: str = enum(
        PRECISIONS,
        "day, month or year: how much of start_date the source gave.",
        precision_of(START + "date"),
    )
    start_date_type: str = enum(
        DATE_TYPES,
        "ACTUAL or ESTIMATED; NULL when the source gives no type.",
        START + "type",
        "studies.start_date_type",
    )
    primary_completion_date: pl.Date = nullable(
        "Primary completion date (partial dates at the first day).",
        PRIMARY_COMPLETION + "date",
        "studies.primary_completion_date",
        **STUDY_DATES,
    )
    primary_completion_date_precision: str = enum(
        PRECISIONS, "day, month or year.", precision_of(PRIMARY_COMPLETION + "date")
    )
    primary_completion_date_type: str = enum(
        DATE_TYPES,
        "ACTUAL or ESTIMATED; NULL when not given.",
        PRIMARY_COMPLETION + "type",
        "studies.primary_completion_date_type",
    )
    completion_date: pl.Date = nullable(
        "Study completion date (partial dates at the first day).",
        COMPLETION + "date",
        "studies.completion_date",
        **STUDY_DATES,
    )
    completion_date_precision: str = enum(
        PRECISIONS, "day, month or year.", precision_of(COMPLETION + "date")
    )
    completion_date_type: str = enum(
        DATE_TYPES,
        "ACTUAL or ESTIMATED; NULL when not given.",
        COMPLETION + "type",
        "studies.completion_date_type",
    )
    first_submitted_date: pl.Date = nullable(
        "Date first submitted to the registry.",
        STATUS + "studyFirstSubmitDate",
        "studies.study_first_submitted_date",
        **REGISTRY_DATES,
    )
    first_posted_date: pl.Date = nullable(
        "Date first posted on ClinicalTrials.gov.",
        FIRST_POSTED + "date",
        "studies.study_first_posted_date",
        **REGISTRY_DATES,
    )
    first_posted_date_precision: str = enum(
        PRECISIONS, "day, month or year.", precision_of(FIRST_POSTED + "date")
    )
    first_posted_date_type: str = enum(
        DATE_TYPES,
        "ACTUAL or ESTIMATED; NULL when the source gives no type (classic pages).",
        FIRST_POSTED + "type",
        "studies.study_first_posted_date_type",
    )
    last_update_submitted_date: pl.Date = nullable(
        "Date the last update was submitted.",
        STATUS + "lastUpdateSubmitDate",
        "studies.last_update_submitted_date",
        **REGISTRY_DATES,
    )
    last_update_posted_date: pl.Date = nullable(
        "Date the last update was posted; decides which version of a study wins.",
        LAST_UPDATE_POSTED + "date",
        "studies.last_update_posted_date",
        **REGISTRY_DATES,
    )
    last_update_posted_date_precision: str = enum(
        PRECISIONS, "day, month or year.", precision_of(LAST_UPDATE_POSTED + "date")
    )
    last_update_posted_date_type: str = enum(
        DATE_TYPES,
        "ACTUAL or ESTIMATED; NULL when not given.",
        LAST_UPDATE_POSTED + "type",
        "studies.last_update_posted_date_type",
    )
    results_first_posted_date: pl.Date = nullable(
        "Date results were first posted; NULL without results.",
        RESULTS_FIRST_POSTED + "date",
        "studies.results_first_posted_date",
        **REGISTRY_DATES,
    )
    results_first_posted_date_precision: str = enum(
        PRECISIONS, "day, month or year.", precision_of(RESULTS_FIRST_POSTED + "date")
    )
    results_first_posted_date_type: str = enum(
        DATE_TYPES,
        "ACTUAL or ESTIMATED; NULL when not given.",
        RESULTS_FIRST_POSTED + "type",
        "studies.results_first_posted_date_type",
    )
    status_verified_date: pl.Date = nullable(
        "Month the record was last verified (first day of that month).",
        STATUS + "statusVerifiedDate",
        "studies.verification_date",
        **REGISTRY_DATES,
    )
    status_verified_date_precision: str = enum(
        PRECISIONS, "day, month or year (usually month).", precision_of(STATUS + "statusVerifiedDate")
    )
    minimum_age_years: float = nullable(
        "Minimum age in years (months / 12, weeks and days / 365.25); NULL when no limit.",
        f"derived: {ELIGIBILITY}minimumAge in years",
        ge=0,
        le=150,
    )
    maximum_age_years: float = nullable(
        'Maximum age in years; NULL when no limit ("and older", N/A).',
        f"derived: {ELIGIBILITY}maximumAge in years",
        ge=0,
        le=150,
    )
    minimum_age_raw: str = nullable(
        'Minimum age as written, e.g. "18 Years".', ELIGIBILITY + "minimumAge", "eligibilities.minimum_age"
    )
    maximum_age_raw: str = nullable(
        'Maximum age as written, e.g. "70 Years".', ELIGIBILITY + "maximumAge", "eligibilities.maximum_age"
    )
    sex: str = enum(
        ["ALL", "FEMALE", "MALE"],
        "Sexes eligible: ALL, FEMALE or MALE.",
        ELIGIBILITY + "sex",
        "eligibilities.gender",
    )
    std_ages: str = nullable(
        'Age groups joined by "/": CHILD, ADULT, OLDER_ADULT.',
        ELIGIBILITY + "stdAges",
        str_matches=r"^(CHILD|ADULT|OLDER_ADULT)(/(CHILD|ADULT|OLDER_ADULT))*$",
    )
    accepts_healthy_volunteers: bool = nullable(
        "Whether healthy volunteers are accepted; NULL when not stated.",
        ELIGIBILITY + "healthyVolunteers",
        "eligibilities.healthy_volunteers",
    )
    lead_sponsor_name: str = nullable(
        "Lead sponsor; NULL when the source does not name it (classic page text).",
        SPONSORS + "leadSponsor.name",
        "sponsors.name (lead_or_collaborator = 'lead')",
    )
    lead_sponsor_class: str = nullable(
        "Lead sponsor class: INDUSTRY, NIH, FED, OTHER, ...",
        SPONSORS + "leadSponsor.class",
        "sponsors.agency_class (lead_or_collaborator = 'lead')",
        str_matches=r"^[A-Z_]+$",
    )
    responsible_party_type: str = enum(
        ["SPONSOR", "PRINCIPAL_INVESTIGATOR", "SPONSOR_INVESTIGATOR"],
        "SPONSOR, PRINCIPAL_INVESTIGATOR or SPONSOR_INVESTIGATOR; NULL when not stated.",
        SPONSORS + "responsibleParty.type",
        "responsible_parties.responsible_party_type",
    )
    responsible_party_name: str = nullable(
        "Responsible investigator's name, or the responsible party as a classic page displays it.",
        SPONSORS + "responsibleParty.investigatorFullName; extras.responsiblePartyName",
        "responsible_parties.name",
    )
    has_dmc: bool = nullable(
        "Whether a data monitoring committee oversees the study.",
        OVERSIGHT + "oversightHasDmc",
        "studies.has_dmc",
    )
    is_fda_regulated_drug: bool = nullable(
        "Studies a U.S. FDA-regulated drug product.",
        OVERSIGHT + "isFdaRegulatedDrug",
        "studies.is_fda_regulated_drug",
    )
    is_fda_regulated_device: bool = nullable(
        "Studies a U.S. FDA-regulated device product.",
        OVERSIGHT + "isFdaRegulatedDevice",
        "studies.is_fda_regulated_device",
    )
    has_results: bool = nullable(
        "Whether results are posted; NULL when the source does not say.",
        "hasResults",
        "calculated_values.were_results_reported",
    )
    title_line_raw: str = nullable(
        "Classic pages: the heading line as written (title and acronym run together).", "extras.titleLine"
    )
    is_criteria_nesting_inferred: bool = field(
        "True when fact_eligibility nesting was reconstructed from flattened page text.",
        "extras.criteriaNestingInferred",
    )
    source_format: str = field(
        "Format of the record loaded: classic_page, api_v2_json or legacy_xml.",
        "derived: the format the record was parsed from",
        isin=SOURCE_FORMATS,
    )
    source_uri: str = field(
        "Where the record came from: path, path!zip-member, path#L<line> or path#studies[i].",
        "derived: the landing file (and member, line or entry) the record was read from",
    )
    record_hash: str = field(
        "BLAKE2b-128 of the canonical record (sorted-key JSON); changes when any field changes.",
        "derived: BLAKE2b-128 of the canonical record",
        str_matches=HASH,
    )

    @pa.dataframe_check(error="maximum_age_years is below minimum_age_years")
    def ages_ordered(cls, data: pa.PolarsData) -> pl.LazyFrame:
        return data.lazyframe.select(
            pl.col("maximum_age_years").ge(pl.col("minimum_age_years")).fill_null(True)
        )

    class Config:
        strict = True
        description = "One row per study (the version with the latest last-update-posted date seen)."
        metadata = {**BY_STUDY, "load_columns": LOAD_STAMP}


class DimStudyDescription(pa.DataFrameModel):
    nct_id: str = study(description="Study (dim_study.nct_id). Key.", unique=True)
    brief_summary: str = nullable(
        "Brief summary; paragraphs separated by blank lines.",
        "protocolSection.descriptionModule.briefSummary",
        "brief_summaries.description",
    )
    detailed_description: str = nullable(
        "Detailed description; paragraphs separated by blank lines.",
        "protocolSection.descriptionModule.detailedDescription",
        "detailed_descriptions.description",
    )
    eligibility_criteria: str = nullable(
        "Eligibility criteria as Markdown (API v2 style); fact_eligibility holds its items.",
        ELIGIBILITY + "eligibilityCriteria",
        "eligibilities.criteria",
    )

    class Config:
        strict = True
        description = "Long texts of a study, one row per study (kept apart so dim_study stays light)."
        metadata = BY_STUDY


SITE_ID = r"^[0-9a-f]{16}$"


class DimSite(pa.DataFrameModel):
    site_id: str = field(
        "Stable key: first 16 hex digits of BLAKE2b over the lower-cased, space-folded "
        "facility|city|state|zip|country.",
        f"derived: hash of {LOCATIONS}[].{{facility,city,state,zip,country}}",
        str_matches=SITE_ID,
        unique=True,
    )
    facility_name: str = nullable(
        "Facility name as written; NULL when the sponsor hides it.",
        LOCATIONS + "[].facility",
        "facilities.name",
    )
    city: str = nullable("City.", LOCATIONS + "[].city", "facilities.city")
    state: str = nullable("State, province or region.", LOCATIONS + "[].state", "facilities.state")
    zip: str = nullable("Postal code.", LOCATIONS + "[].zip", "facilities.zip")
    country: str = nullable(
        "Country as the registry names it.", LOCATIONS + "[].country", "facilities.country"
    )
    country_code: str = nullable(
        "ISO 3166-1 alpha-2 code (pycountry); NULL when the name is not recognised.",
        f"derived: {LOCATIONS}[].country looked up in ISO 3166-1",
        str_matches=r"^[A-Z]{2}$",
    )
    latitude: float = nullable(
        "Latitude of the registry's geoPoint (a city centroid); NULL when unknown.",
        LOCATIONS + "[].geoPoint.lat",
        ge=-90,
        le=90,
    )
    longitude: float = nullable(
        "Longitude of the registry's geoPoint; NULL when unknown.",
        LOCATIONS + "[].geoPoint.lon",
        ge=-180,
        le=180,
    )

    class Config:
        strict = True
        description = (
            "One row per distinct site (facility + address). Sites hidden by their sponsor (no facility) "
            "share a row per city."
        )
        # several studies list a site: the row that has coordinates wins
        metadata = {"load": Load.UPSERT_SHARED, "prefer": "latitude NULLS LAST"}


class BridgeStudySite(pa.DataFrameModel):
    nct_id: str = study("facilities")
    site_ordinal: pl.Int32 = ordinal("Position of the location in the source, from 1.", position(LOCATIONS))
    site_id: str = field(
        "Site (dim_site.site_id).", "derived: dim_site.site_id of the location", str_matches=SITE_ID
    )
    site_status: str = nullable(
        "Recruitment status at this site (RECRUITING, COMPLETED, ...); NULL when not given.",
        LOCATIONS + "[].status",
        "facilities.status",
        str_matches=r"^[A-Z_]+$",
    )

    class Config:
        strict = True
        unique = ["nct_id", "site_ordinal"]
        description = "Which sites a study lists, in source order (a study may list one site twice)."
        metadata = BY_STUDY


class FactOutcome(pa.DataFrameModel):
    nct_id: str = study("design_outcomes")
    outcome_type: str = field(
        "PRIMARY, SECONDARY, OTHER, or UNSPECIFIED when the source does not say (classic page text).",
        "derived: the list holding the measure (primaryOutcomes → PRIMARY, ..., extras.unspecifiedOutcomes → "
        "UNSPECIFIED)",
        "design_outcomes.outcome_type",
        isin=["PRIMARY", "SECONDARY", "OTHER", "UNSPECIFIED"],
    )
    ordinal: pl.Int32 = ordinal(
        "Order in the source, from 1, across primary, secondary, other and unspecified measures.",
        "derived: position across the primary, secondary, other and unspecified measures, from 1",
    )
    measure: str = nullable("Outcome measure title.", outcome_field("measure"), "design_outcomes.measure")
    time_frame: str = nullable(
        "Time frame as written.", outcome_field("timeFrame"), "design_outcomes.time_frame"
    )
    description: str = nullable(
        "Outcome description.", outcome_field("description"), "design_outcomes.description"
    )
    time_frame_status: str = enum(
        ["PARSED", "UNPARSED"],
        "PARSED when fact_outcome_timepoint holds the time frame's points, UNPARSED when the text names no "
        "time the reader understands (never guessed), NULL when there is no time frame.",
        "derived: whether pipelines/extract/time_frames.py read time points from time_frame",
    )

    @pa.dataframe_check(error="time_frame_status is NULL exactly when there is no time frame")
    def status_follows_time_frame(cls, data: pa.PolarsData) -> pl.LazyFrame:
        return data.lazyframe.select(pl.col("time_frame").is_null() == pl.col("time_frame_status").is_null())

    class Config:
        strict = True
        unique = ["nct_id", "ordinal"]
        description = "One row per outcome measure a study registers."
        metadata = BY_STUDY


CRITERIA = ELIGIBILITY + "eligibilityCriteria"
CRITERION_TYPES = ["INCLUSION", "EXCLUSION", "UNSPECIFIED"]
FLAGGED = "derived: pattern match on criterion_text (pipelines/extract/thresholds.py)"


class FactEligibility(pa.DataFrameModel):
    nct_id: str = study()
    criterion_type: str = field(
        "INCLUSION, EXCLUSION, or UNSPECIFIED before/without such a heading.",
        f"derived: the heading the item is under in {CRITERIA}",
        isin=CRITERION_TYPES,
    )
    ordinal: pl.Int32 = ordinal(
        "Order in the criteria text, from 1.", f"derived: position of the item in {CRITERIA}"
    )
    parent_ordinal: pl.Int32 = nullable(
        "Ordinal of the item this one is nested under; NULL at the top level.",
        f"derived: list nesting in {CRITERIA}",
        ge=1,
    )
    depth: pl.Int32 = field(
        "Nesting depth, 0 at the top level.", f"derived: list nesting in {CRITERIA}", ge=0, le=10
    )
    criterion_text: str = field(
        "Item text, Markdown escapes removed; never empty.",
        f"derived: the item's text in {CRITERIA}",
        str_length={"min_value": 1},
    )
    has_pregnancy_clause: bool = field(
        "Does the item speak of pregnancy, breast-feeding, childbearing potential or contraception? (pattern "
        "match on the text)",
        FLAGGED,
    )
    has_consent_clause: bool = field("Does the item speak of informed consent?", FLAGGED)
    has_trial_participation_clause: bool = field(
        "Does the item speak of prior or concurrent participation in another trial or investigational "
        "product?",
        FLAGGED,
    )
    has_age_limit: bool = field(
        "Does the item state an age bound (a fact_eligibility_threshold row with parameter_normalised = "
        "'age')? Compare with dim_study.minimum_age_years/maximum_age_years.",
        "derived: an age threshold read from criterion_text (pipelines/extract/thresholds.py)",
    )

    @pa.dataframe_check(error="parent_ordinal must precede its child, and be NULL exactly at depth 0")
    def nesting(cls, data: pa.PolarsData) -> pl.LazyFrame:
        top = pl.col("depth") == 0
        return data.lazyframe.select(
            pl.when(top)
            .then(pl.col("parent_ordinal").is_null())
            .otherwise(pl.col("parent_ordinal") < pl.col("ordinal"))
            .fill_null(False)
        )

    class Config:
        strict = True
        unique = ["nct_id", "ordinal"]
        description = "One row per eligibility criterion item, split from the criteria Markdown."
        metadata = BY_STUDY


OPERATORS = [">=", ">", "<=", "<", "=", "between"]
THRESHOLDS = "derived: read from fact_eligibility.criterion_text by pipelines/extract/thresholds.py"


class FactEligibilityThreshold(pa.DataFrameModel):
    nct_id: str = study()
    criterion_ordinal: pl.Int32 = ordinal(
        "The item (fact_eligibility.ordinal of the same study).", "derived: fact_eligibility.ordinal"
    )
    threshold_ordinal: pl.Int32 = ordinal(
        "Order of the condition within the item, from 1.", "derived: position of the condition in the item"
    )
    criterion_type: str = field(
        "INCLUSION, EXCLUSION or UNSPECIFIED, as the item.",
        "derived: fact_eligibility.criterion_type",
        isin=CRITERION_TYPES,
    )
    parameter: str = field(
        'What is measured, as written ("Respiratory rate (FR)", "PaO2/FiO2", "age").',
        THRESHOLDS,
        str_length={"min_value": 1},
    )
    parameter_normalised: str = nullable(
        "A curated name for common parameters (age, respiratory_rate, oxygen_saturation, pao2_fio2, bmi, "
        "ecog, creatinine_clearance, ...); NULL when not in the vocabulary.",
        THRESHOLDS,
        str_matches=r"^[a-z0-9_]+$",
    )
    operator: str = field(">=, >, <=, <, = or between.", THRESHOLDS, isin=OPERATORS)
    value_low: float = nullable(
        "Lower bound as written: the value for > and >=, both bounds for =, the low end for between; NULL "
        "for < and <=.",
        THRESHOLDS,
    )
    value_high: float = nullable(
        "Upper bound as written: the value for < and <=, both bounds for =, the high end for between; NULL "
        "for > and >=.",
        THRESHOLDS,
    )
    unit: str = nullable("Unit as written (rpm, mmHg, years, %); NULL when none is stated.", THRESHOLDS)
    unit_normalised: str = nullable(
        "The parameter's canonical unit after conversion with pint (years for ages, breaths/min, ...); NULL "
        "when the unit is not convertible.",
        THRESHOLDS,
    )
    value_low_normalised: float = nullable("value_low in unit_normalised.", THRESHOLDS)
    value_high_normalised: float = nullable("value_high in unit_normalised.", THRESHOLDS)
    is_negated: bool = field(
        "Does meeting this condition make a patient ineligible? (an exclusion item, or an inclusion item "
        'that negates it: "no", "not", "without")',
        THRESHOLDS,
    )
    matched_text: str = field(
        "The span of the item the condition was read from.", THRESHOLDS, str_length={"min_value": 1}
    )

    @pa.dataframe_check(
        error="the bounds an operator needs: >= and > a low one, <= and < a high one, = and between both"
    )
    def bounds_fit_operator(cls, data: pa.PolarsData) -> pl.LazyFrame:
        low, high, op = (
            pl.col("value_low").is_not_null(),
            pl.col("value_high").is_not_null(),
            pl.col("operator"),
        )
        return data.lazyframe.select(
            pl.when(op.is_in([">=", ">"]))
            .then(low)
            .when(op.is_in(["<=", "<"]))
            .then(high)
            .otherwise(low & high & (pl.col("value_low") <= pl.col("value_high")))
        )

    class Config:
        strict = True
        unique = ["nct_id", "criterion_ordinal", "threshold_ordinal"]
        description = (
            'Each numeric condition a criterion item states ("Respiratory rate ≥ 30 rpm", "aged 18-75 '
            'years"), read from its text by pipelines/extract/thresholds.py; precision and recall are '
            "measured on hand-annotated items in tests/fixtures/annotations."
        )
        metadata = BY_STUDY


TIME_FRAMES = "derived: read from fact_outcome.time_frame by pipelines/extract/time_frames.py"
DAYS = {"ge": -36525, "le": 36525}


class FactOutcomeTimepoint(pa.DataFrameModel):
    nct_id: str = study()
    outcome_ordinal: pl.Int32 = ordinal(
        "The outcome (fact_outcome.ordinal of the same study).", "derived: fact_outcome.ordinal"
    )
    timepoint_ordinal: pl.Int32 = ordinal(
        "Order of the point within the time frame, from 1.",
        "derived: position of the point in the time frame",
    )
    day_low: float = field("Start of the window, or the point itself, in days.", TIME_FRAMES, **DAYS)
    day_high: float = field(
        'End of the window, or the point itself, in days ("up to 5 years" → 0 to 1826.25).',
        TIME_FRAMES,
        **DAYS,
    )
    is_window: bool = field('Is this a span ("0-7 days", "up to 5 years") rather than a point?', TIME_FRAMES)
    is_approximate: bool = field(
        'Does the text qualify it ("an average of", "approximately", "about")?', TIME_FRAMES
    )
    label: str = field(
        "The span of the time frame text this point was read from.", TIME_FRAMES, str_length={"min_value": 1}
    )

    @pa.dataframe_check(error="day_low <= day_high, equal for a point")
    def ordered(cls, data: pa.PolarsData) -> pl.LazyFrame:
        return data.lazyframe.select(
            (pl.col("day_low") <= pl.col("day_high"))
            & (pl.col("is_window") | (pl.col("day_low") == pl.col("day_high")))
        )

    class Config:
        strict = True
        unique = ["nct_id", "outcome_ordinal", "timepoint_ordinal"]
        description = (
            'An outcome\'s time frame as time points or windows in days ("Baseline, Week 12" → 0 and 84), '
            "read by pipelines/extract/time_frames.py. A year is 365.25 days, a month a twelfth of that "
            '(30.4375), a week 7; "Baseline" is day 0. Outcomes whose text names no time have no rows '
            "(fact_outcome.time_frame_status = UNPARSED)."
        )
        metadata = BY_STUDY


DOSES = (
    "derived: read by pipelines/extract/doses.py from fact_intervention.intervention_name, "
    "fact_intervention.description or fact_arm.description"
)


class FactDose(pa.DataFrameModel):
    nct_id: str = study()
    dose_ordinal: pl.Int32 = ordinal(
        "Order within the study, from 1: intervention names, then intervention descriptions, then arm "
        "descriptions.",
        "derived: position of the dose in its study's texts",
    )
    dose_source: str = field(
        "intervention_name, intervention_description or arm_description: the text the dose was read from.",
        "derived: which text the dose was read from",
        isin=["intervention_name", "intervention_description", "arm_description"],
    )
    intervention_ordinal: pl.Int32 = nullable(
        "The intervention (fact_intervention.intervention_ordinal) for intervention texts; NULL for arms.",
        "derived: fact_intervention.intervention_ordinal",
        ge=1,
    )
    arm_ordinal: pl.Int32 = nullable(
        "The arm (fact_arm.arm_ordinal) for arm descriptions; NULL for interventions.",
        "derived: fact_arm.arm_ordinal",
        ge=1,
    )
    dose_value: float = field(  # a control arm's "0 mg/day" is a real dose
        "The amount, multipliers applied (1 million → 1000000, 10^6 → 1000000).", DOSES, ge=0
    )
    dose_unit: str = field(
        "Normalised unit text (cells/kg, mg, mg/kg, mL).", DOSES, str_length={"min_value": 1}
    )
    is_per_weight: bool = field("Is the dose per kg of body weight?", DOSES)
    is_exponent_inferred: bool = field(
        'Was a lost superscript restored ("106/Kg" of cells read as 10^6/kg, only where the text is about '
        "cells per kg)? raw_text keeps what was written.",
        DOSES,
    )
    raw_text: str = field("The dose as written.", DOSES, str_length={"min_value": 1})

    class Config:
        strict = True
        unique = ["nct_id", "dose_ordinal"]
        description = (
            "Doses stated in interventions' names and descriptions and in arms' descriptions (\"1 million "
            'cells/kg", "100 mg"), read by pipelines/extract/doses.py; a bare number is never taken for a '
            "dose."
        )
        metadata = BY_STUDY


def _ordered_items(
    description: str, items: str, value: str, about: str, aact: str | None = None, order: str = "source"
) -> type[pa.DataFrameModel]:
    """A model for the simple ``(nct_id, ordinal, <value>)`` child tables: one row per text of the list
    at ``items`` (never empty), ``aact`` its AACT equivalent."""
    annotations = {"nct_id": str, "ordinal": pl.Int32, value: str}
    fields = {
        "nct_id": study(aact and aact.split(".")[0]),
        "ordinal": ordinal(f"Order {order}, from 1.", position(items)),
        value: field(about, f"{items}[]", aact, str_length={"min_value": 1}),
    }
    config = type(
        "Config",
        (),
        {"strict": True, "unique": ["nct_id", "ordinal"], "description": description, "metadata": BY_STUDY},
    )
    namespace = {"__annotations__": annotations, **fields, "Config": config}
    return type(f"Fact_{value}", (pa.DataFrameModel,), namespace)


FactCondition = _ordered_items(
    "Conditions or diseases a study lists, as written.",
    "protocolSection.conditionsModule.conditions",
    "condition_name",
    "Condition as written by the sponsor.",
    "conditions.name",
    order="in the source",
)
FactKeyword = _ordered_items(
    "Keywords a study lists (labelled sources only; see fact_unlabelled_term for classic pages).",
    "protocolSection.conditionsModule.keywords",
    "keyword",
    "Keyword as written.",
    "keywords.name",
    order="in the source",
)
FactUnlabelledTerm = _ordered_items(
    "Classic pages: keyword and MeSH term lines whose headings the page text lost, kept as written.",
    "extras.unlabelledTermLines",
    "term_line",
    "The line, terms run together with spaces (their boundaries are lost).",
    order="of the line on the page",
)
ARM_GROUPS = ARMS_INTERVENTIONS + "armGroups"


class FactArm(pa.DataFrameModel):
    nct_id: str = study("design_groups")
    arm_ordinal: pl.Int32 = ordinal("Order in the source, from 1.", position(ARM_GROUPS))
    arm_label: str = nullable("Arm label as written.", ARM_GROUPS + "[].label", "design_groups.title")
    arm_type: str = enum(
        [
            "EXPERIMENTAL",
            "ACTIVE_COMPARATOR",
            "PLACEBO_COMPARATOR",
            "SHAM_COMPARATOR",
            "NO_INTERVENTION",
            "OTHER",
        ],
        "EXPERIMENTAL, ACTIVE_COMPARATOR, PLACEBO_COMPARATOR, SHAM_COMPARATOR, NO_INTERVENTION or OTHER.",
        ARM_GROUPS + "[].type",
        "design_groups.group_type",
    )
    description: str = nullable(
        "Arm description.", ARM_GROUPS + "[].description", "design_groups.description"
    )

    class Config:
        strict = True
        unique = ["nct_id", "arm_ordinal"]
        description = "Arms (groups/cohorts) of a study."
        metadata = BY_STUDY


INTERVENTIONS = ARMS_INTERVENTIONS + "interventions"


class FactIntervention(pa.DataFrameModel):
    nct_id: str = study("interventions")
    intervention_ordinal: pl.Int32 = ordinal("Order in the source, from 1.", position(INTERVENTIONS))
    intervention_type: str = enum(
        [
            "DRUG", "DEVICE", "BIOLOGICAL", "PROCEDURE", "RADIATION", "BEHAVIORAL", "GENETIC",
            "DIETARY_SUPPLEMENT", "COMBINATION_PRODUCT", "DIAGNOSTIC_TEST", "OTHER",
        ],
        "DRUG, DEVICE, BIOLOGICAL, PROCEDURE, RADIATION, BEHAVIORAL, GENETIC, DIETARY_SUPPLEMENT, "
        "COMBINATION_PRODUCT, DIAGNOSTIC_TEST or OTHER.",
        INTERVENTIONS + "[].type",
        "interventions.intervention_type",
    )  # fmt: skip
    intervention_name: str = nullable(
        "Intervention name as written.", INTERVENTIONS + "[].name", "interventions.name"
    )
    description: str = nullable(
        "Intervention description.", INTERVENTIONS + "[].description", "interventions.description"
    )
    other_names: pl.List = nullable(
        "Other names (synonyms, codes) as a list; NULL when none.",
        INTERVENTIONS + "[].otherNames",
        "intervention_other_names.name",
        dtype_kwargs={"inner": pl.String},
    )

    class Config:
        strict = True
        unique = ["nct_id", "intervention_ordinal"]
        description = "Interventions of a study."
        metadata = BY_STUDY


class BridgeArmIntervention(pa.DataFrameModel):
    nct_id: str = study("design_group_interventions")
    arm_ordinal: pl.Int32 = ordinal(
        "Arm (fact_arm.arm_ordinal of the same study).",
        f"derived: the arm whose {ARM_GROUPS}[].label is among the intervention's armGroupLabels",
    )
    intervention_ordinal: pl.Int32 = ordinal(
        "Intervention (fact_intervention.intervention_ordinal of the same study).",
        f"derived: the intervention of {INTERVENTIONS}[].armGroupLabels",
    )

    class Config:
        strict = True
        unique = ["nct_id", "arm_ordinal", "intervention_ordinal"]
        description = "Which interventions each arm receives (from the interventions' arm group labels)."
        metadata = BY_STUDY


OFFICIALS = CONTACTS_LOCATIONS + "overallOfficials"


class FactOfficial(pa.DataFrameModel):
    nct_id: str = study("overall_officials")
    ordinal: pl.Int32 = ordinal("Order in the source, from 1.", position(OFFICIALS))
    role: str = enum(
        ["PRINCIPAL_INVESTIGATOR", "STUDY_CHAIR", "STUDY_DIRECTOR", "STUDY_PRINCIPAL_INVESTIGATOR"],
        "PRINCIPAL_INVESTIGATOR, STUDY_CHAIR, STUDY_DIRECTOR or STUDY_PRINCIPAL_INVESTIGATOR.",
        OFFICIALS + "[].role",
        "overall_officials.role",
    )
    full_name: str = nullable(
        'Name with degrees, as written ("Julia Barbado, MD, PhD").',
        OFFICIALS + "[].name",
        "overall_officials.name",
    )
    official_name: str = nullable(
        "Name: full_name up to its first comma.", f"derived: {OFFICIALS}[].name up to its first comma"
    )
    degrees: str = nullable(
        "Degrees: full_name after its first comma; NULL when none.",
        f"derived: {OFFICIALS}[].name after its first comma",
    )
    affiliation: str = nullable(
        "Affiliation as written.", OFFICIALS + "[].affiliation", "overall_officials.affiliation"
    )

    class Config:
        strict = True
        unique = ["nct_id", "ordinal"]
        description = "Overall officials (investigators) of a study."
        metadata = BY_STUDY


SECONDARY_IDS = IDENTIFICATION + "secondaryIdInfos"


class FactSecondaryId(pa.DataFrameModel):
    nct_id: str = study("id_information")
    ordinal: pl.Int32 = ordinal("Order in the source, from 1.", position(SECONDARY_IDS))
    secondary_id: str = field(
        "The identifier as written.",
        SECONDARY_IDS + "[].id",
        "id_information.id_value (id_source = 'secondary_id')",
        str_length={"min_value": 1},
    )
    id_type: str = nullable(
        "EUDRACT_NUMBER, NIH, FDA, OTHER_GRANT, REGISTRY, OTHER, ...; NULL when not stated.",
        SECONDARY_IDS + "[].type",
        "id_information.id_type",
        str_matches=r"^[A-Z_]+$",
    )
    domain: str = nullable("Issuing organisation or registry, when given.", SECONDARY_IDS + "[].domain")
    link: str = nullable("Link to the identifier, when given.", SECONDARY_IDS + "[].link")

    class Config:
        strict = True
        unique = ["nct_id", "ordinal"]
        description = "Other identifiers of a study (EudraCT numbers, grants, registry ids)."
        metadata = BY_STUDY


class FactOtherField(pa.DataFrameModel):
    nct_id: str = study()
    ordinal: pl.Int32 = ordinal("Order in the source, from 1.", position("extras.otherFields"))
    label: str = field("Field label as written.", "extras.otherFields[].label", str_length={"min_value": 1})
    value: str = nullable("Field value as written.", "extras.otherFields[].value")

    class Config:
        strict = True
        unique = ["nct_id", "ordinal"]
        description = "Labelled fields a source gave that have no column of their own, so nothing is lost."
        metadata = BY_STUDY


SPONSOR_ITEMS = SPONSORS + "{leadSponsor,collaborators[]}"


class FactSponsor(pa.DataFrameModel):
    nct_id: str = study("sponsors")
    ordinal: pl.Int32 = ordinal(
        "Lead sponsor first, then collaborators in source order, from 1.",
        f"derived: {SPONSORS}leadSponsor first, then the position in {SPONSORS}collaborators",
    )
    sponsor_role: str = field(
        "LEAD or COLLABORATOR.",
        f"derived: LEAD for {SPONSORS}leadSponsor, COLLABORATOR for {SPONSORS}collaborators",
        "sponsors.lead_or_collaborator",
        isin=["LEAD", "COLLABORATOR"],
    )
    sponsor_name: str = nullable(
        "Organisation (or person) as written.", SPONSOR_ITEMS + ".name", "sponsors.name"
    )
    sponsor_class: str = nullable(
        "INDUSTRY, NIH, FED, OTHER_GOV, NETWORK, INDIV, OTHER, ...; NULL when not given.",
        SPONSOR_ITEMS + ".class",
        "sponsors.agency_class",
        str_matches=r"^[A-Z_]+$",
    )

    class Config:
        strict = True
        unique = ["nct_id", "ordinal"]
        description = "The lead sponsor (ordinal 1) and the collaborators of a study."
        metadata = BY_STUDY


CONTACTS = CONTACTS_LOCATIONS + "{centralContacts[],locations[].contacts[]}"


class FactContact(pa.DataFrameModel):
    nct_id: str = study()
    ordinal: pl.Int32 = ordinal(
        "Central contacts first, then site contacts by site, from 1.",
        "derived: position among the central contacts, then the site contacts by site",
    )
    site_ordinal: pl.Int32 = nullable(
        "Site (bridge_study_site.site_ordinal of the same study); NULL for a central contact.",
        position(LOCATIONS),
        ge=1,
    )
    contact_name: str = nullable(
        "Name as written.", CONTACTS + ".name", "central_contacts.name; facility_contacts.name"
    )
    contact_role: str = nullable(
        "CONTACT, PRINCIPAL_INVESTIGATOR, SUB_INVESTIGATOR, ...", CONTACTS + ".role", str_matches=r"^[A-Z_]+$"
    )
    phone: str = nullable(
        "Phone number; NULL unless the run kept contact details.",
        CONTACTS + ".phone",
        "central_contacts.phone; facility_contacts.phone",
    )
    phone_ext: str = nullable(
        "Phone extension; NULL unless the run kept contact details.",
        CONTACTS + ".phoneExt",
        "central_contacts.phone_extension; facility_contacts.phone_extension",
    )
    email: str = nullable(
        "E-mail address; NULL unless the run kept contact details.",
        CONTACTS + ".email",
        "central_contacts.email; facility_contacts.email",
    )

    class Config:
        strict = True
        unique = ["nct_id", "ordinal"]
        description = (
            "Central contacts (site_ordinal NULL) and site contacts. Phone and e-mail are personal data: "
            "NULL unless the run opted in (keep_contact_details)."
        )
        metadata = BY_STUDY


MESHES = "derivedSection.{condition,intervention}BrowseModule.{meshes,ancestors}[]"


class FactMeshTerm(pa.DataFrameModel):
    nct_id: str = study()
    ordinal: pl.Int32 = ordinal(
        "Order: condition terms, condition ancestors, intervention terms, intervention ancestors, from 1.",
        "derived: position across the four lists, in that order",
    )
    mesh_kind: str = field(
        "CONDITION or INTERVENTION.",
        "derived: CONDITION from derivedSection.conditionBrowseModule, INTERVENTION from "
        "derivedSection.interventionBrowseModule",
        isin=["CONDITION", "INTERVENTION"],
    )
    is_ancestor: bool = field(
        "True for a broader ancestor term, false for a term matched to the record.",
        "derived: true from ancestors, false from meshes",
    )
    mesh_id: str = nullable(
        "MeSH descriptor id (D000003550); NULL when the source gives none.",
        MESHES + ".id",
        str_matches=r"^[A-Z]\d+$",
    )
    mesh_term: str = field(
        "MeSH heading.",
        MESHES + ".term",
        "browse_conditions.mesh_term; browse_interventions.mesh_term",
        str_length={"min_value": 1},
    )

    class Config:
        strict = True
        unique = ["nct_id", "ordinal"]
        description = (
            "MeSH terms the registry derived for a study's conditions and interventions (API v2 "
            "derivedSection; legacy XML gives terms without ids)."
        )
        metadata = BY_STUDY


REFERENCES = "protocolSection.referencesModule.references"


class FactReference(pa.DataFrameModel):
    nct_id: str = study("study_references")
    ordinal: pl.Int32 = ordinal("Order in the source, from 1.", position(REFERENCES))
    pmid: str = nullable(
        "PubMed id; NULL when the reference has none.",
        REFERENCES + "[].pmid",
        "study_references.pmid",
        str_matches=r"^\d+$",
    )
    reference_type: str = enum(
        ["BACKGROUND", "RESULT", "DERIVED"],
        "BACKGROUND, RESULT or DERIVED.",
        REFERENCES + "[].type",
        "study_references.reference_type",
    )
    citation: str = nullable("Citation as written.", REFERENCES + "[].citation", "study_references.citation")

    class Config:
        strict = True
        unique = ["nct_id", "ordinal"]
        description = "Publications a study cites or that report its results."
        metadata = BY_STUDY


class FactResultOutcome(pa.DataFrameModel):
    nct_id: str = study("outcomes")
    result_ordinal: pl.Int32 = ordinal("Order of the measure in the results, from 1.", position(MEASURES))
    outcome_type: str = enum(
        ["PRIMARY", "SECONDARY", "OTHER_PRE_SPECIFIED", "POST_HOC"],
        "PRIMARY, SECONDARY, OTHER_PRE_SPECIFIED or POST_HOC.",
        MEASURES + "[].type",
        "outcomes.outcome_type",
    )
    title: str = nullable("Measure title.", MEASURES + "[].title", "outcomes.title")
    description: str = nullable("Measure description.", MEASURES + "[].description", "outcomes.description")
    time_frame: str = nullable("Time frame as written.", MEASURES + "[].timeFrame", "outcomes.time_frame")
    population: str = nullable(
        "Analysis population description.", MEASURES + "[].populationDescription", "outcomes.population"
    )
    reporting_status: str = enum(
        ["POSTED", "NOT_POSTED"], "POSTED or NOT_POSTED.", MEASURES + "[].reportingStatus"
    )
    anticipated_posting_date_raw: str = nullable(
        "When results not yet posted are expected, as written.", MEASURES + "[].anticipatedPostingDate"
    )
    param_type: str = nullable(
        "MEAN, MEDIAN, COUNT_OF_PARTICIPANTS, NUMBER, ...",
        MEASURES + "[].paramType",
        "outcomes.param_type",
        str_matches=r"^[A-Z_]+$",
    )
    dispersion_type: str = nullable(
        'Dispersion as written, e.g. "Standard Deviation", "95% Confidence Interval".',
        MEASURES + "[].dispersionType",
        "outcomes.dispersion_type",
    )
    units: str = nullable("Unit of measure as written.", MEASURES + "[].unitOfMeasure", "outcomes.units")

    class Config:
        strict = True
        unique = ["nct_id", "result_ordinal"]
        description = "Outcome measures with posted results (API v2 resultsSection), one row per measure."
        metadata = BY_STUDY


class FactResultGroup(pa.DataFrameModel):
    nct_id: str = study("result_groups")
    result_ordinal: pl.Int32 = ordinal(
        "Measure (fact_result_outcome.result_ordinal of the same study).", position(MEASURES)
    )
    group_id: str = field(
        "Group id within the measure, e.g. OG000.",
        MEASURES + "[].groups[].id",
        "result_groups.ctgov_group_code",
        str_length={"min_value": 1},
    )
    group_title: str = nullable("Group title.", MEASURES + "[].groups[].title", "result_groups.title")
    group_description: str = nullable(
        "Group description.", MEASURES + "[].groups[].description", "result_groups.description"
    )

    class Config:
        strict = True
        unique = ["nct_id", "result_ordinal", "group_id"]
        description = "Groups (arms) an outcome measure reports on."
        metadata = BY_STUDY


DENOMS = MEASURES + "[].denoms"


class FactResultDenom(pa.DataFrameModel):
    nct_id: str = study("outcome_counts")
    result_ordinal: pl.Int32 = ordinal("Measure (fact_result_outcome.result_ordinal).", position(MEASURES))
    denom_ordinal: pl.Int32 = ordinal(
        "Which denominator of the measure, from 1 (participants first, then e.g. eyes).", position(DENOMS)
    )
    group_id: str = field(
        "Group (fact_result_group.group_id).",
        DENOMS + "[].counts[].groupId",
        "outcome_counts.ctgov_group_code",
        str_length={"min_value": 1},
    )
    units: str = nullable("What is counted, e.g. Participants.", DENOMS + "[].units", "outcome_counts.units")
    count_raw: str = nullable("The count as posted.", DENOMS + "[].counts[].value")
    count_value: float = nullable(
        "The count as a number; NULL when the posted text is not one.",
        f"derived: {DENOMS}[].counts[].value as a number",
        "outcome_counts.count",
        ge=0,
    )

    class Config:
        strict = True
        unique = ["nct_id", "result_ordinal", "denom_ordinal", "group_id"]
        description = "How many units (usually participants) each group of a measure analysed."
        metadata = BY_STUDY


CLASSES = MEASURES + "[].classes"
MEASUREMENTS = CLASSES + "[].categories[].measurements[]"


class FactResultMeasurement(pa.DataFrameModel):
    nct_id: str = study("outcome_measurements")
    result_ordinal: pl.Int32 = ordinal("Measure (fact_result_outcome.result_ordinal).", position(MEASURES))
    class_ordinal: pl.Int32 = ordinal("Class (row block) within the measure, from 1.", position(CLASSES))
    class_title: str = nullable(
        "Class title, e.g. a subgroup; NULL when the measure has one unnamed class.",
        CLASSES + "[].title",
        "outcome_measurements.classification",
    )
    category_ordinal: pl.Int32 = ordinal(
        "Category within the class, from 1.", position(CLASSES + "[].categories")
    )
    category_title: str = nullable(
        "Category title, e.g. Yes/No; NULL when unnamed.",
        CLASSES + "[].categories[].title",
        "outcome_measurements.category",
    )
    group_id: str = field(
        "Group (fact_result_group.group_id).",
        MEASUREMENTS + ".groupId",
        "outcome_measurements.ctgov_group_code",
        str_length={"min_value": 1},
    )
    value_raw: str = nullable("Value as posted.", MEASUREMENTS + ".value", "outcome_measurements.param_value")
    spread_raw: str = nullable(
        "Spread (e.g. standard deviation) as posted.",
        MEASUREMENTS + ".spread",
        "outcome_measurements.dispersion_value",
    )
    lower_limit_raw: str = nullable(
        "Lower limit (of a range or interval) as posted.", MEASUREMENTS + ".lowerLimit"
    )
    upper_limit_raw: str = nullable("Upper limit as posted.", MEASUREMENTS + ".upperLimit")
    value: float = nullable(
        "value_raw as a number; NULL when it is not one (e.g. NA).",
        f"derived: {MEASUREMENTS}.value as a number",
        "outcome_measurements.param_value_num",
    )
    spread: float = nullable(
        "spread_raw as a number.",
        f"derived: {MEASUREMENTS}.spread as a number",
        "outcome_measurements.dispersion_value_num",
    )
    lower_limit: float = nullable(
        "lower_limit_raw as a number.", f"derived: {MEASUREMENTS}.lowerLimit as a number"
    )
    upper_limit: float = nullable(
        "upper_limit_raw as a number.", f"derived: {MEASUREMENTS}.upperLimit as a number"
    )
    comment: str = nullable("Comment posted with the value (e.g. why it is NA).", MEASUREMENTS + ".comment")

    class Config:
        strict = True
        unique = ["nct_id", "result_ordinal", "class_ordinal", "category_ordinal", "group_id"]
        description = "Posted values of an outcome measure: one row per class, category and group."
        metadata = BY_STUDY


class RawStudyRecord(pa.DataFrameModel):
    nct_id: str = study(description="Study (dim_study.nct_id). Key.", unique=True)
    source_format: str = field(
        "classic_page, api_v2_json or legacy_xml.",
        "derived: the format the record was parsed from",
        isin=SOURCE_FORMATS,
    )
    source_uri: str = field(
        "Where the record came from.", "derived: the landing file the record was read from"
    )
    record_hash: str = field(
        "BLAKE2b-128 of record_json.", "derived: BLAKE2b-128 of the canonical record", str_matches=HASH
    )
    raw_hash: str = nullable(
        "BLAKE2b-128 of the source bytes (keyed by the contact-details setting): a later run that reads the "
        "same bytes skips parsing them. NULL when not recorded.",
        "derived: BLAKE2b-128 of the source bytes",
        str_matches=HASH,
    )
    record_json: str = field(
        "Canonical record as JSON text (written by the pipeline, so valid by construction; VARCHAR because "
        'casting to JSON re-parses every record); keys as API v2 (protocolSection...), plus "extras" for '
        "facts API v2 has no field for. Query it with ->> and json_extract.",
        "derived: the whole canonical record",
        str_startswith="{",
    )

    class Config:
        strict = True
        description = (
            "The canonical record (API v2 structure) of each loaded study, whole: every field a source gave, "
            "queryable with JSON functions."
        )
        metadata = BY_STUDY


MODELS: dict[str, type[pa.DataFrameModel]] = {
    "dim_study": DimStudy,
    "dim_study_description": DimStudyDescription,
    "dim_site": DimSite,
    "bridge_study_site": BridgeStudySite,
    "fact_outcome": FactOutcome,
    "fact_eligibility": FactEligibility,
    "fact_condition": FactCondition,
    "fact_keyword": FactKeyword,
    "fact_arm": FactArm,
    "fact_intervention": FactIntervention,
    "bridge_arm_intervention": BridgeArmIntervention,
    "fact_official": FactOfficial,
    "fact_secondary_id": FactSecondaryId,
    "fact_unlabelled_term": FactUnlabelledTerm,
    "fact_other_field": FactOtherField,
    "fact_sponsor": FactSponsor,
    "fact_contact": FactContact,
    "fact_mesh_term": FactMeshTerm,
    "fact_reference": FactReference,
    "fact_result_outcome": FactResultOutcome,
    "fact_result_group": FactResultGroup,
    "fact_result_denom": FactResultDenom,
    "fact_result_measurement": FactResultMeasurement,
    "raw_study_record": RawStudyRecord,
    "fact_eligibility_threshold": FactEligibilityThreshold,
    "fact_outcome_timepoint": FactOutcomeTimepoint,
    "fact_dose": FactDose,
}


def vocabularies(table: str) -> dict[str, list[str]]:
    """The known values of each enum column of ``table`` (declared with ``enum``)."""
    columns = MODELS[table].to_schema().columns
    return {
        name: column.metadata["vocabulary"]
        for name, column in columns.items()
        if "vocabulary" in column.metadata
    }


# Each child table's key (its Config.unique), also checked in the warehouse after each load.
TABLE_KEYS: dict[str, list[str]] = {
    name: model.to_schema().unique for name, model in MODELS.items() if model.to_schema().unique
}


@dataclass(frozen=True)
class Relationship:
    child: str
    columns: tuple[str, ...]
    parent: str
    parent_columns: tuple[str, ...]


_STUDY_CHILDREN = [name for name in MODELS if name not in ("dim_study", "dim_site")]
RELATIONSHIPS: list[Relationship] = [
    *(Relationship(name, ("nct_id",), "dim_study", ("nct_id",)) for name in _STUDY_CHILDREN),
    Relationship("bridge_study_site", ("site_id",), "dim_site", ("site_id",)),
    Relationship("bridge_arm_intervention", ("nct_id", "arm_ordinal"), "fact_arm", ("nct_id", "arm_ordinal")),
    Relationship(
        "bridge_arm_intervention",
        ("nct_id", "intervention_ordinal"),
        "fact_intervention",
        ("nct_id", "intervention_ordinal"),
    ),
    Relationship("fact_eligibility", ("nct_id", "parent_ordinal"), "fact_eligibility", ("nct_id", "ordinal")),
    Relationship("fact_contact", ("nct_id", "site_ordinal"), "bridge_study_site", ("nct_id", "site_ordinal")),
    Relationship(
        "fact_eligibility_threshold",
        ("nct_id", "criterion_ordinal"),
        "fact_eligibility",
        ("nct_id", "ordinal"),
    ),
    Relationship(
        "fact_outcome_timepoint", ("nct_id", "outcome_ordinal"), "fact_outcome", ("nct_id", "ordinal")
    ),
    Relationship(
        "fact_dose",
        ("nct_id", "intervention_ordinal"),
        "fact_intervention",
        ("nct_id", "intervention_ordinal"),
    ),
    Relationship("fact_dose", ("nct_id", "arm_ordinal"), "fact_arm", ("nct_id", "arm_ordinal")),
    *(
        Relationship(name, ("nct_id", "result_ordinal"), "fact_result_outcome", ("nct_id", "result_ordinal"))
        for name in ("fact_result_group", "fact_result_denom", "fact_result_measurement")
    ),
    *(
        Relationship(
            name,
            ("nct_id", "result_ordinal", "group_id"),
            "fact_result_group",
            ("nct_id", "result_ordinal", "group_id"),
        )
        for name in ("fact_result_denom", "fact_result_measurement")
    ),
]


def foreign_key_failures(table: str, tables: dict[str, pl.DataFrame]) -> pl.DataFrame:
    """Rows of ``table`` whose foreign keys find no parent row (NULL keys are not checked), with the
    ``nct_id`` of the study each belongs to (every child table has one)."""
    failures = []
    for rel in (r for r in RELATIONSHIPS if r.child == table):
        child = tables[rel.child].select(*{"nct_id", *rel.columns}).drop_nulls(rel.columns)
        parent = (
            tables[rel.parent]
            .select(rel.parent_columns)
            .rename(dict(zip(rel.parent_columns, rel.columns, strict=True)))
        )
        orphans = child.join(parent, on=list(rel.columns), how="anti")
        if orphans.height:
            failures.append(
                orphans.select(
                    "nct_id",
                    pl.lit(f"{'/'.join(rel.columns)} → {rel.parent}").alias("relationship"),
                    pl.concat_str([pl.col(c).cast(pl.String) for c in rel.columns], separator="/").alias(
                        "key"
                    ),
                )
            )
    return (
        pl.concat(failures)
        if failures
        else pl.DataFrame(schema={"nct_id": pl.String, "relationship": pl.String, "key": pl.String})
    )
