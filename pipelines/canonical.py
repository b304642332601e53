"""The canonical study record and the part of it the star schema reads.

Every source is parsed into the ClinicalTrials.gov API v2 study structure. The full record is
kept verbatim in ``raw_study_record`` (so every field a source gives is queryable with DuckDB's
JSON functions); ``STUDY_DTYPE`` below declares the fields the star-schema tables are built from.
Decoding JSON with this dtype ignores keys it does not list and yields NULL for keys a record
lacks, so one schema serves sparse and rich records alike.

``extras`` holds facts a source states for which API v2 has no field (documented per key):

- ``titleLine``: the classic page's heading, as written (title and acronym run together).
- ``responsiblePartyName``: the responsible party as the classic page displays it (no type).
- ``unspecifiedOutcomes``: outcome measures whose kind (primary/secondary/other) the source
  does not state, in source order.
- ``unlabelledTermLines``: keyword/MeSH lines whose headings the classic page text lost.
- ``otherFields``: ``{label, value}`` rows a source gives that have no API v2 field (classic page
  rows with unknown labels, legacy XML elements such as ``required_header/download_date``).
- ``criteriaNestingInferred``: the criteria's nesting was reconstructed from flattened text.
- ``unplacedLines``: classic page lines outside every recognised section (kept, not interpreted).
"""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Iterable, Sequence
from typing import Any

import orjson
import polars as pl

from pipelines.sources.records import ParsedRecord

S = pl.String
B = pl.Boolean
F = pl.Float64
LS = pl.List(pl.String)
DATE = {"date": S, "type": S}
OUTCOME = [{"measure": S, "timeFrame": S, "description": S}]
MESHES = [{"id": S, "term": S}]
CONTACTS = [{"name": S, "role": S, "phone": S, "phoneExt": S, "email": S}]
BROWSE = {"meshes": MESHES, "ancestors": MESHES}


def _dtype(spec: Any) -> pl.DataType:
    """Turn the compact spec (dicts = structs, one-item lists = lists) into a polars dtype."""
    if isinstance(spec, dict):
        return pl.Struct({name: _dtype(sub) for name, sub in spec.items()})
    if isinstance(spec, list):
        return pl.List(_dtype(spec[0]))
    return spec


STUDY_SPEC: dict[str, Any] = {
    "hasResults": B,
    "protocolSection": {
        "identificationModule": {
            "nctId": S,
            "briefTitle": S,
            "officialTitle": S,
            "acronym": S,
            "orgStudyIdInfo": {"id": S, "type": S, "link": S},
            "secondaryIdInfos": [{"id": S, "type": S, "domain": S, "link": S}],
            "organization": {"fullName": S, "class": S},
        },
        "statusModule": {
            "overallStatus": S,
            "lastKnownStatus": S,
            "whyStopped": S,
            "statusVerifiedDate": S,
            "startDateStruct": DATE,
            "primaryCompletionDateStruct": DATE,
            "completionDateStruct": DATE,
            "studyFirstSubmitDate": S,
            "studyFirstPostDateStruct": DATE,
            "lastUpdateSubmitDate": S,
            "lastUpdatePostDateStruct": DATE,
            "resultsFirstPostDateStruct": DATE,
        },
        "sponsorCollaboratorsModule": {
            "leadSponsor": {"name": S, "class": S},
            "collaborators": [{"name": S, "class": S}],
            "responsibleParty": {
                "type": S,
                "investigatorFullName": S,
                "investigatorTitle": S,
                "investigatorAffiliation": S,
            },
        },
        "oversightModule": {
            "oversightHasDmc": B,
            "isFdaRegulatedDrug": B,
            "isFdaRegulatedDevice": B,
        },
        "descriptionModule": {"briefSummary": S, "detailedDescription": S},
        "conditionsModule": {"conditions": LS, "keywords": LS},
        "designModule": {
            "studyType": S,
            "patientRegistry": B,
            "phases": LS,
            "enrollmentInfo": {"count": pl.Int64, "type": S},
            "designInfo": {
                "allocation": S,
                "interventionModel": S,
                "interventionModelDescription": S,
                "primaryPurpose": S,
                "observationalModel": S,
                "timePerspective": S,
                "maskingInfo": {"masking": S, "whoMasked": LS, "maskingDescription": S},
            },
        },
        "armsInterventionsModule": {
            "armGroups": [{"label": S, "type": S, "description": S, "interventionNames": LS}],
            "interventions": [
                {"type": S, "name": S, "description": S, "armGroupLabels": LS, "otherNames": LS}
            ],
        },
        "outcomesModule": {
            "primaryOutcomes": OUTCOME,
            "secondaryOutcomes": OUTCOME,
            "otherOutcomes": OUTCOME,
        },
        "eligibilityModule": {
            "eligibilityCriteria": S,
            "healthyVolunteers": B,
            "sex": S,
            "minimumAge": S,
            "maximumAge": S,
            "stdAges": LS,
        },
        "contactsLocationsModule": {
            "centralContacts": CONTACTS,
            "overallOfficials": [{"name": S, "affiliation": S, "role": S}],
            "locations": [
                {
                    "contacts": CONTACTS,
                    "facility": S,
                    "status": S,
                    "city": S,
                    "state": S,
                    "zip": S,
                    "country": S,
                    "geoPoint": {"lat": F, "lon": F},
                }
            ],
        },
        "referencesModule": {"references": [{"pmid": S, "type": S, "citation": S}]},
    },
    "derivedSection": {"conditionBrowseModule": BROWSE, "interventionBrowseModule": BROWSE},
    "resultsSection": {
        "outcomeMeasuresModule": {
            "outcomeMeasures": [
                {
                    "type": S,
                    "title": S,
                    "description": S,
                    "populationDescription": S,
                    "reportingStatus": S,
                    "anticipatedPostingDate": S,
                    "paramType": S,
                    "dispersionType": S,
                    "unitOfMeasure": S,
                    "timeFrame": S,
                    "groups": [{"id": S, "title": S, "description": S}],
                    "denoms": [{"units": S, "counts": [{"groupId": S, "value": S}]}],
                    "classes": [
                        {
                            "title": S,
                            "categories": [
                                {
                                    "title": S,
                                    "measurements": [
                                        {
                                            "groupId": S,
                                            "value": S,
                                            "spread": S,
                                            "lowerLimit": S,
                                            "upperLimit": S,
                                            "comment": S,
                                        }
                                    ],
                                }
                            ],
                        }
                    ],
                }
            ]
        }
    },
    "extras": {
        "titleLine": S,
        "responsiblePartyName": S,
        "unspecifiedOutcomes": OUTCOME,
        "unlabelledTermLines": LS,
        "otherFields": [{"label": S, "value": S}],
        "criteriaNestingInferred": B,
    },
}

STUDY_DTYPE = _dtype(STUDY_SPEC)


# --- the staged record frame --------------------------------------------------------------------

RECORD_FRAME_SCHEMA = {
    "record_id": pl.Int64,
    "source_uri": pl.String,
    "source_format": pl.String,
    "nct_id": pl.String,
    "last_update_posted": pl.String,
    "record_hash": pl.String,
    "raw_hash": pl.String,
    "is_known": pl.Boolean,
    "record_json": pl.String,
    "rejection_reason": pl.String,
    "excerpt": pl.String,
}
INDEX_COLUMNS = [
    "record_id",
    "nct_id",
    "last_update_posted",
    "record_hash",
    "raw_hash",
    "is_known",
    "source_uri",
    "source_format",
    "rejection_reason",
]
# What the warehouse tells about a raw record it already holds (``load.known_sources``).
KNOWN_COLUMNS = ["raw_hash", "nct_id", "last_update_posted", "record_hash", "source_format"]


def record_batch(parsed: Iterable[ParsedRecord], ids: Iterable[int] | None = None) -> pl.DataFrame:
    """One row per raw record parsed: its canonical JSON and decoded ``study``, or its rejection.

    ``record_id`` (``ids``, else 0, 1, ...) numbers records in reading order across batches, so a
    run-wide decision (which version of a study wins) can be joined back to any batch.
    """
    rows: dict[str, list[Any]] = {name: [] for name in RECORD_FRAME_SCHEMA}
    for record_id, record in zip(itertools.count() if ids is None else ids, parsed, strict=False):
        study = record.study
        rows["record_id"].append(record_id)
        rows["source_uri"].append(record.source_uri)
        rows["source_format"].append(record.source_format)
        rows["raw_hash"].append(record.raw_hash)
        rows["is_known"].append(False)
        rows["rejection_reason"].append(record.rejection_reason)
        rows["excerpt"].append(record.excerpt)
        if study is None:
            for name in ("nct_id", "last_update_posted", "record_hash", "record_json"):
                rows[name].append(None)
            continue
        encoded = orjson.dumps(study, option=orjson.OPT_SORT_KEYS)
        status = study["protocolSection"].get("statusModule") or {}
        rows["nct_id"].append(study["protocolSection"]["identificationModule"]["nctId"])
        rows["last_update_posted"].append((status.get("lastUpdatePostDateStruct") or {}).get("date"))
        rows["record_hash"].append(hashlib.blake2b(encoded, digest_size=16).hexdigest())
        rows["record_json"].append(encoded.decode())
    return _decoded(pl.DataFrame(rows, schema=RECORD_FRAME_SCHEMA))


def known_batch(ids: Sequence[int], uris: Sequence[str], raw_hashes: Sequence[str]) -> pl.DataFrame:
    """Index rows for raw records the warehouse already holds as they are (not parsed).

    Their study columns are filled from the warehouse by ``with_known`` once the run's index is
    complete (one join for the run instead of one per batch).
    """
    frame = pl.DataFrame(
        {"record_id": ids, "source_uri": uris, "raw_hash": raw_hashes},
        schema={name: RECORD_FRAME_SCHEMA[name] for name in ("record_id", "source_uri", "raw_hash")},
    )
    return (
        frame.with_columns(
            *(
                pl.lit(None, RECORD_FRAME_SCHEMA[name]).alias(name)
                for name in INDEX_COLUMNS
                if name not in frame
            ),
        )
        .with_columns(is_known=pl.lit(True))
        .select(INDEX_COLUMNS)
    )


def with_known(index: pl.DataFrame, known: pl.DataFrame) -> pl.DataFrame:
    """Fill the study columns of known records (``is_known``) from the warehouse's ``known`` rows."""
    filled = [name for name in KNOWN_COLUMNS if name != "raw_hash"]
    return (
        index.join(known.select(KNOWN_COLUMNS), on="raw_hash", how="left", suffix="_known")
        .with_columns(
            pl.when(pl.col("is_known")).then(pl.col(f"{name}_known")).otherwise(pl.col(name)).alias(name)
            for name in filled
        )
        .select(INDEX_COLUMNS)
    )


def record_statuses(index: pl.DataFrame) -> pl.DataFrame:
    """``record_id`` → ``accepted``, ``unchanged``, ``rejected`` (with its ``reason``) or ``superseded``.

    Of several records of one study, the one with the latest ``lastUpdatePostDate`` wins, then
    the smallest hash, then the smallest source URI: deterministic whatever the reading order.
    A winner the warehouse already holds as it is (``is_known``) is ``unchanged``: nothing to
    build or load. Needs only ``INDEX_COLUMNS``, so a whole registry's index fits in memory.
    """
    record = pl.col("record_id")
    order = ["last_update_posted", "record_hash", "source_uri"]
    winner = record == record.sort_by(order, descending=[True, False, False], nulls_last=True).first().over(
        "nct_id"
    )
    return index.select(
        "record_id",
        status=pl.when(pl.col("rejection_reason").is_not_null())
        .then(pl.lit("rejected"))
        .when(winner & pl.col("is_known"))
        .then(pl.lit("unchanged"))
        .when(winner)
        .then(pl.lit("accepted"))
        .otherwise(pl.lit("superseded")),
        reason=pl.col("rejection_reason"),
    )


def record_frame(parsed: Iterable[ParsedRecord]) -> pl.DataFrame:
    """All records of one small batch with their ``status`` (tests, ad-hoc use)."""
    batch = record_batch(parsed)
    return batch.join(record_statuses(batch.select(INDEX_COLUMNS)), on="record_id")


def _decoded(frame: pl.DataFrame) -> pl.DataFrame:
    """Add the decoded ``study``; reject records whose fields have the wrong JSON types.

    The whole batch is decoded at once (fast); only if that fails is each record tried on its
    own, so one bad record is rejected with its reason instead of failing the run.
    """
    try:
        return frame.with_columns(study=pl.col("record_json").str.json_decode(STUDY_DTYPE))
    except pl.exceptions.PolarsError:
        pass
    reasons: list[str | None] = []
    for reason, text in zip(frame["rejection_reason"], frame["record_json"], strict=True):
        if reason is None and text is not None:
            try:
                pl.Series([text]).str.json_decode(STUDY_DTYPE)
            except pl.exceptions.PolarsError as error:
                reason = f"field of unexpected type: {str(error).splitlines()[0]}"
        reasons.append(reason)
    bad = pl.Series(reasons).is_not_null() & frame["rejection_reason"].is_null()
    return frame.with_columns(
        rejection_reason=pl.Series(reasons, dtype=pl.String),
        excerpt=pl.when(bad).then(pl.col("record_json").str.slice(0, 200)).otherwise(pl.col("excerpt")),
        record_json=pl.when(bad).then(None).otherwise(pl.col("record_json")),
        nct_id=pl.when(bad).then(None).otherwise(pl.col("nct_id")),
        record_hash=pl.when(bad).then(None).otherwise(pl.col("record_hash")),
    ).with_columns(study=pl.col("record_json").str.json_decode(STUDY_DTYPE))
