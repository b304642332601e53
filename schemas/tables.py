"""Every warehouse table, in the order sql/ddl/warehouse.sql creates them and docs/dictionary.md
documents them: the star tables (``schemas.star``, the contract) and those the load writes with its
own SQL (``schemas.load_tables``).
"""

from __future__ import annotations

from schemas.load_tables import LOAD_TABLES, MIGRATIONS
from schemas.spec import Column, Migration, Table, from_model
from schemas.star import MODELS

# Each table beside the ones it extends; a table not listed here follows the listed ones.
ORDER = (
    "dim_study",
    "dim_study_description",
    "dim_site",
    "bridge_study_site",
    "fact_outcome",
    "fact_eligibility",
    "fact_eligibility_threshold",
    "fact_outcome_timepoint",
    "fact_condition",
    "fact_keyword",
    "fact_arm",
    "fact_intervention",
    "fact_dose",
    "bridge_arm_intervention",
    "fact_official",
    "fact_secondary_id",
    "fact_unlabelled_term",
    "fact_other_field",
    "fact_sponsor",
    "fact_contact",
    "fact_mesh_term",
    "fact_reference",
    "fact_result_outcome",
    "fact_result_group",
    "fact_result_denom",
    "fact_result_measurement",
    "dim_study_history",
    "raw_study_record",
    "meta_load_run",
    "meta_landing_file",
    "meta_rejection",
    "meta_data_issue",
    "meta_schema",
)

_DEFINED = {name: from_model(name, model) for name, model in MODELS.items()} | {
    table.name: table for table in LOAD_TABLES
}
TABLES: dict[str, Table] = {
    name: _DEFINED[name] for name in (*ORDER, *(n for n in _DEFINED if n not in ORDER))
}


def column(table: str, name: str) -> Column:
    """The definition of ``table.name`` (KeyError for a column no table has)."""
    return TABLES[table].column(name)


def migrations_after(table: str) -> list[Migration]:
    """The migrations emitted right after ``table`` is created: those whose last table (in ``TABLES``'
    order) it is, since every table a migration alters must exist before it runs."""
    position = list(TABLES).index
    return [
        migration
        for migration in MIGRATIONS
        if max(position(name.split(".")[0]) for name in (*migration.added, *migration.retyped))
        == position(table)
    ]
