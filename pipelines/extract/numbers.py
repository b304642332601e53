"""Text and numbers as every free-text reader sees them: one flattening of typographic variants and
one way to read a number, so that thresholds, doses and time frames agree on what "10⁹/L",
"100,000" or "twelve" say."""

from __future__ import annotations

import re

# Sub- and superscript digits lose nothing as plain digits ("PaO₂", "10⁹/L"); dashes, spaces and the
# two micro signs (µ, μ) are unified. Every replacement is one character for one, so spans found in
# the plain text are spans of the original.
PLAIN = str.maketrans(
    "₀₁₂₃₄₅₆₇₈₉⁰¹²³⁴⁵⁶⁷⁸⁹–—−\u00a0\u2009µμ",
    "01234567890123456789---  uu",
)
_MARKDOWN_ESCAPE = re.compile(r"\\(?=[<>=+\-*_\[\]().#!|~^])")

WORD_NUMBERS = {
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
}
# Digits not glued to a word or a decimal point ("Tisdale36", "v5.0" are not numbers); thousands
# separated by commas ("100,000/mm^3").
NUMBER = r"(?<![\w.])(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?"
WORD_NUMBER = r"\b(?:" + "|".join(WORD_NUMBERS) + r")\b"


def plain(text: str) -> str:
    """The text with escapes and typographic variants flattened, same length as ``text``."""
    return _MARKDOWN_ESCAPE.sub(" ", text.translate(PLAIN))


def number_value(token: str) -> float:
    """A matched ``NUMBER`` or ``WORD_NUMBER`` as a float."""
    word = WORD_NUMBERS.get(token.lower())
    return float(word) if word is not None else float(token.replace(",", ""))
