"""Canonical records → star-schema tables.

A table whose columns are read as they stand (a row per study, or per item of one list) is built
from its definition's source paths (``transform/mapping.py``): only what is computed is named here.
Tables built from several lists or by computation (outcomes of every kind, sponsors, contacts,
sites and their de-duplication, the arm–intervention bridge, criteria splitting, the results
tables, the free-text readers) are functions, each named for what it computes. Child tables
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
from pipelines.transform.mapping import item_table, study_table
from pipelines.transform.paths import ITEM, NCT_ID, at, explode_items, exploded, p, tagged_lists
from pipelines.transform.values import age_years

SITE_TABLE = "dim_site"  # shared by studies: the one table without nct_id
DIM_STUDY = study_table(
    "dim_study",
    computed={
        "minimum_age_years": age_years(p("eligibilityModule.minimumAge")),
        "maximum_age_years": age_years(p("eligibilityModule.maximumAge")),
        "is_criteria_nesting_inferred": at("extras.criteriaNestingInferred").fill_null(False),
    },
)


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


def _official_name_parts(full_name: pl.Expr) -> dict[str, pl.Expr]:
    """ "Julia Barbado, MD, PhD" → name "Julia Barbado", degrees "MD, PhD" (split at the first comma)."""
    return {
        "official_name": full_name.str.extract(r"^([^,]*[^,\s])"),
        "degrees": full_name.str.extract(r"^[^,]*,\s*(.+)$"),
    }


BUILDERS: dict[str, Callable[[pl.DataFrame], pl.DataFrame]] = {
    "dim_study": DIM_STUDY,
    "dim_study_description": study_table("dim_study_description"),
    "dim_site": _dim_site,
    "bridge_study_site": _bridge_study_site,
    "fact_outcome": _outcomes,
    "fact_eligibility": _eligibility,
    "fact_condition": item_table("fact_condition"),
    "fact_keyword": item_table("fact_keyword"),
    "fact_arm": item_table("fact_arm"),
    "fact_intervention": item_table("fact_intervention"),
    "bridge_arm_intervention": _bridge_arm_intervention,
    "fact_official": item_table("fact_official", computed=_official_name_parts(at("name", ITEM))),
    "fact_secondary_id": item_table("fact_secondary_id"),
    "fact_unlabelled_term": item_table("fact_unlabelled_term"),
    "fact_other_field": item_table("fact_other_field"),
    "fact_sponsor": _sponsors,
    "fact_contact": _contacts,
    "fact_mesh_term": _mesh_terms,
    "fact_reference": item_table("fact_reference"),
    **results.TABLES,
    "raw_study_record": study_table("raw_study_record"),
}


# Every star table: those built from the records, then those read out of their free text.
TABLES: tuple[str, ...] = (*BUILDERS, *DERIVED_TABLES)


def build_tables(records: pl.DataFrame) -> dict[str, pl.DataFrame]:
    """All star tables from the staged record frame (only ``accepted`` records are used)."""
    studies = records.filter(pl.col("status") == "accepted")
    return derive({name: build(studies) for name, build in BUILDERS.items()})
