"""Build benchmark corpora from the real sample records, at any size.

Studies are the real API v2 samples (``warehouse/landing/api_v2``) cycled, each copy given a unique
NCT id (NCT9xxxxxxx, a range the registry does not use) and lightly varied fields (title suffix,
enrollment, last-update date), so every copy is a distinct study with a distinct record hash.
Layouts: NDJSON (optionally gzipped), the bulk zip (``ctg-studies.json.zip``: one file per study,
in folders), and classic pages made from the seed pages.

    python -m bench.corpus --size 10000 --layout ndjson --out /tmp/studies.ndjson
"""

from __future__ import annotations

import argparse
import gzip
import zipfile
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import orjson

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "warehouse" / "landing" / "api_v2"
SEEDS = ROOT / "warehouse" / "landing" / "classic"
FIRST_ID = 90_000_000


def nct_id(index: int) -> str:
    return f"NCT{FIRST_ID + index:08d}"


def studies(size: int, samples: Path = SAMPLES) -> Iterator[dict]:
    """``size`` distinct API v2 studies made from the samples."""
    originals = [path.read_bytes() for path in sorted(samples.glob("NCT*.json"))]
    for index in range(size):
        study = orjson.loads(originals[index % len(originals)])
        protocol = study["protocolSection"]
        protocol["identificationModule"]["nctId"] = nct_id(index)
        protocol["identificationModule"]["briefTitle"] += f" [copy {index}]"
        enrollment = protocol.get("designModule", {}).get("enrollmentInfo")
        if enrollment is not None:
            enrollment["count"] = index % 997
        updated = date(2020, 1, 1) + timedelta(days=index % 1500)
        protocol["statusModule"]["lastUpdatePostDateStruct"] = {"date": updated.isoformat(), "type": "ACTUAL"}
        yield study


def write_ndjson(path: Path, size: int) -> None:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "wb") as out:
        for study in studies(size):
            out.write(orjson.dumps(study) + b"\n")


def write_bulk_zip(path: Path, size: int) -> None:
    """The bulk download's layout: ``NCTxxxx0000/NCTxxxxxxxx.json`` members."""
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        for study in studies(size):
            identifier = study["protocolSection"]["identificationModule"]["nctId"]
            archive.writestr(f"{identifier[:-4]}xxxx/{identifier}.json", orjson.dumps(study))


def write_classic_pages(folder: Path, size: int) -> None:
    """Seed pages with their NCT id replaced: ``size`` distinct classic pages."""
    seeds = [(path.read_text(), path.stem) for path in sorted(SEEDS.glob("NCT*.txt"))]
    folder.mkdir(parents=True, exist_ok=True)
    for index in range(size):
        text, original = seeds[index % len(seeds)]
        (folder / f"{nct_id(index)}.txt").write_text(text.replace(original, nct_id(index)))


LAYOUTS = {"ndjson": write_ndjson, "zip": write_bulk_zip, "classic": write_classic_pages}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--size", type=int, required=True)
    parser.add_argument("--layout", choices=sorted(LAYOUTS), required=True)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    LAYOUTS[args.layout](args.out, args.size)


if __name__ == "__main__":
    main()
