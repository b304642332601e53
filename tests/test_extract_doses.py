"""Doses from intervention and arm texts: accuracy on hand-annotated sample texts, and the cell-dose spellings.

Gold set: ``tests/fixtures/annotations/doses.json`` holds 29 texts of the sample warehouse
(``fact_intervention`` name and description, ``fact_arm`` description, some with the arm label) with the
doses a reader finds in each, typed by hand; texts without any dose are included. A predicted dose is
correct when value, unit, per-weight and inferred-exponent flags equal a gold dose's.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from pipelines.extract.doses import Dose, extract_doses

GOLD = json.loads((Path(__file__).parent / "fixtures" / "annotations" / "doses.json").read_text())


def _matches(gold: dict, predicted: Dose) -> bool:
    return (
        math.isclose(gold["value"], predicted.value)
        and gold["unit"] == predicted.unit
        and gold["is_per_weight"] == predicted.is_per_weight
        and gold["is_exponent_inferred"] == predicted.is_exponent_inferred
    )


def test_gold_precision_and_recall() -> None:
    true_positives = false_positives = false_negatives = 0
    for item in GOLD:
        unmatched = list(item["doses"])
        for predicted in extract_doses(item["text"]):
            gold = next((g for g in unmatched if _matches(g, predicted)), None)
            if gold is None:
                false_positives += 1
            else:
                true_positives += 1
                unmatched.remove(gold)
        false_negatives += len(unmatched)
    precision = true_positives / (true_positives + false_positives)
    recall = true_positives / (true_positives + false_negatives)
    figures = f"doses: precision {precision:.3f}, recall {recall:.3f} ({true_positives} correct, {false_positives} wrong, {false_negatives} missed, {len(GOLD)} texts)"
    print(figures)
    assert len(GOLD) >= 15
    assert precision >= 0.95, figures
    assert recall >= 0.95, figures


def _pairs(text: str) -> list[tuple[float, str]]:
    return [(dose.value, dose.unit) for dose in extract_doses(text)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("MSCs (1 million cells/kg) or placebo", [(1e6, "cells/kg")]),
        (
            "Intravenous injection of 1 million MSV cells/Kg in 100 ml of saline",
            [(1e6, "cells/kg"), (100.0, "mL")],
        ),
        ("mesenchymal stem cells at 10^6/Kg body weight", [(1e6, "cells/kg")]),
        ("1×10^6 cells/kg", [(1e6, "cells/kg")]),
        ("2 x 10⁶ MSCs/kg", [(2e6, "cells/kg")]),
        ("100 mg twice daily", [(100.0, "mg")]),
        ("5 mg/kg IV", [(5.0, "mg/kg")]),
        ("15 mg/kg/dose every 8 hours", [(15.0, "mg/kg")]),
        ("paclitaxel at 50mg/m2", [(50.0, "mg/m²")]),
        ("75.25 Gy/36 fx", [(75.25, "Gy")]),
        ("Concentration: 200 mg / ml", [(200.0, "mg/mL")]),
    ],
)
def test_spellings(text: str, expected: list[tuple[float, str]]) -> None:
    assert _pairs(text) == expected


def test_lost_superscript_only_next_to_cells() -> None:
    arm = "umbilical cord mesenchymal stem cells were given at 106/Kg body weight / time, once every 4 days"
    (dose,) = extract_doses(arm)
    assert (dose.value, dose.unit, dose.is_per_weight, dose.is_exponent_inferred, dose.raw_text) == (
        1e6,
        "cells/kg",
        True,
        True,
        "106/Kg",
    )
    spaced = "stem cells were given at 106 / Kg body weight / time"  # the design description's spelling
    assert [d.is_exponent_inferred for d in extract_doses(spaced)] == [True]
    assert extract_doses("the drug was given at 106/Kg body weight") == []
    assert extract_doses("mesenchymal stem cells, 100/Kg") == []  # 100 is not "10" and an exponent


def test_never_a_dose_from_a_bare_number_a_weight_or_a_bound() -> None:
    assert extract_doses("Azithromycin 500mg OD 1st day and 250 from day 2 to 5") == extract_doses(
        "Azithromycin 500mg"
    )
    assert _pairs("Once-daily doses 5-<15 kg: 200 mg of trimethoprim") == [(200.0, "mg")]
    assert extract_doses("1 pill before each meal that contains more than 20 grams of carbohydrate") == []
    assert extract_doses("Concentration: 0.9 % saline; the cleared LaseMD system is a 5W system") == []


# Real texts of the ClinicalTrials.gov API v2 corpus (/work/shared/samples/ctgov-api-v2-corpus).
SPECTRILA = (  # NCT03156790, intervention "Spectrila®"
    "3 intravenous doses of 10 000 U/m² BSA each during induction phase I of the underlying BRALL 2014 "
    "treatment protocol on Days 21, 23 and 25. Additionally, the subjects (standard risk subjects only) "
    "will receive doses of 10 000 U/m² BSA each on Days 2, 4, 6, 9, 11 and 13 of the consolidation phase "
    "II, III and VI of BRALL 2014 treatment protocol."
)
PLACEBO_ARM = "Take 0 mg/day of hyaluronic acid."  # NCT05803083, arm "Placebo"
CONTRAST_AGENT_ARM = "GE 145 320mg I/ml injection"  # NCT01252810, arm label: product GE 145, 320 mg


def test_thousands_grouped_by_spaces() -> None:
    doses = extract_doses(SPECTRILA)
    assert [(d.value, d.unit, d.is_per_weight, d.raw_text) for d in doses] == [
        (10000.0, "U/m²", False, "10 000 U/m²"),
        (10000.0, "U/m²", False, "10 000 U/m²"),
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("10\u00a0000 IU", [(10000.0, "IU", "10\u00a0000 IU")]),  # no-break space
        ("10\u2009000 IU", [(10000.0, "IU", "10\u2009000 IU")]),  # thin space
        ("1 000 000 cells/kg", [(1e6, "cells/kg", "1 000 000 cells/kg")]),
        ("1 250 000 cells/kg", [(1.25e6, "cells/kg", "1 250 000 cells/kg")]),
        ("10 000.5 IU", [(10000.5, "IU", "10 000.5 IU")]),
        # No group starting with 0: separate numbers, the dose is the last one.
        (CONTRAST_AGENT_ARM, [(320.0, "mg", "320mg")]),
        ("day 1 100 mg", [(100.0, "mg", "100 mg")]),
        ("2 500 mg tablets", [(500.0, "mg", "500 mg")]),
        ("2 10 mg tablets", [(10.0, "mg", "10 mg")]),
        # A number cut apart leaves "000": no dose rather than a dose of 0.
        ("10  000 IU", []),
        ("10 0000 IU", []),
    ],
)
def test_space_grouping_only_where_nothing_else_fits(
    text: str, expected: list[tuple[float, str, str]]
) -> None:
    assert [(d.value, d.unit, d.raw_text) for d in extract_doses(text)] == expected


def test_a_dose_of_zero_is_a_dose() -> None:
    (dose,) = extract_doses(PLACEBO_ARM)
    assert (dose.value, dose.unit, dose.is_per_weight, dose.raw_text) == (0.0, "mg/day", False, "0 mg/day")
