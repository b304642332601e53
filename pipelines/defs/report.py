"""The warehouse report as a Dagster asset (the report itself: ``pipelines/report.py``)."""

import base64
import time
from pathlib import Path

from dagster import AssetExecutionContext, AssetKey, MaterializeResult, MetadataValue, asset

from pipelines.defs.resources import TrialsSettings, WarehouseResource
from pipelines.report import build_report


def markdown_image(name: str, png: Path) -> MetadataValue:
    """A PNG inlined in Markdown: the Dagster UI renders ``data:`` images in Markdown metadata."""
    encoded = base64.b64encode(png.read_bytes()).decode("ascii")
    return MetadataValue.md(f"![{name}](data:image/png;base64,{encoded})")


@asset(
    name="warehouse_report",
    group_name="warehouse",
    kinds={"duckdb", "html"},
    deps=[AssetKey("trials_duckdb")],
    description="The warehouse at a glance: a self-contained HTML page (charts of phases, statuses, "
    "countries, enrollment, start years, conditions, interventions; rejections, load runs, NULL rates) "
    "and one PNG per chart, in the reports folder.",
)
def warehouse_report(
    context: AssetExecutionContext, duckdb: WarehouseResource, settings: TrialsSettings
) -> MaterializeResult:
    started = time.perf_counter()
    report = build_report(Path(duckdb.database), Path(settings.reports_dir))
    context.log.info(f"report written to {report.html_path} ({len(report.charts)} charts)")
    return MaterializeResult(
        metadata={
            "report": MetadataValue.path(str(report.html_path)),
            **report.summary,
            **{f"chart_{name}": markdown_image(name, png) for name, png in report.charts.items()},
            "seconds": round(time.perf_counter() - started, 3),
        }
    )
