"""The analysts' views (sql/ddl/views.sql) as the definitions know them: what each is, and where its
columns come from.

The views' SQL stays hand-written in views.sql; their ``COMMENT ON`` lines are generated from here
(``trials ddl``). A view column named like a column of one of its ``tables`` is a copy of it and
inherits its description, unless the view describes it in its own words (``own``: columns it computes,
or where the view's context needs other words); ``renamed`` names the table column a column copies
under another name. The columns themselves, names, order and types, are DuckDB's, read by creating
the views on an empty warehouse: the SQL is their only definition.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import duckdb

from schemas.spec import Column
from schemas.tables import TABLES

# The study's columns every view carries, in the view's words: which study the row belongs to.
STUDY_CONTEXT = {
    "brief_title": "Study brief title (dim_study.brief_title).",
    "phase": 'Study phase(s) joined by "/"; NA when not applicable, NULL when not given.',
    "overall_status": "Study overall recruitment status (dim_study.overall_status).",
}


@dataclass(frozen=True)
class View:
    """A view: ``tables`` are the table it extends (LEFT JOINs from it), then those it joins."""

    name: str
    description: str
    tables: tuple[str, ...]
    own: Mapping[str, str] = field(default_factory=dict)
    renamed: Mapping[str, str] = field(default_factory=dict)

    def copied(self, name: str) -> tuple[str, Column] | None:
        """The table and column that view column ``name`` copies, if it copies one."""
        if name in self.renamed:
            table, column = self.renamed[name].split(".")
            return table, TABLES[table].column(column)
        for table in self.tables:
            if any(column.name == name for column in TABLES[table].columns):
                return table, TABLES[table].column(name)
        return None


@dataclass(frozen=True)
class ViewColumn:
    """A column of a view as the dictionary and the comments show it."""

    name: str
    sql_type: str
    description: str
    nullable: bool
    copies: str | None
    base: Column | None


VIEWS = (
    View(
        "v_study_site",
        "One row per bridge_study_site row: a study's listing of a site with the site's address and the "
        "study's title, phase and status.",
        ("bridge_study_site", "dim_site", "dim_study"),
        own={
            "site_id": "Site (dim_site.site_id); shared by every study listing the same facility and "
            "address.",
            **STUDY_CONTEXT,
        },
    ),
    View(
        "v_study_outcome",
        "One row per fact_outcome row: a registered outcome measure with the study's title, phase and "
        "status.",
        ("fact_outcome", "dim_study"),
        own=STUDY_CONTEXT,
    ),
    View(
        "v_study_eligibility",
        "One row per fact_eligibility row: a criterion item with the study's age limits, sex, "
        "healthy-volunteer "
        "flag, title, phase and status.",
        ("fact_eligibility", "dim_study"),
        own={
            "minimum_age_years": "Study minimum age in years; NULL when no limit.",
            "maximum_age_years": "Study maximum age in years; NULL when no limit.",
            **STUDY_CONTEXT,
        },
    ),
    View(
        "v_study_intervention",
        "Interventions with the arms that receive them: one row per bridge_arm_intervention row, plus one "
        "row "
        "(arm columns NULL) per intervention no arm names, e.g. in expanded-access studies, which have no "
        "arms. "
        "Arms receiving no intervention are only in fact_arm.",
        ("fact_intervention", "bridge_arm_intervention", "fact_arm", "dim_study"),
        own={
            "intervention_ordinal": "Intervention (fact_intervention.intervention_ordinal of the same "
            "study).",
            "arm_ordinal": "Arm (fact_arm.arm_ordinal of the same study); NULL when no arm names this "
            "intervention.",
            **STUDY_CONTEXT,
        },
        renamed={
            "intervention_description": "fact_intervention.description",
            "arm_description": "fact_arm.description",
        },
    ),
    View(
        "v_study_condition",
        "One row per fact_condition row: a condition as written, the MeSH heading it is when the registry "
        "matched that very heading to the study, the study's condition MeSH terms, and the study's title, "
        "phase and status.",
        ("fact_condition", "dim_study"),
        own={
            "mesh_term": "The study's condition MeSH heading equal to condition_name (case aside); NULL when "
            "the name is not one (the registry links terms to the study, not to each condition).",
            "mesh_id": "MeSH descriptor id of mesh_term; NULL when no source gave it (legacy XML).",
            "study_mesh_terms": "All condition MeSH headings the registry matched to the study (not their "
            "ancestors), in source order; NULL when none.",
            **STUDY_CONTEXT,
        },
    ),
    View(
        "v_study_sponsor",
        "One row per fact_sponsor row: the lead sponsor and collaborators of a study with its results flag, "
        "title, phase and status. Classic study pages name no sponsor and have no rows.",
        ("fact_sponsor", "dim_study"),
        own=STUDY_CONTEXT,
    ),
)


def view_columns(ddl: str, views_sql: str) -> dict[str, list[ViewColumn]]:
    """Each view's columns, as DuckDB creates them on an empty warehouse made by ``ddl``, documented.

    Raises ValueError for a view of the SQL the definitions do not know, a defined view the SQL lacks,
    a column with no description, and an ``own`` description of a column the view does not have.
    """
    with duckdb.connect() as conn:
        conn.execute(ddl)
        conn.execute(views_sql)
        rows = conn.execute(
            "SELECT c.table_name, c.column_name, c.data_type FROM duckdb_columns() c"
            " JOIN duckdb_views() v ON v.view_name = c.table_name AND NOT v.internal"
            " ORDER BY v.view_name, c.column_index"
        ).fetchall()
    found: dict[str, list[tuple[str, str]]] = {}
    for view, name, sql_type in rows:
        found.setdefault(view, []).append((name, sql_type))
    defined = {view.name: view for view in VIEWS}
    if set(found) != set(defined):
        raise ValueError(
            f"views.sql and schemas/views.py disagree: views only in the SQL "
            f"{sorted(set(found) - set(defined))}, only defined {sorted(set(defined) - set(found))}"
        )
    return {view.name: _documented(view, found[view.name]) for view in VIEWS}


def _documented(view: View, columns: list[tuple[str, str]]) -> list[ViewColumn]:
    unknown = set(view.own) - {name for name, _ in columns}
    if unknown:
        raise ValueError(
            f"{view.name} has no column {', '.join(sorted(unknown))} (described in schemas/views.py)"
        )
    documented = []
    for name, sql_type in columns:
        copied = view.copied(name)
        table, base = copied or (None, None)
        description = view.own.get(name) or (base.description if base else None)
        if not description:
            raise ValueError(f"{view.name}.{name} copies no table column: describe it in schemas/views.py")
        documented.append(
            ViewColumn(
                name,
                sql_type,
                description,
                # The view's rows are its first table's: a column joined from another may be NULL.
                nullable=base.nullable if base and table == view.tables[0] else True,
                copies=f"{table}.{base.name}" if base else None,
                base=base,
            )
        )
    return documented
