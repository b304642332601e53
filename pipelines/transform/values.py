"""Vectorised polars expressions that turn registry value strings into typed columns."""

from __future__ import annotations

import polars as pl

# A partial date is stored as the first day of its month or year, beside its precision, so
# that ``start_date >= DATE '2020-01-01'`` works and nothing pretends to know the missing day.
_DATE_PADDING = {4: "-01-01", 7: "-01", 10: ""}
_PRECISION = {4: "year", 7: "month", 10: "day"}

# Registry ages are "<number> <unit>"; a month is 1/12 year, a week 7 days, a year 365.25 days.
_YEARS_PER_UNIT = {
    "year": 1.0,
    "month": 1 / 12,
    "week": 7 / 365.25,
    "day": 1 / 365.25,
    "hour": 1 / (365.25 * 24),
    "minute": 1 / (365.25 * 24 * 60),
}
_AGE = r"^\s*(\d+(?:\.\d+)?)\s*([A-Za-z]+?)s?\s*$"


def date_value(text: pl.Expr) -> pl.Expr:
    """ISO date, year-month or year text → DATE (partial dates at their first day)."""
    length = text.str.len_chars()
    padded = text + length.replace_strict(_DATE_PADDING, default=None, return_dtype=pl.String)
    return padded.str.to_date("%Y-%m-%d", strict=False)


def date_precision(text: pl.Expr) -> pl.Expr:
    """``day``, ``month`` or ``year``: how much of the date the source gave."""
    return (
        pl.when(date_value(text).is_not_null())
        .then(text.str.len_chars().replace_strict(_PRECISION, default=None, return_dtype=pl.String))
        .otherwise(None)
    )


def age_years(text: pl.Expr) -> pl.Expr:
    """ "18 Years", "6 Months", "N/A" → years as a float (NULL when no limit or unreadable)."""
    number = text.str.extract(_AGE, 1).cast(pl.Float64)
    unit = text.str.extract(_AGE, 2).str.to_lowercase()
    return number * unit.replace_strict(_YEARS_PER_UNIT, default=None, return_dtype=pl.Float64)


def joined(values: pl.Expr, separator: str = "/") -> pl.Expr:
    """API enum lists as one value (``PHASE1/PHASE2``); NULL rather than an empty string."""
    text = values.list.join(separator)
    return pl.when(text == "").then(None).otherwise(text)
