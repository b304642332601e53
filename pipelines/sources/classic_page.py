"""A ClinicalTrials.gov *classic study page* saved as plain text → the canonical record.

The classic site (``/ct2/show/NCT…``) rendered a study as HTML tables; a text copy keeps the values
but loses most structure. What the text looks like, and what this module makes of it:

- The first line is the title. API v2 has no way to tell an acronym from a trailing parenthesised
  group of the title, except that the page repeats the acronym: "X (ACR) (ACR)" gives briefTitle
  "X (ACR)" and acronym "ACR"; any other title line is the briefTitle as it stands.
- Labelled rows "Label: | value |" (also "Label : | value |", and "Label: |" with the value on the
  next line) carry most fields. ``_FIELDS`` maps each known label to its API v2 field; a row with an
  unknown label is kept in ``extras.otherFields`` rather than dropped.
- Section headings are gone ("Primary Outcome Measures", "Locations", "Keywords", "MeSH terms"),
  so sections are recognised by their own first line or by the labelled row that precedes them.
  Blank lines carry no meaning. Sections may come in any order and any may be missing, except that
  a page without study type, eligibility, study IDs and "Last Verified" is taken to be truncated.
- Some table cells run together on one line (the arm table of NCT04371601); the intervention names
  of the condition table are used to split them again (``_label_spans``).

Facts a page states that API v2 has no field for go under ``extras`` (never into an API v2 field
with another meaning): ``titleLine`` (the raw first line), ``responsiblePartyName`` (the page gives
a name, not the API's party type), ``unspecifiedOutcomes`` (the page does not say which outcomes
are primary), ``unlabelledTermLines`` (keyword and MeSH lines whose headings were lost),
``criteriaNestingInferred`` (see ``_criteria_markdown``), ``otherFields`` (rows not mapped, and
second values that disagree with a first one) and ``unplacedLines`` (text outside every section).
Keys the page does not give are left out; nothing is invented. Phone numbers and e-mail addresses
of site contacts are not kept.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from enum import Enum, auto
from typing import Any

from pipelines import vocabulary as vocab
from pipelines.sources.records import RecordRejected

# --- line patterns --------------------------------------------------------------------------------

_NCT_RE = re.compile(r"NCT\d{8}")
_SNIFF_RE = re.compile(r"ClinicalTrials\.gov Identifier:[ |]*NCT\d{8}")
_HEADER_NCT_RE = re.compile(r"ClinicalTrials\.gov Identifier: (NCT\d{8})\b")
_CONTROL_CHAR_RE = re.compile(r"[\x00-\x08\x0e-\x1f\x7f]")
_TITLE_ACRONYM_RE = re.compile(r"(?P<title>.*\((?P<acronym>[^()]+)\)) \((?P=acronym)\)")
_HEADER_LABELS = ("Recruitment Status", "First Posted", "Last Update Posted", "Results First Posted")
_HEADER_FIELD_RE = re.compile(rf"(?P<label>{'|'.join(_HEADER_LABELS)}) :(?: (?P<rest>.+))?")
_OUTCOME_RE = re.compile(r"- (?P<measure>.+?) \[ Time Frame: (?P<timeFrame>.*?) \](?P<description>.*)")
_CRITERIA_HEADING_RE = re.compile(r"(?:\w+ )?(?:Inclusion|Exclusion) Criteria:?", re.IGNORECASE)
_MILESTONE_LABEL_RE = re.compile(
    r"(?:(?P<type>\w+) )?(?P<milestone>Study Start|Primary Completion|Study Completion) Date"
)
_ENROLLMENT_LABEL_RE = re.compile(r"(?:(?P<type>\w+) )?Enrollment")
_ENROLLMENT_RE = re.compile(r"(?P<count>\d[\d,]*) participants?", re.IGNORECASE)
_AGES_RE = re.compile(
    r"(?:(?P<min>\d+ \w+) and older|(?P<low>\d+ \w+) to (?P<high>\d+ \w+)|up to (?P<max>\d+ \w+))?"
    r" ?(?:\((?P<std>[^()]+)\))?"
)
_STUDY_ID_TOKEN_RE = re.compile(r"\(\s*(?P<label>[^()]*?)\s*\)|(?P<id>\S+)")
_TYPES = "|".join(re.escape(display) for display in vocab.INTERVENTION_TYPE)
_INTERVENTION_START_RE = re.compile(rf"(?:^|(?<=\s))(?P<type>{_TYPES}): ")
_INTERVENTION_LINE_RE = re.compile(rf"^(?:{_TYPES}): .+$", re.MULTILINE)
_OTHER_NAME_RE = re.compile(r"(?:^|\s)Other Names?:")
_SITE_CONTACT_RE = re.compile(r"(?P<role>Contact|Principal Investigator|Sub-Investigator): (?P<rest>[^|].*)")
_PHONE_OR_EMAIL_RE = re.compile(r"\s+(?:\+?\(?\d[\d ()./-]{5,}|\S+@\S+).*")

_BOILERPLATE = (
    "![]()",
    "The safety and scientific validity of this study",
    "Choosing to participate in a study",
    "To learn more about this study, you or your doctor may contact",
)
_REFER_LINE = "Please refer to this study by its ClinicalTrials.gov identifier"
_HOW_TO_READ = "- How to Read a Study Record"
_RESULTS_TABS = {"No Results Posted": False, "Study Results": True}
_LOST_HEADING = " Key Record Dates"  # the heading of the next block, run into the "First Posted" value

# What a complete page always has; without one of them the page was cut short.
_REQUIRED_ROWS = {
    "Study Type": "the study design (Study Type)",
    "Sexes Eligible for Study": "the eligibility block (Sexes Eligible for Study)",
    "Other Study ID Numbers": "the study IDs (Other Study ID Numbers)",
    "Last Verified": "the record dates (Last Verified)",
}
_MODULE_ORDER = (
    "identificationModule",
    "statusModule",
    "oversightModule",
    "descriptionModule",
    "conditionsModule",
    "designModule",
    "armsInterventionsModule",
    "eligibilityModule",
    "contactsLocationsModule",
    "ipdSharingStatementModule",
)


def looks_like_classic_page(head: str) -> bool:
    """Cheap sniff of a record's first characters: plain text naming a "ClinicalTrials.gov Identifier"."""
    return not head.lstrip("\ufeff \t\r\n").startswith(("{", "[", "<")) and bool(_SNIFF_RE.search(head))


def parse(content: bytes) -> dict[str, Any]:
    """Turn one saved classic study page into the canonical record, or raise ``RecordRejected``."""
    page = _scan(_lines(_decode(content)))
    nct_id = _nct_id(page)
    _check_complete(page)
    return _Builder(nct_id).build(page)


def _decode(content: bytes) -> str:
    """The page's text; binary data and empty files are rejected with the reason."""
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise RecordRejected(f"not text: invalid UTF-8 at byte {error.start}") from None
    if control := _CONTROL_CHAR_RE.search(text):
        raise RecordRejected(f"not text: control character {control[0]!r} at offset {control.start()}")
    if not text.strip():
        raise RecordRejected("empty record")
    return text


def _lines(text: str) -> list[str]:
    """Non-blank lines, stripped (any line ending: the pages are saved on every platform)."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    return [stripped for line in lines if (stripped := line.strip())]


def _nct_id(page: _Page) -> str:
    """The one NCT id the page states (header, ids block and "refer to" line must agree)."""
    ids = set(page.nct_ids)
    for label, values in page.rows:
        if label == "ClinicalTrials.gov Identifier":
            ids.update(_NCT_RE.findall(" ".join(values)))
    if not ids:
        raise RecordRejected("no NCT identifier found")
    if len(ids) > 1:
        raise RecordRejected(f"conflicting NCT identifiers: {', '.join(sorted(ids))}")
    return ids.pop()


def _check_complete(page: _Page) -> None:
    """Reject a page cut short, naming what is missing."""
    present = {label for label, _ in page.rows}
    missing = [what for label, what in _REQUIRED_ROWS.items() if label not in present]
    if missing:
        raise RecordRejected(f"truncated or incomplete page: missing {', '.join(missing)}")


def _labelled_row(line: str) -> tuple[str, str | None] | None:
    """(label, rest) of a "Label: | value |" row (also "Label : |…"), or of a header field
    "First Posted : April 24, 2020"; None for any other line. A label holds no ":" or "|"."""
    head, separator, rest = line.partition(": |")
    if separator and "|" not in head and ":" not in head and (label := head.rstrip()):
        return label, rest
    if line.startswith(_HEADER_LABELS) and (match := _HEADER_FIELD_RE.fullmatch(line)):
        return match["label"], match["rest"]
    return None


def _cells(text: str) -> list[str]:
    """Table cells of a line; the pipe closing the last cell ends the row ("a | b |" → a, b)."""
    text = text.strip()
    if text.endswith("|"):
        text = text[:-1]
    return [cell.strip() for cell in text.split("|")]


def _without_pipe(line: str) -> str:
    """A one-cell line without its closing pipe."""
    return line[:-1].rstrip() if line.endswith("|") else line


# --- scanning: one pass sorting lines into sections ----------------------------------------------


class _Section(Enum):
    HEADER = auto()  # title, status, posted dates, navigation tabs
    SUMMARY = auto()  # brief summary paragraphs
    CONDITIONS = auto()  # the "Condition or disease | Intervention/treatment | Phase" table
    DETAILS = auto()  # detailed description paragraphs
    ARMS = auto()  # the "Arm | Intervention/treatment" table
    OUTCOMES = auto()
    CRITERIA = auto()
    LOCATIONS = auto()
    TERMS = auto()  # keyword and MeSH term lines
    NONE = auto()  # between sections: text here belongs nowhere


_ELIGIBILITY_LABELS = ("Ages Eligible for Study", "Sexes Eligible for Study", "Accepts Healthy Volunteers")
_DEVICE_LABELS = (
    "Studies a U.S. FDA-regulated Device Product",
    "Product Manufactured in and Exported from the U.S.",
    "Device Product Not Approved or Cleared by U.S. FDA",
    "Pediatric Postmarket Surveillance of a Device Product",
)
# The section a labelled row leads into; after any other row no section is open.
_SECTION_AFTER_ROW = {
    **dict.fromkeys((*_ELIGIBILITY_LABELS, "Sampling Method"), _Section.CRITERIA),
    **dict.fromkeys(_DEVICE_LABELS, _Section.TERMS),
}


@dataclass(slots=True)
class _Page:
    """The page's lines sorted by section: what the scanner found, nothing interpreted yet."""

    title_line: str | None = None
    nct_ids: list[str] = field(default_factory=list)
    has_results: bool | None = None
    rows: list[tuple[str, list[str]]] = field(default_factory=list)  # labelled rows, non-empty cells
    summary: list[str] = field(default_factory=list)
    details: list[str] = field(default_factory=list)
    table_header: list[str] = field(default_factory=list)
    table_rows: list[list[str]] = field(default_factory=list)
    arms_typed: bool = True  # "Arm" tables name an arm type, "Group/Cohort" tables do not
    arm_lines: list[str] = field(default_factory=list)
    outcomes: list[dict[str, str]] = field(default_factory=list)
    criteria: list[str] = field(default_factory=list)
    location_lines: list[str] = field(default_factory=list)
    term_lines: list[str] = field(default_factory=list)
    unplaced: list[str] = field(default_factory=list)


def _scan(lines: list[str]) -> _Page:
    """Sort every line into its section in a single pass."""
    scanner = _Scanner()
    if lines and not lines[0].endswith("|") and not _HEADER_NCT_RE.match(lines[0]):
        scanner.page.title_line = lines[0]
        lines = lines[1:]
    for line in lines:
        scanner.feed(line)
    return scanner.page


class _Scanner:
    """Tracks the open section; a line either switches sections (a marker) or is section content."""

    def __init__(self) -> None:
        self.page = _Page()
        self.section = _Section.HEADER
        self.pending_label: str | None = None  # a "Label: |" row waiting for its value line

    def feed(self, line: str) -> None:
        if self.pending_label is not None:
            self.page.rows.append((self.pending_label, [cell for cell in _cells(line) if cell]))
            self.pending_label = None
        elif not self._marker(line):
            self._content(line)

    def _marker(self, line: str) -> bool:
        """Handle page furniture and lines that open a section; False for plain section content."""
        page = self.page
        if line == "|":  # the header's closing cell; in the arm table it separates the two columns
            return self.section is not _Section.ARMS
        if line.startswith("---|"):
            return True
        if line.startswith(_BOILERPLATE):  # ends the section it follows; the header goes on past it
            if self.section is not _Section.HEADER:
                self.section = _Section.NONE
        elif line.startswith("ClinicalTrials.gov Identifier: NCT") and (match := _HEADER_NCT_RE.match(line)):
            page.nct_ids.append(match[1])
        elif line.startswith(_REFER_LINE):
            page.nct_ids.extend(_NCT_RE.findall(line))
            self.section = _Section.LOCATIONS
        elif line == _HOW_TO_READ:
            self.section = _Section.SUMMARY
        elif line.startswith("Condition or disease |"):
            page.table_header = _cells(line)
            self.section = _Section.CONDITIONS
        elif line.startswith(("Arm |", "Group/Cohort |")):
            page.arms_typed = line.startswith("Arm |")
            self.section = _Section.ARMS
        elif "[ Time Frame:" in line and (match := _OUTCOME_RE.fullmatch(line)):
            page.outcomes.append(
                {key: text.strip() for key, text in match.groupdict().items() if text.strip()}
            )
            self.section = _Section.OUTCOMES
        elif row := _labelled_row(line):
            self._row(*row)
        else:
            if self.section is _Section.NONE and _CRITERIA_HEADING_RE.fullmatch(line):
                self.section = _Section.CRITERIA
            return False
        return True

    def _row(self, label: str, rest: str | None) -> None:
        if not rest:  # "Label: |" or "Label :": the value is on the next line
            self.pending_label = label
        elif values := [cell for cell in _cells(rest) if cell]:
            self.page.rows.append((label, values))
        after = _SECTION_AFTER_ROW.get(label)
        if after is not None:
            self.section = after
        elif self.section is not _Section.HEADER:
            self.section = _Section.NONE

    def _content(self, line: str) -> None:
        page = self.page
        match self.section:
            case _Section.HEADER:
                tab = line[2:] if line.startswith("- ") else None
                if tab in _RESULTS_TABS:
                    page.has_results = _RESULTS_TABS[tab]
                elif tab is None:
                    page.unplaced.append(line)
            case _Section.SUMMARY:
                page.summary.append(line)
            case _Section.CONDITIONS:
                if line.endswith("|") and len(cells := _cells(line)) == len(page.table_header):
                    page.table_rows.append(cells)
                else:
                    self.section = _Section.DETAILS
                    page.details.append(line)
            case _Section.DETAILS:
                page.details.append(line)
            case _Section.ARMS:
                page.arm_lines.append(line)
            case _Section.OUTCOMES:  # an outcome description continued on the next line
                outcome = page.outcomes[-1]
                outcome["description"] = (
                    f"{outcome['description']}\n\n{line}" if "description" in outcome else line
                )
            case _Section.CRITERIA:
                page.criteria.append(line)
            case _Section.LOCATIONS:
                page.location_lines.append(line)
            case _Section.TERMS:
                page.term_lines.append(_without_pipe(line))
            case _Section.NONE:
                page.unplaced.append(line)


# --- building the canonical record ---------------------------------------------------------------

_Handler = Callable[["_Builder", str, list[str]], None]


class _Builder:
    """Interprets a scanned page as the canonical record (API v2 keys; ``extras`` for the rest)."""

    def __init__(self, nct_id: str) -> None:
        self.tree: dict[str, dict[str, Any]] = {"identificationModule": {"nctId": nct_id}}

    def at(self, path: tuple[str, ...]) -> dict[str, Any]:
        """The dict at a path of keys (a module name, or "extras", first), created on first use."""
        node = self.tree
        for key in path:
            node = node.setdefault(key, {})
        return node

    def put(self, target: dict[str, Any], key: str, value: Any, label: str, display: str) -> None:
        """Set a field once; a later value that disagrees is kept in ``extras.otherFields``."""
        if key not in target:
            target[key] = value
        elif target[key] != value:
            self.other_field(label, display)

    def append(self, path: tuple[str, ...], key: str, value: Any) -> None:
        self.at(path).setdefault(key, []).append(value)

    def other_field(self, label: str, value: str) -> None:
        self.append(("extras",), "otherFields", {"label": label, "value": value})

    def unplaced(self, line: str) -> None:
        """Keep a line no section could place, rather than drop it."""
        self.append(("extras",), "unplacedLines", line)

    def build(self, page: _Page) -> dict[str, Any]:
        if page.title_line is not None:
            self._title(page.title_line)
        for label, values in page.rows:
            self._row(label, values)
        self._description(page.summary, page.details)
        listed = self._conditions_table(page.table_header, page.table_rows)
        self._arms_and_interventions(page.arm_lines, page.arms_typed, listed)
        if page.outcomes:
            self.at(("extras",))["unspecifiedOutcomes"] = page.outcomes
        if page.criteria:
            self._criteria(page.criteria)
        if page.location_lines:
            self._locations(page.location_lines)
        if page.term_lines:
            self.at(("extras",))["unlabelledTermLines"] = page.term_lines
        for line in page.unplaced:
            self.unplaced(line)
        return self._record(page.has_results)

    def _record(self, has_results: bool | None) -> dict[str, Any]:
        record: dict[str, Any] = {
            "protocolSection": {name: self.tree[name] for name in _MODULE_ORDER if self.tree.get(name)}
        }
        if has_results is not None:
            record["hasResults"] = has_results
        if self.tree.get("extras"):
            record["extras"] = self.tree["extras"]
        return record

    def _title(self, line: str) -> None:
        """briefTitle, and the acronym only when the page repeats it: "X (ACR) (ACR)"."""
        self.at(("extras",))["titleLine"] = line
        identification = self.at(("identificationModule",))
        if match := _TITLE_ACRONYM_RE.fullmatch(line):
            identification["briefTitle"] = match["title"]
            identification["acronym"] = match["acronym"]
        else:
            identification["briefTitle"] = line

    def _row(self, label: str, values: list[str]) -> None:
        if handler := _FIELDS.get(label):
            handler(self, label, values)
        elif match := _MILESTONE_LABEL_RE.fullmatch(label):
            _milestone_date(self, label, values, match)
        elif match := _ENROLLMENT_LABEL_RE.fullmatch(label):
            _enrollment(self, label, values, match)
        else:
            self.other_field(label, " | ".join(values))

    def _description(self, summary: list[str], details: list[str]) -> None:
        """Text before the condition table is the brief summary, text after it the detailed one."""
        if summary:
            self.at(("descriptionModule",))["briefSummary"] = "\n\n".join(summary)
        if details:
            self.at(("descriptionModule",))["detailedDescription"] = "\n\n".join(details)

    def _conditions_table(self, header: list[str], rows: list[list[str]]) -> list[str]:
        """Conditions and phases; returns the table's interventions as "Type: Name" labels."""
        listed: list[str] = []
        for row in rows:
            for column, cell in zip(header, row, strict=True):
                if not cell:
                    continue
                if column == "Condition or disease":
                    self.append(("conditionsModule",), "conditions", cell)
                elif column == "Intervention/treatment":
                    listed.extend(label for label in _listed_interventions(cell) if label not in listed)
                elif column == "Phase":
                    phases = self.at(("designModule",)).setdefault("phases", [])
                    phases.extend(phase for phase in vocab.phases(cell) if phase not in phases)
                else:
                    self.other_field(column, cell)
        return listed

    def _arms_and_interventions(self, arm_lines: list[str], typed: bool, listed: list[str]) -> None:
        """Arm groups from the arm table; interventions in table order, described by the arm table."""
        arm_labels: dict[str, list[str]] = {label: [] for label in listed}
        details: dict[str, dict[str, Any]] = {}
        arms = []
        for block in _arm_blocks(arm_lines):
            arm = _arm_group(block.header, typed)
            if block.description:
                arm["description"] = "\n\n".join(block.description)
            names = []
            for label, detail in _arm_interventions("\n".join(block.interventions), listed, arm["label"]):
                names.append(label)
                arm_labels.setdefault(label, []).append(arm["label"])
                self._merge_detail(details.setdefault(label, {}), label, detail)
            if names:
                arm["interventionNames"] = names
            arms.append(arm)
        module = ("armsInterventionsModule",)
        if arms:
            self.at(module)["armGroups"] = arms
        for label, arms_of_label in arm_labels.items():
            self.append(module, "interventions", _intervention(label, arms_of_label, details.get(label, {})))

    def _merge_detail(self, known: dict[str, Any], label: str, detail: dict[str, Any]) -> None:
        """Keep the first description of an intervention; collect every other name once."""
        description = detail.get("description")
        if description is not None:
            self.put(known, "description", description, f"Intervention description ({label})", description)
        for name in detail.get("otherNames", ()):
            if name not in known.setdefault("otherNames", []):
                known["otherNames"].append(name)

    def _criteria(self, lines: list[str]) -> None:
        markdown, nested = _criteria_markdown(lines)
        self.at(("eligibilityModule",))["eligibilityCriteria"] = markdown
        if nested:
            self.at(("extras",))["criteriaNestingInferred"] = True

    def _locations(self, lines: list[str]) -> None:
        """Sites under "Country[, State] | |" group headers: "Facility | status |", then the address."""
        group: str | None = None
        site: dict[str, Any] | None = None
        site_has_address = False
        for index, line in enumerate(lines):
            cells = _cells(line)
            if site is not None and (contact := _SITE_CONTACT_RE.fullmatch(_without_pipe(line))):
                site.setdefault("contacts", []).append(_site_contact(contact))
            elif line.endswith("|") and len(cells) >= 2:
                if not cells[1] and _is_two_cell_row(lines, index + 1):
                    group = cells[0]
                    continue
                site = {"facility": cells[0]}
                site_has_address = False
                if cells[1]:
                    site["status"] = vocab.lookup(vocab.LOCATION_STATUS, "site status", cells[1])
                self.append(("contactsLocationsModule",), "locations", site)
            elif site is not None and line.endswith("|") and not site_has_address:
                self._address(site, cells[0], group)
                site_has_address = True
            elif site is not None and line in vocab.LOCATION_STATUS:
                site["status"] = vocab.LOCATION_STATUS[line]
            else:
                self.unplaced(line)

    def _address(self, site: dict[str, Any], address: str, group: str | None) -> None:
        place = _place(address, group)
        if place is None:
            self.other_field(f"Location address ({site['facility']})", address)
        else:
            site.update(place)


# --- field handlers: one per labelled row --------------------------------------------------------


def _joined(values: list[str]) -> str:
    return " | ".join(values)


def _setter(path: str, convert: Callable[[str], Any] = str) -> _Handler:
    """A handler storing the row's value, converted, at a dotted path ("designModule.designInfo.x")."""
    *parent_keys, key = path.split(".")
    parents = tuple(parent_keys)

    def handle(builder: _Builder, label: str, values: list[str]) -> None:
        display = _joined(values)
        builder.put(builder.at(parents), key, convert(display), label, display)

    return handle


def _enum(vocabulary: dict[str, Any], field_name: str) -> Callable[[str], Any]:
    return lambda display: vocab.lookup(vocabulary, field_name, display)


def _date(field_name: str) -> Callable[[str], str]:
    return lambda display: vocab.iso_date(field_name, display.removesuffix(_LOST_HEADING))


def _posted_date(field_name: str) -> Callable[[str], dict[str, str]]:
    """A posted date as ``{date}``: the page does not say whether it is actual or estimated."""
    to_iso = _date(field_name)
    return lambda display: {"date": to_iso(display)}


def _milestone_date(builder: _Builder, label: str, values: list[str], match: re.Match[str]) -> None:
    """A milestone row ("Actual Study Start Date : | May 1, 2020 |") → startDateStruct {date, type}."""
    display = _joined(values)
    struct = {"date": vocab.iso_date(label, display)}
    if match["type"]:
        struct["type"] = vocab.lookup(vocab.DATE_TYPE, "date type", match["type"])
    key = _MILESTONE_KEYS[match["milestone"]]
    builder.put(builder.at(("statusModule",)), key, struct, label, display)


_MILESTONE_KEYS = {
    "Study Start": "startDateStruct",
    "Primary Completion": "primaryCompletionDateStruct",
    "Study Completion": "completionDateStruct",
}


def _enrollment(builder: _Builder, label: str, values: list[str], match: re.Match[str]) -> None:
    """The enrollment row ("Actual Enrollment : | 24 participants |") → enrollmentInfo {count, type}."""
    display = _joined(values)
    number = _ENROLLMENT_RE.fullmatch(display)
    if number is None:
        raise RecordRejected(f"unreadable {label}: {display!r}")
    info: dict[str, Any] = {"count": int(number["count"].replace(",", ""))}
    if match["type"]:
        info["type"] = vocab.lookup(vocab.DATE_TYPE, "enrollment type", match["type"])
    builder.put(builder.at(("designModule",)), "enrollmentInfo", info, label, display)


def _study_type(builder: _Builder, label: str, values: list[str]) -> None:
    display = _joined(values)
    design = builder.at(("designModule",))
    builder.put(design, "studyType", vocab.lookup(vocab.STUDY_TYPE, "study type", display), label, display)
    if display in vocab.PATIENT_REGISTRY:
        builder.put(design, "patientRegistry", vocab.PATIENT_REGISTRY[display], label, display)


def _masking(builder: _Builder, label: str, values: list[str]) -> None:
    display = _joined(values)
    target = builder.at(("designModule", "designInfo", "maskingInfo"))
    for key, value in vocab.masking_info(display).items():
        builder.put(target, key, value, label, display)


def _ages(builder: _Builder, label: str, values: list[str]) -> None:
    """Ages such as "18 Years to 70 Years (Adult, Older Adult)" → minimumAge, maximumAge, stdAges."""
    display = _joined(values)
    match = _AGES_RE.fullmatch(display)
    if match is None or not any(match.groups()):
        ages: dict[str, Any] = {"stdAges": vocab.std_ages(display)}  # no age limits: the groups only
    else:
        ages = {"minimumAge": match["min"] or match["low"], "maximumAge": match["high"] or match["max"]}
        if match["std"]:
            ages["stdAges"] = vocab.std_ages(match["std"])
    eligibility = builder.at(("eligibilityModule",))
    for key, value in ages.items():
        if value is not None:
            builder.put(eligibility, key, value, label, display)


def _official(builder: _Builder, label: str, values: list[str]) -> None:
    """An official row ("Study Chair: | Name, MD | Affiliation |") → overall official, name as written."""
    official = {"name": values[0]}
    if len(values) > 1:
        official["affiliation"] = _joined(values[1:])
    official["role"] = vocab.lookup(vocab.OFFICIAL_ROLE, "official role", label)
    builder.append(("contactsLocationsModule",), "overallOfficials", official)


def _study_ids(builder: _Builder, label: str, values: list[str]) -> None:
    """Study ids ("TerCel_007 2020-001682-36 ( EudraCT Number )"): the sponsor's first, then secondary.

    Ids are whitespace-separated; a "( Type )" or "( Type: Domain )" group types the id before it.
    """
    ids = _typed_ids(" ".join(values))
    identification = builder.at(("identificationModule",))
    (org_id, org_label), secondary = ids[0], ids[1:]
    org_info = {"id": org_id}
    if org_label:
        kind, _, domain = org_label.partition(":")
        org_info["type"] = vocab.lookup(vocab.ORG_STUDY_ID_TYPE, "org study ID type", kind.strip())
        if domain.strip():  # API v2 has no domain for the sponsor's own id
            builder.other_field(label, f"{org_id} ( {org_label} )")
    builder.put(identification, "orgStudyIdInfo", org_info, label, _joined(values))
    for study_id, id_label in secondary:
        builder.append(("identificationModule",), "secondaryIdInfos", _secondary_id(study_id, id_label))


def _typed_ids(text: str) -> list[tuple[str, str | None]]:
    ids: list[tuple[str, str | None]] = []
    for token in _STUDY_ID_TOKEN_RE.finditer(text):
        if token["id"] is not None:
            ids.append((token["id"], None))
        elif ids and ids[-1][1] is None:
            ids[-1] = (ids[-1][0], token["label"])
        else:
            raise RecordRejected(f"Other Study ID Numbers: type '{token['label']}' follows no id")
    return ids


def _secondary_id(study_id: str, label: str | None) -> dict[str, str]:
    info = {"id": study_id}
    if label:
        kind, _, domain = label.partition(":")
        info["type"] = vocab.lookup(vocab.SECONDARY_ID_TYPE, "secondary ID type", kind.strip())
        if domain.strip():
            info["domain"] = domain.strip()
    return info


def _ignore(builder: _Builder, label: str, values: list[str]) -> None:
    """A row read before building (the NCT id is checked first of all)."""


def _yes_no(field_name: str) -> Callable[[str], bool]:
    return _enum(vocab.YES_NO, field_name)


_FIELDS: dict[str, _Handler] = {
    "ClinicalTrials.gov Identifier": _ignore,
    "Recruitment Status": _setter(
        "statusModule.overallStatus", _enum(vocab.OVERALL_STATUS, "overall status")
    ),
    "Last Verified": _setter("statusModule.statusVerifiedDate", _date("Last Verified")),
    "First Posted": _setter("statusModule.studyFirstPostDateStruct", _posted_date("First Posted")),
    "Last Update Posted": _setter(
        "statusModule.lastUpdatePostDateStruct", _posted_date("Last Update Posted")
    ),
    "Results First Posted": _setter(
        "statusModule.resultsFirstPostDateStruct", _posted_date("Results First Posted")
    ),
    "Official Title": _setter("identificationModule.officialTitle"),
    "Other Study ID Numbers": _study_ids,
    "Responsible Party": _setter("extras.responsiblePartyName"),
    "Study Type": _study_type,
    "Allocation": _setter("designModule.designInfo.allocation", _enum(vocab.ALLOCATION, "allocation")),
    "Intervention Model": _setter(
        "designModule.designInfo.interventionModel", _enum(vocab.INTERVENTION_MODEL, "intervention model")
    ),
    "Intervention Model Description": _setter("designModule.designInfo.interventionModelDescription"),
    "Masking": _masking,
    "Masking Description": _setter("designModule.designInfo.maskingInfo.maskingDescription"),
    "Primary Purpose": _setter(
        "designModule.designInfo.primaryPurpose", _enum(vocab.PRIMARY_PURPOSE, "primary purpose")
    ),
    "Observational Model": _setter(
        "designModule.designInfo.observationalModel", _enum(vocab.OBSERVATIONAL_MODEL, "observational model")
    ),
    "Time Perspective": _setter(
        "designModule.designInfo.timePerspective", _enum(vocab.TIME_PERSPECTIVE, "time perspective")
    ),
    "Target Follow-Up Duration": _setter("designModule.targetDuration"),
    "Biospecimen Retention": _setter(
        "designModule.bioSpec.retention", _enum(vocab.BIOSPEC_RETENTION, "biospecimen retention")
    ),
    "Biospecimen Description": _setter("designModule.bioSpec.description"),
    "Ages Eligible for Study": _ages,
    "Sexes Eligible for Study": _setter("eligibilityModule.sex", _enum(vocab.SEX, "sex")),
    "Accepts Healthy Volunteers": _setter(
        "eligibilityModule.healthyVolunteers", _yes_no("Accepts Healthy Volunteers")
    ),
    "Sampling Method": _setter(
        "eligibilityModule.samplingMethod", _enum(vocab.SAMPLING_METHOD, "sampling method")
    ),
    "Studies a U.S. FDA-regulated Drug Product": _setter(
        "oversightModule.isFdaRegulatedDrug", _yes_no("FDA-regulated drug")
    ),
    "Studies a U.S. FDA-regulated Device Product": _setter(
        "oversightModule.isFdaRegulatedDevice", _yes_no("FDA-regulated device")
    ),
    "Device Product Not Approved or Cleared by U.S. FDA": _setter(
        "oversightModule.isUnapprovedDevice", _yes_no("unapproved device")
    ),
    "Pediatric Postmarket Surveillance of a Device Product": _setter(
        "oversightModule.isPpsd", _yes_no("pediatric postmarket surveillance")
    ),
    "Product Manufactured in and Exported from the U.S.": _setter(
        "oversightModule.isUsExport", _yes_no("U.S. export")
    ),
    "Plan to Share IPD": _setter(
        "ipdSharingStatementModule.ipdSharing", _enum(vocab.IPD_SHARING, "plan to share IPD")
    ),
    **dict.fromkeys(vocab.OFFICIAL_ROLE, _official),
}


# --- interventions and arms ----------------------------------------------------------------------


def _listed_interventions(cell: str) -> Iterator[str]:
    """A table cell ("Biological: Mesenchymal Stromal Cells Other: Placebo") → "Type: Name" labels."""
    starts = list(_INTERVENTION_START_RE.finditer(cell))
    if not starts or starts[0].start() != 0:
        raise RecordRejected(f"unknown intervention type in Intervention/treatment: {cell!r}")
    for start, following in zip(starts, [*starts[1:], None], strict=True):
        end = following.start() if following else len(cell)
        yield cell[start.start() : end].strip()


@dataclass(slots=True)
class _ArmBlock:
    header: str
    description: list[str] = field(default_factory=list)
    interventions: list[str] = field(default_factory=list)
    in_interventions: bool = False


def _arm_blocks(lines: list[str]) -> Iterator[_ArmBlock]:
    """Arm rows: a "Type: Label" line, description lines, a "|" line, then intervention lines up to
    one ending in " |". A description ending in " |" is a row without interventions."""
    block: _ArmBlock | None = None
    for line in lines:
        if block is None:
            block = _ArmBlock(line)
        elif block.in_interventions:
            if text := _without_pipe(line):
                block.interventions.append(text)
            if line.endswith("|"):
                yield block
                block = None
        elif line == "|":
            block.in_interventions = True
        elif line.endswith("|"):
            first, *rest = _cells(line)
            if first:
                block.description.append(first)
            block.interventions.extend(cell for cell in rest if cell)
            yield block
            block = None
        else:
            block.description.append(line)
    if block is not None:
        yield block


def _arm_group(header: str, typed: bool) -> dict[str, Any]:
    if not typed:
        return {"label": header}
    kind, separator, label = header.partition(": ")
    if not separator:
        raise RecordRejected(f"arm without a type: {header!r}")
    return {"label": label, "type": vocab.lookup(vocab.ARM_GROUP_TYPE, "arm group type", kind)}


def _arm_interventions(text: str, listed: list[str], arm_label: str) -> list[tuple[str, dict[str, Any]]]:
    """An arm's intervention cell → ("Type: Name", {description, otherNames}) per intervention."""
    spans = _label_spans(text, listed)
    lead = text[: spans[0][0]] if spans else text
    if lead.strip():
        raise RecordRejected(f"arm {arm_label!r}: intervention text not starting with 'Type: Name': {lead!r}")
    stops = [start for start, _ in spans[1:]] + [len(text)]
    return [
        (text[start:end].strip(), _intervention_detail(text[end:stop]))
        for (start, end), stop in zip(spans, stops, strict=True)
    ]


def _label_spans(text: str, labels: list[str]) -> list[tuple[int, int]]:
    """Where interventions start in an arm's cell, which may run several together on one line.

    The exact "Type: Name" labels of the condition table are matched first, longest first, as whole
    words; a line starting with "Type: " that no label covers is an intervention the table did not
    list (its name being the rest of the line).
    """
    spans: list[tuple[int, int]] = []
    for label in sorted(labels, key=len, reverse=True):
        start = text.find(label)
        while start >= 0:
            end = start + len(label)
            if _whole_words(text, start, end) and not _overlaps(spans, start, end):
                spans.append((start, end))
            start = text.find(label, start + 1)
    for line in _INTERVENTION_LINE_RE.finditer(text):
        if not _overlaps(spans, *line.span()):
            spans.append(line.span())
    return sorted(spans)


def _whole_words(text: str, start: int, end: int) -> bool:
    return (start == 0 or text[start - 1].isspace()) and (end == len(text) or text[end].isspace())


def _overlaps(spans: list[tuple[int, int]], start: int, end: int) -> bool:
    return any(start < other_end and other_start < end for other_start, other_end in spans)


def _intervention_detail(text: str) -> dict[str, Any]:
    """The text after an intervention's label: description lines and "Other Name(s):" entries."""
    description: list[str] = []
    other_names: list[str] = []
    in_name_list = False
    for raw in text.split("\n"):
        line = raw.strip()
        if not line:
            continue
        if in_name_list and line.startswith("- "):
            other_names.append(line[2:].strip())
            continue
        in_name_list = False
        if marker := _OTHER_NAME_RE.search(line):
            if before := line[: marker.start()].strip():
                description.append(before)
            name = line[marker.end() :].strip()
            if name:
                other_names.append(name)
            else:
                in_name_list = True  # "Other Names:" followed by "- name" lines
        else:
            description.append(line)
    detail: dict[str, Any] = {}
    if description:
        detail["description"] = "\n\n".join(description)
    if other_names:
        detail["otherNames"] = other_names
    return detail


def _intervention(label: str, arm_labels: list[str], detail: dict[str, Any]) -> dict[str, Any]:
    kind, _, name = label.partition(": ")
    intervention: dict[str, Any] = {
        "type": vocab.lookup(vocab.INTERVENTION_TYPE, "intervention type", kind),
        "name": name,
    }
    if "description" in detail:
        intervention["description"] = detail["description"]
    if arm_labels:
        intervention["armGroupLabels"] = arm_labels
    if detail.get("otherNames"):
        intervention["otherNames"] = detail["otherNames"]
    return intervention


# --- eligibility criteria ------------------------------------------------------------------------


def _criteria_markdown(lines: list[str]) -> tuple[str, bool]:
    """Rebuild the criteria as API v2 Markdown; also say whether nesting had to be inferred.

    The page lost the list indentation, so nesting is inferred by this rule: a bullet "-" alone on
    its line, followed by a paragraph ending in ":", is an item opening a sub-list; the "- " items
    after it are its children. The sub-list closes at the next such "-" block item, or at the end of
    the section (a section ends at any line that is not a bullet, e.g. "Exclusion Criteria:"),
    except that the section's last item returns to the top level, as the closing item of
    NCT04361942 ("Consent of the patient ...") does, unless it is the sub-list's only child.

    Item text is kept exactly as on the page. Lines that are not bullets ("Inclusion Criteria:",
    sub-headings, notes) stay paragraphs of their own.
    """
    blocks: list[str] = []
    items: list[tuple[str, bool]] = []  # (text, opened by a lone "-")
    nested = False
    index = 0
    while index < len(lines):
        line = lines[index]
        following = lines[index + 1] if index + 1 < len(lines) else None
        if line == "-":
            if (
                following is not None
                and not _is_bullet(following)
                and not _CRITERIA_HEADING_RE.fullmatch(following)
            ):
                items.append((following, True))
                index += 1
        elif line.startswith("- "):
            items.append((line[2:], False))
        else:
            nested |= _close_list(blocks, items)
            blocks.append(line)
        index += 1
    nested |= _close_list(blocks, items)
    return "\n\n".join(blocks), nested


def _is_bullet(line: str) -> bool:
    return line == "-" or line.startswith("- ")


def _close_list(blocks: list[str], items: list[tuple[str, bool]]) -> bool:
    """Render the pending items as one Markdown list block; True if it has a sub-list."""
    if not items:
        return False
    entries = _nest(items)
    items.clear()
    rendered = []
    for text, children in entries:
        entry = f"* {text}"
        if children:
            entry += "\n\n" + "\n".join(f"  * {child}" for child in children)
        rendered.append(entry)
    blocks.append("\n".join(rendered))
    return any(children for _, children in entries)


def _nest(items: list[tuple[str, bool]]) -> list[tuple[str, list[str]]]:
    """Apply the nesting rule of ``_criteria_markdown`` to one section's items."""
    entries: list[tuple[str, list[str]]] = []
    open_children: list[str] | None = None
    for text, opened_by_dash in items:
        if opened_by_dash:
            children: list[str] = []
            entries.append((text, children))
            open_children = children if text.endswith(":") else None
        elif open_children is not None:
            open_children.append(text)
        else:
            entries.append((text, []))
    if open_children is not None and len(open_children) > 1:
        entries.append((open_children.pop(), []))
    return entries


# --- locations -----------------------------------------------------------------------------------


def _is_two_cell_row(lines: list[str], index: int) -> bool:
    """Whether the line at index is a "Facility | status |" row (so the line before was a group header)."""
    return index < len(lines) and lines[index].endswith("|") and len(_cells(lines[index])) >= 2


def _place(address: str, group: str | None) -> dict[str, str] | None:
    """An address ("Fuzhou, Fujian, China, 350025" under "China, Fujian") → city, state, zip, country.

    The group header is "Country" or "Country, State", and a country name may itself contain a
    comma ("Korea, Republic of"), so each reading of the header is tried against the address. With
    no state in the header, a second part before the country is the state. None when the address
    does not contain the header's country (the parts cannot be told apart safely).
    """
    if group is None:
        return None
    parts = [part.strip() for part in address.split(",")]
    group_parts = [part.strip() for part in group.split(",")]
    for cut in range(len(group_parts), 0, -1):
        country, state = group_parts[:cut], group_parts[cut:]
        position = _find_run(parts, state + country)
        if position is None:
            continue
        before, after = parts[:position], parts[position + len(state) + len(country) :]
        if not state and len(before) > 1:
            state = before[-1:]
            before = before[:-1]
        place = {"city": ", ".join(before)} if before else {}
        if state:
            place["state"] = ", ".join(state)
        if after:
            place["zip"] = ", ".join(after)
        place["country"] = ", ".join(country)
        return place
    return None


def _find_run(parts: list[str], run: list[str]) -> int | None:
    """Start of the last occurrence of run as consecutive items of parts."""
    for start in range(len(parts) - len(run), -1, -1):
        if parts[start : start + len(run)] == run:
            return start
    return None


def _site_contact(match: re.Match[str]) -> dict[str, str]:
    """A site contact ("Contact: Name, MD +34 123 456 a@b.org") → {name, role}; no phone or e-mail."""
    name = _PHONE_OR_EMAIL_RE.sub("", match["rest"].split("|")[0]).strip()
    return {"name": name, "role": vocab.lookup(vocab.CONTACT_ROLE, "site contact role", match["role"])}
