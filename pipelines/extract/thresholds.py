"""Numeric eligibility thresholds and yes/no criterion flags read from one criterion item.

Researchers ask for "trials that exclude patients over 65" or "trials requiring PaO2/FiO2 ≤ 300";
the registry only has the sentence. This module turns one ``fact_eligibility.criterion_text`` into
``Threshold`` rows. What counts (the guideline the hand-annotated gold set follows):

- a comparison before a number: symbols (``≥ >= => >/= \\>= ≤ <= =< </= > <``) or words
  ("at least", "no more than", "greater or equal to", "older than", "under age 60", "> grade 2");
- a comparison after it: "18 years or older", "18 years of age or older", "18+ years", "14 days or longer";
- a range with a unit or right after a named parameter: "aged 18-75 years", "between 18 and 65",
  "Zubrod 0-1"; a range whose ends carry different units ("3 months to 17 years") is two bounds, and
  "1-<3 years" is ``>= 1`` plus ``< 3``;
- numbers are digits; the words one to twelve only when a unit follows ("under three years of age").

Not thresholds: time windows without a comparison ("within 6 months"), scales ("on a 0 to 10 scale"),
bare numbers. The parameter is the named thing to the left of the comparison (parenthesised
abbreviations are skipped when looking, so "AST (SGOT)/ALT (SGPT) =< 2.5 x ULN" is two thresholds); a
comparison with nothing but "and"/"or" before it continues the previous one ("Age > 18 and < 70 years",
whose unit is shared too). An age is recognised from the word "age"/"aged", from "years old"/"of age"
after the unit, from "older"/"younger", or from "children"/"infants"/... just before a year or month
bound. ``is_negated`` says whether meeting the condition makes a patient ineligible: an EXCLUSION item
XOR a negation ("No ...", "not", "without") opening the item or the clause the threshold sits in.

Units: the unit as written is kept; the value is also converted with pint to the parameter's
canonical unit (a year is 365.25 days, as pint and the registry's own ages say). Clinical shorthands
pint does not know are declared in ``UNIT_ALIASES``; a unit that still does not convert stays as
written with ``unit_normalised`` None. Scores without a unit (ECOG, NYHA grade) keep their value as
the normalised value. An age without a unit is in years. Conversions are cached per unit text, and the
pint registry is built once, on first use.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Iterator
from dataclasses import dataclass, replace
from functools import cache
from typing import TYPE_CHECKING

from pipelines.extract.numbers import NUMBER, PLAIN, WORD_NUMBER, number_value, plain

if TYPE_CHECKING:
    import pint


@dataclass(frozen=True, slots=True)
class Threshold:
    """One bound on one parameter, as written and normalised."""

    parameter: str
    parameter_normalised: str | None
    operator: str
    value_low: float | None
    value_high: float | None
    unit: str | None
    unit_normalised: str | None
    value_low_normalised: float | None
    value_high_normalised: float | None
    is_negated: bool
    matched_text: str


@dataclass(frozen=True, slots=True)
class CriterionFlags:
    """Recurring kinds of criteria, so that they can be counted or filtered without reading."""

    has_pregnancy_clause: bool
    has_consent_clause: bool
    has_trial_participation_clause: bool
    has_age_limit: bool


# --- vocabularies -------------------------------------------------------------------------------

# key → (canonical unit or None for a unitless score, synonym patterns). Order matters where one
# synonym contains another (creatinine clearance before creatinine, HbA1c before haemoglobin,
# CD4 % before CD4 count): the first alternative that fits at a position wins.
PARAMETERS: dict[str, tuple[str | None, tuple[str, ...]]] = {
    "pao2_fio2": (
        "mmHg",
        (
            r"pa\s*o2\b.{0,60}?fi\s*o2\b",
            r"(?:arterial\s+)?partial\s+pressure\s+of\s+(?:arterial\s+)?oxygen"
            r"[\W_]{0,30}(?:\w+\s+){0,2}fraction\s+of\s+(?:inspired\s+)?oxygen",
            r"p/f\s+ratio",
        ),
    ),
    "oxygen_saturation": ("%", (r"(?:oxygen|o2)\s+saturation", r"\bsp\s*o2\b", r"\bsa\s*o2\b")),
    "respiratory_rate": ("breaths/min", (r"respiratory\s+rate", r"respiration\s+rate", r"breathing\s+rate")),
    "age": ("years", (r"(?<!childbearing\s)\bage[sd]?\b",)),
    "bmi": ("kg/m^2", (r"body\s+mass\s+index", r"\bbmi\b")),
    "karnofsky": (None, (r"karnofsky(?:\s+performance\s+(?:status|score))?", r"\bkps\b")),
    "ecog": (
        None,
        (
            r"eastern\s+cooperative\s+oncology\s+group(?:\s+performance\s+status)?",
            r"\becog(?:\s+performance\s+status)?",
            r"\bzubrod\b",
        ),
    ),
    "creatinine_clearance": ("mL/min", (r"creatinine\s+clearance", r"\bcrcl\b")),
    "egfr": ("mL/min", (r"(?:estimated\s+)?glomerular\s+filtration\s+rate", r"\begfr\b")),
    "hba1c": ("%", (r"\bhba1c\b", r"\bha?emoglobin\s+a1c\b", r"glycated\s+ha?emoglobin", r"\ba1c\b")),
    "hemoglobin": ("g/dL", (r"\bha?emoglobin\b", r"\bhgb\b", r"\bhb\b")),
    "platelet_count": ("10^9/L", (r"\bplatelets?(?:\s+counts?)?", r"\bplt\b")),
    "neutrophil_count": ("10^9/L", (r"(?:absolute\s+)?neutrophils?(?:\s+counts?)?", r"\banc\b")),
    "white_cell_count": (
        "10^9/L",
        (r"\bleu[ck]ocytes?(?:\s+counts?)?", r"white\s+(?:blood\s+)?cells?(?:\s+counts?)?", r"\bwbc\b"),
    ),
    "lymphocyte_count": ("10^9/L", (r"\blymphocytes?\s+counts?", r"\blymphocytes\b", r"\balc\b")),
    "cd4_percent": ("%", (r"\bcd4\+?\s*(?:%|percent(?:age)?)",)),
    "cd4_count": ("cells/µL", (r"\bcd4\+?\s*(?:(?:t[-\s]?)?(?:cells?|lymphocytes?)\s+)?counts?",)),
    "alt": ("U/L", (r"alanine\s+(?:amino)?trans(?:ferase|aminase)", r"\balt\b", r"\bsgpt\b")),
    "ast": ("U/L", (r"aspartate\s+(?:amino)?trans(?:ferase|aminase)", r"\bast\b", r"\bsgot\b")),
    "bilirubin": ("mg/dL", (r"(?:total\s+)?bilirubin",)),
    "serum_creatinine": ("mg/dL", (r"(?:serum\s+)?creatinine",)),
    "heart_failure_grade": (None, (r"heart\s+failure", r"\bnyha\b", r"new\s+york\s+heart\s+association")),
    "body_weight": ("kg", (r"body\s+weight", r"\bweight\b(?!\s+(?:loss|gain|change|bands?))")),
    "systolic_bp": ("mmHg", (r"systolic(?:\s+blood)?(?:\s+pressure)?", r"\bsbp\b")),
    "diastolic_bp": ("mmHg", (r"diastolic(?:\s+blood)?(?:\s+pressure)?", r"\bdbp\b")),
    "qtc": ("ms", (r"\bqtc[bf]?\b", r"corrected\s+qt(?:\s+interval)?", r"\bqt\s+interval")),
    "qrs_duration": ("ms", (r"\bqrs(?:\s+(?:duration|width))?\b",)),
    "lvef": ("%", (r"(?:left\s+ventricular\s+)?ejection\s+fraction", r"\blvef\b")),
    "life_expectancy": ("months", (r"life\s+expectancy",)),
    "body_temperature": ("°C", (r"(?:body\s+)?temperature", r"\bfever\b")),
    "heart_rate": ("beats/min", (r"heart\s+rate", r"pulse(?:\s+rate)?", r"\bhr\b")),
    "crp": ("mg/L", (r"c[-\s]?reactive\s+protein", r"\bcrp\b")),
    "fasting_glucose": ("mg/dL", (r"fasting\s+(?:blood\s+|plasma\s+)?glucose", r"\bfpg\b")),
    "fev1": ("L", (r"forced\s+expiratory\s+volume(?:\s+in\s+(?:1|one)\s+second)?", r"\bfev\s*1\b")),
    "potassium": ("mmol/L", (r"(?:serum\s+)?potassium",)),
    "ahi": (None, (r"apn(?:o)?ea[-\s]hypopn(?:o)?ea\s+index", r"\bahi\b")),
    "easi": (None, (r"eczema\s+area\s+and\s+severity\s+index", r"\beasi\b")),
    "iga": (None, (r"investigator'?s\s+global\s+assessment", r"\b(?-i:IGA)\b")),
    "basdai": (None, (r"bath\s+ankylosing\s+spondylitis\s+disease\s+activity\s+index", r"\bbasdai\b")),
}
# A bound stated without a unit where the unit is never in doubt.
IMPLIED_UNITS = {"age": "years"}
# Parameters outside the vocabulary still get a normalised value when their unit has one of these
# dimensions: washouts and durations become days.
DIMENSION_UNITS = {"[time]": "days", "[mass]": "mg", "[length] ** 3": "mL", "[length]": "mm"}

# Clinical unit spellings → pint expressions (keys lower-case, spaces removed).
UNIT_ALIASES = {
    "rpm": "breath/minute",
    "breaths/min": "breath/minute",
    "breathsperminute": "breath/minute",
    "bpm": "beat/minute",
    "beats/min": "beat/minute",
    "beatsperminute": "beat/minute",
    "%": "percent",
    "mmhg": "mmHg",
    "wk": "week",
    "wks": "week",
    "yrs": "year",
    "mos": "month",
    "k/ul": "1e3/microliter",
    "°c": "degC",
    "°f": "degF",
    "degreesc": "degC",
    "degreesf": "degF",
}
REGISTRY_DEFINITIONS = ("breath = 1 = breaths", "beat = 1 = beats", "cell = 1 = cells", "IU = enzyme_unit")
# Rewrites applied before pint reads a unit: counts "x 10^9/L" (or "x109/L" with the superscript
# lost, which only ever means 10^9 in a lab unit), mm³ spellings, and the eGFR body-surface suffix
# (a clearance per 1.73 m² is compared in mL/min, as criteria do).
_UNIT_REWRITES = (
    (re.compile(r"^[x×]\s*10\s*\^?\s*(\d{1,2})\s*/"), r"1e\1/"),
    (re.compile(r"/\s*1\.73\s*m\s*\^?\s*2$"), ""),
    (re.compile(r"cumm|mm\s*\^?\s*3"), "mm**3"),
    (re.compile(r"\b(c?m)\s*\^?\s*2\b"), r"\1**2"),
    (re.compile(r"\^"), "**"),
    (re.compile(r"^/"), "1/"),
    (re.compile(r"\s+"), ""),
)

OPERATORS: dict[str, tuple[str, ...]] = {
    ">=": (
        "≥",
        "≧",
        ">=",
        "=>",
        ">/=",
        r"greater\s+than\s+or\s+equal\s+to",
        r"greater\s+or\s+equal\s+to",
        r"more\s+than\s+or\s+equal\s+to",
        r"equal\s+to\s+or\s+(?:greater|more)\s+than",
        r"at\s+least",
        r"no\s+(?:less|fewer)\s+than",
        r"not\s+(?:less|fewer)\s+than",
        r"(?:a\s+)?minimum\s+of",
    ),
    "<=": (
        "≤",
        "≦",
        "<=",
        "=<",
        "</=",
        r"less\s+than\s+or\s+equal\s+to",
        r"(?:no|not)\s+(?:more|greater|older)\s+than",
        r"not\s+(?:exceeding|to\s+exceed)",
        r"no\s+later\s+than",
        r"at\s+most",
        r"up\s+to",
        r"(?:a\s+)?maximum\s+of",
    ),
    ">": (
        ">",
        r"greater\s+than",
        r"more\s+than",
        r"higher\s+than",
        r"older\s+than",
        r"exceed(?:s|ing)?",
        r"in\s+excess\s+of",
        r"over",
        r"above",
    ),
    "<": ("<", r"less\s+than", r"lower\s+than", r"fewer\s+than", r"younger\s+than", r"under", r"below"),
}
POSTFIX_OPERATORS: dict[str, tuple[str, ...]] = {
    ">=": ("older", "more", "greater", "higher", "above", "over", "longer"),
    "<=": ("younger", "less", "fewer", "lower", "below", "under", "shorter"),
}
# Words that make a bound an age when its unit is years or months (or absent).
_AGE_CUES = {"age", "aged", "old", "older", "younger"}

# Units after a number, most specific first (the regex takes the first alternative that fits).
UNITS = (
    r"(?:[x×]|times)\s*(?:the\s+)?(?:institutional\s+)?(?:upper\s+limit\s+of\s+(?:the\s+)?normal|ULN)",
    r"[x×]\s*10\s*\^?\s*\d{1,2}\s*/\s*L\b",
    r"(?:cells?\s*)?/\s*(?:mm\s*\^?\s*3|cumm|mcL|uL)\b",
    r"K\s*/\s*uL\b",
    r"m[lL]\s*/\s*min(?:\s*/\s*1\.73\s*m\s*\^?\s*2)?",
    r"(?:mg|g|umol|mmol|mEq|U|IU)\s*/\s*(?:dL|L|kg|m\s*\^?\s*2)\b",
    r"kg\s*/\s*m\s*\^?\s*2\b",
    r"mm\s*Hg\b",
    r"kPa\b",
    r"(?:beats?|breaths?)\s*(?:per\s+|/\s*)min(?:ute)?\b",
    r"bpm\b",
    r"rpm\b",
    r"msec\b",
    r"(?-i:ms)\b",
    r"(?:milli)?grams?\b",
    r"(?:mg|mcg|ug|kg|g|mL|L|cm|mm)\b",
    r"c?Gy\b",
    r"gray\b",
    r"cpm\b",
    r"fold\b",
    r"%",
    r"percent\b",
    r"°\s*[CF]\b",
    r"half-lives\b",
    r"(?:years?|yrs?|months?|mos?|weeks?|wks?|days?|hours?|hrs?|minutes?|mins?)\b",
)
_YEAR_OR_MONTH = re.compile(r"^(?:years?|yrs?|months?|mos?)$", re.I)
_TIME_UNIT = re.compile(r"^(?:years?|yrs?|months?|mos?|weeks?|wks?|days?|hours?|hrs?|minutes?|mins?)$", re.I)
_TIME_VALUED = {key for key, (unit, _) in PARAMETERS.items() if unit and _TIME_UNIT.match(unit)}

FLAG_PATTERNS: dict[str, tuple[str, ...]] = {
    "has_pregnancy_clause": (
        r"\bpregnan",
        r"\bbreast[-\s]?fe(?:e|d)",
        r"\blactat",
        r"\bchild[-\s]?bearing\b",
        r"\bcontracept",
        r"\bbirth\s+control\b",
    ),
    "has_consent_clause": (r"\bconsent", r"\bassent\b"),
    "has_trial_participation_clause": (
        r"\b(?:participat\w*|enrol\w*|take\s+part)\b[^.;]{0,40}?"
        r"\b(?:another|other|any|concurrent\w*|simultaneous\w*|previous\w*|prior)\b[^.;]{0,40}?"
        r"\b(?:trials?|stud(?:y|ies)|protocols?)\b",
        r"\b(?:concurrent|simultaneous|previous|prior|current)\s+(?:participation|enrol\w*)\b"
        r"[^.;]{0,40}?\b(?:trials?|stud(?:y|ies))\b",
        r"\b(?:other|another|any|prior|previous|concurrent)\s+(?:\w+\s+)?(?:investigational|experimental)\s+"
        r"(?:\w+\s+)?(?:agents?|drugs?|devices?|products?|treatments?|therap\w*|medications?)\b",
    ),
}

# --- compiled patterns --------------------------------------------------------------------------


def _alternation(patterns: tuple[str, ...] | list[str]) -> str:
    return "|".join(f"(?:{p})" for p in patterns)


_OPERATOR_GROUPS = {f"op{i}": op for i, op in enumerate(OPERATORS)}
_PREFIX = "|".join(
    f"(?P<{name}>" + _alternation([p if not p[0].isalpha() else rf"\b{p}\b" for p in OPERATORS[op]]) + ")"
    for name, op in _OPERATOR_GROUPS.items()
)
_POSTFIX = {word: op for op, words in POSTFIX_OPERATORS.items() for word in words}
_UNIT = _alternation(UNITS)
_VALUE = f"{NUMBER}|{WORD_NUMBER}"
# Words that may stand between a comparison and its number: "at least the next 12 weeks",
# "> grade 2", "under age 60".
_FILLER = (
    r"(?:(?:the|a|an)\s+)?(?:(?:next|last|past|first)\s+)?"
    r"(?:(?P<filler>grade|class|stage|level|score|age|aged)\s+(?:of\s+)?)?"
)


def _age_tail(name: str) -> str:
    """ "18 years of age", "12-24 years old": the words after a unit that make it an age."""
    return rf"(?:\s+(?P<{name}>of\s+age|old))?"


# One alternative per shape, tried left to right at each position: "between 18 and 65"; a comparison
# word before the number (the guard lets the regex give up at once inside words and numbers);
# "1-<3 years"; a range "18-75 years"; a comparison word after ("18 years or older"); "18+ years".
_COMPARISON = re.compile(
    rf"""
    \b(?:between|from)\s+(?P<b_low>{NUMBER})\s*(?:(?P<b_unit1>{_UNIT})\s*)?(?:and|to|-)\s*
        (?P<b_high>{NUMBER})(?:\s*(?P<b_unit>{_UNIT}))?{_age_tail("b_age")}
    | (?=[≥≧≤≦<>=]|\b[a-z])(?:{_PREFIX})\s*{_FILLER}
        (?P<p_value>{_VALUE})(?:\s*(?:consecutive\s+)?(?P<p_unit>{_UNIT}))?{_age_tail("p_age")}
    | (?P<o_low>{NUMBER})\s*-\s*<\s*(?P<o_high>{NUMBER})(?:\s*(?P<o_unit>{_UNIT}))?{_age_tail("o_age")}
    | (?P<r_low>{NUMBER})\s*(?:(?P<r_unit1>{_UNIT})\s*)?(?:-|to)\s*
        (?P<r_high>{NUMBER})(?:\s*(?P<r_unit>{_UNIT}))?{_age_tail("r_age")}
    | (?P<q_value>{_VALUE})(?:\s*(?P<q_unit>{_UNIT}))?{_age_tail("q_age")}
        (?:\s*[\[(][^\])]{{1,12}}[\])])?(?:\s+(?:daily|per\s+day|a\s+day))?
        \s+(?:or|and)\s+(?P<q_post>{"|".join(_POSTFIX)})\b
    | (?P<plus_value>{NUMBER})\+(?!\d)\s*(?P<plus_unit>{_UNIT})?
    """,
    re.I | re.X,
)
_NUMERAL = re.compile(rf"(?=\d){NUMBER}|(?=[otfsen]){WORD_NUMBER}", re.I)
# "greater than or equal to the next grade of 2" / "2 x the institutional upper limit of the normal"
_REACH_BEFORE, _REACH_AFTER = 48, 56
# Every synonym starts a word: the guard skips other positions before trying a hundred branches.
_VOCABULARY = re.compile(
    r"\b(?=[a-z])(?:"
    + "|".join(f"(?P<{key}>{_alternation(synonyms)})" for key, (_, synonyms) in PARAMETERS.items())
    + ")",
    re.I,
)
_CLAUSE_BOUNDARY = re.compile(r"[;:,]|\.(?:\s|$)")
_CONNECTORS_ONLY = re.compile(r"^(?:[\s,/()\[\]&+-]|\b(?:and|or|and/or)\b)*$", re.I)
_PARENTHESISED = re.compile(r"\([^()]*\)|\[[^\[\]]*\]")
_AGE_GROUP_BEFORE = re.compile(
    r"\b(?:children|child|infants?|adolescents?|adults?|patients|participants|subjects)\s*$", re.I
)
_NEGATION = re.compile(
    r"\b(?:no|not|never|without|neither|nor|cannot)\b|\b(?:absence|lack)\s+of\b|n't\b", re.I
)
_ITEM_NEGATION = re.compile(r"^\W*(?:no|not|never|without|non|(?:absence|lack)\s+of)\b", re.I)
_NEGATION_SCOPE = re.compile(r"[;:,.()]|\b(?:but|however|except|unless|while|whereas|if|when|or|and)\b", re.I)
_PHRASE_PUNCTUATION = " \t,;:()[]•*-"
_LEADING_CONNECTOR = re.compile(r"^(?:and/or|and|or)\s+", re.I)
_SCALE_AFTER = re.compile(r"^\s*(?:\w+\s+){0,2}scale\b", re.I)
_FLAGS = {name: re.compile(_alternation(patterns), re.I) for name, patterns in FLAG_PATTERNS.items()}


# --- extraction ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Bound:
    """A comparison read from the text, before its parameter is known."""

    operator: str
    low: float | None
    high: float | None
    unit: str | None
    start: int
    end: int
    age_cue: str | None  # the word that makes this an age ("old", "older", "age"), if any


# (parameter as written, vocabulary key, where the parameter starts in the text if it is there)
_Named = tuple[str, str | None, int | None]


def extract_thresholds(text: str, criterion_type: str) -> list[Threshold]:
    """Every threshold stated in one criterion item, in text order."""
    flat = plain(text)
    item_negated = _ITEM_NEGATION.match(flat) is not None
    thresholds: list[Threshold] = []
    previous: list[Threshold] = []
    floor = 0  # end of the previous comparison: the next one's parameter is looked for after it
    scopes: list[int] | None = None
    for match in _comparisons(flat):
        bounds = list(_bounds(match, text))
        if not bounds:
            continue
        start = match.start()
        continues = bool(previous) and _CONNECTORS_ONLY.match(flat[floor:start]) is not None
        named = _parameters(text, flat, floor, start, bounds[0])
        if named is None and not _is_threshold_without_parameter(match, flat):
            floor = match.end()
            continue
        if named is None and continues:
            named = list(dict.fromkeys((t.parameter, t.parameter_normalised, None) for t in previous))
        elif named is None:
            named = [(_unnamed_parameter(text, flat, floor, match), None, None)]
        if scopes is None:
            scopes = [0, *(m.end() for m in _NEGATION_SCOPE.finditer(flat))]
        negated = (criterion_type == "EXCLUSION") != (item_negated or _clause_negated(flat, scopes, start))
        current = [_threshold(name, bound, text, negated) for name in named for bound in bounds]
        if continues:
            thresholds[-len(previous) :] = [_share_unit(t, current[-1]) for t in previous]
        thresholds.extend(current)
        previous = current
        floor = match.end()
    return thresholds


def _comparisons(flat: str) -> Iterator[re.Match[str]]:
    """``_COMPARISON`` matches, searched only near numerals.

    Every comparison holds a numeral, its words reaching at most ``_REACH_BEFORE`` characters before
    it and its unit ``_REACH_AFTER`` after; scanning those windows (merged where they overlap)
    instead of the whole text keeps long criteria with few numbers cheap.
    """
    start = end = -1
    for numeral in _NUMERAL.finditer(flat):
        low, high = max(0, numeral.start() - _REACH_BEFORE), numeral.end() + _REACH_AFTER
        if low <= end:
            end = high
            continue
        if end >= 0:
            yield from _COMPARISON.finditer(flat, start, end)
        start, end = low, high
    if end >= 0:
        yield from _COMPARISON.finditer(flat, start, end)


def _bounds(match: re.Match[str], text: str) -> Iterator[_Bound]:
    """The bounds one comparison states: one, or two for "1-<3" and mixed-unit ranges."""
    g = match.groupdict()

    def _unit(group: str) -> str | None:  # as written: from the text, not its flattened copy
        return None if g[group] is None else text[match.start(group) : match.end(group)].strip()

    start, end = match.start(), match.end()
    if g["b_low"] is not None:
        yield from _range(g["b_low"], g["b_high"], _unit("b_unit1"), _unit("b_unit"), start, end, g["b_age"])
    elif g["p_value"] is not None:
        if _is_word(g["p_value"]) and g["p_unit"] is None:
            return
        name = next(name for name in _OPERATOR_GROUPS if g[name] is not None)
        operator, value = _OPERATOR_GROUPS[name], number_value(g["p_value"])
        low, high = (value, None) if operator in (">", ">=") else (None, value)
        cue = _age_cue(g["p_age"], g["filler"], g[name].split()[0])
        yield _Bound(operator, low, high, _unit("p_unit"), start, end, cue)
    elif g["o_low"] is not None:
        unit = _unit("o_unit")
        yield _Bound(">=", number_value(g["o_low"]), None, unit, start, end, _age_cue(g["o_age"]))
        yield _Bound("<", None, number_value(g["o_high"]), unit, start, end, _age_cue(g["o_age"]))
    elif g["r_low"] is not None:
        yield from _range(g["r_low"], g["r_high"], _unit("r_unit1"), _unit("r_unit"), start, end, g["r_age"])
    elif g["q_value"] is not None:
        if _is_word(g["q_value"]) and g["q_unit"] is None:
            return
        operator, value = _POSTFIX[g["q_post"].lower()], number_value(g["q_value"])
        low, high = (value, None) if operator == ">=" else (None, value)
        yield _Bound(operator, low, high, _unit("q_unit"), start, end, _age_cue(g["q_age"], g["q_post"]))
    else:
        yield _Bound(">=", number_value(g["plus_value"]), None, _unit("plus_unit"), start, end, None)


def _range(
    low: str, high: str, low_unit: str | None, high_unit: str | None, start: int, end: int, age: str | None
) -> Iterator[_Bound]:
    cue = _age_cue(age)
    if low_unit is not None and high_unit is not None and _unit_key(low_unit) != _unit_key(high_unit):
        yield _Bound(">=", number_value(low), None, low_unit, start, end, cue)
        yield _Bound("<=", None, number_value(high), high_unit, start, end, cue)
    elif number_value(low) <= number_value(high):  # "12-2" is no range
        yield _Bound("between", number_value(low), number_value(high), high_unit or low_unit, start, end, cue)


def _age_cue(*words: str | None) -> str | None:
    """The first of ``words`` that makes a bound an age, by its last word ("of age" → "age")."""
    return next((w.split()[-1] for w in words if w and w.split()[-1].lower() in _AGE_CUES), None)


def _is_word(value: str) -> bool:
    return value[0].isalpha()


def _unit_key(unit: str) -> str:
    """Same unit whatever the plural or spacing ("month" = "months")."""
    return re.sub(r"s$", "", re.sub(r"\s+", "", unit.lower()))


def _is_threshold_without_parameter(match: re.Match[str], flat: str) -> bool:
    """A comparison word makes a threshold; a bare range only with a unit, and not on a scale."""
    g = match.groupdict()
    if g["r_low"] is None and g["b_low"] is None:
        return True
    has_unit = any(g[name] for name in ("r_unit", "r_unit1", "b_unit", "b_unit1"))
    return has_unit and not _SCALE_AFTER.match(flat[match.end() :])


def _parameters(text: str, flat: str, floor: int, start: int, bound: _Bound) -> list[_Named] | None:
    """The parameters named before the comparison at ``start`` (several for "AST/ALT =< 2.5 x ULN").

    None when nothing is named (the caller decides between continuing the previous comparison and
    keeping the phrase as an unnamed parameter). Parentheticals closed before the comparison are
    blanked out first, so abbreviations neither hide nor break a list of names. A time unit only fits
    a time-valued parameter: "heart failure for at least 3 months" bounds a duration, not a grade.
    """
    lower = max([floor, *(m.end() for m in _CLAUSE_BOUNDARY.finditer(flat, floor, start))])
    masked = " " * lower + _PARENTHESISED.sub(lambda m: " " * len(m.group()), flat[lower:start])
    terms = list(_VOCABULARY.finditer(masked, lower, start))
    unit_is_time = bound.unit is not None and _TIME_UNIT.match(bound.unit) is not None
    if terms:
        chained = [terms[-1]]
        for term in reversed(terms[:-1]):
            if not _CONNECTORS_ONLY.match(masked[term.end() : chained[0].start()]):
                break
            chained.insert(0, term)
        first = chained[0].start()
        parameter = text[first:start].rstrip(" \t,;:([") or text[first : chained[-1].end()]
        keys = [
            k
            for k in dict.fromkeys(t.lastgroup for t in chained)
            if k and (k in _TIME_VALUED or not unit_is_time)
        ]
        return [(parameter, key, first) for key in keys] or [(parameter, None, first)]
    is_age_unit = bound.unit is None or _YEAR_OR_MONTH.match(bound.unit) is not None
    if bound.age_cue and is_age_unit:
        return [(bound.age_cue, "age", None)]
    group = _AGE_GROUP_BEFORE.search(flat, lower, start)
    if group and bound.unit is not None and is_age_unit:
        return [(text[group.start() : group.end()].strip(), "age", group.start())]
    return None


def _unnamed_parameter(text: str, flat: str, floor: int, match: re.Match[str]) -> str:
    """The words before the comparison in its clause, else the clause before ("2 hour: 140 - 199
    mg/dl"), else the words after it ("≥10% body surface area")."""
    boundaries = [0, *(m.end() for m in _CLAUSE_BOUNDARY.finditer(flat, 0, match.start()))]
    clauses = [(max(floor, boundaries[-1]), match.start())]
    if len(boundaries) > 1 and boundaries[-1] > floor:
        clauses.append((max(floor, boundaries[-2]), boundaries[-1]))
    following = _CLAUSE_BOUNDARY.search(flat, match.end())
    clauses.append((match.end(), following.start() if following else len(text)))
    for start, end in clauses:
        phrase = _LEADING_CONNECTOR.sub("", text[start:end].strip(_PHRASE_PUNCTUATION))
        if phrase.strip(_PHRASE_PUNCTUATION):
            return phrase.strip(_PHRASE_PUNCTUATION)
    return match.group().strip()


def _clause_negated(flat: str, scopes: list[int], start: int) -> bool:
    """A negation between the clause's start (``scopes`` holds every clause start) and ``start``."""
    scope_start = scopes[bisect_right(scopes, start) - 1]
    return _NEGATION.search(flat, scope_start, start) is not None


def _threshold(named: _Named, bound: _Bound, text: str, negated: bool) -> Threshold:
    parameter, key, parameter_start = named
    unit_normalised, low_normalised, high_normalised = _normalise(key, bound.unit, bound.low, bound.high)
    span_start = bound.start if parameter_start is None else min(parameter_start, bound.start)
    return Threshold(
        parameter=parameter,
        parameter_normalised=key,
        operator=bound.operator,
        value_low=bound.low,
        value_high=bound.high,
        unit=bound.unit,
        unit_normalised=unit_normalised,
        value_low_normalised=low_normalised,
        value_high_normalised=high_normalised,
        is_negated=negated,
        matched_text=text[span_start : bound.end].strip(),
    )


def _share_unit(earlier: Threshold, later: Threshold) -> Threshold:
    """ "> 18 and < 70 years": the unit written once belongs to both bounds of the same parameter."""
    if earlier.unit is not None or later.unit is None:
        return earlier
    if earlier.parameter_normalised != later.parameter_normalised:
        return earlier
    unit, low, high = _normalise(
        earlier.parameter_normalised, later.unit, earlier.value_low, earlier.value_high
    )
    return replace(
        earlier, unit=later.unit, unit_normalised=unit, value_low_normalised=low, value_high_normalised=high
    )


# --- units --------------------------------------------------------------------------------------


def _normalise(
    key: str | None, unit: str | None, low: float | None, high: float | None
) -> tuple[str | None, float | None, float | None]:
    """(canonical unit, low, high) in the parameter's canonical unit, or Nones when not convertible."""
    if key is not None and unit is None:
        unit = IMPLIED_UNITS.get(key)
        if unit is None:  # a score keeps its value; a measurement without its unit cannot be compared
            return (None, low, high) if PARAMETERS[key][0] is None else (None, None, None)
    if unit is None:
        return None, None, None
    target = PARAMETERS[key][0] if key is not None else _dimension_unit(unit)
    conversion = None if target is None else _conversion(unit, target)
    if conversion is None:
        return None, None, None
    scale, offset = conversion
    return (
        target,
        None if low is None else _significant(low * scale + offset),
        None if high is None else _significant(high * scale + offset),
    )


def _significant(value: float) -> float:
    """Drop float noise from unit factors (100000/mm³ is 100, not 100.00000000000003, per nL)."""
    return float(f"{value:.12g}")


@cache
def _registry() -> pint.UnitRegistry:
    """One pint registry per process, built on first use (it takes half a second).

    Counted things (breaths, beats, cells) are dimensionless; an international unit of enzyme activity
    (the "IU/L" of ALT and AST) is the enzyme unit.
    """
    import pint

    registry = pint.UnitRegistry()
    for definition in REGISTRY_DEFINITIONS:
        registry.define(definition)
    return registry


def _pint_expression(unit: str) -> str:
    expression = unit.translate(PLAIN)
    alias = UNIT_ALIASES.get(re.sub(r"\s+", "", expression.lower()))
    if alias is not None:
        return alias
    for pattern, replacement in _UNIT_REWRITES:
        expression = pattern.sub(replacement, expression)
    return UNIT_ALIASES.get(expression.lower(), expression)


@cache
def _quantity(unit: str) -> pint.Quantity | None:
    """The pint quantity one ``unit`` stands for ("10^9/L" is 1e9 per litre), None when unreadable."""
    registry = _registry()
    try:
        quantity = registry.parse_expression(_pint_expression(unit))
    except Exception:  # pint raises a zoo of parser errors for text that is not a unit
        return None
    return quantity if isinstance(quantity, registry.Quantity) else None


@cache
def _conversion(unit: str, target: str) -> tuple[float, float] | None:
    """``value * scale + offset`` converts ``unit`` to ``target`` (an offset only for temperatures)."""
    source, goal = _quantity(unit), _quantity(target)
    if source is None or goal is None:
        return None
    registry = _registry()

    def converted(value: float) -> float:
        quantity = registry.Quantity(value * source.magnitude, source.units)
        return float(quantity.to(goal.units).magnitude / goal.magnitude)

    try:
        zero, one = converted(0.0), converted(1.0)
    except Exception:  # pint's DimensionalityError and relatives: the units measure different things
        return None
    return one - zero, zero


@cache
def _dimension_unit(unit: str) -> str | None:
    quantity = _quantity(unit)
    return None if quantity is None else DIMENSION_UNITS.get(str(quantity.dimensionality))


# --- flags --------------------------------------------------------------------------------------


def criterion_flags(text: str) -> CriterionFlags:
    """Which recurring kinds of criteria one item belongs to."""
    flat = plain(text)
    return CriterionFlags(
        **{name: pattern.search(flat) is not None for name, pattern in _FLAGS.items()},
        has_age_limit=any(t.parameter_normalised == "age" for t in extract_thresholds(text, "UNSPECIFIED")),
    )
