"""The measured work of the tools other than ours, each run by ``bench.run`` in a child process of its own.

Every worker prints one JSON line of facts about what it loaded (row counts, settings), which the
harness checks: a tool that loaded nothing quickly must not look fast.

    python -m bench.workers duckdb studies.ndjson out.duckdb --memory-limit 512MB
    python -m bench.workers dlt studies.ndjson out.duckdb PIPELINES_DIR --file-format parquet
    python -m bench.workers classic PAGES_FOLDER
    python -m bench.workers xml RECORDS.xml.zip
    python -m bench.workers warehouse out.duckdb   (not measured: what ``trials ingest`` loaded)
"""

from __future__ import annotations

import argparse
import sys
import time
import zipfile
from collections.abc import Callable, Iterable, Iterator
from itertools import islice
from pathlib import Path
from typing import Any

import orjson

# The floor: DuckDB's own JSON reader into one table of nested STRUCT/LIST columns, nothing more.
# - sample_size=-1: infer the schema from every study, not the first 20,480 (a field or type first seen
#   later would otherwise fail the load or be dropped); it costs a second pass over the file.
# - maximum_object_size: one line is one study; 32 MB is twice the default, head-room for the largest
#   records (DuckDB allocates buffers of twice this: 256 MB did not fit in a 512 MB memory_limit).
# - preserve_insertion_order=false: as the pipeline's own DuckDB (pipelines/definitions.py), so neither
#   pays for ordering it does not need.
DUCKDB_READ_JSON = "format='newline_delimited', sample_size=-1, maximum_object_size=33554432"
# dlt's documented fast path is yielding pages of items rather than one item at a time.
DLT_PAGE = 500
# The files dlt loads DuckDB from; the first is the harness's default. dlt's own default for DuckDB,
# insert_values, loads through SQL INSERT text: 24 s and 2.3 GB of RSS for 500 studies here, past 18 GB
# at 10,000 (killed). Parquet loads the same normalised tables in a fraction of that time and memory:
# the choice of anyone loading volume with dlt, and the kinder one to dlt.
DLT_FILE_FORMATS = ("parquet", "insert_values", "jsonl")
# The parsers' records are read this many at a time, and only the parse loop over each batch is timed:
# memory stays bounded (100,000 legacy XML records are about 13 GB) and reading is not counted.
PARSE_BATCH = 500


def load_duckdb(ndjson: Path, database: Path, memory_limit: str) -> dict[str, Any]:
    import duckdb

    config = {"memory_limit": memory_limit, "preserve_insertion_order": False}
    with duckdb.connect(str(database), config=config) as conn:
        source = str(ndjson).replace("'", "''")
        conn.execute(f"CREATE TABLE raw AS SELECT * FROM read_json('{source}', {DUCKDB_READ_JSON})")
        rows = conn.execute("SELECT count(*) FROM raw").fetchone()[0]
        columns = len(conn.execute("DESCRIBE raw").fetchall())
        limit, threads = conn.execute(
            "SELECT current_setting('memory_limit'), current_setting('threads')"
        ).fetchone()
    return {
        "rows": rows,
        "columns": columns,
        "memory_limit": limit,
        "threads": threads,
        "read_json": DUCKDB_READ_JSON,
    }


def load_dlt(ndjson: Path, database: Path, pipelines_dir: Path, file_format: str) -> dict[str, Any]:
    import dlt

    @dlt.resource(name="studies")
    def decoded() -> Iterator[list[dict[str, Any]]]:
        with ndjson.open("rb") as lines:
            while page := list(islice(lines, DLT_PAGE)):
                yield [orjson.loads(line) for line in page]

    pipeline = dlt.pipeline(
        pipeline_name="bench",
        destination=dlt.destinations.duckdb(str(database)),
        dataset_name="ctg",
        pipelines_dir=str(pipelines_dir),
    )
    pipeline.run(decoded(), loader_file_format=file_format)
    with pipeline.sql_client() as client:
        rows = client.execute_sql("SELECT count(*) FROM studies")[0][0]
    tables = len(pipeline.default_schema.data_tables())
    return {"rows": rows, "tables": tables, "page": DLT_PAGE, "loader_file_format": file_format}


def warehouse_facts(database: Path) -> dict[str, Any]:
    """What ``trials ingest`` loaded: read here, so that the harness itself never imports DuckDB."""
    import duckdb

    with duckdb.connect(str(database), read_only=True) as conn:
        studies = conn.execute("SELECT count(*) FROM dim_study").fetchone()[0]
        read, rejected = conn.execute("SELECT records_read, records_rejected FROM meta_load_run").fetchone()
    return {"dim_study": studies, "records_read": read, "records_rejected": rejected}


def parse_classic(folder: Path) -> dict[str, Any]:
    """Parse every classic page of ``folder`` in one process."""
    from pipelines.sources.classic_page import parse

    paths = sorted(folder.glob("*.txt"))
    return _parse_loop(parse, ([path.read_bytes() for path in batch] for batch in _batches(paths)))


def parse_legacy_xml(archive: Path) -> dict[str, Any]:
    """Parse every legacy XML record of the zip ``archive`` in one process."""
    from pipelines.sources.legacy_xml import parse

    with zipfile.ZipFile(archive) as records:
        members = [name for name in records.namelist() if name.endswith(".xml")]
        batches = ([records.read(name) for name in batch] for batch in _batches(members))
        return _parse_loop(parse, batches)


def _batches(items: list[Any]) -> Iterator[list[Any]]:
    for start in range(0, len(items), PARSE_BATCH):
        yield items[start : start + PARSE_BATCH]


def _parse_loop(parse: Callable[[bytes], Any], batches: Iterable[list[bytes]]) -> dict[str, Any]:
    """Parse each batch's records (read before its loop starts); only the parse loops are timed."""
    from pipelines.sources.records import RecordRejected

    records = rejected = 0
    cpu = wall = 0.0
    for batch in batches:
        started_wall, started_cpu = time.perf_counter(), time.process_time()
        for record in batch:
            try:
                parse(record)
            except RecordRejected:
                rejected += 1
        cpu += time.process_time() - started_cpu
        wall += time.perf_counter() - started_wall
        records += len(batch)
    return {
        "records": records,
        "rejected": rejected,
        "parse_cpu_s": cpu,
        "parse_wall_s": wall,
        "records_per_core_s": records / cpu if cpu else 0.0,
        "batch": PARSE_BATCH,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    tools = parser.add_subparsers(dest="tool", required=True)
    duckdb = tools.add_parser("duckdb")
    duckdb.add_argument("ndjson", type=Path)
    duckdb.add_argument("database", type=Path)
    duckdb.add_argument("--memory-limit", required=True)
    dlt = tools.add_parser("dlt")
    dlt.add_argument("ndjson", type=Path)
    dlt.add_argument("database", type=Path)
    dlt.add_argument("pipelines_dir", type=Path)
    dlt.add_argument("--file-format", choices=DLT_FILE_FORMATS, default=DLT_FILE_FORMATS[0])
    classic = tools.add_parser("classic")
    classic.add_argument("folder", type=Path)
    xml = tools.add_parser("xml")
    xml.add_argument("archive", type=Path)
    warehouse = tools.add_parser("warehouse")
    warehouse.add_argument("database", type=Path)
    args = parser.parse_args(argv)
    if args.tool == "duckdb":
        facts = load_duckdb(args.ndjson, args.database, args.memory_limit)
    elif args.tool == "dlt":
        facts = load_dlt(args.ndjson, args.database, args.pipelines_dir, args.file_format)
    elif args.tool == "classic":
        facts = parse_classic(args.folder)
    elif args.tool == "xml":
        facts = parse_legacy_xml(args.archive)
    else:
        facts = warehouse_facts(args.database)
    sys.stdout.write(orjson.dumps(facts).decode() + "\n")


if __name__ == "__main__":
    main()
