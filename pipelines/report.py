"""The warehouse report: one self-contained HTML page (charts inlined as SVG) and a PNG per chart.

Analysts open ``index.html`` from disk, offline: no script, no stylesheet, no font is fetched. The
warehouse is read on a read-only connection closed before anything is rendered, so a report never
holds DuckDB's file lock while it draws. The folder is built beside its destination and swapped in
whole, so a browser sees the previous report or the new one, never half of one.
"""

import html
import shutil
import tempfile
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb
import polars as pl
import vl_convert

from pipelines.report_charts import CHARTS, CONFIG, ChartSpec
from schemas.tables import column

INDEX = "index.html"
RECENT_RUNS = 10
REJECTION_GROUPS = 50
# Columns whose NULLs an analyst must know about before trusting a chart or a filter on them.
NULL_RATE_COLUMNS = {
    "dim_study": (
        "phase",
        "overall_status",
        "study_type",
        "enrollment_count",
        "enrollment_type",
        "start_date",
        "primary_completion_date",
        "completion_date",
        "minimum_age_years",
        "maximum_age_years",
        "sex",
        "lead_sponsor_name",
        "lead_sponsor_class",
        "has_results",
    ),
    "dim_site": ("country_code", "latitude", "longitude"),
}

SUMMARY_SQL = """
SELECT (SELECT count(*) FROM dim_study) AS studies,
       (SELECT count(*) FROM dim_site) AS sites,
       (SELECT count(DISTINCT country) FROM dim_site) AS countries,
       (SELECT count(*) FROM bridge_study_site) AS site_listings,
       (SELECT count(DISTINCT condition_name) FROM fact_condition) AS conditions,
       (SELECT count(DISTINCT intervention_name) FROM fact_intervention) AS interventions,
       (SELECT count(*) FILTER (WHERE has_results) FROM dim_study) AS studies_with_results,
       (SELECT count(*) FROM meta_load_run) AS load_runs,
       (SELECT count(DISTINCT source_uri) FROM meta_rejection) AS rejected_records
"""
BUILT_SQL = """
SELECT max(loaded_at), string_agg(DISTINCT pipeline_version, ', ' ORDER BY pipeline_version) FROM dim_study
"""
COUNTRIES_SQL = """
SELECT s.country, s.country_code AS "ISO code", count(DISTINCT b.nct_id) AS studies,
       count(DISTINCT s.site_id) AS sites
FROM dim_site s JOIN bridge_study_site b USING (site_id)
GROUP BY ALL ORDER BY studies DESC, sites DESC, s.country
"""
REJECTIONS_SQL = f"""
SELECT coalesce(source_format, 'unrecognised') AS source, reason, count(DISTINCT source_uri) AS records,
       min(source_uri) AS example
FROM meta_rejection
GROUP BY ALL ORDER BY records DESC, source, reason LIMIT {REJECTION_GROUPS}
"""
LOAD_RUNS_SQL = f"""
SELECT run_id AS run, started_at AS started, round(epoch(finished_at - started_at), 1) AS seconds,
       records_read AS read, records_new AS new, records_changed AS changed,
       records_unchanged AS unchanged, records_rejected AS rejected, records_superseded AS superseded,
       pipeline_version AS "pipeline version"
FROM meta_load_run ORDER BY started_at DESC LIMIT {RECENT_RUNS}
"""


@dataclass(frozen=True)
class Report:
    """Where a built report is, and the headline numbers it shows."""

    html_path: Path
    charts: dict[str, Path]
    summary: dict[str, int | float]


@dataclass(frozen=True)
class Snapshot:
    """Everything the report shows, read in one read-only session of the warehouse."""

    database: Path
    built_at: datetime | None
    pipeline_versions: str | None
    summary: dict[str, int | float]
    chart_rows: dict[str, pl.DataFrame]
    countries: pl.DataFrame
    rejections: pl.DataFrame
    load_runs: pl.DataFrame
    null_rates: pl.DataFrame


def null_rates_sql() -> str:
    """One row per watched column: its table's row count and how many of them are NULL."""
    return "\nUNION ALL\n".join(
        f"SELECT '{table}' AS \"table\", '{column}' AS \"column\", count(*) AS rows, "
        f'count(*) - count({column}) AS nulls, round(100.0 * nulls / nullif(rows, 0), 1) AS "NULL %" '
        f"FROM {table}"
        for table, columns in NULL_RATE_COLUMNS.items()
        for column in columns
    )


def read_snapshot(database: Path) -> Snapshot:
    """Query the warehouse read-only; the connection is closed when this returns."""
    if not database.is_file():
        raise FileNotFoundError(f"no warehouse at {database}: run `trials ingest` (or `make run`) first")
    with duckdb.connect(str(database), read_only=True) as conn:
        conn.execute("SET TimeZone = 'UTC'")
        summary = conn.sql(SUMMARY_SQL).pl().row(0, named=True)
        ((built_at, versions),) = conn.sql(BUILT_SQL).fetchall()
        chart_rows = {spec.name: conn.sql(spec.sql).pl() for spec in CHARTS}
        countries, rejections, load_runs, null_rates = (
            conn.sql(sql).pl() for sql in (COUNTRIES_SQL, REJECTIONS_SQL, LOAD_RUNS_SQL, null_rates_sql())
        )
    meaning = [column(t, c).description for t, c in null_rates.select("table", "column").iter_rows()]
    return Snapshot(
        database=database.resolve(),
        built_at=built_at,
        pipeline_versions=versions,
        summary=summary,
        chart_rows=chart_rows,
        countries=countries,
        rejections=rejections,
        load_runs=load_runs,
        null_rates=null_rates.with_columns(meaning=pl.Series(meaning, dtype=pl.String)),
    )


def render_chart(spec: ChartSpec, rows: pl.DataFrame) -> tuple[str, bytes]:
    """The chart as inline SVG (for the page) and PNG (for files and Dagster); nothing fetched."""
    vega_lite = spec.draw(rows, spec.title).to_dict()
    svg = vl_convert.vegalite_to_svg(vega_lite, config=CONFIG, allowed_base_urls=[])
    return svg, vl_convert.svg_to_png(svg)  # the same pixels as vegalite_to_png, without a second layout


def escape(value: object) -> str:
    """A value from the data as HTML text: formatted for reading, then escaped (``<script>`` stays text)."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:,.1f}"
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S %Z").strip()
    if isinstance(value, date):
        return value.isoformat()
    return html.escape(str(value))


def html_table(frame: pl.DataFrame, empty: str) -> str:
    """The frame as an HTML table, every header and cell escaped; numbers right-aligned."""
    if frame.height == 0:
        return f'<p class="empty">{html.escape(empty)}</p>'
    numeric = [dtype.is_numeric() for dtype in frame.dtypes]
    head = "".join(
        f"<th{' class=num' if num else ''}>{escape(name)}</th>"
        for name, num in zip(frame.columns, numeric, strict=True)
    )
    body = "".join(
        "<tr>"
        + "".join(
            f"<td{' class=num' if num else ''}>{escape(value)}</td>"
            for value, num in zip(row, numeric, strict=True)
        )
        + "</tr>\n"
        for row in frame.iter_rows()
    )
    return f"<table>\n<thead><tr>{head}</tr></thead>\n<tbody>\n{body}</tbody>\n</table>"


def figure(spec: ChartSpec, svg: str | None) -> str:
    """One chart with its caption; a chart without rows says so instead of drawing empty axes."""
    body = svg if svg is not None else f'<p class="empty">{escape(spec.title)}: no data yet.</p>'
    return f'<figure id="{spec.name}">{body}<figcaption>{escape(spec.caption)}</figcaption></figure>'


def render_html(snapshot: Snapshot, svgs: dict[str, str], generated_at: datetime) -> str:
    """The whole page; ``svgs`` are vl-convert's output (Vega escapes the text it draws)."""
    cards = "".join(
        f'<div class="card" id="summary-{name}"><b>{escape(value)}</b><span>{escape(name.replace("_", " "))}'
        "</span></div>"
        for name, value in snapshot.summary.items()
    )
    notice = (
        ""
        if snapshot.summary["studies"]
        else '<p class="notice">The warehouse holds no studies yet: load some with '
        "<code>trials ingest PATH</code> (or <code>make run</code>).</p>"
    )
    figures = "\n".join(figure(spec, svgs.get(spec.name)) for spec in CHARTS)
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Trials warehouse report</title>
<style>{STYLE}</style>
</head>
<body>
<header>
<h1>Trials warehouse report</h1>
<dl>
<dt>warehouse</dt><dd><code>{escape(snapshot.database)}</code></dd>
<dt>last loaded</dt><dd id="built-at">{escape(snapshot.built_at)}</dd>
<dt>pipeline version</dt><dd><code>{escape(snapshot.pipeline_versions)}</code></dd>
<dt>report generated</dt><dd>{escape(generated_at)}</dd>
</dl>
<nav><a href="#charts">Charts</a> · <a href="#countries">Countries</a>
· <a href="#quality">Data quality</a></nav>
</header>
<main>
{notice}
<section class="cards">{cards}</section>
<section id="charts"><h2>Charts</h2>
<div class="grid">
{figures}
</div>
</section>
<section id="countries"><h2>Countries</h2>
<p>Studies listing at least one site in the country, and the distinct sites there.</p>
<details><summary>{escape(snapshot.countries.height)} countries: show the table</summary>
{html_table(snapshot.countries, "No site is listed yet.")}
</details>
</section>
<section id="quality"><h2>Data quality</h2>
<h3>Rejected records</h3>
<p>Records a load could not read as studies, by source format and reason (all runs).</p>
{html_table(snapshot.rejections, "No record was rejected.")}
<h3>Last load runs</h3>
<p>read = new + changed + unchanged + rejected + superseded.</p>
{html_table(snapshot.load_runs, "No load has run yet.")}
<h3>NULL rates of key columns</h3>
<p>NULL means the source did not state the value (it is never guessed); the column comment says what a
NULL means for that column.</p>
{html_table(snapshot.null_rates, "No column to check.")}
</section>
</main>
</body>
</html>
"""


STYLE = """
:root { color-scheme: light; --ink: #1d2430; --muted: #5b6473; --line: #dfe3ea; --accent: #4c78a8; }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif;
       color: var(--ink); background: #f6f7f9; }
header, main { max-width: 1500px; margin: 0 auto; padding: 0 24px; }
header { padding-top: 24px; }
h1 { margin: 0 0 8px; font-size: 26px; }
h2 { margin: 36px 0 12px; font-size: 20px; border-bottom: 2px solid var(--line); padding-bottom: 4px; }
h3 { margin: 24px 0 6px; font-size: 16px; }
p { margin: 4px 0 10px; color: var(--muted); }
dl { display: grid; grid-template-columns: max-content 1fr; gap: 2px 16px; margin: 0 0 10px; }
dt { color: var(--muted); }
dd { margin: 0; overflow-wrap: anywhere; }
code { font: 13px/1.4 ui-monospace, "DejaVu Sans Mono", monospace; }
nav a { color: var(--accent); }
.notice { padding: 12px 16px; background: #fff4d6; border: 1px solid #f0d58a; border-radius: 6px;
          color: var(--ink); }
.cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(110px, 1fr)); gap: 12px;
         margin: 20px 0; }
.card { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 10px 14px; }
.card b { display: block; font-size: 24px; font-variant-numeric: tabular-nums; }
.card span { color: var(--muted); font-size: 13px; }
.grid { display: grid; grid-template-columns: repeat(auto-fill, minmax(min(100%, 560px), 1fr)); gap: 16px; }
figure { margin: 0; background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 12px; }
figure svg { display: block; max-width: 100%; height: auto; }
figcaption { margin-top: 6px; color: var(--muted); font-size: 13px; }
table { border-collapse: collapse; background: #fff; border: 1px solid var(--line); font-size: 13px;
        margin-bottom: 8px; }
th, td { padding: 4px 10px; border-bottom: 1px solid var(--line); text-align: left; vertical-align: top; }
th { background: #eef1f5; position: sticky; top: 0; }
tbody tr:nth-child(even) { background: #fafbfc; }
.num { text-align: right; font-variant-numeric: tabular-nums; }
.empty { font-style: italic; }
details summary { cursor: pointer; color: var(--accent); margin-bottom: 6px; }
"""


def publish(staged: Path, out_dir: Path) -> None:
    """Swap the finished folder in place of the previous report.

    POSIX cannot rename a folder over a non-empty one, so the old report is first renamed aside: for
    the microseconds between the two renames the folder is absent, but it is never half written.
    """
    retired = out_dir.with_name(f".{out_dir.name}.old-{uuid.uuid4().hex[:12]}")
    if out_dir.exists():
        out_dir.rename(retired)
    try:
        staged.rename(out_dir)
    except OSError:
        if retired.exists():
            retired.rename(out_dir)
        raise
    shutil.rmtree(retired, ignore_errors=True)


def build_report(database: Path, out_dir: Path) -> Report:
    """Write ``out_dir/index.html`` and ``out_dir/<chart>.png`` from the warehouse at ``database``.

    ``out_dir`` belongs to the report: it is replaced whole, so files put there by hand do not survive
    a rebuild. A missing database raises ``FileNotFoundError`` and leaves any previous report as it was.
    """
    database, out_dir = Path(database), Path(out_dir)
    snapshot = read_snapshot(database)
    generated_at = datetime.now(UTC)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    staged = Path(tempfile.mkdtemp(dir=out_dir.parent, prefix=f".{out_dir.name}.building-"))
    try:
        staged.chmod(0o755)  # mkdtemp makes it private; a report is meant to be read (web server, team)
        svgs: dict[str, str] = {}
        for spec in CHARTS:
            rows = snapshot.chart_rows[spec.name]
            if rows.height:
                svgs[spec.name], png = render_chart(spec, rows)
                (staged / f"{spec.name}.png").write_bytes(png)
        (staged / INDEX).write_text(render_html(snapshot, svgs, generated_at), encoding="utf-8")
        publish(staged, out_dir)
    except BaseException:
        shutil.rmtree(staged, ignore_errors=True)
        raise
    return Report(
        html_path=out_dir / INDEX,
        charts={name: out_dir / f"{name}.png" for name in svgs},
        summary=snapshot.summary,
    )
