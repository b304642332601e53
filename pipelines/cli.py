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
from pipelines.staging import remove_orphaned
from pipelines.warehouse_file import WarehouseUnavailable, check_writable

if TYPE_CHECKING:
    from dagster import DagsterInstance

STAGING_PREFIX = "trials-staging-"  # + the PID: a killed run's staging is removed by the next run
SUMMARY_TABLES = ("dim_study", "dim_site", "bridge_study_site", "fact_outcome", "fact_eligibility")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="trials", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    ingest = commands.add_parser("ingest", help="run the pipeline's assets on files or folders")
    ingest.add_argument("paths", nargs="+", type=Path, help="files or folders (any supported format)")
    ingest.add_argument("--db", type=Path, default=DEFAULT_DB, help=f"DuckDB file (default {DEFAULT_DB})")
    ingest.add_argument("--staging", type=Path, help="keep staged Parquet here (default: a temp dir)")
    ingest.add_argument(
        "--batch-size", type=int, default=1000, help="records parsed and built at a time (default 1000)"
    )
    ingest.add_argument(
        "--workers", type=int, default=min(2, os.cpu_count() or 1), help="worker processes (default: up to 2)"
    )
    ingest.add_argument(
        "--wait",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="wait up to SECONDS for another process to release the warehouse file (default: fail at once)",
    )
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

    sql = commands.add_parser(
        "sql", help="run SQL on a read-only connection (several statements: every result is printed)"
    )
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

    ddl = commands.add_parser(
        "ddl", help="write sql/ddl/warehouse.sql, the views' comments and docs/dictionary.md from schemas/"
    )
    ddl.add_argument(
        "--check", action="store_true", help="write nothing; exit 1 if a file differs from the definitions"
    )

    args = parser.parse_args(argv)
    try:
        if args.command == "ingest":
            return run_ingest(
                args.paths,
                args.db,
                args.staging,
                args.keep_contact_details,
                args.wait,
                batch_size=args.batch_size,
                workers=args.workers,
            )
        if args.command == "fetch":
            return run_fetch(args)
        if args.command == "queries":
            return list_queries()
        if args.command == "report":
            return run_report(args.db, args.out or reports_beside(args.db))
        if args.command == "ddl":
            return run_ddl(args.check)
        if args.named:
            return run_sql(find_query(args.named).sql, args.db, args.format)
        return run_sql(args.query or args.file.read_text(), args.db, args.format)
    except (duckdb.Error, FileNotFoundError, FetchError, ValueError, WarehouseUnavailable) as error:
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


def run_ddl(check: bool) -> int:
    """Make the generated files from the table definitions (schemas/), or only say which are stale."""
    from pipelines.settings import DDL_PATH, PROJECT_ROOT, VIEWS_PATH
    from schemas.generated import Files, stale, write

    files = Files(DDL_PATH, VIEWS_PATH, PROJECT_ROOT / "docs" / "dictionary.md")
    paths = stale(files) if check else write(files)
    names = ", ".join(str(path.relative_to(PROJECT_ROOT)) for path in paths)
    if check and paths:
        print(f"trials: stale, run `trials ddl`: {names}", file=sys.stderr)
        return 1
    print(f"written: {names}" if paths and not check else "up to date")
    return 0


def run_fetch(args: argparse.Namespace) -> int:
    """Land the query's pages (all or nothing), then optionally ingest them.

    Waits between retries are announced on stderr, so a fetch waiting out a rate limit does not look
    hung. When the API ran out of pages short of the ``totalCount`` it announced, the pages are landed
    and still ingested with ``--ingest`` (they are real records, and any later ingest of the landing
    folder would load them anyway), but the fetch is not recorded as complete, the problem is printed
    on stderr and the exit code is 1, so a scheduler notices. A ``--max-pages`` fetch is partial on
    purpose: exit code 0.
    """
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
        notify=lambda message: print(f"  {message}", file=sys.stderr, flush=True),
    )
    print(f"landed {result.studies:,} studies in {result.pages} page(s): {result.folder}")
    if result.problem:
        print(f"trials: incomplete fetch: {result.problem}", file=sys.stderr, flush=True)
    elif not result.complete:
        print(
            "  (partial: --max-pages stopped the fetch; the next incremental fetch starts from the same date)"
        )
    code = run_ingest([result.folder], args.db, None) if args.ingest else 0
    return code or (1 if result.problem else 0)


def _pair(text: str) -> tuple[str, str]:
    name, sep, value = text.partition("=")
    if not sep or not name:
        raise ValueError(f"expected PARAM=VALUE, got {text!r}")
    return name, value


def run_ingest(
    paths: list[Path],
    db: Path,
    staging: Path | None,
    keep_contact_details: bool = False,
    wait: float = 0.0,
    **overrides: int,
) -> int:
    """Materialize every asset in-process, exactly as a run launched from the Dagster UI would."""
    missing = [str(path) for path in paths if not path.exists()]
    if missing:  # before importing Dagster: a typo is answered at once
        raise FileNotFoundError(f"no such file or folder: {', '.join(missing)}")
    check_writable(db, wait_seconds=wait, notify=lambda text: print(f"trials: {text}", file=sys.stderr))
    from pipelines.definitions import build_definitions
    from pipelines.defs.resources import TrialsSettings

    remove_orphaned(Path(tempfile.gettempdir()), STAGING_PREFIX)
    with tempfile.TemporaryDirectory(prefix=f"{STAGING_PREFIX}{os.getpid()}-") as scratch:
        settings = TrialsSettings(
            landing_paths=[str(path.resolve()) for path in paths],
            staging_dir=str(staging or scratch),
            keep_contact_details=keep_contact_details,
            reports_dir=str(reports_beside(db)),
            **overrides,
        )
        definitions = build_definitions(settings, str(db.resolve()), lock_wait_seconds=wait)
        job = definitions.resolve_job_def("ingest_job")
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


# What `trials sql` runs. The connection is read-only, so statements that change the warehouse (CREATE,
# INSERT, UPDATE, DROP…) are refused by DuckDB itself and can only touch temporary objects in memory.
# DuckDB lets a connection write files in the directories it may read (allowed_directories), so the
# statements that write files or other databases, or run SQL that cannot be checked here, are refused
# before anything runs; their kind comes from DuckDB's own parser (duckdb.extract_statements).
SQL_RUN = frozenset(
    {
        duckdb.StatementType.SELECT,  # also DESCRIBE, SHOW, SUMMARIZE, FROM t
        duckdb.StatementType.CALL,
        duckdb.StatementType.MULTI,  # PIVOT
        duckdb.StatementType.SET,  # USE, SET VARIABLE; configuration is locked
        duckdb.StatementType.VARIABLE_SET,
        duckdb.StatementType.TRANSACTION,
        duckdb.StatementType.CREATE,
        duckdb.StatementType.CREATE_FUNC,
        duckdb.StatementType.INSERT,
        duckdb.StatementType.UPDATE,
        duckdb.StatementType.DELETE,
        duckdb.StatementType.MERGE_INTO,
        duckdb.StatementType.DROP,
        duckdb.StatementType.ALTER,
    }
)
SQL_PRINTED = frozenset(
    {
        duckdb.StatementType.SELECT,
        duckdb.StatementType.CALL,
        duckdb.StatementType.MULTI,
        duckdb.StatementType.EXPLAIN,
    }
)
SQL_REFUSALS = {  # kind → what to do instead
    duckdb.StatementType.COPY: ("COPY", "read files with read_csv() or read_parquet() in a SELECT"),
    duckdb.StatementType.EXPORT: ("EXPORT DATABASE", ""),
    duckdb.StatementType.ATTACH: ("ATTACH", "read another DuckDB file with read_duckdb() in a SELECT"),
    duckdb.StatementType.DETACH: ("DETACH", ""),
    duckdb.StatementType.LOAD: ("INSTALL or LOAD of an extension", ""),
    duckdb.StatementType.PRAGMA: ("PRAGMA", "use SELECT * FROM pragma_table_info('t') or DESCRIBE t"),
    duckdb.StatementType.PREPARE: ("PREPARE", ""),
    duckdb.StatementType.EXECUTE: ("EXECUTE", ""),
}


class SqlRefusedError(duckdb.PermissionException):
    """A statement ``trials sql`` does not run (the message is one line)."""


def run_sql(query: str, db: Path, output: str) -> int:
    """Run each statement of ``query`` on ``db``, read-only, printing every result (a blank line between).

    Nothing is written: the connection is read-only, files can be read only under the project's folders
    and the warehouse's own folder, extensions are neither installed nor loaded, the configuration is
    locked, and statements that write files or attach databases are refused before any statement runs.
    """
    if not db.exists():
        raise FileNotFoundError(f"no warehouse at {db}: run `trials ingest` (or `make run`) first")
    statements = duckdb.extract_statements(query)
    if not statements:
        raise ValueError("no SQL statement given")
    for statement in statements:
        refusal = sql_refusal(statement)
        if refusal is not None:
            what, instead = refusal
            raise SqlRefusedError(f"{what} refused: `trials sql` only reads" + (instead and f"; {instead}"))
    printed = 0
    with read_only_connection(db) as conn:
        for statement in statements:
            relation = conn.sql(statement)
            if relation is None or statement.type not in SQL_PRINTED:
                continue
            frame = relation.pl()
            if printed:
                sys.stdout.write("\n")
            print_frame(frame, output)
            printed += 1
    return 0


def sql_refusal(statement: duckdb.Statement) -> tuple[str, str] | None:
    """Why ``trials sql`` refuses ``statement`` (what it is, what to do instead); None when it runs."""
    if statement.type == duckdb.StatementType.EXPLAIN:
        # EXPLAIN ANALYZE runs the statement it explains: judge that one.
        explained = explained_statement(statement.query)
        return ("EXPLAIN of this statement", "") if explained is None else sql_refusal(explained)
    if statement.type in SQL_RUN:
        return None
    return SQL_REFUSALS.get(statement.type, (f"{statement.type.name} statement", ""))


def explained_statement(text: str) -> duckdb.Statement | None:
    """The statement an EXPLAIN [ANALYZE] [(options)] statement explains, as DuckDB's parser reads it:
    the longest tail of ``text``, starting at one of DuckDB's tokens, that parses as one statement."""
    for start, _ in duckdb.tokenize(text)[1:]:
        try:
            statements = duckdb.extract_statements(text[start:])
        except duckdb.Error:
            continue
        if len(statements) == 1:
            return statements[0]
    return None


def read_only_connection(db: Path) -> duckdb.DuckDBPyConnection:
    """``db`` opened read-only, able to read files only under the project and the warehouse's folder.

    ``allowed_directories`` can only be set once the database is open, and before external access is
    switched off; ``lock_configuration`` then refuses any ``SET`` of these settings in the query.
    """
    from pipelines.settings import PROJECT_ROOT, WAREHOUSE_DIR

    conn = duckdb.connect(
        str(db),
        read_only=True,
        config={
            "autoinstall_known_extensions": False,
            "autoload_known_extensions": False,
            "allow_community_extensions": False,
            "allow_persistent_secrets": False,
        },
    )
    try:
        readable = sorted({str(PROJECT_ROOT), str(Path(WAREHOUSE_DIR).resolve()), str(db.resolve().parent)})
        conn.execute("SET allowed_directories = $dirs", {"dirs": readable})
        conn.execute("SET enable_external_access = false")
        conn.execute("SET lock_configuration = true")
    except BaseException:
        conn.close()
        raise
    return conn


def print_frame(frame: pl.DataFrame, output: str) -> None:
    if output == "csv":
        sys.stdout.write(frame.write_csv())
    elif output == "json":
        sys.stdout.write(frame.write_json() + "\n")
    else:
        with pl.Config(tbl_rows=-1, tbl_cols=-1, fmt_str_lengths=80, tbl_width_chars=200):
            print(frame)


if __name__ == "__main__":
    sys.exit(main())
