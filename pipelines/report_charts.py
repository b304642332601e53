"""The warehouse report's charts: one declarative entry per chart (its SQL and how to draw it).

Every query aggregates in DuckDB, so a chart's Vega-Lite spec carries a few dozen rows whatever the
size of the warehouse, and rendering stays fast for 30,000 studies as for 23. The specs are drawn
with Altair and rendered offline by vl-convert (SVG for the page, PNG for files and Dagster).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import altair as alt
import polars as pl

from pipelines.vocabulary import PHASES

NOT_STATED = "(not stated)"
WIDTH = 460  # plot area; with axis labels and legend a chart stays under 700 px wide
TOP_COUNTRIES = 20
TOP_TERMS = 15
ENROLLMENT_BIN = 0.25  # log10 units: four bins per decade
# Phases in the order of drug development, each combination after its first phase, then NA.
PHASE_ORDER = [*dict.fromkeys("/".join(phases) for phases in PHASES.values() if phases != ("NA",)), "NA"]
DATE_TYPE_COLORS = {"ACTUAL": "#4c78a8", "ESTIMATED": "#f58518", NOT_STATED: "#9d9590"}
CONFIG = {
    "font": "DejaVu Sans, Verdana, sans-serif",
    "title": {"fontSize": 14, "anchor": "start", "subtitleColor": "#555", "subtitleFontSize": 11},
    "axis": {"labelFontSize": 11, "titleFontSize": 11, "titleColor": "#333", "labelColor": "#333"},
    "legend": {"labelFontSize": 11, "titleFontSize": 11, "orient": "top"},
    "view": {"stroke": None},
}


@dataclass(frozen=True)
class ChartSpec:
    """A chart of the report: ``sql`` returns the aggregated rows, ``draw`` turns them into a chart.

    ``title`` is drawn in the chart (the PNG stands alone in Dagster); ``caption`` says how to read it.
    """

    name: str
    title: str
    caption: str
    sql: str
    draw: Callable[[pl.DataFrame, str], alt.TopLevelMixin]  # (rows, title) → chart


def titled(chart: alt.TopLevelMixin, title: str, subtitle: str = "") -> alt.TopLevelMixin:
    """The title goes in the chart itself, so a PNG shown alone (Dagster, a slide) still says what it is."""
    return chart.properties(title=alt.Title(title, subtitle=subtitle or alt.Undefined))


def ranked_bars(frame: pl.DataFrame, label: str, title: str) -> alt.TopLevelMixin:
    """Horizontal bars of ``studies`` by ``label`` in the frame's order, each bar with its count."""
    order = frame[label].to_list()
    base = alt.Chart(frame).encode(
        y=alt.Y(f"{label}:N", sort=order, title=None, axis=alt.Axis(labelLimit=230)),
        x=alt.X("studies:Q", title="studies", axis=alt.Axis(tickMinStep=1, format="d")),
    )
    bars = base.mark_bar(color="#4c78a8") + base.mark_text(align="left", dx=3, fontSize=10).encode(
        text="studies:Q"
    )
    return titled(bars.properties(width=WIDTH - 120), title)


def interval_bars(frame: pl.DataFrame, step: float, domain: list[float], x_axis: alt.Axis) -> alt.Chart:
    """Bars from ``bin_start`` to ``bin_start + step`` on a continuous axis, stacked by date type.

    Only the date types present get a colour and a legend entry, in the order of ``DATE_TYPE_COLORS``.
    """
    present = [kind for kind in DATE_TYPE_COLORS if kind in set(frame["date_type"])]
    colors = alt.Scale(domain=present, range=[DATE_TYPE_COLORS[kind] for kind in present])
    return (
        alt.Chart(frame)
        .transform_calculate(
            bin_end=f"datum.bin_start + {step}", stack_order=f"indexof({present}, datum.date_type)"
        )
        .mark_bar(stroke="white", strokeWidth=0.5)
        .encode(
            x=alt.X("bin_start:Q", scale=alt.Scale(domain=domain, nice=False, zero=False), axis=x_axis),
            x2="bin_end:Q",
            y=alt.Y("sum(studies):Q", title="studies", axis=alt.Axis(tickMinStep=1, format="d")),
            color=alt.Color("date_type:N", scale=colors, sort=present, title=None),
            order=alt.Order("stack_order:Q"),
        )
        .properties(width=WIDTH, height=220)
    )


def phase_status(frame: pl.DataFrame, title: str) -> alt.TopLevelMixin:
    """A heatmap with each cell's count written in it (colour alone does not give numbers);
    statuses by frequency, phases in development order."""
    base = alt.Chart(frame).encode(
        x=alt.X(
            "overall_status:N",
            sort=alt.EncodingSortField("studies", op="sum", order="descending"),
            title=None,
            axis=alt.Axis(labelAngle=-35, labelLimit=180),
        ),
        y=alt.Y("phase:N", sort=[*PHASE_ORDER, NOT_STATED], title=None),
    )
    cells = base.mark_rect(stroke="white").encode(
        color=alt.Color("studies:Q", scale=alt.Scale(scheme="blues"), legend=None)
    )
    high = frame["studies"].max() / 2 if frame.height else 0
    counts = base.mark_text(fontSize=10).encode(
        text=alt.Text("studies:Q", format=","),
        color=alt.condition(alt.datum.studies > high, alt.value("white"), alt.value("#222")),
    )
    return titled((cells + counts).properties(width={"step": 40}, height={"step": 24}), title)


def enrollment(frame: pl.DataFrame, title: str) -> alt.TopLevelMixin:
    """Enrollment spans 0 to tens of thousands: log bins labelled by decade; zeros counted in the subtitle."""
    zeros = frame.filter(pl.col("bin_start").is_null())["studies"].sum()
    logged = frame.filter(pl.col("bin_start").is_not_null())
    top = math.ceil(logged["bin_start"].max() + ENROLLMENT_BIN) if logged.height else 1
    decades = alt.Axis(
        title="participants (log scale)",
        values=list(range(top + 1)),
        labelExpr="format(pow(10, datum.value), ',')",
    )
    chart = interval_bars(logged, ENROLLMENT_BIN, [0, top], decades)
    left_out = f"{zeros:,} with 0 participants cannot sit on a log scale and are left out" if zeros else ""
    return titled(chart, title, left_out)


def start_years(frame: pl.DataFrame, title: str) -> alt.TopLevelMixin:
    """Years on a continuous axis, so a year without studies shows as a gap."""
    years = alt.Axis(title="start year", format="d", tickMinStep=1, labelOverlap=True)
    domain = [frame["bin_start"].min(), frame["bin_start"].max() + 1]
    return titled(interval_bars(frame, 1, domain, years), title)


CHARTS: tuple[ChartSpec, ...] = (
    ChartSpec(
        "phase_status",
        "Phase × overall status",
        "Studies per phase and recruitment status; studies without a phase (observational, expanded "
        f"access, or not given) are in the row {NOT_STATED}.",
        f"""SELECT coalesce(phase, '{NOT_STATED}') AS phase, overall_status, count(*) AS studies
            FROM dim_study GROUP BY ALL ORDER BY ALL""",
        phase_status,
    ),
    ChartSpec(
        "studies_by_country",
        f"Studies per country (top {TOP_COUNTRIES})",
        f"The {TOP_COUNTRIES} countries with the most studies listing at least one site there "
        "(a study with sites in several countries counts in each).",
        f"""SELECT s.country || coalesce(' (' || s.country_code || ')', '') AS country,
                   count(DISTINCT b.nct_id) AS studies
            FROM bridge_study_site b JOIN dim_site s USING (site_id)
            GROUP BY ALL ORDER BY studies DESC, country LIMIT {TOP_COUNTRIES}""",
        lambda frame, title: ranked_bars(frame, "country", title),
    ),
    ChartSpec(
        "enrollment",
        "Enrollment: participants per study",
        "Studies by number of participants, in quarter-decade bins on a log scale; ESTIMATED is the "
        "target of a study still enrolling, ACTUAL the count reached.",
        f"""SELECT CASE WHEN enrollment_count > 0
                   THEN floor(log10(enrollment_count) / {ENROLLMENT_BIN}) * {ENROLLMENT_BIN}
                   END::DOUBLE AS bin_start,
                   coalesce(enrollment_type, '{NOT_STATED}') AS date_type, count(*) AS studies
            FROM dim_study WHERE enrollment_count IS NOT NULL GROUP BY ALL ORDER BY ALL""",
        enrollment,
    ),
    ChartSpec(
        "start_years",
        "Studies by start year",
        "Studies per start year; ESTIMATED start dates are plans (a study not started yet).",
        f"""SELECT year(start_date) - 0.5::DOUBLE AS bin_start, -- a year's bar centred on its tick
                   coalesce(start_date_type, '{NOT_STATED}') AS date_type,
                   count(*) AS studies
            FROM dim_study WHERE start_date IS NOT NULL GROUP BY ALL ORDER BY ALL""",
        start_years,
    ),
    ChartSpec(
        "top_conditions",
        f"Top {TOP_TERMS} conditions",
        f"The {TOP_TERMS} conditions listed by the most studies, as the sponsors wrote them.",
        f"""SELECT condition_name AS condition, count(DISTINCT nct_id) AS studies FROM fact_condition
            GROUP BY ALL ORDER BY studies DESC, condition LIMIT {TOP_TERMS}""",
        lambda frame, title: ranked_bars(frame, "condition", title),
    ),
    ChartSpec(
        "top_interventions",
        f"Top {TOP_TERMS} interventions",
        f"The {TOP_TERMS} interventions given by the most studies, as named (a placebo counts once per "
        "study).",
        f"""SELECT intervention_name AS intervention, count(DISTINCT nct_id) AS studies
            FROM fact_intervention
            GROUP BY ALL ORDER BY studies DESC, intervention LIMIT {TOP_TERMS}""",
        lambda frame, title: ranked_bars(frame, "intervention", title),
    ),
)
