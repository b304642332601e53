"""Fetch studies from the live ClinicalTrials.gov API v2 into the landing zone.

``fetch_studies`` pages through ``GET {base_url}/studies`` and lands every page exactly as the API
sent it (``{"studies": [...], "nextPageToken": ...}``), which the landing reader already cuts into
one record per study. Nothing is parsed beyond checking that a page is an API page: the bytes on
disk are the evidence of what the registry said, and the existing pipeline does the rest.

A fetch is all or nothing. Pages go into a hidden temporary folder (the landing reader skips hidden
paths) that is renamed to its final name only after the last page arrived, so a sensor or a run can
never load half a query. The temporary folder is removed on any failure, and one left behind by a
killed fetch is removed by the next fetch into the same landing folder. After a successful complete
fetch, the date it started is recorded per query in ``.registry_fetch_state.json`` so the next fetch
can ask only for records updated since.

The client must neither hang nor believe a registry that contradicts itself, since a fetch usually
runs unattended: every page attempt has a deadline covering connect and all reads (httpx's own
timeout is per read, so a server trickling a byte at a time would never trip it), pages have a size
cap, waits between retries are capped and announced, a ``nextPageToken`` seen before stops the fetch
instead of looping forever, and a fetch that ran out of pages before delivering the ``totalCount``
the API announced is landed but not recorded as complete, so the next incremental fetch does not
skip the records it never received.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import socket
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
# Default longest wait between attempts, whatever the backoff or the server's Retry-After asks for.
MAX_RETRY_DELAY = 60.0
# Default time for one page attempt, connect and every read included.
PAGE_DEADLINE = 120.0
# Default largest page body: the API's 1,000-study pages are about 20-40 MB.
MAX_PAGE_BYTES = 256 * 1024 * 1024
ERROR_TEXT_LIMIT = 300
# Enough of a refused request's body to explain it; the rest is not read.
ERROR_BODY_LIMIT = 64 * 1024
PARTIAL_PREFIX = ".registry-partial-"
# A temporary folder untouched this long belongs to a dead fetch even if its PID looks alive (reused,
# or another host): a live fetch writes a page far more often with any sensible retry settings.
STALE_PARTIAL_AGE = 3600.0
_PARTIAL_NAME = re.compile(rf"^{re.escape(PARTIAL_PREFIX)}(\d+)-([^-]*)-[^-]+$")


class FetchError(RuntimeError):
    """A fetch that could not complete; the message says what failed and is meant for users."""


@dataclass(frozen=True)
class FetchResult:
    """What one fetch landed.

    ``complete`` is False when the fetch is landed but not recorded as the query's last fetch,
    since records the fetch never received would otherwise be skipped by the next incremental
    fetch: either ``max_pages`` stopped it before the API ran out of pages (asked for, so
    ``problem`` is None), or the API ran out of pages after sending a different number of studies
    than the ``totalCount`` of its first page (``problem`` says so; the caller should report it).
    """

    folder: Path
    pages: int
    studies: int
    total_count: int | None
    since: date | None
    complete: bool = True
    problem: str | None = None


@dataclass(frozen=True)
class _Limits:
    """How long and how big one page may be, and how its failures are retried and announced."""

    max_retries: int
    backoff_base: float
    max_retry_delay: float
    timeout: float
    page_deadline: float
    max_page_bytes: int
    notify: Callable[[str], None] | None


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
    max_retry_delay: float = MAX_RETRY_DELAY,
    min_interval: float = 0.35,
    timeout: float = 30.0,
    page_deadline: float = PAGE_DEADLINE,
    max_page_bytes: int = MAX_PAGE_BYTES,
    progress: Callable[[int, int, int | None], None] | None = None,
    notify: Callable[[str], None] | None = None,
    client: httpx.Client | None = None,
) -> FetchResult:
    """Land every page of the ``/studies`` query ``params`` in a new folder under ``landing_dir``.

    ``params`` are passed to the API unchanged (``query.cond``, ``filter.overallStatus``, ...).
    With ``since``, only records whose last update was posted on or after that date are asked for
    (see ``incremental_since``). ``progress`` is called after each page with (pages, studies so
    far, total count); ``notify`` is called with a message before every wait between attempts, so
    an unattended fetch that is waiting says so instead of looking hung.

    A page attempt that fails with 429, 5xx, a network error or by overrunning ``page_deadline``
    seconds (connect and all reads; ``timeout`` bounds each single connect or read within it) is
    retried up to ``max_retries`` times, waiting ``backoff_base`` seconds doubled each retry, or
    the server's Retry-After, never more than ``max_retry_delay``.

    Raises ``FetchError`` when the API refuses the query, keeps failing after ``max_retries``
    retries, sends a page larger than ``max_page_bytes`` or something that is not an API page, or
    sends a ``nextPageToken`` it already sent (it would be paged forever); nothing is landed then.
    A fetch that ran out of pages short of (or beyond) the announced ``totalCount`` is landed, so
    the records received are not lost, but returned with ``complete=False`` and a ``problem``.
    """
    params = dict(params or {})
    reserved = sorted(RESERVED_PARAMS & params.keys())
    if reserved:
        raise FetchError(f"these query parameters are set by the fetcher and cannot be passed: {reserved}")
    limits = _Limits(
        max_retries, backoff_base, max_retry_delay, timeout, page_deadline, max_page_bytes, notify
    )
    started = datetime.now(UTC)
    query = {**_with_since(params, since), "format": "json", "pageSize": str(page_size), "countTotal": "true"}
    url = f"{base_url.rstrip('/')}/studies"
    landing_dir = Path(landing_dir)
    landing_dir.mkdir(parents=True, exist_ok=True)
    _remove_stale_partials(landing_dir)
    partial = Path(tempfile.mkdtemp(prefix=f"{PARTIAL_PREFIX}{os.getpid()}-{_host()}-", dir=landing_dir))
    http = client or httpx.Client(follow_redirects=True)
    pacer = _Pacer(min_interval)
    pages = studies = 0
    total: int | None = None
    token: str | None = None
    tokens: dict[str, int] = {}  # every nextPageToken of this fetch -> the page that sent it
    try:
        while True:
            page_query = {**query, "pageToken": token} if token else query
            body = _get_page(http, url, page_query, pages + 1, limits, pacer)
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
            if token in tokens:
                raise FetchError(
                    f"page {pages} from {url} sent nextPageToken {token!r}, which page {tokens[token]} "
                    "already sent: the API is paging in a circle, so the fetch stops"
                )
            if token:
                tokens[token] = pages
            if not token or pages == max_pages:
                break
        folder = _publish(partial, landing_dir, f"registry-{started:%Y%m%dT%H%M%SZ}-{_query_hash(params)}")
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    finally:
        if client is None:
            http.close()
    problem = None
    if not token and total is not None and studies != total:
        problem = (
            f"the API announced {total:,} studies but ran out of pages after sending {studies:,} in "
            f"{pages} page(s); they are landed in {folder.name} but the fetch is not recorded as "
            "complete, so the next incremental fetch asks again from the last complete fetch"
        )
    complete = not token and problem is None
    if complete:
        _record_fetch(landing_dir, params, started.date(), folder.name)
    return FetchResult(folder, pages, studies, total, since, complete, problem)


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


def _host() -> str:
    """This machine's name as it goes into a temporary folder's name (no '-', which separates)."""
    return re.sub(r"[^A-Za-z0-9.]", "_", socket.gethostname())


def _remove_stale_partials(landing_dir: Path) -> None:
    """Remove the temporary folders of fetches that were killed (a finished fetch leaves none).

    A folder is stale when the process named in it (PID and host) is gone, or when nothing was
    written in it for ``STALE_PARTIAL_AGE``: that covers a PID reused since, a fetch of another
    host sharing the landing folder, and folders named before the PID was part of the name.
    """
    for path in landing_dir.glob(f"{PARTIAL_PREFIX}*"):
        if not path.is_dir() or path.is_symlink():
            continue
        named = _PARTIAL_NAME.match(path.name)
        dead = named is not None and named[2] == _host() and not _pid_alive(int(named[1]))
        try:
            old = time.time() - path.stat().st_mtime > STALE_PARTIAL_AGE
        except FileNotFoundError:  # its fetch just finished or failed
            continue
        if dead or old:
            shutil.rmtree(path, ignore_errors=True)


def _pid_alive(pid: int) -> bool:
    if os.name != "posix":  # os.kill(pid, 0) would not just probe there; rely on the age alone
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, someone else's
        return True
    return True


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


class _DeadlineExceeded(Exception):
    """A page attempt overran its deadline: transient, like a network error."""


def _get_page(
    http: httpx.Client, url: str, query: dict[str, str], page: int, limits: _Limits, pacer: _Pacer
) -> bytes:
    """One page's body, retrying what is likely transient (429, 5xx, network, deadline) with backoff.

    Each single connect or read is also bounded by the deadline, so an attempt ends at most one
    read after its deadline; a network error raised once the deadline has passed is reported as
    the deadline overrun it is.
    """
    headers = {"User-Agent": USER_AGENT, "Accept": "application/json"}
    request = http.build_request(
        "GET", url, params=query, headers=headers, timeout=min(limits.timeout, limits.page_deadline)
    )
    attempts = limits.max_retries + 1
    for attempt in range(1, attempts + 1):
        pacer.wait()
        delay = limits.backoff_base * 2 ** (attempt - 1)
        asked: float | None = None
        started = time.monotonic()
        try:
            response, body = _read_response(http, request, page, started, limits)
        except httpx.UnsupportedProtocol as error:
            raise FetchError(f"cannot fetch from {url}: {error}") from None
        except (httpx.TransportError, httpx.DecodingError, _DeadlineExceeded) as error:
            if time.monotonic() - started >= limits.page_deadline:
                last = f"page {page} exceeded the {limits.page_deadline:g} s deadline"
            else:
                last = f"{type(error).__name__}: {error}"
        else:
            if response.is_success:
                return body
            last = f"HTTP {response.status_code}"
            if response.status_code != 429 and response.status_code < 500:
                raise FetchError(
                    f"ClinicalTrials.gov refused page {page} ({request.url}): {last}: {_error_text(body)}"
                )
            asked = _retry_after(response)
            delay = delay if asked is None else asked
        if attempt < attempts:
            wait = min(delay, limits.max_retry_delay)
            if limits.notify:
                reason = last if asked is None else f"{last}, Retry-After {asked:g} s"
                if delay > wait:
                    reason += f" (capped at {limits.max_retry_delay:g} s)"
                limits.notify(
                    f"waiting {wait:g} s before retrying page {page} (attempt {attempt + 1} of {attempts}): "
                    f"{reason}"
                )
            time.sleep(wait)
    raise FetchError(f"page {page} ({request.url}) failed after {attempts} attempts; last error: {last}")


def _read_response(
    http: httpx.Client, request: httpx.Request, page: int, started: float, limits: _Limits
) -> tuple[httpx.Response, bytes]:
    """Send ``request`` and stream its body, giving up at the deadline or past the size cap.

    A success body larger than ``max_page_bytes`` is a ``FetchError`` at once: retrying would only
    download it again. An error body is read only as far as needed to explain the error.
    """
    response = http.send(request, stream=True)
    try:
        limit = limits.max_page_bytes if response.is_success else ERROR_BODY_LIMIT
        too_big = FetchError(
            f"page {page} is larger than the cap of {limits.max_page_bytes:,} bytes ({request.url}); "
            "raise max_page_bytes or lower the page size if the API's pages really are this big"
        )
        declared = response.headers.get("Content-Length", "")
        if response.is_success and declared.isdigit() and int(declared) > limit:
            raise too_big
        chunks: list[bytes] = []
        size = 0
        if time.monotonic() - started > limits.page_deadline:
            raise _DeadlineExceeded
        for chunk in response.iter_bytes():
            if time.monotonic() - started > limits.page_deadline:
                if not response.is_success:
                    break  # the status says enough
                raise _DeadlineExceeded
            chunks.append(chunk)
            size += len(chunk)
            if size > limit:
                if response.is_success:
                    raise too_big
                break
        return response, b"".join(chunks)
    finally:
        response.close()


def _retry_after(response: httpx.Response) -> float | None:
    """The server's Retry-After in seconds; the HTTP-date form is rare enough to fall back to backoff."""
    try:
        return max(0.0, float(response.headers.get("Retry-After", "")))
    except ValueError:
        return None


def _error_text(body: bytes) -> str:
    """The API's explanation of a refused request, on one line and short enough for a log."""
    text = " ".join(body.decode("utf-8", errors="replace").split())
    return text if len(text) <= ERROR_TEXT_LIMIT else text[:ERROR_TEXT_LIMIT] + "…"


def _parse_page(body: bytes, page: int, url: str) -> dict:
    """Check a body is an API page before landing it: a proxy's HTML error page must not be loaded."""
    try:
        document = orjson.loads(body)
    except orjson.JSONDecodeError as error:
        raise FetchError(f"page {page} from {url} is not JSON ({error}): {body[:80]!r}") from None
    if not isinstance(document, dict) or not isinstance(document.get("studies"), list):
        raise FetchError(f"page {page} from {url} is JSON but has no 'studies' list: {body[:80]!r}")
    token, total = document.get("nextPageToken"), document.get("totalCount")
    if token is not None and not isinstance(token, str):
        raise FetchError(f"page {page} from {url} has a nextPageToken that is not a string: {token!r:.80}")
    if total is not None and (not isinstance(total, int) or isinstance(total, bool)):
        raise FetchError(f"page {page} from {url} has a totalCount that is not a number: {total!r:.80}")
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
