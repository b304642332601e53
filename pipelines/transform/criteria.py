"""Split eligibility criteria Markdown into items: type, order, nesting and text.

API v2 criteria are Markdown: "Inclusion Criteria:" / "Exclusion Criteria:" headings, ``*``/``-``
bullets and ``1.`` numbered items nested by indentation, backslash escapes (``\\>=``). Other
parsers (classic page, legacy XML) produce the same Markdown, so this one splitter serves all.

Rules, in order:
- a non-list line naming inclusion or exclusion criteria (short, ending with ``:`` or nothing)
  switches the section; items before any heading, or under a neutral "Eligibility criteria:"
  heading, are ``UNSPECIFIED``;
- a list item's depth is its indentation in steps of two spaces;
- other non-list text is an item of its own at the top level, and the list that follows a text
  line ending in ``:`` is nested under it (NCT03630471's "For adolescent participants:");
- an indented non-list line continues the item above it.
"""

from __future__ import annotations

import re
from typing import TypedDict

_ESCAPE = re.compile(r"\\([\\`*_{}\[\]()#+\-.!<>=|~^])")
_ITEM = re.compile(r"^(?P<indent>\s*)(?:[*\-+•]|\d{1,3}[.)]|[a-zA-Z][.)])(?:\s+(?P<text>.*\S))?\s*$")
_HEADING = re.compile(
    r"^\W*(?:key\s+)?(?P<kind>inclusion|exclusion|eligibility)\s+criteria\b[^.]{0,40}:?\s*$", re.I
)


SECTION_TYPES = {"inclusion": "INCLUSION", "exclusion": "EXCLUSION", "eligibility": "UNSPECIFIED"}


class Criterion(TypedDict):
    criterion_type: str
    ordinal: int
    parent_ordinal: int | None
    depth: int
    criterion_text: str


def split_criteria(markdown: str | None) -> list[Criterion]:
    """Items of one study's criteria, in source order, ordinals from 1."""
    if not markdown:
        return []
    items: list[Criterion] = []
    section = "UNSPECIFIED"
    stack: list[Criterion] = []  # open ancestors of the next item, by depth
    base = 0  # depth added to list items under a text line ending in ":"
    for raw_line in markdown.replace("\r\n", "\n").split("\n"):
        line = _ESCAPE.sub(r"\1", raw_line.rstrip())
        if not line.strip():
            continue
        heading = _HEADING.match(line)
        if heading and not _ITEM.match(line):
            section = SECTION_TYPES[heading["kind"].lower()]
            stack, base = [], 0
            continue
        bullet = _ITEM.match(line)
        if bullet:
            if not bullet["text"]:
                continue
            depth = base + len(bullet["indent"].expandtabs(4)) // 2
            text = bullet["text"]
        elif raw_line[:1].isspace() and items:
            items[-1]["criterion_text"] += " " + line.strip()
            continue
        else:
            depth, text = 0, line.strip()
        del stack[depth:]
        depth = len(stack)  # an item cannot be deeper than one below its parent
        parent = stack[-1]["ordinal"] if stack else None
        item: Criterion = {
            "criterion_type": section,
            "ordinal": len(items) + 1,
            "parent_ordinal": parent,
            "depth": depth,
            "criterion_text": text,
        }
        items.append(item)
        stack.append(item)
        if not bullet:
            base = 1 if text.endswith(":") else 0
            if not base:
                stack.pop()
    return items
