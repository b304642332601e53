"""Eligibility Markdown → items with type, order and nesting."""

from __future__ import annotations

from pipelines.transform.criteria import split_criteria


def _rows(markdown: str) -> list[tuple]:
    return [
        (c["criterion_type"], c["ordinal"], c["parent_ordinal"], c["depth"], c["criterion_text"])
        for c in split_criteria(markdown)
    ]


def test_sections_nesting_and_escapes() -> None:
    text = (
        "Inclusion Criteria:\n\n* Age \\>= 18\n* Active disease as defined by\n\n  * BASDAI \\>= 4\n"
        "  * Spinal pain\n* Consent\n\nExclusion Criteria:\n\n1. Pregnancy\n2. Prior \\[drug\\] use"
    )
    assert _rows(text) == [
        ("INCLUSION", 1, None, 0, "Age >= 18"),
        ("INCLUSION", 2, None, 0, "Active disease as defined by"),
        ("INCLUSION", 3, 2, 1, "BASDAI >= 4"),
        ("INCLUSION", 4, 2, 1, "Spinal pain"),
        ("INCLUSION", 5, None, 0, "Consent"),
        ("EXCLUSION", 6, None, 0, "Pregnancy"),
        ("EXCLUSION", 7, None, 0, "Prior [drug] use"),
    ]


def test_text_without_the_usual_headings() -> None:
    text = "Eligibility criteria:\n\nFor adolescents:\n\n* Student\n* Distress\n\nFor parents:\n\n* Caregiver"
    assert _rows(text) == [
        ("UNSPECIFIED", 1, None, 0, "For adolescents:"),
        ("UNSPECIFIED", 2, 1, 1, "Student"),
        ("UNSPECIFIED", 3, 1, 1, "Distress"),
        ("UNSPECIFIED", 4, None, 0, "For parents:"),
        ("UNSPECIFIED", 5, 4, 1, "Caregiver"),
    ]


def test_key_headings_continuations_and_empty_bullets() -> None:
    text = (
        "Key Inclusion Criteria:\n\n1. First line\n   continued here\n*\n\nKey Exclusion Criteria:\n\n* None"
    )
    assert _rows(text) == [
        ("INCLUSION", 1, None, 0, "First line continued here"),
        ("EXCLUSION", 2, None, 0, "None"),
    ]


def test_over_indented_items_attach_to_the_nearest_parent() -> None:
    assert [(c["depth"], c["parent_ordinal"]) for c in split_criteria("* a\n      * b\n* c")] == [
        (0, None),
        (1, 1),
        (0, None),
    ]


def test_empty_and_missing_text() -> None:
    assert split_criteria(None) == []
    assert split_criteria("  \n") == []
