"""ClinicalTrials.gov API v2 study JSON: already the canonical structure, so only checked."""

from __future__ import annotations

import re
from typing import Any

import orjson

from pipelines.sources.records import RecordRejected

NCT_ID = re.compile(r"NCT\d{8}")


def parse(content: bytes) -> dict[str, Any]:
    """Decode one study and check it is one: an object with ``protocolSection`` and an NCT id."""
    try:
        study = orjson.loads(content)
    except orjson.JSONDecodeError as error:
        raise RecordRejected(f"not valid JSON: {error}") from None
    if not isinstance(study, dict):
        raise RecordRejected(f"JSON {type(study).__name__} is not a study object")
    if "FullStudiesResponse" in study or "FullStudy" in study:
        raise RecordRejected("retired classic API (v1) JSON is not a supported format; use API v2 or XML")
    protocol = study.get("protocolSection")
    if not isinstance(protocol, dict):
        raise RecordRejected("JSON object has no protocolSection: not an API v2 study")
    nct_id = (protocol.get("identificationModule") or {}).get("nctId")
    if not isinstance(nct_id, str) or not NCT_ID.fullmatch(nct_id):
        raise RecordRejected(
            f"protocolSection.identificationModule.nctId is missing or malformed: {nct_id!r}"
        )
    return study
