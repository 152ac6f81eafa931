"""ICE's detention-management page: find the newest statistics workbook and fetch it.

Links are read from every ``<a href>`` ending in ``.xlsx`` under ``/doclib`` (absolute or
relative, sources.md §4.1). The newest is chosen by fiscal year, then by the file's date token,
whatever order the page lists them in. ICE's tokens are inconsistent: ``MMDDYYYY``,
``_MMDDYYYY``, ``MMDDYY``, ``YYMMDD`` (``230316``), ``MMDD`` (``_0301``), a letter suffix
(``04122023b``), `` (2)``, or none at all (an undated end-of-year file, ranked last in its year).
"""

from __future__ import annotations

import re
import urllib.request
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from urllib.parse import unquote, urljoin, urlsplit

from parsel import Selector

FY_RE = re.compile(r"FY\s?(\d{2})", re.I)


@dataclass(frozen=True)
class WorkbookLink:
    url: str
    text: str
    fiscal_year: int
    snapshot: date | None  # from the file name's date token

    @property
    def rank(self) -> tuple[int, date]:
        # An undated file of a fiscal year is its end-of-year edition: after the dated ones.
        return (self.fiscal_year, self.snapshot or date(self.fiscal_year, 12, 31))


def _valid(y: int, m: int, d: int) -> date | None:
    try:
        return date(y, m, d)
    except ValueError:
        return None


def date_token(name: str, fiscal_year: int) -> date | None:
    """The snapshot date in an ICE workbook file name, or None."""
    stem = unquote(Path(urlsplit(name).path).name).rsplit(".", 1)[0]
    stem = re.sub(r"\s*\(\d+\)$", "", stem)
    stem = FY_RE.sub("", stem, count=1)
    m = re.search(r"(\d{4,8})[a-z]?$", stem, re.I)
    if not m:
        return None
    digits = m.group(1)
    if len(digits) == 8:
        return _valid(int(digits[4:]), int(digits[:2]), int(digits[2:4]))
    if len(digits) == 6:
        mmddyy = _valid(2000 + int(digits[4:]), int(digits[:2]), int(digits[2:4]))
        return mmddyy or _valid(2000 + int(digits[:2]), int(digits[2:4]), int(digits[4:]))
    if len(digits) == 4:
        month, day = int(digits[:2]), int(digits[2:])
        return _valid(fiscal_year - 1 if month >= 10 else fiscal_year, month, day)
    return None


def find_workbooks(html: str, page_url: str) -> list[WorkbookLink]:
    """Every statistics workbook linked from the page, newest first."""
    sel = Selector(text=html)
    seen: dict[str, WorkbookLink] = {}
    for a in sel.css("a[href]"):
        href = a.attrib["href"].strip()
        url = urljoin(page_url, href)
        path = urlsplit(url).path
        if not path.lower().endswith(".xlsx") or "/doclib" not in path.lower():
            continue
        name = unquote(Path(path).name)
        m = FY_RE.search(name)
        if not m or "detention" not in name.lower():
            continue
        fy = 2000 + int(m.group(1))
        text = re.sub(r"\s+", " ", " ".join(a.css("::text").getall())).strip()
        seen[url] = WorkbookLink(url, text, fy, date_token(name, fy))
    return sorted(seen.values(), key=lambda w: w.rank, reverse=True)


def fetch_to(url: str, dest: Path, user_agent: str, timeout: float = 120.0) -> Path:
    dest.parent.mkdir(parents=True, exist_ok=True)
    req = urllib.request.Request(url, headers={"User-Agent": user_agent})
    part = dest.with_name(dest.name + ".part")
    with urllib.request.urlopen(req, timeout=timeout) as resp, part.open("wb") as out:
        expected = resp.headers.get("Content-Length")
        size = 0
        while chunk := resp.read(1 << 20):
            out.write(chunk)
            size += len(chunk)
    if expected and expected.isdigit() and int(expected) != size:
        part.unlink(missing_ok=True)
        raise OSError(f"{url}: {size} bytes received, Content-Length said {expected}")
    part.replace(dest)
    return dest
