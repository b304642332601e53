"""The API v2 client lands whole queries or nothing, retries what is transient, and remembers fetches.

Every test talks to a local pytest-httpserver; pages are built from the real sample records.
"""

from __future__ import annotations

import socket
import time
from datetime import UTC, date, datetime
from pathlib import Path

import orjson
import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from pipelines.sources.landing import iter_raw_records
from pipelines.sources.registry_api import FetchError, fetch_studies, incremental_since

# The samples themselves, not tests.conftest: this module needs no Dagster definitions.
from tests.conftest import API_V2_SAMPLES

PARAMS = {"query.cond": "asthma", "filter.overallStatus": "COMPLETED"}
FAST = {"min_interval": 0, "backoff_base": 0.01}


def _studies() -> list[dict]:
    return [orjson.loads(path.read_bytes()) for path in API_V2_SAMPLES]


def _page(studies: list[dict], token: str | None = None, total: int | None = None) -> bytes:
    page: dict = {"studies": studies}
    if total is not None:
        page["totalCount"] = total
    if token:
        page["nextPageToken"] = token
    return orjson.dumps(page, option=orjson.OPT_INDENT_2)


def _query(page_size: int = 3, token: str | None = None, **extra: str) -> dict[str, str]:
    """The exact query string the client should send for one page of ``PARAMS``."""
    query = {**PARAMS, **extra, "format": "json", "pageSize": str(page_size)}
    return {**query, "pageToken": token} if token else {**query, "countTotal": "true"}


def _three_pages() -> list[bytes]:
    studies = _studies()
    return [_page(studies[:3], "t2", total=8), _page(studies[3:6], "t3"), _page(studies[6:])]


def _visible(landing: Path) -> list[Path]:
    return [
        p
        for p in landing.rglob("*")
        if not any(part.startswith(".") for part in p.relative_to(landing).parts)
    ]


def _assert_nothing_landed(landing: Path) -> None:
    assert list(landing.iterdir()) == []  # no page, no leftover temporary folder, no state file


def test_multi_page_query_lands_every_page_for_the_landing_reader(
    httpserver: HTTPServer, tmp_path: Path
) -> None:
    pages = _three_pages()
    httpserver.expect_ordered_request("/studies", query_string=_query()).respond_with_data(pages[0])
    httpserver.expect_ordered_request("/studies", query_string=_query(token="t2")).respond_with_data(pages[1])
    httpserver.expect_ordered_request("/studies", query_string=_query(token="t3")).respond_with_data(pages[2])
    seen: list[tuple[int, int, int | None]] = []

    result = fetch_studies(
        tmp_path,
        PARAMS,
        base_url=httpserver.url_for(""),
        page_size=3,
        progress=lambda *a: seen.append(a),
        **FAST,
    )

    httpserver.check_assertions()
    assert (result.pages, result.studies, result.total_count, result.since, result.complete) == (
        3,
        8,
        8,
        None,
        True,
    )
    assert result.folder.parent == tmp_path and result.folder.name.startswith("registry-")
    assert sorted(p.name for p in result.folder.iterdir()) == [
        "page-0001.json",
        "page-0002.json",
        "page-0003.json",
    ]
    assert (result.folder / "page-0002.json").read_bytes() == pages[1]  # the bytes the API sent
    assert seen == [(1, 3, 8), (2, 6, 8), (3, 8, 8)]
    request = httpserver.log[0][0]
    assert (
        request.headers["User-Agent"].startswith("trials-warehouse/")
        and request.headers["Accept"] == "application/json"
    )
    records = [orjson.loads(r.content) for r in iter_raw_records([tmp_path])]
    assert [r["protocolSection"]["identificationModule"]["nctId"] for r in records] == [
        p.stem for p in API_V2_SAMPLES
    ]


def test_rate_limit_is_waited_out_and_the_fetch_completes(httpserver: HTTPServer, tmp_path: Path) -> None:
    pages = _three_pages()
    httpserver.expect_ordered_request("/studies", query_string=_query()).respond_with_data(pages[0])
    httpserver.expect_ordered_request("/studies").respond_with_data("slow down", 429, {"Retry-After": "0"})
    httpserver.expect_ordered_request("/studies", query_string=_query(token="t2")).respond_with_data(pages[1])
    httpserver.expect_ordered_request("/studies", query_string=_query(token="t3")).respond_with_data(pages[2])

    started = time.monotonic()
    result = fetch_studies(
        tmp_path, PARAMS, base_url=httpserver.url_for(""), page_size=3, min_interval=0, backoff_base=2
    )

    httpserver.check_assertions()
    assert (result.pages, result.studies) == (3, 8)
    assert time.monotonic() - started < 1  # Retry-After: 0 was honoured instead of the 2 s backoff


def test_server_errors_are_retried_with_backoff(httpserver: HTTPServer, tmp_path: Path) -> None:
    httpserver.expect_ordered_request("/studies").respond_with_data("oops", 500)
    httpserver.expect_ordered_request("/studies").respond_with_data("oops", 503)
    httpserver.expect_ordered_request("/studies", query_string=_query()).respond_with_data(
        _page(_studies(), total=8)
    )

    result = fetch_studies(tmp_path, PARAMS, base_url=httpserver.url_for(""), page_size=3, **FAST)

    httpserver.check_assertions()
    assert (result.pages, result.studies, result.total_count) == (1, 8, 8)


def test_timeouts_and_refused_connections_are_retried(httpserver: HTTPServer, tmp_path: Path) -> None:
    calls: list[float] = []

    def slow_once(request: Request) -> Response:
        calls.append(time.monotonic())
        if len(calls) == 1:
            time.sleep(0.3)
        return Response(_page(_studies()[:1], total=1), content_type="application/json")

    httpserver.expect_request("/studies").respond_with_handler(slow_once)
    result = fetch_studies(tmp_path, PARAMS, base_url=httpserver.url_for(""), timeout=0.1, **FAST)
    assert result.studies == 1 and len(calls) >= 2  # the server is single-threaded: a retry may queue

    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{sock.getsockname()[1]}"
    with pytest.raises(FetchError, match=r"failed after 3 attempts; last error: ConnectError"):
        fetch_studies(tmp_path / "other", PARAMS, base_url=closed, max_retries=2, **FAST)
    _assert_nothing_landed(tmp_path / "other")


def test_persistent_server_error_fails_without_landing_anything(
    httpserver: HTTPServer, tmp_path: Path
) -> None:
    httpserver.expect_ordered_request("/studies").respond_with_data(_three_pages()[0])
    httpserver.expect_request("/studies").respond_with_data("down for maintenance", 500)

    with pytest.raises(
        FetchError, match=r"page 2 \(.*pageToken=t2.*\) failed after 3 attempts; last error: HTTP 500"
    ):
        fetch_studies(tmp_path, PARAMS, base_url=httpserver.url_for(""), page_size=3, max_retries=2, **FAST)

    assert len(httpserver.log) == 4
    _assert_nothing_landed(tmp_path)
    assert incremental_since(tmp_path, PARAMS) is None


@pytest.mark.parametrize("body", [b"<html><body>Service Unavailable</body></html>", b'{"oops": 1}'])
def test_malformed_page_fails_naming_the_page(httpserver: HTTPServer, tmp_path: Path, body: bytes) -> None:
    httpserver.expect_ordered_request("/studies").respond_with_data(_three_pages()[0])
    httpserver.expect_ordered_request("/studies").respond_with_data(body)

    with pytest.raises(FetchError, match=r"^page 2 from .*/studies is"):
        fetch_studies(tmp_path, PARAMS, base_url=httpserver.url_for(""), page_size=3, **FAST)

    _assert_nothing_landed(tmp_path)


def test_refused_query_fails_at_once_with_the_api_message(httpserver: HTTPServer, tmp_path: Path) -> None:
    message = "Invalid value 'SOMETIMES' of parameter filter.overallStatus"
    httpserver.expect_request("/studies").respond_with_data(message, 400, content_type="text/plain")

    with pytest.raises(FetchError, match=r"refused page 1 .*HTTP 400: Invalid value 'SOMETIMES'"):
        fetch_studies(
            tmp_path, {"filter.overallStatus": "SOMETIMES"}, base_url=httpserver.url_for(""), **FAST
        )

    assert len(httpserver.log) == 1
    _assert_nothing_landed(tmp_path)


def test_incremental_fetch_asks_for_records_updated_since_the_last_fetch(
    httpserver: HTTPServer, tmp_path: Path
) -> None:
    bound = "AREA[LastUpdatePostDate]RANGE[2024-01-02,MAX]"
    theirs = {**PARAMS, "filter.advanced": "AREA[Phase]PHASE3"}
    empty = _page([], total=0)
    httpserver.expect_ordered_request("/studies", query_string=_query()).respond_with_data(empty)
    httpserver.expect_ordered_request(
        "/studies", query_string=_query(**{"filter.advanced": bound})
    ).respond_with_data(empty)
    httpserver.expect_ordered_request(
        "/studies", query_string=_query(**{"filter.advanced": f"(AREA[Phase]PHASE3) AND {bound}"})
    ).respond_with_data(empty)
    url = httpserver.url_for("")

    assert incremental_since(tmp_path, PARAMS) is None
    before = datetime.now(UTC).date()
    first = fetch_studies(tmp_path, PARAMS, base_url=url, page_size=3, **FAST)
    assert before <= incremental_since(tmp_path, dict(reversed(PARAMS.items()))) <= datetime.now(UTC).date()
    assert incremental_since(tmp_path, theirs) is None  # another query has its own history

    second = fetch_studies(tmp_path, PARAMS, since=date(2024, 1, 2), base_url=url, page_size=3, **FAST)
    fetch_studies(tmp_path, theirs, since=date(2024, 1, 2), base_url=url, page_size=3, **FAST)

    httpserver.check_assertions()
    assert second.since == date(2024, 1, 2)
    assert first.folder != second.folder  # same query in the same second still lands separately
    assert incremental_since(tmp_path, theirs) is not None
    assert (tmp_path / ".registry_fetch_state.json").is_file()


def test_empty_result_lands_its_one_page(httpserver: HTTPServer, tmp_path: Path) -> None:
    httpserver.expect_request("/studies").respond_with_data(b'{"studies": [], "totalCount": 0}')

    result = fetch_studies(tmp_path, PARAMS, base_url=httpserver.url_for(""), **FAST)

    assert (result.pages, result.studies, result.total_count) == (1, 0, 0)
    assert _visible(tmp_path) == [result.folder, result.folder / "page-0001.json"]
    assert list(iter_raw_records([tmp_path])) == []


def test_max_pages_lands_a_partial_query_without_recording_it(httpserver: HTTPServer, tmp_path: Path) -> None:
    httpserver.expect_request("/studies").respond_with_data(_three_pages()[0])

    result = fetch_studies(
        tmp_path, PARAMS, base_url=httpserver.url_for(""), page_size=3, max_pages=1, **FAST
    )

    assert (result.pages, result.studies, result.total_count, result.complete) == (1, 3, 8, False)
    assert incremental_since(tmp_path, PARAMS) is None


def test_parameters_the_fetcher_owns_are_refused(tmp_path: Path) -> None:
    with pytest.raises(FetchError, match="pageToken"):
        fetch_studies(tmp_path, {"pageToken": "abc"}, base_url="http://127.0.0.1:9", **FAST)


def test_unreadable_state_file_is_reported(tmp_path: Path) -> None:
    (tmp_path / ".registry_fetch_state.json").write_text("[1, 2")
    with pytest.raises(FetchError, match="delete it to fetch everything again"):
        incremental_since(tmp_path, PARAMS)
