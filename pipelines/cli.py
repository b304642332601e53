"""``trials``: ingest files with the pipeline's own Dagster assets, and query the warehouse."""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb
import polars as pl

from pipelines.queries import find_query, load_queries
from pipelines.settings import DEFAULT_DB, DEFAULT_LANDING
from pipelines.sources.registry_api import DEFAULT_BASE_URL, FetchError, fetch_studies, incremental_since

if TYPE_CHECKING:
    from dagster import DagsterInstance

SUMMARY_TABLES = ("dim_study", "dim_site", "bridge_study_site", "fact_outcome", "fact_eligibility")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="trials", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    ingest = commands.add_parser("ingest", help="run the pipeline's assets on files or folders")
    ingest.add_argument("paths", nargs="+", type=Path, help="files or folders (any supported format)")
    ingest.add_argument("--db", type=Path, default=DEFAULT_DB, help=f"DuckDB file (default {DEFAULT_DB})")
    ingest.add_argument("--staging", type=Path, help="keep staged Parquet here (default: a temp dir)")
    ingest.add_argument(
        "--keep-contact-details",
        action="store_true",
        help="keep contacts' phone numbers and e-mails (personal data, dropped by default)",
    )

    fetch = commands.add_parser(
        "fetch", help="fetch studies from the live ClinicalTrials.gov API v2 into the landing zone"
    )
    fetch.add_argument(
        "params", nargs="+", metavar="PARAM=VALUE", help="API v2 query parameters, e.g. query.cond=COVID-19"
    )
    fetch.add_argument("--landing", type=Path, default=DEFAULT_LANDING, help=f"default {DEFAULT_LANDING}")
    fetch.add_argument(
        "--since",
        default="auto",
        help="only studies updated since YYYY-MM-DD; 'auto' (default): since this query's last complete "
        "fetch; 'all': everything",
    )
    fetch.add_argument("--base-url", default=DEFAULT_BASE_URL)
    fetch.add_argument("--max-pages", type=int, help="stop after this many pages (the fetch is then partial)")
    fetch.add_argument("--ingest", action="store_true", help="then ingest the fetched pages")
    fetch.add_argument("--db", type=Path, default=DEFAULT_DB, help="DuckDB file for --ingest")

    sql = commands.add_parser("sql", help="run one query on a read-only connection")
    query = sql.add_mutually_exclusive_group(required=True)
    query.add_argument("query", nargs="?", help="the SQL text")
    query.add_argument("--file", type=Path, help="read the SQL from a file")
    query.add_argument(
        "--query", dest="named", metavar="NAME", help="a query of the library (trials queries)"
    )
    sql.add_argument("--db", type=Path, default=DEFAULT_DB, help=f"DuckDB file (default {DEFAULT_DB})")
    sql.add_argument("--format", choices=["table", "csv", "json"], default="table")

    commands.add_parser("queries", help="list the analysis queries of sql/analysis/ with their questions")

    report = commands.add_parser("report", help="write the HTML report (charts, data quality) of a warehouse")
    report.add_argument("--db", type=Path, default=DEFAULT_DB, help=f"DuckDB file (default {DEFAULT_DB})")
    report.add_argument(
        "--out",
        type=Path,
        help="folder for index.html and the PNG charts (default: reports/ beside the DuckDB file)",
    )

    args = parser.parse_args(argv)
    try:
        if args.command == "ingest":
            return run_ingest(args.paths, args.db, args.staging, args.keep_contact_details)
        if args.command == "fetch":
            return run_fetch(args)
        if args.command == "queries":
            return list_queries()
        if args.command == "report":
            return run_report(args.db, args.out or reports_beside(args.db))
        if args.named:
            return run_sql(find_query(args.named).sql, args.db, args.format)
        return run_sql(args.query or args.file.read_text(), args.db, args.format)
    except (duckdb.Error, FileNotFoundError, FetchError, ValueError) as error:
        print(f"trials: {error}", file=sys.stderr)
        return 2


def reports_beside(db: Path) -> Path:
    """Each warehouse's report lives beside it (warehouse/reports/ for the default warehouse)."""
    return db.resolve().parent / "reports"


def list_queries() -> int:
    for named in load_queries():
        print(f"{named.name}\n    {named.question}")
    print("\nrun one with: trials sql --query NAME   (or trials sql --file sql/analysis/NAME.sql)")
    return 0


def run_report(db: Path, out: Path) -> int:
    from pipelines.report import build_report

    report = build_report(db, out)
    print(f"report: {report.html_path} ({len(report.charts)} charts)")
    return 0


def run_fetch(args: argparse.Namespace) -> int:
    """Land the query's pages (all or nothing), then optionally ingest them."""
    params = dict(_pair(text) for text in args.params)
    if args.since == "auto":
        since = incremental_since(args.landing, params)
    else:
        since = None if args.since == "all" else date.fromisoformat(args.since)
    args.landing.mkdir(parents=True, exist_ok=True)
    print(f"fetching {params} from {args.base_url}" + (f", updated since {since}" if since else ""))
    result = fetch_studies(
        args.landing,
        params,
        since=since,
        base_url=args.base_url,
        max_pages=args.max_pages,
        progress=lambda pages, studies, total: print(
            f"  page {pages}: {studies:,} of {total if total is not None else '?'} studies", flush=True
        ),
    )
    print(f"landed {result.studies:,} studies in {result.pages} page(s): {result.folder}")
    if not result.complete:
        print(
            "  (partial: --max-pages stopped the fetch; the next incremental fetch starts from the same date)"
        )
    return run_ingest([result.folder], args.db, None) if args.ingest else 0


def _pair(text: str) -> tuple[str, str]:
    name, sep, value = text.partition("=")
    if not sep or not name:
        raise ValueError(f"expected PARAM=VALUE, got {text!r}")
    return name, value


def run_ingest(paths: list[Path], db: Path, staging: Path | None, keep_contact_details: bool = False) -> int:
    """Materialize every asset in-process, exactly as a run launched from the Dagster UI would."""
    missing = [str(path) for path in paths if not path.exists()]
    if missing:  # before importing Dagster: a typo is answered at once
        raise FileNotFoundError(f"no such file or folder: {', '.join(missing)}")
    from pipelines.definitions import build_definitions
    from pipelines.resources import TrialsSettings

    db.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="trials-staging-") as scratch:
        settings = TrialsSettings(
            landing_paths=[str(path.resolve()) for path in paths],
            staging_dir=str(staging or scratch),
            keep_contact_details=keep_contact_details,
            reports_dir=str(reports_beside(db)),
        )
        job = build_definitions(settings, str(db.resolve())).resolve_job_def("ingest_job")
        instance = dagster_instance()
        result = job.execute_in_process(
            instance=instance,
            run_config={"loggers": {"console": {"config": {"log_level": "INFO"}}}},
            raise_on_error=False,
        )
    if not result.success:
        print(f"trials: run {result.run_id} failed; nothing was loaded (see the log above)", file=sys.stderr)
        return 1
    print_summary(db, result.run_id)
    return 0


def dagster_instance() -> DagsterInstance:
    """The instance named by ``DAGSTER_HOME`` (created if missing, so runs show up in the UI), else ephemeral.

    Dagster refuses a ``DAGSTER_HOME`` that does not exist yet; on a fresh clone the Makefile's
    default (``warehouse/.dagster``) does not, and a first ``trials`` command should not fail on it.
    """
    from dagster import DagsterInstance

    home = os.environ.get("DAGSTER_HOME")
    if not home:
        return DagsterInstance.ephemeral()
    Path(home).mkdir(parents=True, exist_ok=True)
    return DagsterInstance.get()


COUNTS = ("read", "new", "changed", "unchanged", "rejected", "superseded")


def print_summary(db: Path, run_id: str) -> None:
    columns = ", ".join(f"records_{name}" for name in COUNTS)
    with duckdb.connect(str(db), read_only=True) as conn:
        row = conn.execute(
            f"SELECT {columns} FROM meta_load_run WHERE run_id = $id", {"id": run_id}
        ).fetchone()
        totals = {name: conn.execute(f"SELECT count(*) FROM {name}").fetchone()[0] for name in SUMMARY_TABLES}
        rejections = conn.execute(
            "SELECT source_uri, reason FROM meta_rejection WHERE run_id = $run_id ORDER BY source_uri",
            {"run_id": run_id},
        ).fetchall()
    counts = dict(zip(COUNTS, row or [0] * len(COUNTS), strict=True))
    print(f"\nrun {run_id} → {db}")
    print(f"records: {counts.pop('read')} read: " + ", ".join(f"{n} {name}" for name, n in counts.items()))
    print("warehouse now holds: " + ", ".join(f"{count} {name}" for name, count in totals.items()))
    for uri, reason in rejections:
        print(f"  rejected {uri}: {reason}")
    report = reports_beside(db) / "index.html"
    if report.exists():
        print(f"report: {report}")


def run_sql(query: str, db: Path, output: str) -> int:
    if not db.exists():
        raise FileNotFoundError(f"no warehouse at {db}: run `trials ingest` (or `make run`) first")
    with duckdb.connect(str(db), read_only=True) as conn:
        relation = conn.sql(query)
        frame = relation.pl() if relation is not None else pl.DataFrame()
    if output == "csv":
        sys.stdout.write(frame.write_csv())
    elif output == "json":
        sys.stdout.write(frame.write_json() + "\n")
    else:
        with pl.Config(tbl_rows=-1, tbl_cols=-1, fmt_str_lengths=80, tbl_width_chars=200):
            print(frame)
    return 0


if __name__ == "__main__":
    sys.exit(main())
