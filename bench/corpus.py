"""Build benchmark corpora from real records, at any size, and cache them.

Studies are real API v2 records — by default the 400 distinct studies of the project's shared corpus
(``tests/fixtures/corpus/studies.ndjson.gz``; or any NDJSON file, optionally gzipped, or any folder
of study files or API pages such as ``warehouse/landing/api_v2``) — cycled, each copy given a unique
NCT id (NCT9xxxxxxx, a range the registry does not use) and lightly varied fields (title suffix,
enrollment count, overall status, last-update date, all drawn from the id), so every copy is a
distinct study with a distinct record hash and the pipeline has real work to do for each. Layouts:
NDJSON (optionally gzipped), the bulk zip (``ctg-studies.json.zip``: one file per study, in folders),
classic pages made from the seed pages of ``warehouse/landing/classic`` and legacy XML records made
from those of ``warehouse/landing/legacy_xml`` (in a zip laid out as the AllPublicXML download was),
both with their own NCT id replaced by the new one.

``build`` caches each corpus under ``bench/corpora/`` keyed by layout, size and a digest of the
inputs, so reruns (and every tool of one run) read the very same files.

    python -m bench.corpus --size 10000 --layout ndjson --out /tmp/studies.ndjson
    python -m bench.corpus --size 10000 --layout zip --cache bench/corpora
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import shutil
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from datetime import date, timedelta
from pathlib import Path

import orjson

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "tests" / "fixtures" / "corpus" / "studies.ndjson.gz"
SEEDS = ROOT / "warehouse" / "landing" / "classic"
XML_SEEDS = ROOT / "warehouse" / "landing" / "legacy_xml"
CORPORA = ROOT / "bench" / "corpora"
FIRST_ID = 90_000_000
# Bump when the way studies are varied changes, so cached corpora are rebuilt rather than reused.
CORPUS_VERSION = 3
# The statuses a copy may be given when its original has one of them (a withdrawn study keeps its
# whyStopped and status, an expanded-access record its own vocabulary).
TRIAL_STATUSES = ("COMPLETED", "RECRUITING", "ACTIVE_NOT_RECRUITING", "TERMINATED", "UNKNOWN")


def nct_id(index: int) -> str:
    return f"NCT{FIRST_ID + index:08d}"


def load_samples(source: Path = SAMPLES) -> list[bytes]:
    """The studies of ``source``, as JSON bytes, in its order.

    ``source`` is an NDJSON file (``.gz``: gzipped) of one study per line, or a folder whose every
    ``*.json`` is one study or an API page of them. Kept serialised: ``orjson.loads`` of the bytes is
    the cheapest deep copy for each variant.
    """
    if source.is_dir():
        documents = [orjson.loads(path.read_bytes()) for path in sorted(source.glob("*.json"))]
    else:
        opener = gzip.open if source.suffix == ".gz" else open
        with opener(source, "rb") as lines:
            documents = [orjson.loads(line) for line in lines if line.strip()]
    found = [
        orjson.dumps(study)
        for document in documents
        for study in document.get("studies", [document])
        if "protocolSection" in study
    ]
    if not found:
        raise ValueError(f"no API v2 studies in {source}" + ("/*.json" if source.is_dir() else ""))
    return found


def studies(size: int, samples: list[bytes]) -> Iterator[dict]:
    """``size`` distinct API v2 studies made from ``samples``."""
    for index in range(size):
        study = orjson.loads(samples[index % len(samples)])
        identifier = nct_id(index)
        draw = zlib.crc32(identifier.encode())
        protocol = study["protocolSection"]
        protocol["identificationModule"]["nctId"] = identifier
        protocol["identificationModule"]["briefTitle"] += f" [copy {index}]"
        enrollment = protocol.get("designModule", {}).get("enrollmentInfo")
        if enrollment is not None:
            enrollment["count"] = draw % 997
        status = protocol["statusModule"]
        if status.get("overallStatus") in TRIAL_STATUSES:
            status["overallStatus"] = TRIAL_STATUSES[draw % len(TRIAL_STATUSES)]
        updated = date(2020, 1, 1) + timedelta(days=draw % 1500)
        status["lastUpdatePostDateStruct"] = {"date": updated.isoformat(), "type": "ACTUAL"}
        yield study


def write_ndjson(path: Path, size: int, samples: list[bytes]) -> int:
    """Write the studies one per line; returns the bytes of study JSON written."""
    total = 0
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "wb") as out:
        for study in studies(size, samples):
            line = orjson.dumps(study)
            total += len(line)
            out.write(line + b"\n")
    return total


def write_bulk_zip(path: Path, size: int, samples: list[bytes]) -> int:
    """The bulk download's layout: ``NCTxxxx0000/NCTxxxxxxxx.json`` members; returns the JSON bytes."""
    total = 0
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        for study in studies(size, samples):
            identifier = study["protocolSection"]["identificationModule"]["nctId"]
            member = orjson.dumps(study)
            total += len(member)
            archive.writestr(f"{identifier[:-4]}xxxx/{identifier}.json", member)
    return total


def seeded(seeds: Path, pattern: str, size: int) -> Iterator[tuple[str, bytes]]:
    """``size`` (NCT id, record) pairs: the seed files (named by their NCT id) cycled, that id replaced."""
    records = [(path.read_bytes(), path.stem.encode()) for path in sorted(seeds.glob(pattern))]
    if not records:
        raise ValueError(f"no seed records in {seeds}/{pattern}")
    for index in range(size):
        content, original = records[index % len(records)]
        identifier = nct_id(index)
        yield identifier, content.replace(original, identifier.encode())


def write_classic_pages(folder: Path, size: int, seeds: Path = SEEDS) -> int:
    """Seed pages with their NCT id replaced: ``size`` distinct classic pages; returns their bytes."""
    folder.mkdir(parents=True, exist_ok=True)
    return sum((folder / f"{name}.txt").write_bytes(page) for name, page in seeded(seeds, "NCT*.txt", size))


def write_legacy_xml(path: Path, size: int, seeds: Path = XML_SEEDS) -> int:
    """Seed XML records with their NCT id replaced, ``size`` of them in a zip laid out as AllPublicXML
    (``NCTxxxx0000/NCTxxxxxxxx.xml``); returns the bytes of XML (uncompressed)."""
    total = 0
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        for identifier, record in seeded(seeds, "NCT*.xml", size):
            total += len(record)
            archive.writestr(f"{identifier[:-4]}xxxx/{identifier}.xml", record)
    return total


@dataclass(frozen=True)
class Corpus:
    """A built corpus: where it is and how much study text it holds (what throughput is measured in)."""

    layout: str
    size: int
    path: Path
    content_bytes: int


SUFFIXES = {"ndjson": ".ndjson", "zip": ".json.zip", "classic": "", "xml": ".xml.zip"}
# The layouts made from seed records of their own rather than from the API v2 samples.
SEED_FOLDERS = {"classic": SEEDS, "xml": XML_SEEDS}


def write(layout: str, path: Path, size: int, samples: Path = SAMPLES) -> int:
    """Write ``size`` records in ``layout`` at ``path``; returns the bytes of study text written."""
    if layout == "classic":
        return write_classic_pages(path, size)
    if layout == "xml":
        return write_legacy_xml(path, size)
    writer = write_ndjson if layout == "ndjson" else write_bulk_zip
    return writer(path, size, load_samples(samples))


def build(layout: str, size: int, samples: Path = SAMPLES, cache: Path = CORPORA) -> Corpus:
    """The corpus of ``size`` records in ``layout``, built once and then reused from ``cache``.

    A corpus is written under a temporary name and renamed when complete, its size facts beside it
    last: an interrupted build is never mistaken for a finished one.
    """
    suffix = SUFFIXES[layout]
    key = f"{layout}-{size}-{_inputs_digest(SEED_FOLDERS.get(layout, samples))}"
    path, facts = cache / f"{key}{suffix}", cache / f"{key}.meta.json"
    if not (path.exists() and facts.exists()):
        cache.mkdir(parents=True, exist_ok=True)
        partial = cache / f"{key}.partial{suffix}"
        _remove(partial)
        content_bytes = write(layout, partial, size, samples)
        _remove(path)
        partial.rename(path)
        facts.write_bytes(orjson.dumps({"layout": layout, "size": size, "content_bytes": content_bytes}))
    return Corpus(layout, size, path, orjson.loads(facts.read_bytes())["content_bytes"])


def _inputs_digest(source: Path) -> str:
    """Names and contents of the input records (a file, or a folder's files) and the corpus version:
    what a cached corpus depends on."""
    digest = hashlib.blake2b(str(CORPUS_VERSION).encode(), digest_size=5)
    files = sorted(p for p in source.iterdir() if p.is_file()) if source.is_dir() else [source]
    for path in files:
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def _remove(path: Path) -> None:
    if path.is_dir():
        shutil.rmtree(path)
    else:
        path.unlink(missing_ok=True)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--size", type=int, required=True)
    parser.add_argument("--layout", choices=sorted(SUFFIXES), required=True)
    parser.add_argument(
        "--samples", type=Path, default=SAMPLES, help="API v2 studies: NDJSON(.gz) file or JSON folder"
    )
    target = parser.add_mutually_exclusive_group(required=True)
    target.add_argument("--out", type=Path, help="write the corpus here")
    target.add_argument("--cache", type=Path, help="build it in this cache (or reuse it); print its facts")
    args = parser.parse_args(argv)
    if args.out:
        write(args.layout, args.out, args.size, args.samples)
    else:
        built = build(args.layout, args.size, args.samples, args.cache)
        print(orjson.dumps({**asdict(built), "path": str(built.path)}).decode())


if __name__ == "__main__":
    main()
