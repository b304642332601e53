"""Outcome time frames ("28 days", "Baseline, Week 12", "up to 5 years") as days from day 0.

Researchers ask for "outcomes measured at 28 days"; ``fact_outcome.time_frame`` is free text. Day 0 is
whatever the time frame counts from (baseline, randomisation, enrolment, start of treatment). Units:
a year is 365.25 days, a month a twelfth of it (30.4375 days), a week 7 days; hours and minutes are
fractions of a day.

Rules, each read from the text (nothing is guessed; a text with no time in it gives None):
- a duration or a labelled visit is a point: "28 days", "12 weeks post-randomization", "Week 16",
  "Day 6"; lists share their unit: "1,3,6,12months", "Day 7, 14 and 28", "Week 0, 4, 8",
  "at 3 and 6 months"; "Baseline" is day 0;
- two times joined by "to", "-", "through", "until" or "up to" are a window: "0-7 days",
  "Day 1 to Day 28", "Baseline to Week 16", "1 week up to 1 year";
- a time after "up to", "within", "for", "over", "during", "period of", "maximum", "from <event> to"
  or "through <event>," is a window from day 0: "up to 5 years", "From registration to 1 year",
  "Treatment period of 7 days", "through study completion, an average of 1 year";
- "about", "approximately", "an average of", "median", "mean", "estimated" make the time approximate;
- a time right after "from" whose range ends in an event, not a time ("From Baseline up to the End of
  Safety Follow-up"), is not a time point; calendar dates are not time points (a month name is no unit).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from pipelines.extract.numbers import WORD_NUMBER, number_value, plain

MONTH_DAYS = 365.25 / 12
DAYS_PER_UNIT = {
    "minute": 1 / (24 * 60),
    "hour": 1 / 24,
    "day": 1.0,
    "week": 7.0,
    "month": MONTH_DAYS,
    "year": 365.25,
}
UNIT_SPELLINGS = {
    "minute": ("minutes", "minute", "mins", "min"),
    "hour": ("hours", "hour", "hrs", "hr", "h"),
    "day": ("days", "day", "d"),
    "week": ("weeks", "week", "wks", "wk"),
    "month": ("months", "month", "mos", "mo"),
    "year": ("years", "year", "yrs", "yr"),
}
# Visit labels put the unit first ("Week 12", "Day14").
LABEL_SPELLINGS = {"day": ("days", "day"), "week": ("weeks", "week"), "month": ("months", "month")}
WINDOW_MARKERS = (
    r"up\s+to",
    r"within",
    r"throughout",
    r"through",
    r"for",
    r"over",
    r"during",
    r"period\s+of",
    r"max(?:imum)?(?:\s+follow[- ]?up)?(?:\s*[=:]|\s+of)?",
    r"from\b[^;()\d]*\b(?:to|until|till|through)",  # "From registration to 1 year"
    r"(?:through|until|till)\b[^;()\d]*,",  # "through study completion, an average of 1 year"
)
APPROXIMATE_MARKERS = (
    r"about",
    r"approximately",
    r"approx\.?",
    r"around",
    r"roughly",
    r"(?:an?\s+)?average\s+of",
    r"on\s+average",
    r"median(?:\s+of)?",
    r"mean(?:\s+of)?",
    r"estimated(?:\s+to\s+be)?",
)
RANGE_CONNECTORS = r"-|to|through|thru|until|till|up\s+to"


@dataclass(frozen=True, slots=True)
class TimePoint:
    """One time point (``day_low == day_high``) or window, in days from day 0."""

    day_low: float
    day_high: float
    is_window: bool
    is_approximate: bool
    label: str


def _words(spellings: dict[str, tuple[str, ...]]) -> str:
    return "|".join(sorted((w for words in spellings.values() for w in words), key=len, reverse=True))


_UNIT_OF = {
    w: unit for spellings in (UNIT_SPELLINGS, LABEL_SPELLINGS) for unit, ws in spellings.items() for w in ws
}
_NUM = rf"(?<![\w.])\d+(?:\.\d+)?|{WORD_NUMBER}"
_LABEL_NUM = rf"\d+(?:\.\d+)?|{WORD_NUMBER}"  # glued to its label in "Day14"
_LIST_JOIN = r"\s*(?:,\s*(?:and\s+|or\s+)?|\band\b|\bor\b|&)\s*"
_ATOM = re.compile(
    rf"""
    \b(?P<baseline>baseline)\b
    | \b(?P<label>{_words(LABEL_SPELLINGS)})\s*(?P<label_values>(?:{_LABEL_NUM})
        (?:\s*-\s*(?:{_NUM})|(?:{_LIST_JOIN}(?:(?:{_words(LABEL_SPELLINGS)})\s*)?(?:{_LABEL_NUM}))*))
    | (?P<values>(?:{_NUM})(?:\s*(?:-|to|through)\s*(?:{_NUM})|(?:{_LIST_JOIN}(?:{_NUM}))*))
        \s*-?\s*(?P<unit>{_words(UNIT_SPELLINGS)})\b
    """,
    re.I | re.X,
)
_VALUE = re.compile(_LABEL_NUM, re.I)
_RANGE_INSIDE = re.compile(rf"^(?P<low>{_NUM})\s*(?:-|to|through)\s*(?P<high>{_NUM})$", re.I)
_WINDOW_BEFORE = re.compile(
    r"\b(?:" + "|".join(WINDOW_MARKERS) + r")\s*(?:(?:a|an|the)\s+)?(?:minimum\s+of\s+)?$", re.I
)
_APPROXIMATE_BEFORE = re.compile(
    r"(?:\b(?:" + "|".join(APPROXIMATE_MARKERS) + r")|~)\s*(?:(?:a|an|the)\s+)?$", re.I
)
_CONNECTOR_BETWEEN = re.compile(rf"^\s*(?:{RANGE_CONNECTORS})\s*$", re.I)
_FROM_BEFORE = re.compile(r"\b(?:from|between)\s+$", re.I)


@dataclass(frozen=True, slots=True)
class _Atom:
    """A time expression: its points (one per listed value) and where it stands."""

    days: tuple[tuple[float, float], ...]
    start: int
    end: int


def parse_time_frame(text: str) -> list[TimePoint] | None:
    """The time points a time frame names, in text order; None when it names none."""
    flat = plain(text)
    atoms = [_atom(match) for match in _ATOM.finditer(flat)]
    points: list[TimePoint] = []
    index = 0
    while index < len(atoms):
        atom = atoms[index]
        previous_end = atoms[index - 1].end if index else 0
        after = atoms[index + 1] if index + 1 < len(atoms) else None
        if after is not None and _CONNECTOR_BETWEEN.match(flat[atom.end : after.start]):
            low, high = atom.days[0][0], after.days[-1][1]
            points.append(TimePoint(low, high, True, False, text[atom.start : after.end]))
            index += 2
            continue
        index += 1
        before = flat[previous_end : atom.start]
        if _FROM_BEFORE.search(before):
            continue  # a range from this time to an event, not to a time
        start, approximate, window = _modifiers(before, previous_end, atom.start)
        label = text[start : atom.end]
        points.extend(
            TimePoint(0.0 if window else low, high, window or low != high, approximate, label)
            for low, high in atom.days
        )
    seen: set[tuple[float, float, bool, bool]] = set()
    unique = []
    for point in points:  # "Baseline (Week 0)" is one point
        key = (point.day_low, point.day_high, point.is_window, point.is_approximate)
        if key not in seen:
            seen.add(key)
            unique.append(point)
    return unique or None


def _atom(match: re.Match[str]) -> _Atom:
    if match.group("baseline"):
        return _Atom(((0.0, 0.0),), match.start(), match.end())
    unit = _UNIT_OF[(match.group("label") or match.group("unit")).lower()]
    values = match.group("label_values") or match.group("values")
    scale = DAYS_PER_UNIT[unit]
    inside = _RANGE_INSIDE.match(values.strip())
    if inside:
        days = ((number_value(inside["low"]) * scale, number_value(inside["high"]) * scale),)
    else:
        days = tuple((number_value(v) * scale,) * 2 for v in _VALUE.findall(values))
    return _Atom(days, match.start(), match.end())


def _modifiers(before: str, offset: int, atom_start: int) -> tuple[int, bool, bool]:
    """(label start, approximate?, window from day 0?) from the words right before a time."""
    start = atom_start
    approximate = _APPROXIMATE_BEFORE.search(before)
    if approximate:
        start = offset + approximate.start()
        before = before[: approximate.start()]
    window = _WINDOW_BEFORE.search(before)
    if window:
        start = offset + window.start()
    return start, approximate is not None, window is not None
