"""Fetch studies from the live ClinicalTrials.gov API v2 into the landing zone.

``fetch_studies`` pages through ``GET {base_url}/studies`` and lands every page exactly as the API
sent it (``{"studies": [...], "nextPageToken": ...}``), which the landing reader already cuts into
one record per study. Nothing is parsed beyond checking that a page is an API page: the bytes on
disk are the evidence of what the registry said, and the existing pipeline does the rest.

A fetch is all or nothing. Pages go into a hidden temporary folder (the landing reader skips hidden
paths) that is renamed to its final name only after the last page arrived, so a sensor or a run can
never load half a query. After a successful complete fetch, the date it started is recorded per
query in ``.registry_fetch_state.json`` so the next fetch can ask only for records updated since.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import httpx
import orjson

DEFAULT_BASE_URL = "https://clinicaltrials.gov/api/v2"
USER_AGENT = "trials-warehouse/0.1 (python-httpx)"
STATE_FILE = ".registry_fetch_state.json"
# Query parameters this module sets itself; a caller's value would break paging or the page format.
RESERVED_PARAMS = frozenset({"pageSize", "pageToken", "countTotal", "format"})
# Longest wait between attempts, whatever the backoff or the server's Retry-After asks for.
MAX_RETRY_DELAY = 60.0
ERROR_TEXT_LIMIT = 300


class FetchError(RuntimeError):
    """A fetch that could not complete; the message says what failed and is meant for users."""


@dataclass(frozen=True)
class FetchResult:
    """What one fetch landed.

    ``complete`` is False when ``max_pages`` stopped the fetch before the API ran out of pages;
    such a fetch is landed but not recorded as the query's last fetch, since records on the pages
    never fetched would otherwise be skipped by the next incremental fetch.
    """

    folder: Path
    pages: int
    studies: int
    total_count: int | None
    since: date | None
    complete: bool = True


def fetch_studies(
    landing_dir: Path,
    params: Mapping[str, str] | None = None,
    *,
    since: date | None = None,
    base_url: str = DEFAULT_BASE_URL,
    page_size: int = 1000,
    max_pages: int | None = None,
    max_retries: int = 5,
    backoff_base: float = 1.0,
    min_interval: float = 0.35,
    timeout: float = 30.0,
    progress: Callable[[int, int, int | None], None] | None = None,
    client: httpx.Client | None = None,
) -> FetchResult:
    """Land every page of the ``/studies`` query ``params`` in a new folder under ``landing_dir``.

    ``params`` are passed to the API unchanged (``query.cond``, ``filter.overallStatus``, ...).
    With ``since``, only records whose last update was posted on or after that date are asked for
    (see ``incremental_since``). ``progress`` is called after each page with (pages, studies so
    far, total count). Raises ``FetchError`` when the API refuses the query, keeps failing after
    ``max_retries`` retries, or sends something that is not an API page; nothing is landed then.
    """
    params = dict(params or {})
    reserved = sorted(RESERVED_PARAMS & params.keys())
    if reserved:
        raise FetchError(f"these query parameters are set by the fetcher and cannot be passed: {reserved}")
    started = datetime.now(UTC)
    query = {**_with_since(params, since), "format": "json", "pageSize": str(page_size), "countTotal": "true"}
    url = f"{base_url.rstrip('/')}/studies"
    landing_dir = Path(landing_dir)
    landing_dir.mkdir(parents=True, exist_ok=True)
    partial = Path(tempfile.mkdtemp(prefix=".registry-partial-", dir=landing_dir))
    http = client or httpx.Client(follow_redirects=True)
    pacer = _Pacer(min_interval)
    pages = studies = 0
    total: int | None = None
    token: str | None = None
    try:
        while True:
            page_query = {**query, "pageToken": token} if token else query
            body = _get_page(http, url, page_query, pages + 1, max_retries, backoff_base, timeout, pacer)
            document = _parse_page(body, pages + 1, url)
            pages += 1
            studies += len(document["studies"])
            if pages == 1:
                total = document.get("totalCount")
                query.pop("countTotal")  # counting is only needed once
            (partial / f"page-{pages:04d}.json").write_bytes(body)
            if progress:
                progress(pages, studies, total)
            token = document.get("nextPageToken")
            if not token or pages == max_pages:
                break
        folder = _publish(partial, landing_dir, f"registry-{started:%Y%m%dT%H%M%SZ}-{_query_hash(params)}")
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    finally:
        if client is None:
            http.close()
    complete = not token
    if complete:
        _record_fetch(landing_dir, params, started.date(), folder.name)
    return FetchResult(folder, pages, studies, total, since, complete)


def incremental_since(landing_dir: Path, params: Mapping[str, str] | None) -> date | None:
    """The date the last complete fetch of the query ``params`` started, or None if never fetched.

    The start date, not the end date, is recorded: a record updated while a long fetch was running
    may have been posted after its page was already read, and asking next time from the start date
    (inclusive) picks it up. The price is re-fetching that day's records, which loading tolerates.
    """
    entry = _read_state(Path(landing_dir)).get(_query_key(params))
    return date.fromisoformat(entry["started"]) if entry else None


def _with_since(params: dict[str, str], since: date | None) -> dict[str, str]:
    """Add the LastUpdatePostDate lower bound, AND-ed with any ``filter.advanced`` of the caller."""
    if since is None:
        return params
    bound = f"AREA[LastUpdatePostDate]RANGE[{since.isoformat()},MAX]"
    theirs = params.get("filter.advanced")
    return {**params, "filter.advanced": f"({theirs}) AND {bound}" if theirs else bound}


class _Pacer:
    """Keeps ``interval`` seconds between request starts: the public API throttles eager clients."""

    def __init__(self, interval: float) -> None:
        self.interval = interval
        self.last = float("-inf")

    def wait(self) -> None:
        delay = self.last + self.interval - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        self.last = time.monotonic()


def _get_page(
    http: httpx.Client,
    url: str,
    query: dict[str, str],
    page: int,
    max_retries: int,
    backoff_base: float,
    timeout: float,
    pacer: _Pacer,
) -> bytes:
    """One page's body, retrying what is likely transient (429, 5xx, network) with backoff."""
    headers = {"User-Agent": USER_AGENT, "Accept": "application/json"}
    request = http.build_request("GET", url, params=query, headers=headers, timeout=timeout)
    for attempt in range(1, max_retries + 2):
        pacer.wait()
        delay = backoff_base * 2 ** (attempt - 1)
        try:
            response = http.send(request)
        except httpx.UnsupportedProtocol as error:
            raise FetchError(f"cannot fetch from {url}: {error}") from None
        except httpx.TransportError as error:
            last = f"{type(error).__name__}: {error}"
        else:
            if response.is_success:
                return response.content
            last = f"HTTP {response.status_code}"
            if response.status_code != 429 and response.status_code < 500:
                raise FetchError(
                    f"ClinicalTrials.gov refused page {page} ({request.url}): {last}: {_error_text(response)}"
                )
            delay = _retry_after(response, default=delay)
        if attempt <= max_retries:
            time.sleep(min(delay, MAX_RETRY_DELAY))
    raise FetchError(
        f"page {page} ({request.url}) failed after {max_retries + 1} attempts; last error: {last}"
    )


def _retry_after(response: httpx.Response, default: float) -> float:
    """The server's Retry-After in seconds; the HTTP-date form is rare enough to fall back to backoff."""
    try:
        return max(0.0, float(response.headers.get("Retry-After", "")))
    except ValueError:
        return default


def _error_text(response: httpx.Response) -> str:
    """The API's explanation of a refused request, on one line and short enough for a log."""
    text = " ".join(response.text.split())
    return text if len(text) <= ERROR_TEXT_LIMIT else text[:ERROR_TEXT_LIMIT] + "…"


def _parse_page(body: bytes, page: int, url: str) -> dict:
    """Check a body is an API page before landing it: a proxy's HTML error page must not be loaded."""
    try:
        document = orjson.loads(body)
    except orjson.JSONDecodeError as error:
        raise FetchError(f"page {page} from {url} is not JSON ({error}): {body[:80]!r}") from None
    if not isinstance(document, dict) or not isinstance(document.get("studies"), list):
        raise FetchError(f"page {page} from {url} is JSON but has no 'studies' list: {body[:80]!r}")
    return document


def _publish(partial: Path, landing_dir: Path, name: str) -> Path:
    """Rename the finished folder into view, with a suffix if the same query landed this second."""
    folder, n = landing_dir / name, 1
    while folder.exists():
        n += 1
        folder = landing_dir / f"{name}-{n}"
    partial.rename(folder)
    return folder


def _query_key(params: Mapping[str, str] | None) -> str:
    """The query's identity for the state file: its parameters as sorted JSON."""
    return json.dumps(dict(params or {}), sort_keys=True, ensure_ascii=False)


def _query_hash(params: Mapping[str, str]) -> str:
    return hashlib.sha256(_query_key(params).encode()).hexdigest()[:8]


def _read_state(landing_dir: Path) -> dict[str, dict[str, str]]:
    path = landing_dir / STATE_FILE
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (ValueError, OSError) as error:
        raise FetchError(
            f"cannot read fetch state {path} ({error}); delete it to fetch everything again"
        ) from None


def _record_fetch(landing_dir: Path, params: Mapping[str, str], started: date, folder: str) -> None:
    """Record the fetch in the state file, written whole then renamed so a crash never truncates it."""
    state = _read_state(landing_dir)
    state[_query_key(params)] = {"started": started.isoformat(), "folder": folder}
    fd, temp = tempfile.mkstemp(prefix=f"{STATE_FILE}.", dir=landing_dir)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(state, handle, indent=2, sort_keys=True, ensure_ascii=False)
        os.replace(temp, landing_dir / STATE_FILE)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
