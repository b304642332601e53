"""The registry client cannot hang or lie: each fault a real server can commit, reproduced on 127.0.0.1.

A page token that repeats, a page that trickles, a Retry-After of an hour, a page far too big, a
``totalCount`` the pages never reach, and the temporary folder of a fetch that was killed. Every
server here answers a bounded number of requests, and every slow answer is bounded in time.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from itertools import pairwise
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from pipelines.cli import main
from pipelines.sources.registry_api import FetchError, fetch_studies, incremental_since
from tests.test_registry_api import FAST, PARAMS, _assert_nothing_landed, _page, _query, _studies

EMPTY_PAGE = b'{"studies": [], "totalCount": 0}'


def _trickle(body: bytes, every: float) -> Callable[[Request], Response]:
    """A handler sending ``body`` one byte every ``every`` seconds: each read gets data, so only a
    whole-page deadline can stop it (it ends on its own after len(body) * every seconds)."""

    def handler(request: Request) -> Response:
        def drip() -> Iterator[bytes]:
            for i in range(len(body)):
                time.sleep(every)
                yield body[i : i + 1]

        return Response(drip(), content_type="application/json")

    return handler


@pytest.mark.parametrize("tokens", [["t2", "t2"], ["t2", "t3", "t2"]], ids=["same-again", "seen-before"])
def test_a_repeated_page_token_stops_the_fetch(
    httpserver: HTTPServer, tmp_path: Path, tokens: list[str]
) -> None:
    studies = _studies()
    httpserver.expect_ordered_request("/studies", query_string=_query()).respond_with_data(
        _page(studies[:1], tokens[0], total=8)
    )
    for n, (asked, sent) in enumerate(pairwise(tokens), start=1):
        httpserver.expect_ordered_request("/studies", query_string=_query(token=asked)).respond_with_data(
            _page(studies[n : n + 1], sent)
        )

    with pytest.raises(
        FetchError,
        match=rf"^page {len(tokens)} from .*/studies sent nextPageToken 't2', which page 1 already sent",
    ):
        fetch_studies(tmp_path, PARAMS, base_url=httpserver.url_for(""), page_size=3, **FAST)

    httpserver.check_assertions()
    assert len(httpserver.log) == len(tokens)
    _assert_nothing_landed(tmp_path)


def test_a_trickling_page_is_cut_at_its_deadline_and_retried(httpserver: HTTPServer, tmp_path: Path) -> None:
    httpserver.expect_ordered_request("/studies").respond_with_handler(_trickle(EMPTY_PAGE, 0.05))
    httpserver.expect_ordered_request("/studies").respond_with_data(EMPTY_PAGE)
    messages: list[str] = []

    started = time.monotonic()
    result = fetch_studies(
        tmp_path,
        PARAMS,
        base_url=httpserver.url_for(""),
        timeout=5,  # each read gets a byte long before this: only the page deadline can trip
        page_deadline=0.3,
        max_retries=1,
        notify=messages.append,
        **FAST,
    )

    httpserver.check_assertions()
    assert (result.pages, result.complete) == (1, True)
    assert messages == [
        "waiting 0.01 s before retrying page 1 (attempt 2 of 2): page 1 exceeded the 0.3 s deadline"
    ]
    assert time.monotonic() - started < 1.2  # the trickle alone would take 1.6 s


def test_a_page_that_always_trickles_fails_naming_the_deadline(
    httpserver: HTTPServer, tmp_path: Path
) -> None:
    httpserver.expect_request("/studies").respond_with_handler(_trickle(EMPTY_PAGE, 0.05))

    with pytest.raises(
        FetchError, match=r"failed after 2 attempts; last error: page 1 exceeded the 0.3 s deadline$"
    ):
        fetch_studies(
            tmp_path,
            PARAMS,
            base_url=httpserver.url_for(""),
            timeout=5,
            page_deadline=0.3,
            max_retries=1,
            **FAST,
        )

    assert len(httpserver.log) == 2
    _assert_nothing_landed(tmp_path)


def test_retry_after_is_capped_and_every_wait_is_announced(httpserver: HTTPServer, tmp_path: Path) -> None:
    httpserver.expect_ordered_request("/studies").respond_with_data("slow down", 429, {"Retry-After": "3600"})
    httpserver.expect_ordered_request("/studies").respond_with_data("busy", 503)
    httpserver.expect_ordered_request("/studies").respond_with_data(EMPTY_PAGE)
    messages: list[str] = []

    started = time.monotonic()
    result = fetch_studies(
        tmp_path,
        PARAMS,
        base_url=httpserver.url_for(""),
        max_retry_delay=0.05,
        notify=messages.append,
        **FAST,
    )

    httpserver.check_assertions()
    assert result.complete
    assert messages == [
        "waiting 0.05 s before retrying page 1 (attempt 2 of 6): HTTP 429, Retry-After 3600 s (capped at 0.05 s)",
        "waiting 0.02 s before retrying page 1 (attempt 3 of 6): HTTP 503",
    ]
    assert time.monotonic() - started < 1


def test_trials_fetch_prints_each_wait(
    httpserver: HTTPServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    httpserver.expect_ordered_request("/studies").respond_with_data("slow down", 429, {"Retry-After": "0"})
    httpserver.expect_ordered_request("/studies").respond_with_data(EMPTY_PAGE)

    code = main(
        ["fetch", "query.cond=asthma", "--base-url", httpserver.url_for(""), "--landing", str(tmp_path)]
    )

    httpserver.check_assertions()
    assert code == 0
    err = capsys.readouterr().err
    assert "waiting 0 s before retrying page 1 (attempt 2 of 6): HTTP 429, Retry-After 0 s\n" in err


@pytest.mark.parametrize("streamed", [False, True], ids=["content-length", "streamed"])
def test_an_oversize_page_fails_at_once(httpserver: HTTPServer, tmp_path: Path, streamed: bool) -> None:
    body = _page(_studies(), total=8)
    assert len(body) > 10_000
    if streamed:  # no Content-Length: the cap is found while reading
        chunks = [body[i : i + 1000] for i in range(0, len(body), 1000)]
        httpserver.expect_request("/studies").respond_with_handler(
            lambda request: Response(iter(chunks), content_type="application/json")
        )
    else:
        httpserver.expect_request("/studies").respond_with_data(body, content_type="application/json")

    with pytest.raises(FetchError, match=r"^page 1 is larger than the cap of 10,000 bytes"):
        fetch_studies(tmp_path, PARAMS, base_url=httpserver.url_for(""), max_page_bytes=10_000, **FAST)

    assert len(httpserver.log) == 1  # not retried: it would only be downloaded again
    _assert_nothing_landed(tmp_path)


def test_fewer_studies_than_announced_are_landed_but_not_recorded(
    httpserver: HTTPServer, tmp_path: Path
) -> None:
    httpserver.expect_request("/studies").respond_with_data(_page(_studies()[:1], total=5000))

    result = fetch_studies(tmp_path, PARAMS, base_url=httpserver.url_for(""), **FAST)

    assert (result.pages, result.studies, result.total_count, result.complete) == (1, 1, 5000, False)
    assert result.problem is not None
    assert "announced 5,000 studies but ran out of pages after sending 1 in 1 page(s)" in result.problem
    assert [p.name for p in result.folder.iterdir()] == ["page-0001.json"]  # the one study is not lost
    assert incremental_since(tmp_path, PARAMS) is None
    assert not (tmp_path / ".registry_fetch_state.json").exists()


def test_trials_fetch_fails_when_studies_are_missing(
    httpserver: HTTPServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    httpserver.expect_request("/studies").respond_with_data(_page(_studies()[:1], total=5000))
    params = {"query.cond": "asthma"}

    code = main(
        ["fetch", "query.cond=asthma", "--base-url", httpserver.url_for(""), "--landing", str(tmp_path)]
    )

    assert code == 1
    out, err = capsys.readouterr()
    assert "landed 1 studies in 1 page(s)" in out
    [line] = [line for line in err.splitlines() if "announced" in line]
    assert line.startswith("trials: ") and "announced 5,000 studies" in line
    assert incremental_since(tmp_path, params) is None


def test_trials_fetch_max_pages_is_partial_but_succeeds(
    httpserver: HTTPServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    httpserver.expect_request("/studies").respond_with_data(_page(_studies()[:3], "t2", total=8))

    code = main(
        [
            "fetch",
            "query.cond=asthma",
            "--base-url",
            httpserver.url_for(""),
            "--landing",
            str(tmp_path),
            "--max-pages",
            "1",
        ]
    )

    assert code == 0
    out, err = capsys.readouterr()
    assert "(partial: --max-pages stopped the fetch" in out and err == ""
    assert incremental_since(tmp_path, {"query.cond": "asthma"}) is None


def test_the_folder_of_a_killed_fetch_is_removed_by_the_next(httpserver: HTTPServer, tmp_path: Path) -> None:
    landing = tmp_path / "landing"
    with socket.socket() as silent:  # accepts connections (into its backlog) and never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        script = (
            "import sys; from pathlib import Path; from pipelines.sources.registry_api import fetch_studies; "
            "fetch_studies(Path(sys.argv[1]), base_url=sys.argv[2], timeout=30, page_deadline=30)"
        )
        url = f"http://127.0.0.1:{silent.getsockname()[1]}"
        fetch = subprocess.Popen(
            [sys.executable, "-c", script, str(landing), url], cwd=Path(__file__).parent.parent
        )
        try:
            deadline = time.monotonic() + 10
            while not (partials := list(landing.glob(".registry-partial-*"))) and time.monotonic() < deadline:
                assert fetch.poll() is None, "the fetch ended on its own"
                time.sleep(0.02)
        finally:
            fetch.send_signal(signal.SIGKILL)
            fetch.wait(timeout=10)
    [killed] = partials
    assert killed.is_dir()  # what a killed fetch leaves behind
    named = re.fullmatch(r"\.registry-partial-(\d+)-([^-]*)-[^-]+", killed.name)
    assert named and int(named[1]) == fetch.pid
    alive = landing / f".registry-partial-{os.getpid()}-{named[2]}-live"  # a fetch running in this process
    legacy_old = landing / ".registry-partial-abc123"  # named before the PID was, untouched for 2 h
    legacy_new = landing / ".registry-partial-def456"  # same naming, but recent: may still be running
    for folder in (alive, legacy_old, legacy_new):
        folder.mkdir()
        (folder / "page-0001.json").write_bytes(EMPTY_PAGE)
    two_hours_ago = time.time() - 7200
    os.utime(legacy_old, (two_hours_ago, two_hours_ago))
    httpserver.expect_request("/studies").respond_with_data(EMPTY_PAGE)

    result = fetch_studies(landing, PARAMS, base_url=httpserver.url_for(""), **FAST)

    assert result.complete
    assert sorted(p.name for p in landing.glob(".registry-partial-*")) == sorted(
        [alive.name, legacy_new.name]
    )
