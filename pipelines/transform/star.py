"""Canonical records → star-schema tables, one declarative expression list per table.

Each table is the accepted studies' ``study`` struct (``STUDY_DTYPE``) read through a list of
``source path → column`` expressions, in the spirit of AACT's mapping tables. Child tables
explode one list per study; ``explode`` drops empty lists, which is what a child table wants
(no rows), while ``dim_study`` never explodes, so a study without sites or outcomes still loads.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable

import polars as pl
import pycountry

from pipelines.transform import results
from pipelines.transform.criteria import split_criteria
from pipelines.transform.extracted import DERIVED_TABLES, derive
from pipelines.transform.paths import ITEM, NCT_ID, at, explode_items, exploded, p, tagged_lists
from pipelines.transform.values import age_years, date_precision, date_value, joined

SITE_TABLE = "dim_site"  # shared by studies: the one table without nct_id
_STATUS = "protocolSection.statusModule."
# dim_study's dates and the registry text each is read from (a text that is no date is a data issue).
DATE_SOURCES: dict[str, str] = {
    "start_date": _STATUS + "startDateStruct.date",
    "primary_completion_date": _STATUS + "primaryCompletionDateStruct.date",
    "completion_date": _STATUS + "completionDateStruct.date",
    "first_submitted_date": _STATUS + "studyFirstSubmitDate",
    "first_posted_date": _STATUS + "studyFirstPostDateStruct.date",
    "last_update_submitted_date": _STATUS + "lastUpdateSubmitDate",
    "last_update_posted_date": _STATUS + "lastUpdatePostDateStruct.date",
    "results_first_posted_date": _STATUS + "resultsFirstPostDateStruct.date",
    "status_verified_date": _STATUS + "statusVerifiedDate",
}


def _date(column: str) -> pl.Expr:
    return date_value(at(DATE_SOURCES[column])).alias(column)


def _date_columns(name: str) -> list[pl.Expr]:
    """A date with the precision the source gave and its type (``ACTUAL``/``ESTIMATED``)."""
    text = at(DATE_SOURCES[f"{name}_date"])
    return [
        _date(f"{name}_date"),
        date_precision(text).alias(f"{name}_date_precision"),
        at(DATE_SOURCES[f"{name}_date"].removesuffix(".date") + ".type").alias(f"{name}_date_type"),
    ]


DIM_STUDY: list[pl.Expr] = [
    NCT_ID,
    p("identificationModule.briefTitle").alias("brief_title"),
    p("identificationModule.officialTitle").alias("official_title"),
    p("identificationModule.acronym").alias("acronym"),
    p("identificationModule.orgStudyIdInfo.id").alias("org_study_id"),
    p("identificationModule.organization.fullName").alias("organization_name"),
    p("statusModule.overallStatus").alias("overall_status"),
    p("statusModule.lastKnownStatus").alias("last_known_status"),
    p("statusModule.whyStopped").alias("why_stopped"),
    p("designModule.studyType").alias("study_type"),
    p("designModule.patientRegistry").alias("is_patient_registry"),
    joined(p("designModule.phases")).alias("phase"),
    p("designModule.enrollmentInfo.count").alias("enrollment_count"),
    p("designModule.enrollmentInfo.type").alias("enrollment_type"),
    p("designModule.designInfo.allocation").alias("allocation"),
    p("designModule.designInfo.interventionModel").alias("intervention_model"),
    p("designModule.designInfo.interventionModelDescription").alias("intervention_model_description"),
    p("designModule.designInfo.observationalModel").alias("observational_model"),
    p("designModule.designInfo.timePerspective").alias("time_perspective"),
    p("designModule.designInfo.maskingInfo.masking").alias("masking"),
    joined(p("designModule.designInfo.maskingInfo.whoMasked")).alias("who_masked"),
    p("designModule.designInfo.maskingInfo.maskingDescription").alias("masking_description"),
    p("designModule.designInfo.primaryPurpose").alias("primary_purpose"),
    *_date_columns("start"),
    *_date_columns("primary_completion"),
    *_date_columns("completion"),
    _date("first_submitted_date"),
    *_date_columns("first_posted"),
    _date("last_update_submitted_date"),
    *_date_columns("last_update_posted"),
    *_date_columns("results_first_posted"),
    _date("status_verified_date"),
    date_precision(at(DATE_SOURCES["status_verified_date"])).alias("status_verified_date_precision"),
    age_years(p("eligibilityModule.minimumAge")).alias("minimum_age_years"),
    age_years(p("eligibilityModule.maximumAge")).alias("maximum_age_years"),
    p("eligibilityModule.minimumAge").alias("minimum_age_raw"),
    p("eligibilityModule.maximumAge").alias("maximum_age_raw"),
    p("eligibilityModule.sex").alias("sex"),
    joined(p("eligibilityModule.stdAges")).alias("std_ages"),
    p("eligibilityModule.healthyVolunteers").alias("accepts_healthy_volunteers"),
    p("sponsorCollaboratorsModule.leadSponsor.name").alias("lead_sponsor_name"),
    p("sponsorCollaboratorsModule.leadSponsor.class").alias("lead_sponsor_class"),
    p("sponsorCollaboratorsModule.responsibleParty.type").alias("responsible_party_type"),
    pl.coalesce(
        p("sponsorCollaboratorsModule.responsibleParty.investigatorFullName"),
        at("extras.responsiblePartyName"),
    ).alias("responsible_party_name"),
    p("oversightModule.oversightHasDmc").alias("has_dmc"),
    p("oversightModule.isFdaRegulatedDrug").alias("is_fda_regulated_drug"),
    p("oversightModule.isFdaRegulatedDevice").alias("is_fda_regulated_device"),
    at("hasResults").alias("has_results"),
    at("extras.titleLine").alias("title_line_raw"),
    at("extras.criteriaNestingInferred").fill_null(False).alias("is_criteria_nesting_inferred"),
    pl.col("source_format"),
    pl.col("source_uri"),
    pl.col("record_hash"),
]

DIM_STUDY_DESCRIPTION: list[pl.Expr] = [
    NCT_ID,
    p("descriptionModule.briefSummary").alias("brief_summary"),
    p("descriptionModule.detailedDescription").alias("detailed_description"),
    p("eligibilityModule.eligibilityCriteria").alias("eligibility_criteria"),
]

RAW_STUDY_RECORD: list[pl.Expr] = [
    NCT_ID,
    pl.col("source_format"),
    pl.col("source_uri"),
    pl.col("record_hash"),
    pl.col("raw_hash"),
    pl.col("record_json"),
]


def _list_table(
    path: str, columns: list[pl.Expr], ordinal: str = "ordinal"
) -> Callable[[pl.DataFrame], pl.DataFrame]:
    def build(studies: pl.DataFrame) -> pl.DataFrame:
        return exploded(studies, path, ordinal).select("nct_id", ordinal, *columns)

    return build


def _outcomes(studies: pl.DataFrame) -> pl.DataFrame:
    """Primary, secondary, other and unspecified outcomes; ``ordinal`` runs across all of them."""
    parts = [
        ({"outcome_type": kind}, at(path))
        for kind, path in [
            ("PRIMARY", "protocolSection.outcomesModule.primaryOutcomes"),
            ("SECONDARY", "protocolSection.outcomesModule.secondaryOutcomes"),
            ("OTHER", "protocolSection.outcomesModule.otherOutcomes"),
            ("UNSPECIFIED", "extras.unspecifiedOutcomes"),
        ]
    ]
    return tagged_lists(studies, parts).select(
        "nct_id",
        "outcome_type",
        "ordinal",
        at("measure", ITEM).alias("measure"),
        at("timeFrame", ITEM).alias("time_frame"),
        at("description", ITEM).alias("description"),
    )


def _sponsors(studies: pl.DataFrame) -> pl.DataFrame:
    """The lead sponsor (ordinal 1) and the collaborators, in source order."""
    parts = [
        ({"sponsor_role": "LEAD"}, pl.concat_list(p("sponsorCollaboratorsModule.leadSponsor"))),
        ({"sponsor_role": "COLLABORATOR"}, p("sponsorCollaboratorsModule.collaborators")),
    ]
    return tagged_lists(studies, parts).select(
        "nct_id",
        "ordinal",
        "sponsor_role",
        at("name", ITEM).alias("sponsor_name"),
        at("class", ITEM).alias("sponsor_class"),
    )


def _contacts(studies: pl.DataFrame) -> pl.DataFrame:
    """Central contacts (no site) and each site's contacts; phone/e-mail only if the user opted in."""
    sites = exploded(studies, "protocolSection.contactsLocationsModule.locations", "site_ordinal")
    at_sites = explode_items(sites, at("contacts", ITEM), ["nct_id", "site_ordinal"], "contact_ordinal").drop(
        "contact_ordinal"
    )
    central = exploded(studies, "protocolSection.contactsLocationsModule.centralContacts").select(
        "nct_id", pl.lit(None, dtype=pl.Int32).alias("site_ordinal"), "item"
    )
    return (
        pl.concat([central, at_sites])
        .with_columns(ordinal=pl.int_range(1, pl.len() + 1, dtype=pl.Int32).over("nct_id"))
        .select(
            "nct_id",
            "ordinal",
            "site_ordinal",
            at("name", ITEM).alias("contact_name"),
            at("role", ITEM).alias("contact_role"),
            at("phone", ITEM).alias("phone"),
            at("phoneExt", ITEM).alias("phone_ext"),
            at("email", ITEM).alias("email"),
        )
    )


def _mesh_terms(studies: pl.DataFrame) -> pl.DataFrame:
    """MeSH terms the registry derived for conditions and interventions, with their ancestors."""
    parts = [
        ({"mesh_kind": kind, "is_ancestor": ancestor}, at(f"derivedSection.{module}.{field}"))
        for kind, module in [
            ("CONDITION", "conditionBrowseModule"),
            ("INTERVENTION", "interventionBrowseModule"),
        ]
        for ancestor, field in [(False, "meshes"), (True, "ancestors")]
    ]
    return tagged_lists(studies, parts).select(
        "nct_id",
        "ordinal",
        "mesh_kind",
        "is_ancestor",
        at("id", ITEM).alias("mesh_id"),
        at("term", ITEM).alias("mesh_term"),
    )


CRITERION_DTYPE = pl.List(
    pl.Struct(
        {
            "criterion_type": pl.String,
            "ordinal": pl.Int32,
            "parent_ordinal": pl.Int32,
            "depth": pl.Int32,
            "criterion_text": pl.String,
        }
    )
)


def _eligibility(studies: pl.DataFrame) -> pl.DataFrame:
    criteria = studies.select(NCT_ID, p("eligibilityModule.eligibilityCriteria").alias("text"))
    return (
        criteria.with_columns(
            item=pl.col("text").map_elements(split_criteria, return_dtype=CRITERION_DTYPE, skip_nulls=True)
        )
        .select("nct_id", "item")
        .explode("item")
        .filter(pl.col("item").is_not_null())
        .unnest("item")
        .select("nct_id", "criterion_type", "ordinal", "parent_ordinal", "depth", "criterion_text")
    )


def _normalised(expr: pl.Expr) -> pl.Expr:
    return expr.str.strip_chars().str.replace_all(r"\s+", " ").str.to_lowercase().fill_null("")


SITE_KEY_PARTS = ("facility", "city", "state", "zip", "country")


def _locations(studies: pl.DataFrame) -> pl.DataFrame:
    rows = exploded(studies, "protocolSection.contactsLocationsModule.locations")
    key = pl.concat_str([_normalised(at(part, ITEM)) for part in SITE_KEY_PARTS], separator="|")
    return rows.with_columns(site_key=key)


def _site_ids(keys: pl.Series) -> pl.Series:
    """A stable id per normalised site key: the first 16 hex digits of its BLAKE2b hash.

    Each distinct key is hashed once (a large trial lists many sites, many trials share them).
    """
    ids = {key: hashlib.blake2b(key.encode(), digest_size=8).hexdigest() for key in keys.unique()}
    return keys.replace_strict(ids, return_dtype=pl.String)


def country_code(name: str) -> str | None:
    """ISO 3166-1 alpha-2 for a registry country name; NULL rather than a fuzzy guess."""
    name = COUNTRY_ALIASES.get(name, name)
    try:
        return pycountry.countries.lookup(name).alpha_2
    except LookupError:
        return None


# Registry spellings that pycountry's exact lookup does not know.
COUNTRY_ALIASES = {
    "Korea, Republic of": "KR",
    "Korea, Democratic People's Republic of": "KP",
    "Taiwan": "TW",
    "Turkey": "TR",
    "Czech Republic": "CZ",
    "Macedonia, The Former Yugoslav Republic of": "MK",
    "Congo, The Democratic Republic of the": "CD",
    "Iran, Islamic Republic of": "IR",
    "Moldova, Republic of": "MD",
    "Tanzania": "TZ",
    "Vietnam": "VN",
    "Bolivia": "BO",
    "Venezuela": "VE",
    "Syrian Arab Republic": "SY",
    "Lao People's Democratic Republic": "LA",
    "Palestinian Territory, occupied": "PS",
    "Côte D'Ivoire": "CI",
    "Cote D'Ivoire": "CI",
    "Swaziland": "SZ",
    "Holy See (Vatican City State)": "VA",
    "Libyan Arab Jamahiriya": "LY",
    "Micronesia, Federated States of": "FM",
    "Virgin Islands (U.S.)": "VI",
}


def _dim_site(studies: pl.DataFrame) -> pl.DataFrame:
    """Distinct sites; coordinates are the first non-null pair seen for the site."""
    sites = (
        _locations(studies)
        .group_by("site_key", maintain_order=True)
        .agg(
            at("facility", ITEM).first().alias("facility_name"),
            at("city", ITEM).first().alias("city"),
            at("state", ITEM).first().alias("state"),
            at("zip", ITEM).first().alias("zip"),
            at("country", ITEM).first().alias("country"),
            at("geoPoint.lat", ITEM).drop_nulls().first().alias("latitude"),
            at("geoPoint.lon", ITEM).drop_nulls().first().alias("longitude"),
        )
    )
    return sites.with_columns(
        site_id=_site_ids(sites["site_key"]),
        country_code=pl.col("country").map_elements(country_code, return_dtype=pl.String),
    ).select(
        "site_id", "facility_name", "city", "state", "zip", "country", "country_code", "latitude", "longitude"
    )


def _bridge_study_site(studies: pl.DataFrame) -> pl.DataFrame:
    rows = _locations(studies)
    return rows.select(
        "nct_id",
        pl.col("ordinal").alias("site_ordinal"),
        _site_ids(rows["site_key"]).alias("site_id"),
        at("status", ITEM).alias("site_status"),
    )


def _bridge_arm_intervention(studies: pl.DataFrame) -> pl.DataFrame:
    """Which interventions each arm receives, from the interventions' ``armGroupLabels``."""
    interventions = exploded(studies, "protocolSection.armsInterventionsModule.interventions").select(
        "nct_id",
        pl.col("ordinal").alias("intervention_ordinal"),
        at("armGroupLabels", ITEM).alias("arm_label"),
    )
    arms = exploded(studies, "protocolSection.armsInterventionsModule.armGroups").select(
        "nct_id", pl.col("ordinal").alias("arm_ordinal"), at("label", ITEM).alias("arm_label")
    )
    return (
        interventions.explode("arm_label")
        .join(arms, on=["nct_id", "arm_label"], how="inner")
        .select("nct_id", "arm_ordinal", "intervention_ordinal")
        .unique(maintain_order=True)
    )


def _official_name_parts(full_name: pl.Expr) -> list[pl.Expr]:
    """ "Julia Barbado, MD, PhD" → name "Julia Barbado", degrees "MD, PhD" (split at the first comma)."""
    return [
        full_name.str.extract(r"^([^,]*[^,\s])").alias("official_name"),
        full_name.str.extract(r"^[^,]*,\s*(.+)$").alias("degrees"),
    ]


BUILDERS: dict[str, Callable[[pl.DataFrame], pl.DataFrame]] = {
    "dim_study": lambda studies: studies.select(DIM_STUDY),
    "dim_study_description": lambda studies: studies.select(DIM_STUDY_DESCRIPTION),
    "dim_site": _dim_site,
    "bridge_study_site": _bridge_study_site,
    "fact_outcome": _outcomes,
    "fact_eligibility": _eligibility,
    "fact_condition": _list_table(
        "protocolSection.conditionsModule.conditions", [ITEM.alias("condition_name")]
    ),
    "fact_keyword": _list_table("protocolSection.conditionsModule.keywords", [ITEM.alias("keyword")]),
    "fact_arm": _list_table(
        "protocolSection.armsInterventionsModule.armGroups",
        [
            at("label", ITEM).alias("arm_label"),
            at("type", ITEM).alias("arm_type"),
            at("description", ITEM).alias("description"),
        ],
        ordinal="arm_ordinal",
    ),
    "fact_intervention": _list_table(
        "protocolSection.armsInterventionsModule.interventions",
        [
            at("type", ITEM).alias("intervention_type"),
            at("name", ITEM).alias("intervention_name"),
            at("description", ITEM).alias("description"),
            at("otherNames", ITEM).alias("other_names"),
        ],
        ordinal="intervention_ordinal",
    ),
    "bridge_arm_intervention": _bridge_arm_intervention,
    "fact_official": _list_table(
        "protocolSection.contactsLocationsModule.overallOfficials",
        [
            at("role", ITEM).alias("role"),
            at("name", ITEM).alias("full_name"),
            *_official_name_parts(at("name", ITEM)),
            at("affiliation", ITEM).alias("affiliation"),
        ],
    ),
    "fact_secondary_id": _list_table(
        "protocolSection.identificationModule.secondaryIdInfos",
        [
            at("id", ITEM).alias("secondary_id"),
            at("type", ITEM).alias("id_type"),
            at("domain", ITEM).alias("domain"),
            at("link", ITEM).alias("link"),
        ],
    ),
    "fact_unlabelled_term": _list_table("extras.unlabelledTermLines", [ITEM.alias("term_line")]),
    "fact_other_field": _list_table(
        "extras.otherFields", [at("label", ITEM).alias("label"), at("value", ITEM).alias("value")]
    ),
    "fact_sponsor": _sponsors,
    "fact_contact": _contacts,
    "fact_mesh_term": _mesh_terms,
    "fact_reference": _list_table(
        "protocolSection.referencesModule.references",
        [
            at("pmid", ITEM).alias("pmid"),
            at("type", ITEM).alias("reference_type"),
            at("citation", ITEM).alias("citation"),
        ],
    ),
    **results.TABLES,
    "raw_study_record": lambda studies: studies.select(RAW_STUDY_RECORD),
}


# Every star table: those built from the records, then those read out of their free text.
TABLES: tuple[str, ...] = (*BUILDERS, *DERIVED_TABLES)


def build_tables(records: pl.DataFrame) -> dict[str, pl.DataFrame]:
    """All star tables from the staged record frame (only ``accepted`` records are used)."""
    studies = records.filter(pl.col("status") == "accepted")
    return derive({name: build(studies) for name, build in BUILDERS.items()})
