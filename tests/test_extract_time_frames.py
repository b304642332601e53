"""Outcome time frames → days: accuracy on every distinct sample time frame, coverage, and the usual shapes.

Gold set: ``tests/fixtures/annotations/time_frames.json`` holds the 89 distinct ``fact_outcome.time_frame``
texts of the sample warehouse with the points a reader takes from each (typed by hand, rules in
``pipelines/extract/time_frames.py``); typos are read as meant ("1 yeare" is a year). A parse is correct
when its points equal the gold points in order (days within 1e-6, window and approximate flags equal).
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from pipelines.extract.time_frames import MONTH_DAYS, TimePoint, parse_time_frame
from pipelines.sources.dispatch import parse_record
from pipelines.sources.landing import iter_raw_records
from tests.conftest import LANDING

GOLD = json.loads((Path(__file__).parent / "fixtures" / "annotations" / "time_frames.json").read_text())
OUTCOME_LISTS = ("primaryOutcomes", "secondaryOutcomes", "otherOutcomes")


def _equal(gold: list[dict] | None, parsed: list[TimePoint] | None) -> bool:
    if gold is None or parsed is None:
        return gold is parsed
    return len(gold) == len(parsed) and all(
        math.isclose(g["day_low"], p.day_low, abs_tol=1e-6)
        and math.isclose(g["day_high"], p.day_high, abs_tol=1e-6)
        and (g["is_window"], g["is_approximate"]) == (p.is_window, p.is_approximate)
        for g, p in zip(gold, parsed, strict=True)
    )


def _points(text: str) -> list[tuple[float, float, bool, bool]] | None:
    parsed = parse_time_frame(text)
    if parsed is None:
        return None
    return [(round(p.day_low, 4), round(p.day_high, 4), p.is_window, p.is_approximate) for p in parsed]


def test_gold_precision_and_recall() -> None:
    parsed = {item["time_frame"]: parse_time_frame(item["time_frame"]) for item in GOLD}
    returned = sum(points is not None for points in parsed.values())
    correct = sum(_equal(item["points"], parsed[item["time_frame"]]) for item in GOLD)
    precision, recall = correct / returned, correct / len(GOLD)
    figures = f"time frames (gold): precision {precision:.3f} ({correct} of {returned} parsed), recall {recall:.3f} of {len(GOLD)}"
    print(figures)
    assert len(GOLD) >= 40
    assert precision >= 0.95, figures
    assert recall >= 0.95, figures


def _sample_time_frames() -> set[str]:
    """Every distinct time frame of the bundled samples, read with the project's own parsers."""
    frames = set()
    for raw in iter_raw_records([LANDING]):
        study = parse_record(raw).study
        if study is None:
            continue
        module = study.get("protocolSection", {}).get("outcomesModule") or {}
        outcomes = [o for key in OUTCOME_LISTS for o in module.get(key) or []]
        outcomes += (study.get("extras") or {}).get("unspecifiedOutcomes") or []
        frames.update(o["timeFrame"] for o in outcomes if o.get("timeFrame"))
    return frames


def test_coverage_of_all_sample_time_frames() -> None:
    frames = _sample_time_frames()
    unparsed = sorted(f for f in frames if parse_time_frame(f) is None)
    coverage = 1 - len(unparsed) / len(frames)
    figures = f"time frames (all samples): {len(frames) - len(unparsed)} of {len(frames)} parsed ({coverage:.1%}); not parsed: {unparsed}"
    print(figures)
    assert coverage >= 0.95, figures


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("28 days", [(28.0, 28.0, False, False)]),
        ("0-7 days", [(0.0, 7.0, True, False)]),
        (
            "1,3,6,12months",
            [
                (30.4375, 30.4375, False, False),
                (91.3125, 91.3125, False, False),
                (182.625, 182.625, False, False),
                (365.25, 365.25, False, False),
            ],
        ),
        ("Baseline, Week 12", [(0.0, 0.0, False, False), (84.0, 84.0, False, False)]),
        ("up to 5 years", [(0.0, 1826.25, True, False)]),
        ("Day 1 to Day 28", [(1.0, 28.0, True, False)]),
        ("through study completion, an average of 1 year", [(0.0, 365.25, True, True)]),
        ("2 hours", [(0.0833, 0.0833, False, False)]),
        ("30 minutes post-dose", [(0.0208, 0.0208, False, False)]),
        (
            "Day 7, 14 and 28",
            [(7.0, 7.0, False, False), (14.0, 14.0, False, False), (28.0, 28.0, False, False)],
        ),
        ("at 3 and 6 months", [(91.3125, 91.3125, False, False), (182.625, 182.625, False, False)]),
        ("Week 0, 4, 8", [(0.0, 0.0, False, False), (28.0, 28.0, False, False), (56.0, 56.0, False, False)]),
        ("baseline and 6 months", [(0.0, 0.0, False, False), (182.625, 182.625, False, False)]),
        ("approximately 6 months", [(182.625, 182.625, False, True)]),
        (
            "Median 2 years (from randomization to 16 March 2012; maximum 2.5 years)",
            [(730.5, 730.5, False, True), (0.0, 913.125, True, False)],
        ),
        ("During hospitalization", None),
        ("through study completion", None),
        ("From Baseline up to the End of Safety Follow-up", None),
    ],
)
def test_shapes(text: str, expected: list[tuple[float, float, bool, bool]] | None) -> None:
    assert _points(text) == expected


def test_month_is_a_twelfth_of_a_julian_year_and_labels_keep_the_words() -> None:
    assert MONTH_DAYS == 30.4375
    (point,) = parse_time_frame("Follow-up Visit (up to Week 60)") or []
    assert (point.day_low, point.day_high, point.label) == (0.0, 420.0, "up to Week 60")
