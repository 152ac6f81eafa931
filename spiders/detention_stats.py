"""ICE's detention-management page: find the newest statistics workbook and fetch it.

Links are read from every ``<a href>`` ending in ``.xlsx`` under ``/doclib`` (absolute or
relative, sources.md §4.1). The newest is chosen by fiscal year, then by the file's date token,
whatever order the page lists them in. ICE's tokens are inconsistent: ``MMDDYYYY``,
``_MMDDYYYY``, ``MMDDYY``, ``YYMMDD`` (``230316``), ``MMDD`` (``_0301``), a letter suffix
(``04122023b``), `` (2)``, or none at all (an undated end-of-year file, ranked last in its year).

The workbooks' Facilities sheet (``FY##_detentionStats*.xlsx``), parsed as a pure function of the
file:

Any edition from FY19 on (sources.md §4): the sheet is found by name ("Facilities FY21 YTD",
"Facilities EOYFY20 " with its trailing space, "Facilities EOFY23" ...), the header row by
scanning for ``Name`` (row 3, 5, 6, 7 or 9 depending on the edition), columns by name (the ALOS
header carries the fiscal year: ``FY26 ALOS``). Footnote and repeated-header rows are dropped,
numbers come out as floats, Zip codes zero-padded, and an inspection date is kept apart from
text such as "Scheduled FY26".

An edition whose Facilities sheet belongs to another fiscal year than the workbook (ICE shipped
FY20 data inside an FY22 file), or whose data-as-of date is old for its fiscal year, is parsed and
flagged ``stale`` with the reason.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urljoin, urlsplit

from parsel import Selector

from spiders.http import open_url
from storage.errors import FetchFailedError, ValidationError
from storage.snapshots import Edition, FacilityRow

SOURCE = "detention_stats"

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
    """Stream a workbook to ``dest`` (through a ``.part`` file); a short body is refused."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    part = dest.with_name(dest.name + ".part")
    with open_url(url, user_agent, timeout=timeout) as resp, part.open("wb") as out:
        expected = resp.headers.get("Content-Length")
        size = 0
        while chunk := resp.read(1 << 20):
            out.write(chunk)
            size += len(chunk)
    if expected and expected.isdigit() and int(expected) != size:
        part.unlink(missing_ok=True)
        raise FetchFailedError(f"GET {url}: {size} bytes received, Content-Length said {expected}")
    part.replace(dest)
    return dest


# -- the workbook ------------------------------------------------------------------------------

# Header name (lower case, spaces collapsed) -> field; the ALOS column is matched by pattern.
COLUMNS = {
    "name": "name",
    "address": "address",
    "city": "city",
    "state": "state",
    "zip": "zip",
    "aor": "aor",
    "type detailed": "type",
    "male/female": "gender",
    "level a": "level_a",
    "level b": "level_b",
    "level c": "level_c",
    "level d": "level_d",
    "male crim": "male_crim",
    "male non-crim": "male_noncrim",
    "female crim": "female_crim",
    "female non-crim": "female_noncrim",
    "ice threat level 1": "threat_1",
    "ice threat level 2": "threat_2",
    "ice threat level 3": "threat_3",
    "no ice threat level": "no_threat",
    "mandatory": "mandatory",
    "guaranteed minimum": "guaranteed_minimum",
    "last inspection type": "last_inspection_type",
    "last inspection standard": "last_inspection_standard",
    "odo last inspection standard": "last_inspection_standard",
    "last inspection rating - final": "last_inspection_rating",
    "last final rating": "last_inspection_rating",
    "odo final rating": "last_inspection_rating",
    "last inspection date": "last_inspection",
    "last inspection end date": "last_inspection",
    "odo inspection end date": "last_inspection",
}
NUMBERS = [
    "level_a",
    "level_b",
    "level_c",
    "level_d",
    "male_crim",
    "male_noncrim",
    "female_crim",
    "female_noncrim",
    "threat_1",
    "threat_2",
    "threat_3",
    "no_threat",
    "mandatory",
    "alos",
]
REQUIRED = {"name", "city", "state", "level_a", "level_b", "level_c", "level_d"}
TOLERANCE = 0.02  # a breakdown may differ from the ADP by 2 % (or 1 detainee) before it is flagged
WORKBOOK_FY_RE = re.compile(r"\bFY\s?(\d{2})(?!\d)", re.I)
AS_OF_RE = re.compile(r"\((?:IIDS|EID)\),?\s*(\d{1,2})/(\d{1,2})/(\d{4})")


def _norm(text: Any) -> str:
    return re.sub(r"\s+", " ", str(text or "")).strip()


def _number(value: Any) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, int | float):
        return float(value)
    text = str(value).replace(",", "").replace("\xa0", "").strip()
    if text in ("", "*", "N/A", "NA", "-"):
        return None
    try:
        return float(text)
    except ValueError:
        return None


def _zip(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, int):
        return f"{value:05d}"
    text = str(value).strip()
    if text.isdigit() and len(text) < 5:
        return text.zfill(5)
    return text


def _fy(text: str) -> int | None:
    m = WORKBOOK_FY_RE.search(text)
    return 2000 + int(m.group(1)) if m else None


def fiscal_year_of_file(name: str) -> int | None:
    m = re.search(r"FY\s?(\d{2})", name, re.I)
    return 2000 + int(m.group(1)) if m else None


def _facilities_sheet(names: list[str]) -> str | None:
    for name in names:
        if "facilities" in name.strip().lower():
            return name
    return None


def parse_workbook(path: Path) -> Edition:
    """Parse the Facilities sheet of an ICE detention statistics workbook."""
    from storage.xlsx import open_workbook, rows

    if path.suffix.lower() != ".xlsx":
        raise ValidationError(
            f"{path.name}: not an .xlsx workbook; ICE's detention statistics are .xlsx files"
        )
    wb = open_workbook(path, ValidationError)
    try:
        sheet = _facilities_sheet(wb.sheetnames)
        if sheet is None:
            raise ValidationError(
                f"{path.name}: no Facilities sheet (sheets: {', '.join(wb.sheetnames)}); "
                "not an ICE detention statistics edition"
            )
        other_fy = [fy for n in wb.sheetnames if n != sheet and (fy := _fy(n)) is not None]
        return _parse_sheet(path, sheet, rows(wb[sheet], path, ValidationError), other_fy)
    finally:
        wb.close()


def _parse_sheet(path: Path, sheet: str, rows: Any, other_fy: list[int]) -> Edition:
    banner: list[str] = []
    header: list[str] | None = None
    header_row = 0
    mapping: dict[int, str] = {}
    facilities: list[FacilityRow] = []
    dropped = 0
    for i, row in enumerate(rows, start=1):
        if header is None:
            first = _norm(row[0]) if row else ""
            if first.lower() == "name":
                header = [_norm(v) for v in row]
                header_row = i
                for j, h in enumerate(header):
                    key = h.lower()
                    if key in COLUMNS and COLUMNS[key] not in mapping.values():
                        mapping[j] = COLUMNS[key]
                    elif re.fullmatch(r"fy ?\d{2} alos", key):
                        mapping[j] = "alos"
                missing = REQUIRED - set(mapping.values())
                if missing:
                    raise ValidationError(
                        f"{path.name} sheet {sheet.strip()!r} row {i}: column(s) "
                        f"{', '.join(sorted(missing))} not found in the header"
                    )
            else:
                banner.extend(_norm(v) for v in row if v is not None and _norm(v))
                if i > 40:
                    raise ValidationError(
                        f"{path.name} sheet {sheet.strip()!r}: no header row starting with "
                        "'Name' in the first 40 rows"
                    )
            continue
        fac = _facility(row, mapping, i)
        if fac is None:
            dropped += 1
            continue
        facilities.append(fac)
    if header is None:
        raise ValidationError(f"{path.name} sheet {sheet.strip()!r}: no header row")
    sheet_fy = None
    for text in banner:
        if "facilities data" in text.lower():
            sheet_fy = _fy(text)
            break
    alos_header = next((h for j, h in enumerate(header) if mapping.get(j) == "alos"), "")
    sheet_fy = sheet_fy or _fy(alos_header) or _fy(sheet)
    as_of = None
    for text in banner:
        m = AS_OF_RE.search(text)
        if m:
            as_of = date(int(m.group(3)), int(m.group(1)), int(m.group(2)))
            break
    file_fy = fiscal_year_of_file(path.name)
    book_fy = file_fy or (max(other_fy) if other_fy else None)
    reasons = []
    if sheet_fy and book_fy and sheet_fy != book_fy:
        reasons.append(
            f"Facilities sheet is FY{sheet_fy % 100:02d} in an FY{book_fy % 100:02d} workbook"
        )
    if as_of and sheet_fy:
        start, end = date(sheet_fy - 1, 10, 1), date(sheet_fy, 9, 30)
        if not start - timedelta(days=31) <= as_of <= end + timedelta(days=62):
            reasons.append(f"data as of {as_of:%m/%d/%Y} is outside FY{sheet_fy % 100:02d}")
    if as_of and book_fy and as_of < date(book_fy - 1, 10, 1) - timedelta(days=31):
        reasons.append(f"data as of {as_of:%m/%d/%Y} predates FY{book_fy % 100:02d}")
    return Edition(
        file=path.name,
        sheet=sheet,
        fiscal_year=sheet_fy,
        workbook_fiscal_year=book_fy,
        data_as_of=as_of.isoformat() if as_of else None,
        stale=bool(reasons),
        stale_reason="; ".join(dict.fromkeys(reasons)),
        header_row=header_row,
        facilities=facilities,
        dropped_rows=dropped,
    )


def _facility(row: tuple[Any, ...], mapping: dict[int, str], i: int) -> FacilityRow | None:
    values: dict[str, Any] = {}
    for j, key in mapping.items():
        if j < len(row):
            values[key] = row[j]
    name = _norm(values.get("name"))
    if not name or name.lower() == "name":
        return None
    levels = [_number(values.get(k)) for k in ("level_a", "level_b", "level_c", "level_d")]
    if all(v is None for v in levels) and not _norm(values.get("city")):
        return None  # a footnote such as "(*) ORSA scheduled FY24 Q3"
    fac = FacilityRow(name=name, row=i)
    for key in (
        "address",
        "city",
        "state",
        "aor",
        "type",
        "gender",
        "last_inspection_type",
        "last_inspection_standard",
        "last_inspection_rating",
    ):
        setattr(fac, key, _norm(values.get(key)))
    fac.zip = _zip(values.get("zip"))
    for key in NUMBERS:
        setattr(fac, key, _number(values.get(key)))
    for key in ("level_a", "level_b", "level_c", "level_d"):
        if getattr(fac, key) is None:
            setattr(fac, key, 0.0)
    fac.adp = fac.level_a + fac.level_b + fac.level_c + fac.level_d
    gm = _number(values.get("guaranteed_minimum"))
    fac.guaranteed_minimum = int(gm) if gm is not None else None
    when = values.get("last_inspection")
    if isinstance(when, datetime):
        fac.last_inspection_date = when.date().isoformat()
    elif isinstance(when, date):
        fac.last_inspection_date = when.isoformat()
    elif when is not None and _norm(when):
        text = _norm(when)
        m = re.fullmatch(r"(\d{1,2})/(\d{1,2})/(\d{4})", text)
        if m:
            try:
                fac.last_inspection_date = date(
                    int(m.group(3)), int(m.group(1)), int(m.group(2))
                ).isoformat()
            except ValueError:
                fac.last_inspection_note = text
        else:
            fac.last_inspection_note = text
    fac.checks = sanity_checks(fac)
    return fac


def sanity_checks(fac: FacilityRow) -> list[str]:
    """TRAC-style checks: each breakdown of the population sums to the facility's ADP."""
    failed = []
    groups = {
        "gender x criminality": ("male_crim", "male_noncrim", "female_crim", "female_noncrim"),
        "threat levels": ("threat_1", "threat_2", "threat_3", "no_threat"),
    }
    for label, keys in groups.items():
        parts = [getattr(fac, k) for k in keys]
        if all(p is None for p in parts):
            continue
        total = sum(p or 0.0 for p in parts)
        if abs(total - fac.adp) > max(1.0, TOLERANCE * fac.adp):
            failed.append(f"{label} sum {total:.1f} != ADP {fac.adp:.1f}")
    if fac.mandatory is not None and fac.mandatory > fac.adp + max(1.0, TOLERANCE * fac.adp):
        failed.append(f"mandatory {fac.mandatory:.1f} > ADP {fac.adp:.1f}")
    return failed
