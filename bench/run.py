"""The benchmark: our pipeline vs DuckDB's read_json vs dlt vs the classic and XML parsers, on the same files.

For each size, every tool runs in a child process of its own (its wall time, CPU time and peak RSS
are its own: ``bench.measure``) on corpora built once from real records (``bench.corpus``):

- ``duckdb``: ``CREATE TABLE raw AS SELECT * FROM read_json(<ndjson>)`` into a fresh file — the floor;
- ``ours``: ``trials ingest <corpus> --db <fresh file>``, the whole Dagster job, on each layout;
- ``dlt``: a ``@dlt.resource`` of the decoded studies into a fresh DuckDB file, normalised by dlt
  (measured at most at ``--dlt-max-size`` studies; larger sizes are extrapolated from that rate);
- ``classic``: ``classic_page.parse`` over as many classic pages, in one process;
- ``xml``: ``legacy_xml.parse`` over as many legacy XML records, in one process.

The table is printed as it goes; ratios, projections and targets follow, and everything is written
to ``bench/results/<date>.json`` and ``.md`` (see bench/README.md).

    python -m bench.run --sizes 10000 100000
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from datetime import date, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

import orjson

from bench import corpus, report
from bench.measure import Measurement, measure
from bench.report import Row
from bench.workers import DLT_FILE_FORMATS

TOOLS = ("duckdb", "ours", "dlt", "classic", "xml")
# The tools that time a parser's loop in one process, and the layout each reads.
PARSERS = {"classic": "classic", "xml": "xml"}
OURS_LAYOUTS = ("zip", "ndjson")
RESULTS = corpus.ROOT / "bench" / "results"
TRIALS = Path(sys.executable).parent / "trials"


@dataclass
class Bench:
    """What one invocation needs to run a tool: options, corpora cache, scratch space."""

    args: argparse.Namespace
    scratch: Path
    dlt_runs: dict[int, Row] = field(default_factory=dict)
    corpora: dict[tuple[str, int], corpus.Corpus] = field(default_factory=dict)

    def corpus(self, layout: str, size: int) -> corpus.Corpus:
        """The cached corpus, built by a child process (building a big zip would swell the harness)."""
        if (layout, size) not in self.corpora:
            options = ["--layout", layout, "--size", str(size), "--samples", str(self.args.samples)]
            built = _last_json_line(_run("bench.corpus", *options, "--cache", str(self.args.corpora)))
            self.corpora[layout, size] = corpus.Corpus(**{**built, "path": Path(built["path"])})
        return self.corpora[layout, size]

    def env(self, work: Path) -> dict[str, str]:
        """The child's environment: no telemetry, and every tool's state in its own scratch folder."""
        home = work / "dagster_home"
        home.mkdir(parents=True)
        (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
        return {
            **os.environ,
            "DAGSTER_HOME": str(home),
            "TRIALS_REPORTS_DIR": str(work / "reports"),
            "DLT_DATA_DIR": str(work / "dlt_data"),
            "RUNTIME__DLTHUB_TELEMETRY": "false",
        }

    def run(self, tool: str, layout: str, size: int) -> Row:
        if tool == "dlt" and size > self.args.dlt_max_size:
            return self.extrapolated_dlt(size)
        source = self.corpus(layout, size)
        work = self.scratch / f"{tool}-{layout}-{size}"
        database = work / "out.duckdb"
        try:
            result = measure(
                self.command(tool, source.path, work), self.env(work), work / "logs", corpus.ROOT
            )
            facts, error = self.check(tool, size, result, database)
            if database.exists():
                facts["db_mb"] = database.stat().st_size / 1e6
        finally:
            shutil.rmtree(work, ignore_errors=True)
        row = Row(
            tool=tool,
            layout=layout,
            size=size,
            measured_size=size,
            content_bytes=source.content_bytes,
            wall_s=result.wall_s,
            cpu_s=result.cpu_s,
            peak_rss_mb=result.peak_rss_mb,
            tree_peak_mb=result.tree_peak_mb,
            facts=facts,
            error=error,
        )
        if tool == "dlt":
            self.dlt_runs[size] = row
        return row

    def command(self, tool: str, source: Path, work: Path) -> list[str]:
        database = str(work / "out.duckdb")
        if tool == "ours":
            return [str(TRIALS), *_ingest_args(source, work)]
        worker = [sys.executable, "-m", "bench.workers", tool, str(source)]
        if tool == "duckdb":
            return [*worker, database, "--memory-limit", self.args.duckdb_memory_limit]
        if tool == "dlt":
            return [
                *worker,
                database,
                str(work / "dlt_pipelines"),
                "--file-format",
                self.args.dlt_file_format,
            ]
        return worker

    def check(
        self, tool: str, size: int, result: Measurement, database: Path
    ) -> tuple[dict[str, Any], str | None]:
        """The tool's facts, and an error unless it exited cleanly having loaded every record."""
        if result.returncode != 0:
            return {}, f"exit {result.returncode}: {_tail(result.stderr)}"
        if tool == "ours":
            facts = _last_json_line(_run("bench.workers", "warehouse", str(database)))
            loaded = facts["dim_study"]
        else:
            facts = _last_json_line(result.stdout)
            loaded = facts["records"] - facts["rejected"] if tool in PARSERS else facts["rows"]
        return facts, None if loaded == size else f"loaded {loaded} of {size}"

    def extrapolated_dlt(self, size: int) -> Row:
        """dlt at ``size`` from its rate at ``--dlt-max-size`` (measured once per invocation)."""
        cap = self.args.dlt_max_size
        measured = self.dlt_runs.get(cap) or self.run("dlt", "ndjson", cap)
        scale = size / cap
        return Row(
            tool="dlt",
            layout="ndjson",
            size=size,
            measured_size=cap,
            content_bytes=self.corpus("ndjson", size).content_bytes,
            wall_s=measured.wall_s * scale,
            cpu_s=measured.cpu_s * scale,
            peak_rss_mb=measured.peak_rss_mb,  # memory as measured: not scaled
            tree_peak_mb=measured.tree_peak_mb,
            facts=measured.facts,
            error=measured.error,
        )

    def profile(self, layout: str, size: int, out: Path) -> Measurement:
        """Ours once under pyinstrument (the sampling profiler; its text report goes to ``out``)."""
        source = self.corpus(layout, size)
        work = self.scratch / f"profile-{layout}-{size}"
        profiler = [sys.executable, "-m", "pyinstrument", "-r", "text", "--no-color", "-o", str(out)]
        command = [*profiler, "-m", "pipelines.cli", *_ingest_args(source.path, work)]
        try:
            return measure(command, self.env(work), work / "logs", corpus.ROOT)
        finally:
            shutil.rmtree(work, ignore_errors=True)


def _ingest_args(source: Path, work: Path) -> list[str]:
    """``trials ingest`` into a fresh DuckDB file and staging folder inside ``work``."""
    return ["ingest", str(source), "--db", str(work / "out.duckdb"), "--staging", str(work / "staging")]


def _run(module: str, *args: str) -> str:
    """An unmeasured child's output (a child process, so the harness stays small: see bench.measure)."""
    command = [sys.executable, "-m", module, *args]
    return subprocess.run(command, cwd=corpus.ROOT, stdout=subprocess.PIPE, text=True, check=True).stdout


def _last_json_line(output: str) -> dict[str, Any]:
    return orjson.loads(output.strip().splitlines()[-1])


def _tail(text: str, lines: int = 5) -> str:
    return " | ".join(line for line in text.strip().splitlines()[-lines:] if line.strip())


def plan(tools: list[str], layouts: list[str]) -> list[tuple[str, str]]:
    """(tool, layout) pairs in a fixed order: the floor first, then ours on each layout, dlt, the parsers."""
    pairs = {
        "duckdb": [("duckdb", "ndjson")],
        "dlt": [("dlt", "ndjson")],
        **{parser: [(parser, layout)] for parser, layout in PARSERS.items()},
    }
    pairs["ours"] = [("ours", layout) for layout in layouts]
    return [pair for tool in TOOLS if tool in tools for pair in pairs[tool]]


def machine_facts() -> dict[str, Any]:
    """What the numbers depend on besides the code: the machine, its load, the versions, the commit."""
    meminfo = dict(line.split(":", 1) for line in Path("/proc/meminfo").read_text().splitlines())
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    return {
        "date": date.today().isoformat(),
        "started_at": datetime.now().astimezone().isoformat(timespec="seconds"),
        "nproc": os.cpu_count(),
        "usable_cpus": len(os.sched_getaffinity(0)),
        "cpu": cpu,
        "total_memory_gb": int(meminfo["MemTotal"].split()[0]) / 1024**2,
        "load_average_start": os.getloadavg(),
        "python": platform.python_version(),
        **{name: metadata.version(name) for name in ("duckdb", "polars", "dlt", "dagster", "pyinstrument")},
        "git_commit": _git("rev-parse", "HEAD"),
        "git_dirty": bool(_git("status", "--porcelain", "--untracked-files=no")),
    }


def _git(*args: str) -> str:
    done = subprocess.run(["git", *args], cwd=corpus.ROOT, capture_output=True, text=True, check=False)
    return done.stdout.strip()


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", type=int, nargs="+", default=[2000, 10000], help="studies per corpus")
    parser.add_argument("--tools", nargs="+", choices=TOOLS, default=list(TOOLS))
    parser.add_argument(
        "--layouts",
        nargs="+",
        choices=OURS_LAYOUTS,
        default=list(OURS_LAYOUTS),
        help="the corpus layouts ours is measured on (DuckDB and dlt read the NDJSON)",
    )
    parser.add_argument(
        "--samples",
        type=Path,
        default=corpus.SAMPLES,
        help="the API v2 studies to copy: an NDJSON file (.gz: gzipped) or a folder of *.json",
    )
    parser.add_argument("--out", type=Path, default=RESULTS, help="folder for the results files")
    parser.add_argument("--corpora", type=Path, default=corpus.CORPORA, help="corpus cache folder")
    parser.add_argument(
        "--dlt-max-size",
        type=int,
        default=30_000,
        help="measure dlt at most at this size; extrapolate its rate above",
    )
    parser.add_argument(
        "--dlt-file-format",
        choices=DLT_FILE_FORMATS,
        default=DLT_FILE_FORMATS[0],
        help="the files dlt loads DuckDB from (its default, insert_values, needs GBs per thousand studies)",
    )
    parser.add_argument(
        "--duckdb-memory-limit",
        default="512MB",
        help="memory_limit of the read_json load (the pipeline caps its DuckDB at 512MB)",
    )
    parser.add_argument(
        "--profile", action="store_true", help="also run ours once under pyinstrument at the smallest size"
    )
    args = parser.parse_args(argv)
    args.sizes = sorted(set(args.sizes))
    args.samples, args.out, args.corpora = (path.resolve() for path in (args.samples, args.out, args.corpora))
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    machine = machine_facts()
    pairs = plan(args.tools, args.layouts)
    rows: list[Row] = []
    with tempfile.TemporaryDirectory(prefix="bench-") as scratch:
        bench = Bench(args, Path(scratch))
        for layout, size in dict.fromkeys((layout, size) for size in args.sizes for _, layout in pairs):
            print(f"corpus: {bench.corpus(layout, size).path}", file=sys.stderr, flush=True)
        print(report.TABLE_HEADER, flush=True)
        for size in args.sizes:
            for tool, layout in pairs:
                rows.append(bench.run(tool, layout, size))
                print(report.table_line(rows[-1]), flush=True)
        if args.profile:
            out = args.out / f"profile-{machine['date']}.txt"
            args.out.mkdir(parents=True, exist_ok=True)
            done = bench.profile(args.layouts[0], args.sizes[0], out)
            failed = f" FAILED: {_tail(done.stderr)}" if done.returncode else ""
            print(f"\nprofile of ours ({args.layouts[0]}, {args.sizes[0]}): {out}{failed}", flush=True)
    machine["load_average_end"] = os.getloadavg()
    machine["harness_peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    results = report.summarise(rows, machine, vars(args))
    print("\n" + report.summary_markdown(results))
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / f"{machine['date']}.json").write_bytes(
        orjson.dumps(results, option=orjson.OPT_INDENT_2, default=str)
    )
    (args.out / f"{machine['date']}.md").write_text(report.markdown(rows, results))
    return 1 if any(row.error for row in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
