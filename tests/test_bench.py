"""The benchmark harness at a tiny size: corpora of each layout, and one run of all five tools."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import orjson
import pytest

from bench import corpus
from bench.report import Row, summarise

pytestmark = pytest.mark.slow
SIZE = 50
VARIED = ("nctId", "briefTitle", "count", "overallStatus", "lastUpdatePostDateStruct")


def _unvaried(study: dict) -> dict:
    """The study without the fields a copy is given of its own (its id, title suffix, …)."""
    protocol = study["protocolSection"]
    kept = {
        name: {key: value for key, value in module.items() if key not in VARIED}
        for name, module in protocol.items()
    }
    if enrollment := kept.get("designModule", {}).get("enrollmentInfo"):
        kept["designModule"]["enrollmentInfo"] = {k: v for k, v in enrollment.items() if k != "count"}
    return {**study, "protocolSection": kept}


def test_copies_are_the_real_studies_with_unique_ids_cycled() -> None:
    real = corpus.load_samples()
    assert len(real) == 400  # the shared corpus: 400 distinct studies
    copies = list(corpus.studies(len(real) + 1, real))
    ids = [study["protocolSection"]["identificationModule"]["nctId"] for study in copies]
    assert len(set(ids)) == len(copies) and all(i.startswith("NCT9") for i in ids)
    originals = [orjson.loads(study) for study in real]
    assert [_unvaried(study) for study in copies[:-1]] == [_unvaried(study) for study in originals]
    assert _unvaried(copies[-1]) == _unvaried(originals[0])  # the 401st is the first again, new id
    title = originals[0]["protocolSection"]["identificationModule"]["briefTitle"]
    assert copies[-1]["protocolSection"]["identificationModule"]["briefTitle"] == f"{title} [copy 400]"
    # the option to copy another folder of study files stays
    assert corpus.load_samples(corpus.ROOT / "warehouse" / "landing" / "api_v2")


def test_corpora_hold_distinct_studies_in_each_layout(tmp_path: Path) -> None:
    ndjson = corpus.build("ndjson", SIZE, cache=tmp_path)
    lines = ndjson.path.read_bytes().splitlines()
    ids = [orjson.loads(line)["protocolSection"]["identificationModule"]["nctId"] for line in lines]
    assert len(set(ids)) == len(set(lines)) == SIZE
    assert ndjson.content_bytes == sum(map(len, lines))
    real = {orjson.dumps(_unvaried(orjson.loads(study))) for study in corpus.load_samples()}
    drawn = {orjson.dumps(_unvaried(orjson.loads(line))) for line in lines}
    assert len(drawn) == SIZE and drawn <= real  # 50 distinct real studies

    bulk = corpus.build("zip", SIZE, cache=tmp_path)
    with zipfile.ZipFile(bulk.path) as archive:
        members = archive.namelist()
        assert (
            orjson.loads(archive.read(members[0]))["protocolSection"]["identificationModule"]["nctId"]
            == ids[0]
        )
    assert [Path(member).stem for member in members] == ids
    assert all(member.count("/") == 1 for member in members)  # in folders, as the bulk download
    assert bulk.content_bytes == ndjson.content_bytes

    classic = corpus.build("classic", SIZE, cache=tmp_path)
    pages = sorted(classic.path.glob("*.txt"))
    assert [page.stem for page in pages] == ids
    assert all(f"ClinicalTrials.gov Identifier: {page.stem}" in page.read_text() for page in pages)

    legacy = corpus.build("xml", SIZE, cache=tmp_path)
    with zipfile.ZipFile(legacy.path) as archive:
        members = archive.namelist()
        assert [Path(member).stem for member in members] == ids
        assert all(member.count("/") == 1 for member in members)  # in folders, as AllPublicXML
        records = [archive.read(member) for member in members]
    assert legacy.content_bytes == sum(map(len, records))
    assert all(
        f"<nct_id>{stem}</nct_id>".encode() in record for stem, record in zip(ids, records, strict=True)
    )

    modified = ndjson.path.stat().st_mtime_ns
    assert corpus.build("ndjson", SIZE, cache=tmp_path) == ndjson  # reused, not rebuilt
    assert ndjson.path.stat().st_mtime_ns == modified


def test_harness_measures_each_tool_in_its_own_process(tmp_path: Path) -> None:
    out = tmp_path / "results"
    options = ["--sizes", str(SIZE), "--layouts", "ndjson", "--out", str(out), "--corpora", str(tmp_path)]
    done = subprocess.run(
        [sys.executable, "-m", "bench.run", *options],
        cwd=corpus.ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert "| classic | classic | 50 |" in done.stdout  # the table is printed as it goes
    assert "| xml | xml | 50 |" in done.stdout

    [results_file] = out.glob("*.json")
    results = orjson.loads(results_file.read_bytes())
    rows = {row["tool"]: row for row in results["rows"]}
    assert list(rows) == ["duckdb", "ours", "dlt", "classic", "xml"]
    for row in rows.values():
        assert row["error"] is None
        assert row["size"] == SIZE and not row["extrapolated"]
        assert min(row["wall_s"], row["cpu_s"], row["peak_rss_mb"], row["per_s"], row["mb_per_s"]) > 0
    assert rows["ours"]["facts"]["dim_study"] == SIZE and rows["ours"]["tree_peak_mb"] > 0
    assert rows["duckdb"]["facts"]["rows"] == rows["dlt"]["facts"]["rows"] == SIZE
    for parser in ("classic", "xml"):
        assert rows[parser]["facts"]["records"] == SIZE and rows[parser]["facts"]["rejected"] == 0
        assert rows[parser]["facts"]["records_per_core_s"] > 0
    ratios = {(ratio["ratio"], ratio["layout"]) for ratio in results["ratios"]}
    assert {("classic pages/s per core", "classic"), ("legacy XML records/s per core", "xml")} <= ratios
    # Peak RSS is each child's own: the small classic run after dlt does not inherit dlt's peak.
    assert rows["classic"]["peak_rss_mb"] < 100 < rows["dlt"]["peak_rss_mb"]
    assert results["machine"]["nproc"] >= 1 and results["machine"]["git_commit"]
    assert {target["target"] for target in results["targets"]} >= {"classic ≥ 1,000 pages/s per core"}
    assert "| ours | ndjson | 50 |" in (out / results_file.with_suffix(".md").name).read_text()


def test_targets_are_judged_at_the_largest_size() -> None:
    def row(tool: str, size: int, wall_s: float, memory: float, measured_size: int | None = None) -> Row:
        parser = tool in ("classic", "xml")
        facts = {"records_per_core_s": size / wall_s} if parser else {}
        layout = tool if parser else "ndjson"
        return Row(
            tool, layout, size, measured_size or size, size * 20_000, wall_s, wall_s, memory, 0.0, facts
        )

    rows = [
        row("duckdb", 100, 1.0, 100),
        row("ours", 100, 3.0, 600),
        row("duckdb", 1000, 5.0, 100),
        row("ours", 1000, 9.0, 700),
        row("dlt", 1000, 50.0, 900, measured_size=100),
        row("classic", 1000, 2.0, 50),
        row("xml", 1000, 4.0, 50),
    ]
    results = summarise(rows, machine={}, options={})
    met = {target["target"]: (target["shown"], target["met"]) for target in results["targets"]}
    assert met == {
        "ours ≤ 2× DuckDB wall time": ("1.80×", True),
        "ours ≥ 5× faster than dlt (dlt extrapolated from 100)": ("5.6×", True),
        "peak memory at 1,000 ≤ 1.2× at 100": ("1.17×", True),
        "classic ≥ 1,000 pages/s per core": ("500 pages/s", False),
        "full registry < 4 min, projected from 600,000 studies": ("5,400 s", False),
        "full registry < 4 min, projected from 10.3 GB of JSON": ("4,635 s", False),
        "peak memory < 3 GB (largest of all sizes)": ("700 MB", True),
    }
    ratios = {(ratio["ratio"], ratio["size"]): ratio["value"] for ratio in results["ratios"]}
    assert ratios[("ours / DuckDB wall time", 100)] == 3.0
    assert ratios[("legacy XML records/s per core", 1000)] == 250.0
    assert [p["tool"] for p in results["projections"]] == ["ours", "duckdb"]
