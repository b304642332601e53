"""Doses stated in intervention and arm texts ("1 million cells/kg", "100 mg twice daily", "5 mg/kg").

A dose is a number followed by a dose unit: a mass, volume or activity (mg, g, µg, mL, IU, units),
radiation (Gy), or cells, optionally per kg body weight, per m² body surface, per mL or per day.
Frequencies ("twice daily") are not read. Never a bare number ("250 from day 2"), never a body weight
("5-<15 kg"), never a bound ("more than 20 grams of carbohydrate" is a condition, not a dose).

Cell doses are often written with the exponent: "10^6/kg", "1×10^6 cells/kg", "10⁶", "1 million".
Pages copied from the classic site lost superscripts, so "10⁶/Kg" arrives as "106/Kg" (NCT04371601).
That text is read as 10^6 only where nothing else fits: the number is 10 followed by one digit 1-9,
directly followed by "/kg", and cells are named nearby; ``is_exponent_inferred`` records the guess
and ``raw_text`` keeps what was written.

Thousands may be grouped by single spaces ("10 000 U/m²", NCT03156790; also no-break and thin
spaces). Digits are joined across spaces only where they cannot be read apart: the first group has
1-3 digits, every later group exactly three, and one later group starts with 0, as no number does
("000 U/m²" alone is no dose). So "GE 145 320mg" (a product code, then 320 mg: NCT01252810),
"day 1 100 mg" and "2 500 mg tablets" stay separate numbers, and a number starting with 0 left over
("10  000 IU", two spaces) is no dose. A dose of 0 ("Take 0 mg/day", a placebo arm) is a real dose.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from pipelines.extract.numbers import NUMBER, number_value


@dataclass(frozen=True, slots=True)
class Dose:
    """One stated dose: value in ``unit`` (per kg when ``is_per_weight``)."""

    value: float
    unit: str
    is_per_weight: bool
    is_exponent_inferred: bool
    raw_text: str


# Spelling → normalised unit text.
AMOUNT_UNITS = {
    "milligrams": "mg",
    "milligram": "mg",
    "mg": "mg",
    "micrograms": "µg",
    "microgram": "µg",
    "mcg": "µg",
    "µg": "µg",
    "μg": "µg",
    "ug": "µg",
    "ng": "ng",
    "grams": "g",
    "gram": "g",
    "g": "g",
    "ml": "mL",
    "l": "L",
    "iu": "IU",
    "units": "U",
    "unit": "U",
    "u": "U",
    "cgy": "cGy",
    "gy": "Gy",
    "mmol": "mmol",
    "meq": "mEq",
}
PER_UNITS = {"kg": "/kg", "m2": "/m²", "m^2": "/m²", "m²": "/m²", "ml": "/mL", "day": "/day", "d": "/day"}
MULTIPLIERS = {"thousand": 1e3, "million": 1e6, "billion": 1e9}
# Thousands separators: a space, a no-break space, a thin space, a narrow no-break space.
GROUP_SEPARATORS = " \u00a0\u2009\u202f"
CELL_WORDS = r"cells?|MSCs?"
# Words allowed between a number and "cells" ("1 million MSV cells/Kg", "2 x 10^6 viable CD34+ cells"):
# abbreviations in capitals and these adjectives, so that "2 doses of cells" is not a dose.
CELL_QUALIFIERS = (
    "viable",
    "nucleated",
    "live",
    "mononuclear",
    "mesenchymal",
    "stromal",
    "stem",
    "progenitor",
)
# Only these surroundings make "106/Kg" a lost "10⁶/Kg".
CELL_CONTEXT = re.compile(r"\bcells?\b|\bMSCs?\b|stem\s+cell|stromal|mesenchymal", re.I)
CELL_CONTEXT_REACH = 120
COMPARISON_BEFORE = re.compile(
    r"(?:\b(?:more|less|greater|fewer|higher|lower)\s+than|\bat\s+(?:least|most)|\bup\s+to|[<>≤≥]=?)\s*$",
    re.I,
)

_SUPERSCRIPTS = str.maketrans("⁰¹²³⁴⁵⁶⁷⁸⁹", "0123456789")
_SEPARATOR = f"[{GROUP_SEPARATORS}]"
_GROUP = rf"{_SEPARATOR}\d{{3}}(?!\d)"
# "10 000", "1 250 000": groups of three after a space, one of them starting with 0; else NUMBER.
_NUMBER = rf"(?:(?<![\w.])\d{{1,3}}(?=(?:{_GROUP})*{_SEPARATOR}0\d\d(?!\d))(?:{_GROUP})+(?:\.\d+)?|{NUMBER})"
_AMOUNT = "|".join(sorted(AMOUNT_UNITS, key=len, reverse=True))
_CELL_QUALIFIER = r"(?-i:[A-Z][A-Z0-9+-]*)|" + "|".join(CELL_QUALIFIERS)
_PER = (
    "(?:dose|"
    + "|".join(sorted((re.escape(p).replace(r"\^", r"\s*\^\s*") for p in PER_UNITS), key=len, reverse=True))
    + ")(?![a-z])"
)
_SLASH = r"(?:\s*/\s*|\s+per\s+)"  # "mg/kg", "mg per kg"
_DOSE = re.compile(
    rf"""
    (?:
        (?:(?P<mantissa>{_NUMBER})\s*[x×*]\s*)?10\s*(?:\^\s*(?P<exponent>\d{{1,2}})|(?P<superscript>[⁰¹²³⁴⁵⁶⁷⁸⁹]{{1,2}}))
      | (?<![\d.^])10(?P<lost>[1-9])(?=\s*/\s*kg\b)
      | (?P<scaled>{_NUMBER})\s*(?P<multiplier>{"|".join(MULTIPLIERS)})
      | (?P<plain>{_NUMBER})
    )
    \s*
    (?:
        (?:(?:{_CELL_QUALIFIER})\s+){{0,3}}(?P<cells>{CELL_WORDS})(?:{_SLASH}(?P<cells_per>kg))?
      | (?P<amount>{_AMOUNT})(?P<per>(?:{_SLASH}{_PER})*)
      | /\s*(?P<bare_per>kg)
    )
    (?!\w|\s*/\s*[a-z])  # "mg/dL" is a concentration; "Gy/36 fx" is still Gy
    """,
    re.I | re.X,
)
_PER_PART = re.compile(rf"{_SLASH}({_PER})", re.I)
_LEADING_ZERO = re.compile(r"0\d")


def extract_doses(text: str) -> list[Dose]:
    """Every dose stated in ``text``, in text order."""
    doses = []
    for match in _DOSE.finditer(text):
        if COMPARISON_BEFORE.search(text, max(0, match.start() - 20), match.start()):
            continue
        dose = _dose(match, text)
        if dose is not None:
            doses.append(dose)
    return doses


def _dose(match: re.Match[str], text: str) -> Dose | None:
    g = match.groupdict()
    is_exponent = g["exponent"] is not None or g["superscript"] is not None or g["lost"] is not None
    if g["bare_per"] and not is_exponent:
        return None  # "5/kg": a ratio, not a dose
    number = g["plain"] or g["scaled"] or g["mantissa"]
    if number is not None and _LEADING_ZERO.match(number):
        return None  # "000 IU": the end of a number cut apart ("10  000 IU"), not a dose of 0
    near_cells = CELL_CONTEXT.search(
        text, max(0, match.start() - CELL_CONTEXT_REACH), match.end() + CELL_CONTEXT_REACH
    )
    if g["lost"] is not None and near_cells is None:
        return None
    if g["cells"] is not None:
        unit = "cells/kg" if g["cells_per"] else "cells"
    elif g["amount"] is not None:
        unit = AMOUNT_UNITS[g["amount"].lower()] + "".join(
            PER_UNITS[re.sub(r"\s+", "", p.lower())]
            for p in _PER_PART.findall(g["per"])
            if p.lower() != "dose"
        )
    else:
        unit = "cells/kg" if near_cells else "/kg"
    return Dose(
        value=_value(g),
        unit=unit,
        is_per_weight="/kg" in unit,
        is_exponent_inferred=g["lost"] is not None,
        raw_text=match.group().strip(),
    )


def _value(g: dict[str, str | None]) -> float:
    plain, scaled, multiplier = g["plain"], g["scaled"], g["multiplier"]
    if plain is not None:
        return _number(plain)
    if scaled is not None and multiplier is not None:
        return _number(scaled) * MULTIPLIERS[multiplier.lower()]
    exponent = g["exponent"] or g["lost"] or (g["superscript"] or "").translate(_SUPERSCRIPTS)
    mantissa = _number(g["mantissa"]) if g["mantissa"] else 1.0
    return mantissa * 10 ** int(exponent)


def _number(token: str) -> float:
    """A matched number, its thousands separators (commas, spaces) dropped: "10 000" → 10000.0."""
    return number_value(re.sub(_SEPARATOR, "", token))
