"""``contract_failures``, the contract every batch's tables must meet, on tables built from a real record."""

from __future__ import annotations

import polars as pl
import pytest

from pipelines.canonical import record_frame
from pipelines.sources.dispatch import parse_record
from pipelines.sources.landing import iter_raw_records
from pipelines.transform.star import build_tables
from pipelines.validate import contract_failures
from tests.conftest import LEGACY_XML_SAMPLES

# withheld: the record gives next to nothing, so 22 of the 27 tables are empty
WITHHELD = next(path for path in LEGACY_XML_SAMPLES if path.stem == "NCT03182660")


@pytest.fixture(scope="module")
def tables() -> dict[str, pl.DataFrame]:
    return build_tables(record_frame(parse_record(raw) for raw in iter_raw_records([WITHHELD])))


def test_real_tables_meet_the_contract_including_empty_ones(tables: dict[str, pl.DataFrame]) -> None:
    assert tables["dim_site"].is_empty() and tables["fact_result_measurement"].is_empty()
    assert {name: contract_failures(name, tables).height for name in tables} == dict.fromkeys(tables, 0)


def test_an_empty_table_of_the_wrong_type_fails(tables: dict[str, pl.DataFrame]) -> None:
    wrong = {**tables, "dim_site": tables["dim_site"].with_columns(pl.col("latitude").cast(pl.String))}
    failures = contract_failures("dim_site", wrong)
    assert failures.select("nct_id", "column_name", "check_name").rows() == [
        (None, "latitude", "dtype('Float64')")
    ]


def test_a_value_out_of_range_fails(tables: dict[str, pl.DataFrame]) -> None:
    wrong = {**tables, "dim_study": tables["dim_study"].with_columns(enrollment_count=pl.lit(-5, pl.Int64))}
    failures = contract_failures("dim_study", wrong)
    assert failures.drop("table_name").rows() == [
        ("NCT03182660", "enrollment_count", "greater_than_or_equal_to(0)", "-5")
    ]
