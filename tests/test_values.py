"""Registry value strings → typed columns."""

from __future__ import annotations

from datetime import date

import polars as pl
import pytest

from pipelines.transform.values import age_years, date_precision, date_value, joined


def test_dates_keep_their_precision() -> None:
    frame = pl.DataFrame({"d": ["2020-05-01", "2006-11", "2001", "garbage", None]})
    out = frame.select(value=date_value(pl.col("d")), precision=date_precision(pl.col("d")))
    assert out["value"].to_list() == [date(2020, 5, 1), date(2006, 11, 1), date(2001, 1, 1), None, None]
    assert out["precision"].to_list() == ["day", "month", "year", None, None]


@pytest.mark.parametrize(
    ("text", "years"),
    [
        ("18 Years", 18.0),
        ("6 Months", 0.5),
        ("1 Year", 1.0),
        ("14 Days", 14 / 365.25),
        ("N/A", None),
        (None, None),
    ],
)
def test_ages_become_years(text: str | None, years: float | None) -> None:
    value = pl.DataFrame({"a": [text]}, schema={"a": pl.String}).select(age_years(pl.col("a"))).item()
    assert value == pytest.approx(years) if years is not None else value is None


def test_enum_lists_are_joined_and_empty_is_null() -> None:
    frame = pl.DataFrame({"p": [["PHASE1", "PHASE2"], [], None]})
    assert frame.select(joined(pl.col("p")).alias("p"))["p"].to_list() == ["PHASE1/PHASE2", None, None]
