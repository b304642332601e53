"""Pandera (polars) models of every star-schema table: the contract the warehouse load relies on.

Models validate collected DataFrames (on a LazyFrame pandera checks only dtypes). Key
uniqueness is declared per model (``Config.unique``); relationships between tables are declared
in ``RELATIONSHIPS`` and checked by ``foreign_key_failures`` because pandera checks one frame
at a time.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import pandera.polars as pa
import polars as pl

NCT_ID = r"^NCT\d{8}$"
# Study dates: real trials started long before the registry existed, so only absurd values fail.
STUDY_DATES = {"ge": date(1900, 1, 1), "le": date(2100, 12, 31)}
# Registry dates (posting, submission, verification) cannot predate ClinicalTrials.gov.
REGISTRY_DATES = {"ge": date(1990, 1, 1), "le": date(2100, 12, 31)}
PRECISIONS = ["day", "month", "year"]
DATE_TYPES = ["ACTUAL", "ESTIMATED"]


def enum(values: list[str], **kwargs: Any) -> Any:
    """A nullable column of an API v2 enum: ``values`` are the known ones (``vocabularies``).

    The registry adds enum values over time, so a new one is not a contract failure: it is loaded
    as written and reported as a data issue (``pipelines.validate.vocabulary_issues``).
    """
    return pa.Field(nullable=True, metadata={"vocabulary": values}, **kwargs)


def text(**kwargs: Any) -> Any:
    """A nullable free-text column."""
    return pa.Field(nullable=True, **kwargs)


def ordinal() -> Any:
    return pa.Field(ge=1)


STATUSES = [
    "ACTIVE_NOT_RECRUITING", "COMPLETED", "ENROLLING_BY_INVITATION", "NOT_YET_RECRUITING", "RECRUITING",
    "SUSPENDED", "TERMINATED", "WITHDRAWN", "AVAILABLE", "NO_LONGER_AVAILABLE", "TEMPORARILY_NOT_AVAILABLE",
    "APPROVED_FOR_MARKETING", "WITHHELD", "UNKNOWN",
]  # fmt: skip
PHASE = r"^(NA|EARLY_PHASE1|PHASE[1-4])(/(NA|EARLY_PHASE1|PHASE[1-4]))*$"


class DimStudy(pa.DataFrameModel):
    nct_id: str = pa.Field(str_matches=NCT_ID, unique=True)
    brief_title: str = text()
    official_title: str = text()
    acronym: str = text()
    org_study_id: str = text()
    organization_name: str = text()
    overall_status: str = enum(STATUSES)
    last_known_status: str = enum(STATUSES)
    why_stopped: str = text()
    study_type: str = enum(["INTERVENTIONAL", "OBSERVATIONAL", "EXPANDED_ACCESS"])
    is_patient_registry: bool = text()
    phase: str = text(str_matches=PHASE)
    enrollment_count: pl.Int64 = pa.Field(nullable=True, ge=0)
    enrollment_type: str = enum(DATE_TYPES)
    allocation: str = enum(["RANDOMIZED", "NON_RANDOMIZED", "NA"])
    intervention_model: str = enum(["PARALLEL", "SINGLE_GROUP", "CROSSOVER", "FACTORIAL", "SEQUENTIAL"])
    intervention_model_description: str = text()
    observational_model: str = text()
    time_perspective: str = text()
    masking: str = enum(["NONE", "SINGLE", "DOUBLE", "TRIPLE", "QUADRUPLE"])
    who_masked: str = text(str_matches=r"^[A-Z_]+(/[A-Z_]+)*$")
    masking_description: str = text()
    primary_purpose: str = text(str_matches=r"^[A-Z_]+$")
    start_date: pl.Date = text(**STUDY_DATES)
    start_date_precision: str = enum(PRECISIONS)
    start_date_type: str = enum(DATE_TYPES)
    primary_completion_date: pl.Date = text(**STUDY_DATES)
    primary_completion_date_precision: str = enum(PRECISIONS)
    primary_completion_date_type: str = enum(DATE_TYPES)
    completion_date: pl.Date = text(**STUDY_DATES)
    completion_date_precision: str = enum(PRECISIONS)
    completion_date_type: str = enum(DATE_TYPES)
    first_submitted_date: pl.Date = text(**REGISTRY_DATES)
    first_posted_date: pl.Date = text(**REGISTRY_DATES)
    first_posted_date_precision: str = enum(PRECISIONS)
    first_posted_date_type: str = enum(DATE_TYPES)
    last_update_submitted_date: pl.Date = text(**REGISTRY_DATES)
    last_update_posted_date: pl.Date = text(**REGISTRY_DATES)
    last_update_posted_date_precision: str = enum(PRECISIONS)
    last_update_posted_date_type: str = enum(DATE_TYPES)
    results_first_posted_date: pl.Date = text(**REGISTRY_DATES)
    results_first_posted_date_precision: str = enum(PRECISIONS)
    results_first_posted_date_type: str = enum(DATE_TYPES)
    status_verified_date: pl.Date = text(**REGISTRY_DATES)
    status_verified_date_precision: str = enum(PRECISIONS)
    minimum_age_years: float = pa.Field(nullable=True, ge=0, le=150)
    maximum_age_years: float = pa.Field(nullable=True, ge=0, le=150)
    minimum_age_raw: str = text()
    maximum_age_raw: str = text()
    sex: str = enum(["ALL", "FEMALE", "MALE"])
    std_ages: str = text(str_matches=r"^(CHILD|ADULT|OLDER_ADULT)(/(CHILD|ADULT|OLDER_ADULT))*$")
    accepts_healthy_volunteers: bool = text()
    lead_sponsor_name: str = text()
    lead_sponsor_class: str = text(str_matches=r"^[A-Z_]+$")
    responsible_party_type: str = enum(["SPONSOR", "PRINCIPAL_INVESTIGATOR", "SPONSOR_INVESTIGATOR"])
    responsible_party_name: str = text()
    has_dmc: bool = text()
    is_fda_regulated_drug: bool = text()
    is_fda_regulated_device: bool = text()
    has_results: bool = text()
    title_line_raw: str = text()
    is_criteria_nesting_inferred: bool = pa.Field()
    source_format: str = pa.Field(isin=["classic_page", "api_v2_json", "legacy_xml"])
    source_uri: str = pa.Field()
    record_hash: str = pa.Field(str_matches=r"^[0-9a-f]{32}$")

    @pa.dataframe_check(error="maximum_age_years is below minimum_age_years")
    def ages_ordered(cls, data: pa.PolarsData) -> pl.LazyFrame:
        return data.lazyframe.select(
            pl.col("maximum_age_years").ge(pl.col("minimum_age_years")).fill_null(True)
        )

    class Config:
        strict = True


class DimStudyDescription(pa.DataFrameModel):
    nct_id: str = pa.Field(str_matches=NCT_ID, unique=True)
    brief_summary: str = text()
    detailed_description: str = text()
    eligibility_criteria: str = text()

    class Config:
        strict = True


class DimSite(pa.DataFrameModel):
    site_id: str = pa.Field(str_matches=r"^[0-9a-f]{16}$", unique=True)
    facility_name: str = text()
    city: str = text()
    state: str = text()
    zip: str = text()
    country: str = text()
    country_code: str = text(str_matches=r"^[A-Z]{2}$")
    latitude: float = pa.Field(nullable=True, ge=-90, le=90)
    longitude: float = pa.Field(nullable=True, ge=-180, le=180)

    class Config:
        strict = True


class BridgeStudySite(pa.DataFrameModel):
    nct_id: str = pa.Field(str_matches=NCT_ID)
    site_ordinal: pl.Int32 = ordinal()
    site_id: str = pa.Field(str_matches=r"^[0-9a-f]{16}$")
    site_status: str = text(str_matches=r"^[A-Z_]+$")

    class Config:
        strict = True
        unique = ["nct_id", "site_ordinal"]


class FactOutcome(pa.DataFrameModel):
    nct_id: str = pa.Field(str_matches=NCT_ID)
    outcome_type: str = pa.Field(isin=["PRIMARY", "SECONDARY", "OTHER", "UNSPECIFIED"])
    ordinal: pl.Int32 = ordinal()
    measure: str = text()
    time_frame: str = text()
    description: str = text()
    time_frame_status: str = enum(["PARSED", "UNPARSED"])

    @pa.dataframe_check(error="time_frame_status is NULL exactly when there is no time frame")
    def status_follows_time_frame(cls, data: pa.PolarsData) -> pl.LazyFrame:
        return data.lazyframe.select(pl.col("time_frame").is_null() == pl.col("time_frame_status").is_null())

    class Config:
        strict = True
        unique = ["nct_id", "ordinal"]


class FactEligibility(pa.DataFrameModel):
    nct_id: str = pa.Field(str_matches=NCT_ID)
    criterion_type: str = pa.Field(isin=["INCLUSION", "EXCLUSION", "UNSPECIFIED"])
    ordinal: pl.Int32 = ordinal()
    parent_ordinal: pl.Int32 = pa.Field(nullable=True, ge=1)
    depth: pl.Int32 = pa.Field(ge=0, le=10)
    criterion_text: str = pa.Field(str_length={"min_value": 1})
    has_pregnancy_clause: bool = pa.Field()
    has_consent_clause: bool = pa.Field()
    has_trial_participation_clause: bool = pa.Field()
    has_age_limit: bool = pa.Field()

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


OPERATORS = [">=", ">", "<=", "<", "=", "between"]


class FactEligibilityThreshold(pa.DataFrameModel):
    nct_id: str = pa.Field(str_matches=NCT_ID)
    criterion_ordinal: pl.Int32 = ordinal()
    threshold_ordinal: pl.Int32 = ordinal()
    criterion_type: str = pa.Field(isin=["INCLUSION", "EXCLUSION", "UNSPECIFIED"])
    parameter: str = pa.Field(str_length={"min_value": 1})
    parameter_normalised: str = text(str_matches=r"^[a-z0-9_]+$")
    operator: str = pa.Field(isin=OPERATORS)
    value_low: float = text()
    value_high: float = text()
    unit: str = text()
    unit_normalised: str = text()
    value_low_normalised: float = text()
    value_high_normalised: float = text()
    is_negated: bool = pa.Field()
    matched_text: str = pa.Field(str_length={"min_value": 1})

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


class FactOutcomeTimepoint(pa.DataFrameModel):
    nct_id: str = pa.Field(str_matches=NCT_ID)
    outcome_ordinal: pl.Int32 = ordinal()
    timepoint_ordinal: pl.Int32 = ordinal()
    day_low: float = pa.Field(ge=-36525, le=36525)
    day_high: float = pa.Field(ge=-36525, le=36525)
    is_window: bool = pa.Field()
    is_approximate: bool = pa.Field()
    label: str = pa.Field(str_length={"min_value": 1})

    @pa.dataframe_check(error="day_low <= day_high, equal for a point")
    def ordered(cls, data: pa.PolarsData) -> pl.LazyFrame:
        return data.lazyframe.select(
            (pl.col("day_low") <= pl.col("day_high"))
            & (pl.col("is_window") | (pl.col("day_low") == pl.col("day_high")))
        )

    class Config:
        strict = True
        unique = ["nct_id", "outcome_ordinal", "timepoint_ordinal"]


class FactDose(pa.DataFrameModel):
    nct_id: str = pa.Field(str_matches=NCT_ID)
    dose_ordinal: pl.Int32 = ordinal()
    dose_source: str = pa.Field(isin=["intervention_name", "intervention_description", "arm_description"])
    intervention_ordinal: pl.Int32 = pa.Field(nullable=True, ge=1)
    arm_ordinal: pl.Int32 = pa.Field(nullable=True, ge=1)
    dose_value: float = pa.Field(ge=0)  # a control arm's "0 mg/day" is a real dose
    dose_unit: str = pa.Field(str_length={"min_value": 1})
    is_per_weight: bool = pa.Field()
    is_exponent_inferred: bool = pa.Field()
    raw_text: str = pa.Field(str_length={"min_value": 1})

    class Config:
        strict = True
        unique = ["nct_id", "dose_ordinal"]


def _ordered_items(value: str, value_check: Any = None, key: str = "ordinal") -> type[pa.DataFrameModel]:
    """A model for the simple ``(nct_id, ordinal, <value>)`` child tables."""
    annotations = {"nct_id": str, key: pl.Int32, value: str}
    fields = {
        "nct_id": pa.Field(str_matches=NCT_ID),
        key: ordinal(),
        value: value_check or pa.Field(str_length={"min_value": 1}),
    }
    config = type("Config", (), {"strict": True, "unique": ["nct_id", key]})
    namespace = {"__annotations__": annotations, **fields, "Config": config}
    return type(f"Fact_{value}", (pa.DataFrameModel,), namespace)


FactCondition = _ordered_items("condition_name")
FactKeyword = _ordered_items("keyword")
FactUnlabelledTerm = _ordered_items("term_line")


class FactArm(pa.DataFrameModel):
    nct_id: str = pa.Field(str_matches=NCT_ID)
    arm_ordinal: pl.Int32 = ordinal()
    arm_label: str = text()
    arm_type: str = enum(
        [
            "EXPERIMENTAL",
            "ACTIVE_COMPARATOR",
            "PLACEBO_COMPARATOR",
            "SHAM_COMPARATOR",
            "NO_INTERVENTION",
            "OTHER",
        ]
    )
    description: str = text()

    class Config:
        strict = True
        unique = ["nct_id", "arm_ordinal"]


class FactIntervention(pa.DataFrameModel):
    nct_id: str = pa.Field(str_matches=NCT_ID)
    intervention_ordinal: pl.Int32 = ordinal()
    intervention_type: str = enum(
        [
            "DRUG", "DEVICE", "BIOLOGICAL", "PROCEDURE", "RADIATION", "BEHAVIORAL", "GENETIC",
            "DIETARY_SUPPLEMENT", "COMBINATION_PRODUCT", "DIAGNOSTIC_TEST", "OTHER",
        ]
    )  # fmt: skip
    intervention_name: str = text()
    description: str = text()
    other_names: pl.List = pa.Field(nullable=True, dtype_kwargs={"inner": pl.String})

    class Config:
        strict = True
        unique = ["nct_id", "intervention_ordinal"]


class BridgeArmIntervention(pa.DataFrameModel):
    nct_id: str = pa.Field(str_matches=NCT_ID)
    arm_ordinal: pl.Int32 = ordinal()
    intervention_ordinal: pl.Int32 = ordinal()

    class Config:
        strict = True
        unique = ["nct_id", "arm_ordinal", "intervention_ordinal"]


class FactOfficial(pa.DataFrameModel):
    nct_id: str = pa.Field(str_matches=NCT_ID)
    ordinal: pl.Int32 = ordinal()
    role: str = enum(
        ["PRINCIPAL_INVESTIGATOR", "STUDY_CHAIR", "STUDY_DIRECTOR", "STUDY_PRINCIPAL_INVESTIGATOR"]
    )
    full_name: str = text()
    official_name: str = text()
    degrees: str = text()
    affiliation: str = text()

    class Config:
        strict = True
        unique = ["nct_id", "ordinal"]


class FactSecondaryId(pa.DataFrameModel):
    nct_id: str = pa.Field(str_matches=NCT_ID)
    ordinal: pl.Int32 = ordinal()
    secondary_id: str = pa.Field(str_length={"min_value": 1})
    id_type: str = text(str_matches=r"^[A-Z_]+$")
    domain: str = text()
    link: str = text()

    class Config:
        strict = True
        unique = ["nct_id", "ordinal"]


class FactOtherField(pa.DataFrameModel):
    nct_id: str = pa.Field(str_matches=NCT_ID)
    ordinal: pl.Int32 = ordinal()
    label: str = pa.Field(str_length={"min_value": 1})
    value: str = text()

    class Config:
        strict = True
        unique = ["nct_id", "ordinal"]


class FactSponsor(pa.DataFrameModel):
    nct_id: str = pa.Field(str_matches=NCT_ID)
    ordinal: pl.Int32 = ordinal()
    sponsor_role: str = pa.Field(isin=["LEAD", "COLLABORATOR"])
    sponsor_name: str = text()
    sponsor_class: str = text(str_matches=r"^[A-Z_]+$")

    class Config:
        strict = True
        unique = ["nct_id", "ordinal"]


class FactContact(pa.DataFrameModel):
    nct_id: str = pa.Field(str_matches=NCT_ID)
    ordinal: pl.Int32 = ordinal()
    site_ordinal: pl.Int32 = pa.Field(nullable=True, ge=1)
    contact_name: str = text()
    contact_role: str = text(str_matches=r"^[A-Z_]+$")
    phone: str = text()
    phone_ext: str = text()
    email: str = text()

    class Config:
        strict = True
        unique = ["nct_id", "ordinal"]


class FactMeshTerm(pa.DataFrameModel):
    nct_id: str = pa.Field(str_matches=NCT_ID)
    ordinal: pl.Int32 = ordinal()
    mesh_kind: str = pa.Field(isin=["CONDITION", "INTERVENTION"])
    is_ancestor: bool = pa.Field()
    mesh_id: str = text(str_matches=r"^[A-Z]\d+$")
    mesh_term: str = pa.Field(str_length={"min_value": 1})

    class Config:
        strict = True
        unique = ["nct_id", "ordinal"]


class FactReference(pa.DataFrameModel):
    nct_id: str = pa.Field(str_matches=NCT_ID)
    ordinal: pl.Int32 = ordinal()
    pmid: str = text(str_matches=r"^\d+$")
    reference_type: str = enum(["BACKGROUND", "RESULT", "DERIVED"])
    citation: str = text()

    class Config:
        strict = True
        unique = ["nct_id", "ordinal"]


class FactResultOutcome(pa.DataFrameModel):
    nct_id: str = pa.Field(str_matches=NCT_ID)
    result_ordinal: pl.Int32 = ordinal()
    outcome_type: str = enum(["PRIMARY", "SECONDARY", "OTHER_PRE_SPECIFIED", "POST_HOC"])
    title: str = text()
    description: str = text()
    time_frame: str = text()
    population: str = text()
    reporting_status: str = enum(["POSTED", "NOT_POSTED"])
    anticipated_posting_date_raw: str = text()
    param_type: str = text(str_matches=r"^[A-Z_]+$")
    dispersion_type: str = text()
    units: str = text()

    class Config:
        strict = True
        unique = ["nct_id", "result_ordinal"]


class FactResultGroup(pa.DataFrameModel):
    nct_id: str = pa.Field(str_matches=NCT_ID)
    result_ordinal: pl.Int32 = ordinal()
    group_id: str = pa.Field(str_length={"min_value": 1})
    group_title: str = text()
    group_description: str = text()

    class Config:
        strict = True
        unique = ["nct_id", "result_ordinal", "group_id"]


class FactResultDenom(pa.DataFrameModel):
    nct_id: str = pa.Field(str_matches=NCT_ID)
    result_ordinal: pl.Int32 = ordinal()
    denom_ordinal: pl.Int32 = ordinal()
    group_id: str = pa.Field(str_length={"min_value": 1})
    units: str = text()
    count_raw: str = text()
    count_value: float = pa.Field(nullable=True, ge=0)

    class Config:
        strict = True
        unique = ["nct_id", "result_ordinal", "denom_ordinal", "group_id"]


class FactResultMeasurement(pa.DataFrameModel):
    nct_id: str = pa.Field(str_matches=NCT_ID)
    result_ordinal: pl.Int32 = ordinal()
    class_ordinal: pl.Int32 = ordinal()
    class_title: str = text()
    category_ordinal: pl.Int32 = ordinal()
    category_title: str = text()
    group_id: str = pa.Field(str_length={"min_value": 1})
    value_raw: str = text()
    spread_raw: str = text()
    lower_limit_raw: str = text()
    upper_limit_raw: str = text()
    value: float = text()
    spread: float = text()
    lower_limit: float = text()
    upper_limit: float = text()
    comment: str = text()

    class Config:
        strict = True
        unique = ["nct_id", "result_ordinal", "class_ordinal", "category_ordinal", "group_id"]


class RawStudyRecord(pa.DataFrameModel):
    nct_id: str = pa.Field(str_matches=NCT_ID, unique=True)
    source_format: str = pa.Field(isin=["classic_page", "api_v2_json", "legacy_xml"])
    source_uri: str = pa.Field()
    record_hash: str = pa.Field(str_matches=r"^[0-9a-f]{32}$")
    raw_hash: str = pa.Field(nullable=True, str_matches=r"^[0-9a-f]{32}$")
    record_json: str = pa.Field(str_startswith="{")

    class Config:
        strict = True


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
    return {name: column.metadata["vocabulary"] for name, column in columns.items() if column.metadata}


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
