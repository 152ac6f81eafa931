"""EOIR's bulk FOIA case data: change detection and a resumable download (sources.md §3.1).

``HEAD`` first: the ETag (IIS style, and weak ``W/"…"`` when Cloudflare rewrites it) is
normalized, and with Last-Modified it tells whether the release is new. Only a new release is
downloaded: streamed to a ``.part`` file, resumed with ``Range``/``If-Range`` after a broken
connection, checked against ``Content-Length`` and the zip signature, then renamed.

This source is a plain streaming HTTP client, not a Scrapy spider: Scrapy holds each response
body in memory, and this one is about 4 GB.
"""

from __future__ import annotations

import hashlib
import logging
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from email.utils import parsedate_to_datetime
from pathlib import Path

from spiders.http import status_error, transport_error
from storage.eoir_foia import normalize_etag
from storage.errors import BlockedError, FetchFailedError, SourceError

SOURCE = "eoir_foia"

log = logging.getLogger(__name__)

ZIP_MAGIC = b"PK\x03\x04"


@dataclass
class Head:
    etag: str
    last_modified: datetime | None
    content_length: int | None


@dataclass
class Download:
    path: Path
    head: Head
    sha256: str
    resumed: int  # how many times the transfer was resumed


def _request(
    url: str, method: str, user_agent: str, headers: dict[str, str] | None = None
) -> urllib.request.Request:
    h = {"User-Agent": user_agent, "Accept": "*/*"}
    h.update(headers or {})
    return urllib.request.Request(url, method=method, headers=h)


def _head_of(headers: object) -> Head:
    get = headers.get  # type: ignore[attr-defined]
    modified = None
    if get("Last-Modified"):
        try:
            modified = parsedate_to_datetime(get("Last-Modified"))
        except (TypeError, ValueError):
            modified = None
    length = get("Content-Length")
    return Head(
        etag=normalize_etag(get("ETag")),
        last_modified=modified,
        content_length=int(length) if length and length.isdigit() else None,
    )


def head(url: str, user_agent: str, timeout: float = 60.0) -> Head:
    try:
        with urllib.request.urlopen(_request(url, "HEAD", user_agent), timeout=timeout) as resp:
            ctype = resp.headers.get("Content-Type", "")
            if "html" in ctype.lower():
                raise BlockedError(f"HEAD {url}: an HTML page ({ctype}), not the zip")
            return _head_of(resp.headers)
    except (urllib.error.URLError, OSError) as exc:
        raise transport_error(exc, f"HEAD {url}") from exc


def download(
    url: str,
    dest: Path,
    user_agent: str,
    *,
    expected: Head,
    timeout: float = 60.0,
    attempts: int = 5,
    backoff: float = 2.0,
    progress: Callable[[int, int | None], None] | None = None,
) -> Download:
    """Fetch ``url`` to ``dest``; resume a partial transfer; refuse a short or non-zip body."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    part = dest.with_name(dest.name + ".part")
    resumed = 0
    total = expected.content_length
    for attempt in range(1, attempts + 1):
        have = part.stat().st_size if part.exists() else 0
        headers = {}
        if have and total and have < total:
            headers["Range"] = f"bytes={have}-"
            if expected.etag:
                headers["If-Range"] = f'"{expected.etag}"'
        elif have and total and have == total:
            break
        try:
            req = _request(url, "GET", user_agent, headers)
            with urllib.request.urlopen(req, timeout=timeout) as resp:
                ctype = resp.headers.get("Content-Type", "")
                if "html" in ctype.lower():
                    raise BlockedError(f"GET {url}: an HTML page ({ctype}), not the zip")
                got = _head_of(resp.headers)
                if resp.status == 200:
                    have = 0  # the server sent the whole file (no range, or the file changed)
                    total = got.content_length
                    if got.etag and expected.etag and got.etag != expected.etag:
                        raise FetchFailedError(f"GET {url}: the release changed mid-download")
                elif resp.status == 206:
                    resumed += 1
                with part.open("ab" if have else "wb") as out:
                    done = have
                    while True:
                        chunk = resp.read(1 << 20)
                        if not chunk:
                            break
                        if done == 0 and not chunk.startswith(ZIP_MAGIC):
                            raise BlockedError(f"GET {url}: the body is not a zip file")
                        out.write(chunk)
                        done += len(chunk)
                        if progress:
                            progress(done, total)
            if total is None or done >= total:
                break
            log.warning("download of %s stopped at %d of %s bytes; resuming", url, done, total)
        except urllib.error.HTTPError as exc:
            error = status_error(exc.code, f"GET {url}")
            if isinstance(error, BlockedError) or attempt == attempts:
                raise error from exc
        except SourceError:
            raise
        except (urllib.error.URLError, OSError) as exc:
            log.warning(
                "download of %s interrupted (%s); attempt %d of %d", url, exc, attempt, attempts
            )
            if attempt == attempts:
                raise transport_error(exc, f"GET {url}") from exc
        time.sleep(backoff * attempt)
    size = part.stat().st_size if part.exists() else 0
    if total is not None and size != total:
        raise FetchFailedError(f"GET {url}: {size:,} bytes received, Content-Length said {total:,}")
    digest = hashlib.sha256()
    with part.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 22), b""):
            digest.update(chunk)
    part.replace(dest)
    return Download(dest, expected, digest.hexdigest(), resumed)
