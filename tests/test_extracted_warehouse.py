"""Thresholds, flags, time points and doses in the warehouse, for the seed pages (read by hand)."""

from __future__ import annotations

from pathlib import Path

import duckdb

from tests.conftest import SEEDS


def rows(db: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(db), read_only=True) as conn:
        return conn.sql(sql).fetchall()


def test_seed_thresholds(sample_warehouse: Path) -> None:
    found = rows(
        sample_warehouse,
        "SELECT nct_id, criterion_type, parameter_normalised, operator, value_low, value_high, unit, is_negated"
        " FROM fact_eligibility_threshold WHERE nct_id IN ('NCT04361942', 'NCT04371601')"
        " ORDER BY nct_id, criterion_ordinal, threshold_ordinal",
    )
    assert found == [
        ("NCT04361942", "INCLUSION", "age", ">=", 18.0, None, "years", False),
        ("NCT04361942", "INCLUSION", "respiratory_rate", ">=", 30.0, None, "rpm", False),
        ("NCT04361942", "INCLUSION", "oxygen_saturation", "<=", None, 93.0, "%", False),
        ("NCT04361942", "INCLUSION", "pao2_fio2", "<=", None, 300.0, "mmHg", False),
        ("NCT04371601", "EXCLUSION", "heart_failure_grade", ">", 2.0, None, None, True),
    ]


def test_seed_flags_agree_with_the_texts(sample_warehouse: Path) -> None:
    consent = rows(
        sample_warehouse,
        "SELECT criterion_text FROM fact_eligibility WHERE nct_id = 'NCT04371601' AND has_consent_clause",
    )
    assert consent == [("willing to give informed consent",)]
    age_items = rows(
        sample_warehouse,
        "SELECT count(*) FROM fact_eligibility WHERE nct_id = 'NCT04361942' AND has_age_limit",
    )
    assert age_items == [(1,)]


def test_seed_time_points_follow_the_month_rule(sample_warehouse: Path) -> None:
    points = rows(
        sample_warehouse,
        "SELECT t.day_low FROM fact_outcome_timepoint t JOIN fact_outcome o"
        " ON o.nct_id = t.nct_id AND o.ordinal = t.outcome_ordinal"
        " WHERE o.nct_id = 'NCT04371601' AND o.time_frame = '1,3,6,12months' ORDER BY o.ordinal, t.timepoint_ordinal"
        " LIMIT 4",
    )
    assert points == [(30.4375,), (91.3125,), (182.625,), (365.25,)]


def test_every_time_frame_is_accounted_for(sample_warehouse: Path) -> None:
    [(parsed, unparsed, without, total)] = rows(
        sample_warehouse,
        "SELECT count(*) FILTER (time_frame_status = 'PARSED'), count(*) FILTER (time_frame_status = 'UNPARSED'),"
        " count(*) FILTER (time_frame_status IS NULL), count(*) FROM fact_outcome",
    )
    assert parsed + unparsed + without == total
    assert parsed / (parsed + unparsed) >= 0.9
    orphans = rows(
        sample_warehouse,
        "SELECT count(*) FROM fact_outcome o WHERE (time_frame_status = 'PARSED') <> EXISTS"
        " (SELECT 1 FROM fact_outcome_timepoint t WHERE t.nct_id = o.nct_id AND t.outcome_ordinal = o.ordinal)",
    )
    assert orphans == [(0,)]


def test_the_seed_dose_with_a_lost_superscript(sample_warehouse: Path) -> None:
    assert (SEEDS / "NCT04371601.txt").read_text().count("106/Kg") == 1
    assert rows(
        sample_warehouse,
        "SELECT dose_source, arm_ordinal, dose_value, dose_unit, is_per_weight, is_exponent_inferred, raw_text"
        " FROM fact_dose WHERE nct_id = 'NCT04371601'",
    ) == [("arm_description", 2, 1e6, "cells/kg", True, True, "106/Kg")]
    assert rows(
        sample_warehouse,
        "SELECT dose_value, dose_unit, is_exponent_inferred FROM fact_dose"
        " WHERE nct_id = 'NCT04361942' AND dose_source = 'intervention_description' ORDER BY dose_ordinal LIMIT 1",
    ) == [(1e6, "cells/kg", False)]
