"""One bad input never costs the good ones: bombs, oversize and deep records, files that change under
a run, symlinks out of the landing zone, and text in other encodings. Real files in ``tmp_path``;
caps are made small (``Limits``) so that the bombs stay small too."""

from __future__ import annotations

import gzip
import os
import struct
import zipfile
from pathlib import Path

import orjson
import pytest

from pipelines.sources.dispatch import parse_record, source_digest
from pipelines.sources.landing import (
    LandingFile,
    LandingFileChanged,
    SkippedFile,
    iter_raw_records,
    list_landing_files,
    read_landing_file,
    scan_landing,
)
from pipelines.sources.records import Limits, RawRecord
from tests.conftest import API_V2_SAMPLES, LEGACY_XML_SAMPLES

CAP = 64 * 1024
LIMITS = Limits(max_record_bytes=CAP, max_json_depth=64)
CAP_REASON = "the 64 KiB cap (TRIALS_MAX_RECORD_BYTES)"
BOMB = b'{"protocolSection": ' + b" " * (4 * 1024 * 1024) + b"}"  # 4 MiB inflated, a few KiB deflated
# bundled samples: a study larger than CAP with characters beyond Latin-1, and the studies under CAP
STUDY = next(path for path in API_V2_SAMPLES if path.name == "NCT02552212.json")
SMALL = [path for path in API_V2_SAMPLES if path.stat().st_size < CAP]
XML_STUDY = next(path for path in LEGACY_XML_SAMPLES if path.name == "NCT00277524.xml")


def parsed(records: list[RawRecord], limits: Limits = LIMITS) -> dict[str, tuple[str | None, str | None]]:
    """source_uri → (NCT id, rejection reason) of every record."""
    out = {}
    for record in records:
        result = parse_record(record, limits=limits)
        nct_id = result.study["protocolSection"]["identificationModule"]["nctId"] if result.study else None
        out[record.source_uri] = (nct_id, result.rejection_reason)
    return out


def nct(path: Path) -> str:
    return path.stem


# --- bounded inputs ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "compression",
    [zipfile.ZIP_DEFLATED, zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA],
    ids=["deflate", "bzip2", "lzma"],
)
def test_zip_bomb_member_is_rejected_and_the_other_members_come_out(tmp_path: Path, compression: int) -> None:
    archive = tmp_path / "ctg-studies.json.zip"
    with zipfile.ZipFile(archive, "w", compression) as out:
        out.writestr(SMALL[0].name, SMALL[0].read_bytes())
        out.writestr("bomb.json", BOMB)
        out.writestr(SMALL[1].name, SMALL[1].read_bytes())
    assert archive.stat().st_size < 100_000
    results = parsed(list(iter_raw_records([archive], LIMITS)))
    assert results == {
        f"{archive}!{SMALL[0].name}": (nct(SMALL[0]), None),
        f"{archive}!bomb.json": (None, f"zip member inflates to {len(BOMB):,} bytes, beyond {CAP_REASON}"),
        f"{archive}!{SMALL[1].name}": (nct(SMALL[1]), None),
    }


@pytest.mark.parametrize("compression", [zipfile.ZIP_DEFLATED, zipfile.ZIP_BZIP2], ids=["deflate", "bzip2"])
def test_zip_member_that_inflates_beyond_its_stated_size_is_rejected(
    tmp_path: Path, compression: int
) -> None:
    """A bomb whose archive claims 100 bytes is not inflated past them (zipfile would inflate bzip2
    a whole read at a time)."""
    archive = tmp_path / "lying.zip"
    with zipfile.ZipFile(archive, "w", compression) as out:
        out.writestr("bomb.json", BOMB)
        out.writestr(SMALL[0].name, SMALL[0].read_bytes())
    data = bytearray(archive.read_bytes())
    struct.pack_into("<I", data, data.index(b"PK\x01\x02") + 24, 100)  # central directory: 100 bytes
    archive.write_bytes(bytes(data))
    results = parsed(list(iter_raw_records([archive], LIMITS)))
    reason = results[f"{archive}!bomb.json"][1]
    assert reason is not None and reason.startswith("zip member cannot be inflated: ")
    assert results[f"{archive}!{SMALL[0].name}"] == (nct(SMALL[0]), None)


def test_gzip_bomb_is_rejected_with_the_cap(tmp_path: Path) -> None:
    bomb = tmp_path / "study.json.gz"
    bomb.write_bytes(gzip.compress(BOMB))
    (record,) = iter_raw_records([bomb], LIMITS)
    assert len(record.content) <= 800  # only the start of what was read is kept, for the excerpt
    result = parse_record(record, limits=LIMITS)
    assert result.rejection_reason == (f"gzip stream (not NDJSON: read whole) inflates beyond {CAP_REASON}")
    assert result.excerpt is not None and result.excerpt.startswith('{"protocolSection": ')


def test_plain_file_over_the_cap_is_rejected_whole(tmp_path: Path) -> None:
    page = tmp_path / "page.json"
    page.write_bytes(orjson.dumps({"studies": [orjson.loads(p.read_bytes()) for p in API_V2_SAMPLES]}))
    assert page.stat().st_size > CAP
    assert parsed(list(iter_raw_records([page], LIMITS))) == {
        str(page): (None, f"file (not NDJSON: read whole) is larger than {CAP_REASON}")
    }
    assert len(list(iter_raw_records([page]))) == len(API_V2_SAMPLES)  # under the default cap


@pytest.mark.parametrize("compress", [False, True], ids=["plain", "gzip"])
def test_oversize_ndjson_line_is_rejected_and_the_other_lines_load(tmp_path: Path, compress: bool) -> None:
    lines = [orjson.dumps(orjson.loads(path.read_bytes())) for path in SMALL[:2]]
    long_line = b'{"protocolSection": {"x": "' + b"y" * (2 * CAP) + b'"}}'
    blank_run = b" " * (2 * CAP) + b"\n" + b"\n" * 10_000  # blank lines, however long, are no records
    text = lines[0] + b"\n" + long_line + b"\n" + blank_run + lines[1] + b"\n"
    path = tmp_path / ("studies.ndjson.gz" if compress else "studies.ndjson")
    path.write_bytes(gzip.compress(text) if compress else text)
    results = parsed(list(iter_raw_records([path], LIMITS)))
    assert results == {
        f"{path}#L1": (nct(SMALL[0]), None),
        f"{path}#L2": (None, f"NDJSON line is longer than {CAP_REASON}"),
        f"{path}#L10004": (nct(SMALL[1]), None),
    }


def test_first_ndjson_line_over_the_cap_does_not_hide_the_others(tmp_path: Path) -> None:
    path = tmp_path / "studies.ndjson"
    path.write_bytes(b"[" + b" " * 2 * CAP + b"1]\n" + orjson.dumps(orjson.loads(SMALL[0].read_bytes())))
    assert parsed(list(iter_raw_records([path], LIMITS))) == {
        f"{path}#L1": (None, f"NDJSON line is longer than {CAP_REASON}"),
        f"{path}#L2": (nct(SMALL[0]), None),
    }


def test_record_over_the_cap_is_rejected_by_dispatch() -> None:
    result = parse_record(RawRecord("big.json", STUDY.read_bytes()), limits=LIMITS)
    assert result.rejection_reason == f"record is {STUDY.stat().st_size:,} bytes, larger than {CAP_REASON}"
    assert result.excerpt is not None and result.excerpt.startswith("{")


def _depth(value: object) -> int:
    if isinstance(value, dict):
        return 1 + max(map(_depth, value.values()), default=0)
    if isinstance(value, list):
        return 1 + max(map(_depth, value), default=0)
    return 0


def test_too_deep_json_is_rejected_and_real_studies_are_not() -> None:
    study = orjson.loads(STUDY.read_bytes())
    # brackets and escaped quotes inside strings do not count
    study["extras"] = {"deep": [[[[[[[[[[[[[[[[[[[[{"a": '"]]]]]]\\"[[['}]]]]]]]]]]]]]]]]]]]]}
    depth = _depth(study)
    assert depth > 20
    deep = RawRecord("deep.json", orjson.dumps(study))
    assert parse_record(deep, limits=Limits(1 << 30, depth - 1)).rejection_reason == (
        f"JSON nests objects and arrays deeper than the cap of {depth - 1} levels (TRIALS_MAX_JSON_DEPTH)"
    )
    assert parse_record(deep, limits=Limits(1 << 30, depth)).study is not None
    for path in API_V2_SAMPLES:  # real studies nest fewer than 15 deep
        assert _depth(orjson.loads(path.read_bytes())) < 15
        assert parse_record(RawRecord(path.name, path.read_bytes()), limits=Limits(1 << 30, 14)).study


def test_json_deeper_than_the_default_cap_is_rejected_not_a_crash() -> None:
    record = RawRecord("deep.json", b'{"protocolSection": ' + b"[" * 5000 + b"]" * 5000 + b"}")
    result = parse_record(record)
    assert result.rejection_reason is not None and "TRIALS_MAX_JSON_DEPTH" in result.rejection_reason


def test_xml_nested_too_deeply_is_a_rejection_not_an_exception() -> None:
    content = XML_STUDY.read_bytes().replace(
        b"</clinical_study>", b"<x>" * 3000 + b"</x>" * 3000 + b"</clinical_study>"
    )
    result = parse_record(RawRecord("deep.xml", content))
    assert result.study is None and result.rejection_reason is not None


def test_limits_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRIALS_MAX_RECORD_BYTES", "64MiB")
    monkeypatch.setenv("TRIALS_MAX_JSON_DEPTH", "20")
    assert Limits() == Limits(max_record_bytes=64 << 20, max_json_depth=20)
    monkeypatch.setenv("TRIALS_MAX_RECORD_BYTES", "a lot")
    with pytest.raises(ValueError, match="TRIALS_MAX_RECORD_BYTES='a lot'"):
        Limits()


def test_rejected_raw_record_has_a_digest_of_its_own() -> None:
    """A record rejected by the landing zone is not mistaken for a known one with the same bytes."""
    content = SMALL[0].read_bytes()[:800]
    assert source_digest(RawRecord("a", content, "over a cap"), False) != source_digest(
        RawRecord("a", content), False
    )


def test_corrupt_gzip_keeps_the_records_before_the_damage(tmp_path: Path) -> None:
    lines = b"\n".join(orjson.dumps(orjson.loads(path.read_bytes())) for path in SMALL[:3]) + b"\n"
    data = gzip.compress(lines)
    path = tmp_path / "studies.ndjson.gz"
    path.write_bytes(data[: len(data) * 2 // 3])  # landed cut short, and stays so
    results = parsed(list(iter_raw_records([path], LIMITS)))
    *good, (uri, (study, reason)) = results.items()
    assert [value for _, value in good] == [(nct(p), None) for p in SMALL[: len(good)]]
    assert uri == f"{path}#L{len(good) + 1}" and study is None
    assert reason is not None and reason.startswith("gzip stream is corrupt or truncated: ")


def test_corrupt_zip_is_a_rejected_record(tmp_path: Path) -> None:
    path = tmp_path / "broken.zip"
    path.write_bytes(b"PK\x03\x04" + b"not really a zip" * 10)
    (record,) = iter_raw_records([path])
    result = parse_record(record)
    assert result.rejection_reason == "zip archive cannot be read: File is not a zip file"
    assert result.excerpt is None


# --- files that change under a run ------------------------------------------------------------------


def _landing(tmp_path: Path) -> Path:
    landing = tmp_path / "landing"
    landing.mkdir()
    for path in SMALL[:3]:
        (landing / path.name).write_bytes(path.read_bytes())
    return landing


def test_scan_lists_files_with_size_and_modification_time(tmp_path: Path) -> None:
    landing = _landing(tmp_path)
    files, skipped = scan_landing([landing])
    assert skipped == []
    assert files == [
        LandingFile(landing / p.name, p.stat().st_size, (landing / p.name).stat().st_mtime_ns)
        for p in SMALL[:3]
    ]
    assert [r.source_uri for f in files for r in read_landing_file(f)] == [str(f.path) for f in files]


def test_file_that_vanishes_after_listing_is_reported(tmp_path: Path) -> None:
    files, _ = scan_landing([_landing(tmp_path)])
    files[1].path.unlink()
    with pytest.raises(LandingFileChanged, match=r"^vanished after it was listed$"):
        list(read_landing_file(files[1]))
    assert [len(list(read_landing_file(f))) for f in (files[0], files[2])] == [1, 1]  # the others read


def test_file_that_changes_after_listing_is_reported(tmp_path: Path) -> None:
    files, _ = scan_landing([_landing(tmp_path)])
    with files[0].path.open("ab") as out:
        out.write(b"\n")
    with pytest.raises(LandingFileChanged, match=r"^changed after it was listed: size [\d,]+ → [\d,]+ bytes"):
        list(read_landing_file(files[0]))
    same_size = files[1]
    os.utime(same_size.path, ns=(same_size.mtime_ns, same_size.mtime_ns + 1_000_000))
    with pytest.raises(LandingFileChanged, match=r"^changed after it was listed: modified "):
        list(read_landing_file(same_size))


def test_file_that_changes_while_it_is_read_is_reported_at_the_end(tmp_path: Path) -> None:
    path = tmp_path / "studies.ndjson"
    path.write_bytes(b"\n".join(orjson.dumps(orjson.loads(p.read_bytes())) for p in SMALL[:2]))
    (file,), _ = scan_landing([path])
    records = read_landing_file(file)
    first = next(records)
    assert first.source_uri == f"{path}#L1"
    with path.open("ab") as out:  # a writer appends while the run reads
        out.write(b"\n" + orjson.dumps(orjson.loads(SMALL[2].read_bytes())))
    with pytest.raises(LandingFileChanged, match=r"^changed while it was read: size"):
        list(records)


def test_file_that_vanishes_while_it_is_read_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "studies.ndjson"
    path.write_bytes(b"\n".join(orjson.dumps(orjson.loads(p.read_bytes())) for p in SMALL[:3]))
    (file,), _ = scan_landing([path])
    records = read_landing_file(file)
    next(records)
    path.unlink()
    with pytest.raises(LandingFileChanged, match=r"^vanished while it was read$"):
        list(records)


def test_zip_truncated_while_it_is_read_is_reported(tmp_path: Path) -> None:
    archive = tmp_path / "studies.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as out:
        for index in range(200):
            out.writestr(f"s{index}.json", SMALL[index % len(SMALL)].read_bytes())
    (file,), _ = scan_landing([archive])
    records = read_landing_file(file)
    next(records)
    os.truncate(archive, archive.stat().st_size // 2)
    with pytest.raises(LandingFileChanged, match="while it was read"):
        list(records)


def test_landing_file_changed_is_an_os_error_with_the_reason() -> None:
    error = LandingFileChanged("vanished after it was listed")
    assert isinstance(error, OSError) and str(error) == "vanished after it was listed"


def test_missing_landing_path_raises_but_sensors_may_ignore_it(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="landing path does not exist"):
        scan_landing([tmp_path / "nope"])
    assert list_landing_files([tmp_path / "nope"]) == []


# --- the landing zone stays inside itself ----------------------------------------------------------


SECRET = b"root:x:0:0:root:/root:/bin/bash\n"


def _zone(tmp_path: Path) -> tuple[Path, Path]:
    """A landing folder with one study, and a folder outside it holding a secret (an /etc stand-in)."""
    landing, elsewhere = tmp_path / "landing", tmp_path / "etc"
    landing.mkdir()
    (elsewhere / "conf").mkdir(parents=True)
    (elsewhere / "passwd").write_bytes(SECRET)
    (elsewhere / "conf" / "study.json").write_bytes(SMALL[0].read_bytes())
    (landing / "study.json").write_bytes(SMALL[1].read_bytes())
    return landing, elsewhere


def test_symlink_to_a_file_outside_is_skipped_and_never_read(tmp_path: Path) -> None:
    landing, elsewhere = _zone(tmp_path)
    (landing / "passwd.json").symlink_to(elsewhere / "passwd")
    files, skipped = scan_landing([landing])
    assert [f.path for f in files] == [landing / "study.json"]
    assert skipped == [
        SkippedFile(str(landing / "passwd.json"), f"symlink leaves the landing zone: -> {elsewhere}/passwd")
    ]
    results = [parse_record(r) for r in iter_raw_records([landing])]
    assert [r.source_uri for r in results] == [str(landing / "study.json")]
    assert not any(b"root:x" in (r.excerpt or "").encode() for r in results)


def test_symlinked_folder_outside_is_skipped(tmp_path: Path) -> None:
    landing, elsewhere = _zone(tmp_path)
    (landing / "more").symlink_to(elsewhere / "conf", target_is_directory=True)
    (landing / "relative").symlink_to(Path("..") / "etc", target_is_directory=True)
    files, skipped = scan_landing([landing])
    assert [f.path for f in files] == [landing / "study.json"]
    assert skipped == [
        SkippedFile(str(landing / "more"), f"symlink leaves the landing zone: -> {elsewhere}/conf"),
        SkippedFile(str(landing / "relative"), f"symlink leaves the landing zone: -> {elsewhere}"),
    ]


def test_symlinks_inside_the_zone_are_read_once(tmp_path: Path) -> None:
    landing, _ = _zone(tmp_path)
    (landing / "sub").mkdir()
    (landing / "sub" / "other.json").write_bytes(SMALL[2].read_bytes())
    (landing / "a_link.json").symlink_to("study.json")
    (landing / "b_sub").symlink_to("sub", target_is_directory=True)
    (landing / "sub" / "loop").symlink_to("..", target_is_directory=True)
    (landing / ".archive").mkdir()  # hidden, so read only through the link to it
    (landing / ".archive" / "kept.json").write_bytes(SMALL[0].read_bytes())
    (landing / "kept.json").symlink_to(".archive/kept.json")
    files, skipped = scan_landing([landing])
    assert [f.path for f in files] == [
        landing / "kept.json",
        landing / "study.json",
        landing / "sub" / "other.json",
    ]
    assert skipped == [
        SkippedFile(
            str(landing / "a_link.json"), f"symlink to {landing}/study.json, which is read under its own path"
        ),
        SkippedFile(str(landing / "b_sub"), f"symlink to {landing}/sub, which is read under its own path"),
        SkippedFile(
            str(landing / "sub" / "loop"), f"symlink loops back to a folder being walked: -> {landing}"
        ),
    ]
    uris = [r.source_uri for r in iter_raw_records([landing])]
    assert uris == [
        str(landing / "kept.json"),
        str(landing / "study.json"),
        str(landing / "sub" / "other.json"),
    ]


def test_a_file_met_twice_is_read_once(tmp_path: Path) -> None:
    landing, _ = _zone(tmp_path)
    os.link(landing / "study.json", landing / "hard_link.json")
    files, skipped = scan_landing([landing, landing / "study.json"])  # overlapping paths too
    assert [f.path for f in files] == [landing / "hard_link.json"]
    assert skipped == [
        SkippedFile(str(landing / "study.json"), f"same file as {landing}/hard_link.json, which is read"),
        SkippedFile(str(landing / "study.json"), f"same file as {landing}/hard_link.json, which is read"),
    ]


def test_special_files_are_skipped(tmp_path: Path) -> None:
    landing, _ = _zone(tmp_path)
    os.mkfifo(landing / "pipe")  # reading it would block the run
    files, skipped = scan_landing([landing])
    assert [f.path for f in files] == [landing / "study.json"]
    assert skipped == [SkippedFile(str(landing / "pipe"), "not a regular file")]


def test_binary_file_still_gets_a_harmless_excerpt(tmp_path: Path) -> None:
    picture = tmp_path / "picture.png"
    picture.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)))
    (result,) = (parse_record(r) for r in iter_raw_records([picture]))
    assert result.rejection_reason is not None and result.rejection_reason.startswith("not text")
    assert result.excerpt is not None and all(ch.isprintable() or ch in "\n\t" for ch in result.excerpt)


# --- text encodings ----------------------------------------------------------------------------------

WIDE = ["utf-16-le", "utf-16-be", "utf-32-le", "utf-32-be"]


def _with_bom(text: str, encoding: str) -> bytes:
    return "\ufeff".encode(encoding) + text.encode(encoding)


@pytest.mark.parametrize("encoding", WIDE)
def test_utf16_and_utf32_json_parse_like_utf8(tmp_path: Path, encoding: str) -> None:
    text = STUDY.read_text(encoding="utf-8")
    expected = parse_record(RawRecord("utf8", STUDY.read_bytes())).study
    assert expected is not None
    whole = tmp_path / "study.json"
    whole.write_bytes(_with_bom(text, encoding))
    ndjson = tmp_path / "studies.ndjson.gz"
    line = orjson.dumps(orjson.loads(text)).decode()
    ndjson.write_bytes(gzip.compress(_with_bom(f"{line}\n{line}\n", encoding)))
    archive = tmp_path / "studies.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as out:
        out.writestr("study.json", _with_bom(text, encoding))
    records = [RawRecord("single", _with_bom(text, encoding)), *iter_raw_records([whole, ndjson, archive])]
    assert len(records) == 5
    for record in records:
        assert parse_record(record).study == expected, record.source_uri


@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-16-le", "utf-16-be"])
def test_utf16_xml_parses_like_utf8(tmp_path: Path, encoding: str) -> None:
    expected = parse_record(RawRecord("utf8", XML_STUDY.read_bytes())).study
    assert expected is not None
    label = "UTF-16" if encoding.startswith("utf-16") else "UTF-8"
    text = XML_STUDY.read_text(encoding="utf-8").replace('encoding="UTF-8"', f'encoding="{label}"', 1)
    content = text.encode(encoding) if encoding == "utf-8-sig" else _with_bom(text, encoding)
    path = tmp_path / "study.xml"
    path.write_bytes(content)
    for record in [RawRecord("single", content), *iter_raw_records([path])]:
        result = parse_record(record)
        assert result.rejection_reason is None and result.study == expected


def test_latin1_is_rejected_with_an_encoding_reason() -> None:
    content = STUDY.read_text(encoding="utf-8").encode("latin-1", errors="replace")
    offset = next(index for index, byte in enumerate(content) if byte >= 0x80)
    result = parse_record(RawRecord("latin1.json", content))
    assert result.rejection_reason == (
        f"not text: invalid UTF-8 at byte {offset}, and no UTF-16/UTF-32 byte-order mark"
    )


def test_utf16_without_byte_order_mark_and_broken_utf16_are_rejected(tmp_path: Path) -> None:
    text = SMALL[0].read_text(encoding="utf-8")
    no_mark = parse_record(RawRecord("x", text.encode("utf-16-le"))).rejection_reason
    assert no_mark is not None and "NUL bytes" in no_mark and "byte-order mark" in no_mark
    broken = _with_bom(text, "utf-16-le") + b"\x00\xd8"  # a lone high surrogate at the end
    reason = parse_record(RawRecord("x", broken)).rejection_reason
    assert reason is not None and reason.startswith(f"not text: invalid UTF-16LE at byte {len(broken) - 2} ")
    path = tmp_path / "studies.ndjson"
    line = orjson.dumps(orjson.loads(text)).decode()
    path.write_bytes(_with_bom(f"{line}\n{line}\n", "utf-16-le") + b"\x00\xd8a\x00\n\x00")
    results = parsed(list(iter_raw_records([path])))
    assert list(results.values())[:2] == [(nct(SMALL[0]), None)] * 2
    (reason,) = [reason for _, reason in list(results.values())[2:]]
    assert reason is not None and reason.startswith("not text: invalid UTF-16LE at byte ")
