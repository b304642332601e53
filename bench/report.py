"""Benchmark rows, and what is made of them: the table, ratios, projections and targets (JSON and markdown).

Ratios compare tools on the same files at the same size; projections and targets use the largest
size measured, where the fixed start-up cost of each process weighs least.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from operator import ge, le, lt
from typing import Any

from bench.workers import DUCKDB_READ_JSON

# The full registry: study count and bytes of API v2 JSON. The corpus's studies are leaner than the
# registry's average (~13 KB vs ~17 KB of JSON per study), so the projection from bytes is the fairer one.
REGISTRY_STUDIES = 600_000
REGISTRY_BYTES = 10.3e9
TARGETS = {
    "ours_vs_duckdb": 2.0,  # ours' wall time at most this many times DuckDB read_json's
    "dlt_vs_ours": 5.0,  # dlt's wall time at least this many times ours'
    "memory_growth": 1.2,  # ours' peak memory at the largest size at most this many times at the smallest
    "classic_pages_per_core_s": 1000.0,
    "registry_s": 240.0,  # the full registry in under 4 minutes
    "peak_memory_mb": 3000.0,
}
# The tools that time a parser's loop (layout = tool), and what their records are called.
PARSER_UNITS = {"classic": "pages", "xml": "records"}
PARSER_RATIOS = {"classic": "classic pages/s per core", "xml": "legacy XML records/s per core"}
TABLE_HEADER = (
    "| tool | layout | size | wall s | CPU s | studies/s | input MB/s | peak RSS MB | all processes MB "
    "| note |\n|---|---|--:|--:|--:|--:|--:|--:|--:|---|"
)


@dataclass
class Row:
    """One tool at one size; ``measured_size`` < ``size`` when the numbers are extrapolated."""

    tool: str
    layout: str
    size: int
    measured_size: int
    content_bytes: int  # bytes of study JSON (classic: page text; xml: XML text) in the corpus
    wall_s: float
    cpu_s: float
    peak_rss_mb: float  # the largest single process (wait4)
    tree_peak_mb: float  # all the tool's processes together (sampled PSS)
    facts: dict[str, Any] = field(default_factory=dict)
    error: str | None = None

    @property
    def extrapolated(self) -> bool:
        return self.measured_size != self.size

    @property
    def per_s(self) -> float:
        return self.size / self.wall_s

    @property
    def mb_per_s(self) -> float:
        return self.content_bytes / 1e6 / self.wall_s

    @property
    def memory_mb(self) -> float:
        """What the tool's peak cost the machine, as best measured: the sum when several processes ran."""
        return max(self.peak_rss_mb, self.tree_peak_mb)

    def as_dict(self) -> dict[str, Any]:
        derived = {
            "extrapolated": self.extrapolated,
            "per_s": self.per_s,
            "mb_per_s": self.mb_per_s,
            "memory_mb": self.memory_mb,
        }
        return {**asdict(self), **derived}


def table_line(row: Row) -> str:
    numbers = (row.wall_s, row.cpu_s, row.per_s, row.mb_per_s, row.peak_rss_mb, row.tree_peak_mb)
    shown = (f"{value:,.{digits}f}" for value, digits in zip(numbers, (1, 1, 0, 1, 0, 0), strict=True))
    return "| " + " | ".join([row.tool, row.layout, f"{row.size:,}", *shown, _note(row)]) + " |"


def _note(row: Row) -> str:
    if row.error:
        return f"**FAILED**: {row.error}"
    notes = [f"*extrapolated from {row.measured_size:,}*"] if row.extrapolated else []
    if row.tool == "duckdb":
        notes.append(f"memory_limit {row.facts['memory_limit']}, {row.facts['threads']} threads")
    elif row.tool == "dlt":
        notes.append(f"{row.facts['tables']} tables, {row.facts['loader_file_format']} files")
    elif row.tool in PARSER_UNITS:
        unit = PARSER_UNITS[row.tool]
        notes.append(f"{unit}; parse loop {row.facts['records_per_core_s']:,.0f} {unit}/s per core")
    elif row.facts.get("records_rejected"):
        notes.append(f"{row.facts['records_rejected']} rejected")
    return "; ".join(notes)


@dataclass(frozen=True)
class Target:
    target: str
    layout: str
    value: float | None  # None: not measurable from this run (a tool or a second size missing)
    shown: str
    met: bool | None


def _judge(
    target: str,
    layout: str,
    value: float | None,
    test: Callable[[float, float], bool],
    limit: float,
    shape: str,
) -> Target:
    if value is None:
        return Target(target, layout, None, "not measured", None)
    return Target(target, layout, value, shape.format(value), test(value, limit))


class _Found:
    """The successful rows, and each quantity compared (computed here once for ratios and targets alike)."""

    def __init__(self, rows: list[Row]) -> None:
        self.rows = {(row.tool, row.layout, row.size): row for row in rows if row.error is None}
        self.sizes = sorted({row.size for row in rows})
        self.ours_layouts = list(dict.fromkeys(row.layout for row in rows if row.tool == "ours"))
        # ours is compared with dlt on NDJSON, the very file dlt reads, when ours was measured on it
        self.dlt_partner = "ndjson" if "ndjson" in self.ours_layouts else next(iter(self.ours_layouts), "")

    def get(self, tool: str, layout: str, size: int) -> Row | None:
        return self.rows.get((tool, layout, size))

    def ours_vs_duckdb(self, layout: str, size: int) -> float | None:
        ours, duck = self.get("ours", layout, size), self.get("duckdb", "ndjson", size)
        return ours.wall_s / duck.wall_s if ours and duck else None

    def dlt_vs_ours(self, size: int) -> tuple[float | None, str]:
        """dlt's wall time over ours', and a note when dlt's is extrapolated."""
        ours, dlt = self.get("ours", self.dlt_partner, size), self.get("dlt", "ndjson", size)
        if not (ours and dlt):
            return None, ""
        return (
            dlt.wall_s / ours.wall_s,
            f"dlt extrapolated from {dlt.measured_size:,}" if dlt.extrapolated else "",
        )

    def parse_rate(self, tool: str, size: int) -> float | None:
        """A parser's records per CPU second of its parse loop (one thread: per core)."""
        parser = self.get(tool, tool, size)
        return parser.facts["records_per_core_s"] if parser else None

    def memory_growth(self, layout: str) -> float | None:
        """Ours' peak memory at the largest size over the smallest (needs two sizes)."""
        low, high = self.get("ours", layout, self.sizes[0]), self.get("ours", layout, self.sizes[-1])
        return high.memory_mb / low.memory_mb if low and high and len(self.sizes) > 1 else None

    def peak_memory(self, layout: str) -> float | None:
        peaks = [row.memory_mb for size in self.sizes if (row := self.get("ours", layout, size))]
        return max(peaks, default=None)

    def projection(self, tool: str, layout: str) -> dict[str, Any] | None:
        """The full registry's load time at the rate measured at the largest size, by studies and by bytes."""
        if not (row := self.get(tool, layout, self.sizes[-1])):
            return None
        return {
            "tool": tool,
            "layout": layout,
            "from_size": row.size,
            "by_studies_s": REGISTRY_STUDIES / row.per_s,
            "by_bytes_s": REGISTRY_BYTES / (row.mb_per_s * 1e6),
        }


def summarise(rows: list[Row], machine: dict[str, Any], options: dict[str, Any]) -> dict[str, Any]:
    """Everything a results file holds: raw rows, machine facts, ratios, projections and targets."""
    found = _Found(rows)
    candidates = [("ours", layout) for layout in found.ours_layouts] + [("duckdb", "ndjson")]
    return {
        "machine": machine,
        "options": {**options, "duckdb_read_json": DUCKDB_READ_JSON},
        "rows": [row.as_dict() for row in rows],
        "ratios": _ratios(found) if rows else [],
        "projections": [p for pair in candidates if rows and (p := found.projection(*pair))],
        "targets": [asdict(target) for target in _targets(found)] if rows else [],
    }


def _ratios(found: _Found) -> list[dict[str, Any]]:
    ratios = []

    def add(name: str, layout: str, size: int, value: float | None, note: str = "") -> None:
        if value is not None:
            ratios.append({"ratio": name, "layout": layout, "size": size, "value": value, "note": note})

    for size in found.sizes:
        for layout in found.ours_layouts:
            add("ours / DuckDB wall time", layout, size, found.ours_vs_duckdb(layout, size))
        add("dlt / ours wall time", found.dlt_partner, size, *found.dlt_vs_ours(size))
        for tool, name in PARSER_RATIOS.items():
            add(name, tool, size, found.parse_rate(tool, size))
    for layout in found.ours_layouts:
        note = f"vs {found.sizes[0]:,}"
        growth = found.memory_growth(layout)
        add("ours peak memory, largest / smallest size", layout, found.sizes[-1], growth, note)
    return ratios


def _targets(found: _Found) -> list[Target]:
    """Each target at the largest size, met or not; unmeasurable ones are listed as such, not dropped."""
    smallest, largest = found.sizes[0], found.sizes[-1]
    limit = TARGETS
    targets = []
    for layout in found.ours_layouts:
        name = f"ours ≤ {limit['ours_vs_duckdb']:g}× DuckDB wall time"
        ratio = found.ours_vs_duckdb(layout, largest)
        targets.append(_judge(name, layout, ratio, le, limit["ours_vs_duckdb"], "{:.2f}×"))
    speedup, note = found.dlt_vs_ours(largest)
    name = f"ours ≥ {limit['dlt_vs_ours']:g}× faster than dlt" + (f" ({note})" if note else "")
    targets.append(_judge(name, found.dlt_partner, speedup, ge, limit["dlt_vs_ours"], "{:.1f}×"))
    for layout in found.ours_layouts:
        name = f"peak memory at {largest:,} ≤ {limit['memory_growth']:g}× at {smallest:,}"
        growth = found.memory_growth(layout)
        targets.append(_judge(name, layout, growth, le, limit["memory_growth"], "{:.2f}×"))
    name = f"classic ≥ {limit['classic_pages_per_core_s']:,.0f} pages/s per core"
    rate = found.parse_rate("classic", largest)
    targets.append(_judge(name, "classic", rate, ge, limit["classic_pages_per_core_s"], "{:,.0f} pages/s"))
    for basis, key in (("600,000 studies", "by_studies_s"), ("10.3 GB of JSON", "by_bytes_s")):
        for layout in found.ours_layouts:
            name = f"full registry < {limit['registry_s'] / 60:g} min, projected from {basis}"
            seconds = projected[key] if (projected := found.projection("ours", layout)) else None
            targets.append(_judge(name, layout, seconds, lt, limit["registry_s"], "{:,.0f} s"))
    for layout in found.ours_layouts:
        name = f"peak memory < {limit['peak_memory_mb'] / 1000:g} GB (largest of all sizes)"
        peak = found.peak_memory(layout)
        targets.append(_judge(name, layout, peak, lt, limit["peak_memory_mb"], "{:,.0f} MB"))
    return targets


def summary_markdown(results: dict[str, Any]) -> str:
    """Ratios, projections and targets as markdown tables."""
    lines = ["## Ratios", "", "| ratio | layout | size | value | note |", "|---|---|--:|--:|---|"]
    lines += [
        f"| {r['ratio']} | {r['layout']} | {r['size']:,} | {r['value']:,.2f} | {r['note']} |"
        for r in results["ratios"]
    ]
    lines += [
        "",
        f"## Projection for the full registry ({REGISTRY_STUDIES:,} studies, {REGISTRY_BYTES / 1e9:g} GB)",
    ]
    lines += ["", "| tool | layout | from size | by studies | by bytes |", "|---|---|--:|--:|--:|"]
    lines += [
        f"| {p['tool']} | {p['layout']} | {p['from_size']:,} | {_duration(p['by_studies_s'])} "
        f"| {_duration(p['by_bytes_s'])} |"
        for p in results["projections"]
    ]
    lines += ["", "## Targets", "", "| target | layout | measured | met |", "|---|---|--:|:-:|"]
    marks = {True: "✅", False: "❌", None: "n/a"}
    lines += [
        f"| {t['target']} | {t['layout']} | {t['shown']} | {marks[t['met']]} |" for t in results["targets"]
    ]
    return "\n".join(lines) + "\n"


def _duration(seconds: float) -> str:
    return f"{seconds:,.0f} s ({seconds / 60:,.1f} min)"


def markdown(rows: list[Row], results: dict[str, Any]) -> str:
    """The results file: machine facts, the table, then the summary."""
    m, options = results["machine"], results["options"]
    dirty = " + uncommitted changes" if m["git_dirty"] else ""
    facts = [
        f"- machine: {m['nproc']} CPUs ({m['cpu']}), {m['total_memory_gb']:.1f} GB RAM; load average "
        f"{_load(m['load_average_start'])} at start, {_load(m['load_average_end'])} at end; "
        f"the harness's own peak RSS {m['harness_peak_rss_mb']:.0f} MB (no child can report less)",
        f"- versions: Python {m['python']}, duckdb {m['duckdb']}, polars {m['polars']}, dlt {m['dlt']}, "
        f"dagster {m['dagster']}; commit {m['git_commit'][:12]}{dirty}",
        f"- DuckDB floor: `read_json(..., {options['duckdb_read_json']})`, "
        f"memory_limit {options['duckdb_memory_limit']}",
        f"- dlt: loader file format {options['dlt_file_format']}; measured at most at "
        f"{options['dlt_max_size']:,} studies, larger sizes extrapolated",
    ]
    table = [TABLE_HEADER, *map(table_line, rows)]
    return "\n".join([f"# Benchmark {m['date']}", "", *facts, "", *table, "", summary_markdown(results)])


def _load(averages: tuple[float, float, float]) -> str:
    return " / ".join(f"{value:.2f}" for value in averages)
