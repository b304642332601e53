"""Containers in the landing zone are cut into one record per study, whatever their layout."""

from __future__ import annotations

import gzip
import zipfile
from pathlib import Path

import orjson
import pytest

from pipelines.sources.landing import iter_raw_records, list_landing_files
from tests.conftest import API_V2_SAMPLES


def _studies() -> list[dict]:
    return [orjson.loads(path.read_bytes()) for path in API_V2_SAMPLES]


def test_folder_is_walked_in_sorted_order_skipping_hidden_files(tmp_path: Path) -> None:
    (tmp_path / "b.json").write_bytes(API_V2_SAMPLES[0].read_bytes())
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "c.json").write_bytes(API_V2_SAMPLES[1].read_bytes())
    (tmp_path / ".hidden").write_text("ignored")
    uris = [record.source_uri for record in iter_raw_records([tmp_path])]
    assert uris == [str(tmp_path / "a" / "c.json"), str(tmp_path / "b.json")]
    assert list_landing_files([tmp_path]) == [tmp_path / "a" / "c.json", tmp_path / "b.json"]


def test_bulk_zip_layout_is_read_member_by_member(tmp_path: Path) -> None:
    archive = tmp_path / "ctg-studies.json.zip"
    with zipfile.ZipFile(archive, "w") as out:
        for path in API_V2_SAMPLES:
            out.writestr(f"ctg-studies/{path.name}", path.read_bytes())
    records = list(iter_raw_records([archive]))
    assert [r.source_uri for r in records] == [f"{archive}!ctg-studies/{p.name}" for p in API_V2_SAMPLES]
    assert records[0].content == API_V2_SAMPLES[0].read_bytes()


def test_gzipped_ndjson_gives_one_record_per_line(tmp_path: Path) -> None:
    lines = b"\n\n".join(orjson.dumps(study) for study in _studies()) + b"\n\n"
    path = tmp_path / "studies.ndjson.gz"
    path.write_bytes(gzip.compress(lines))
    records = list(iter_raw_records([path]))
    assert [r.source_uri for r in records] == [f"{path}#L{i}" for i in range(1, 2 * len(API_V2_SAMPLES), 2)]
    assert orjson.loads(records[2].content) == _studies()[2]


def test_api_page_and_array_are_split_into_studies(tmp_path: Path) -> None:
    page = tmp_path / "page.json"
    page.write_bytes(orjson.dumps({"studies": _studies()[:3], "nextPageToken": "abc"}))
    array = tmp_path / "array.json"
    array.write_bytes(orjson.dumps(_studies()[3:5]))
    uris = [r.source_uri for r in iter_raw_records([page, array])]
    assert uris == [f"{page}#studies[{i}]" for i in range(3)] + [f"{array}#[{i}]" for i in range(2)]


def test_ndjson_with_a_broken_line_keeps_the_other_lines(tmp_path: Path) -> None:
    path = tmp_path / "studies.ndjson"
    studies = _studies()[:2]
    path.write_bytes(orjson.dumps(studies[0]) + b'\n{"protocolSection": \n' + orjson.dumps(studies[1]))
    records = list(iter_raw_records([path]))
    assert [r.source_uri.rsplit("#", 1)[1] for r in records] == ["L1", "L2", "L3"]
    assert records[1].content == b'{"protocolSection":'


def test_missing_path_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="landing path does not exist"):
        list(iter_raw_records([tmp_path / "nope"]))
