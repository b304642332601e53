"""The warehouse report, built from a real warehouse (the bundled samples plus one unreadable file)."""

from __future__ import annotations

import base64
import re
import shutil
import struct
from datetime import UTC
from pathlib import Path

import dagster
import duckdb
import pytest
from dagster_duckdb import DuckDBResource

from pipelines.defs.report import warehouse_report
from pipelines.defs.resources import TrialsSettings
from pipelines.load import apply_ddl
from pipelines.report import Report, build_report, escape
from pipelines.report_charts import CHARTS

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def built(sample_warehouse: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Report, str]:
    report = build_report(sample_warehouse, tmp_path_factory.mktemp("out") / "reports")
    return report, report.html_path.read_text(encoding="utf-8")


def query(db: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(db), read_only=True) as conn:
        return conn.sql(sql).fetchall()


def png_size(data: bytes) -> tuple[int, int]:
    """Width and height from the IHDR chunk, which a PNG must start with."""
    assert data[:8] == PNG_SIGNATURE and data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


def siblings(out_dir: Path) -> list[str]:
    return sorted(path.name for path in out_dir.parent.iterdir())


def test_one_inline_svg_and_one_png_per_chart(built: tuple[Report, str]) -> None:
    report, html = built
    assert list(report.charts) == [spec.name for spec in CHARTS]
    assert html.count("<svg") == len(CHARTS)
    for name, path in report.charts.items():
        assert path == report.html_path.parent / f"{name}.png"
        width, height = png_size(path.read_bytes())
        assert 300 <= width <= 700 and 150 <= height <= 700, (name, width, height)
        assert f'<figure id="{name}"><svg' in html


def test_the_page_fetches_nothing(built: tuple[Report, str]) -> None:
    """Works offline and from file://: no script, stylesheet, image or font to load."""
    _, html = built
    assert "<script" not in html and "<link" not in html and "url(" not in html
    assert re.findall(r'\b(?:src|href)="(?!#)', html) == []
    assert set(re.findall(r"https?://[^\"'\s]+", html)) <= {
        "http://www.w3.org/2000/svg",
        "http://www.w3.org/1999/xlink",
    }


def test_values_match_the_warehouse(sample_warehouse: Path, built: tuple[Report, str]) -> None:
    report, html = built
    ((studies, loaded_at),) = query(sample_warehouse, "SELECT count(*), max(loaded_at) FROM dim_study")
    assert studies == 23 and report.summary["studies"] == studies
    assert f'<div class="card" id="summary-studies"><b>{studies}</b>' in html
    assert f'<dd id="built-at">{loaded_at.astimezone(UTC):%Y-%m-%d %H:%M:%S} UTC</dd>' in html
    assert report.summary["rejected_records"] == 1
    assert "unrecognised format: not API v2 JSON, legacy XML or a classic study page" in html

    per_country = """SELECT s.country, s.country_code, count(DISTINCT b.nct_id), count(DISTINCT s.site_id)
                     FROM dim_site s JOIN bridge_study_site b USING (site_id) GROUP BY ALL"""
    rows = {
        country: (code, n_studies, n_sites)
        for country, code, n_studies, n_sites in query(sample_warehouse, per_country)
    }
    assert len(rows) == report.summary["countries"]
    for country in ("China", max(rows, key=lambda name: rows[name][2])):
        code, n_studies, n_sites = rows[country]
        assert (
            f"<tr><td>{country}</td><td>{code}</td><td class=num>{n_studies}</td><td class=num>{n_sites:,}</td></tr>"
            in html
        )
    assert rows["United States"] == ("US", 10, 1519)  # the top country by sites, in the chart too
    assert "United States (US)" in html and "China (CN)" in html


def test_escape_keeps_markup_from_the_data_as_text() -> None:
    assert (
        escape('<script>alert("x")</script> & co')
        == "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; co"
    )
    assert (escape(None), escape(1519), escape(True), escape(34.78)) == ("—", "1,519", "yes", "34.8")


def test_markup_in_the_warehouse_never_reaches_the_page_as_markup(
    sample_warehouse: Path, tmp_path: Path
) -> None:
    db = tmp_path / "w.duckdb"
    shutil.copy(sample_warehouse, db)
    with duckdb.connect(str(db)) as conn:
        conn.execute(
            "INSERT INTO meta_rejection (run_id, source_uri, source_format, reason, excerpt)"
            " VALUES ('r', 'evil.txt', NULL, '<script>alert(1)</script>', '')"
        )
        # in three studies, so the condition is the most common one and is drawn in the chart
        conn.execute(
            """INSERT INTO fact_condition SELECT nct_id, 99, '<img src=x onerror=alert(2)>'
               FROM dim_study ORDER BY nct_id LIMIT 3"""
        )
    html = build_report(db, tmp_path / "reports").html_path.read_text(encoding="utf-8")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "<script" not in html
    assert "&lt;img src=x onerror=alert(2)&gt;" in html and "<img" not in html


def test_a_rebuild_swaps_the_whole_folder_and_a_failure_keeps_the_last_report(
    sample_warehouse: Path, built: tuple[Report, str], tmp_path: Path
) -> None:
    first, _ = built
    out = tmp_path / "reports"
    shutil.copytree(first.html_path.parent, out)  # the previous report
    (out / "stale.png").write_bytes(PNG_SIGNATURE)
    folder = out.stat().st_ino

    second = build_report(sample_warehouse, out)
    assert out.stat().st_ino != folder  # a new folder renamed into place, not files rewritten in it
    assert sorted(p.name for p in out.iterdir()) == sorted(["index.html", *(f"{s.name}.png" for s in CHARTS)])
    assert list(second.charts) == list(first.charts) and second.summary == first.summary
    assert siblings(out) == ["reports"]  # no temp or retired folder left behind

    page = second.html_path.read_text(encoding="utf-8")
    no_tables = tmp_path / "blank.duckdb"
    duckdb.connect(str(no_tables)).close()
    with pytest.raises(duckdb.CatalogException):
        build_report(no_tables, out)
    with pytest.raises(FileNotFoundError, match=r"no warehouse at .*missing\.duckdb"):
        build_report(tmp_path / "missing.duckdb", out)
    assert second.html_path.read_text(encoding="utf-8") == page
    assert siblings(out) == ["blank.duckdb", "reports"]


def test_an_empty_warehouse_says_so(tmp_path: Path) -> None:
    db = tmp_path / "empty.duckdb"
    with duckdb.connect(str(db)) as conn:
        apply_ddl(conn)
    report = build_report(db, tmp_path / "reports")
    html = report.html_path.read_text(encoding="utf-8")
    assert report.charts == {} and set(report.summary.values()) == {0}
    assert "The warehouse holds no studies yet" in html and "<svg" not in html
    assert html.count("no data yet.") == len(CHARTS)
    assert "No record was rejected." in html and "No load has run yet." in html
    assert [p.name for p in report.html_path.parent.iterdir()] == ["index.html"]


def test_the_asset_shows_the_report_in_dagster(sample_warehouse: Path, tmp_path: Path) -> None:
    result = dagster.materialize(
        [warehouse_report],
        resources={
            "duckdb": DuckDBResource(database=str(sample_warehouse)),
            "settings": TrialsSettings(reports_dir=str(tmp_path / "reports")),
        },
        instance=dagster.DagsterInstance.ephemeral(),
    )
    assert result.success
    (materialization,) = result.asset_materializations_for_node("warehouse_report")
    metadata = materialization.metadata
    assert Path(metadata["report"].path) == tmp_path / "reports" / "index.html"
    assert Path(metadata["report"].path).is_file()
    assert metadata["studies"].value == 23
    for spec in CHARTS:
        markdown = metadata[f"chart_{spec.name}"].md_str
        prefix = f"![{spec.name}](data:image/png;base64,"
        assert markdown.startswith(prefix) and markdown.endswith(")")
        png = base64.b64decode(markdown[len(prefix) : -1])
        assert png == (tmp_path / "reports" / f"{spec.name}.png").read_bytes()
        assert png_size(png)[0] <= 700
    # The read-only connection is closed: this process can open the file read-write again.
    duckdb.connect(str(sample_warehouse)).close()
