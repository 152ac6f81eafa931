"""EOIR's court operational status page and the Adelanto court page (sources.md §5.1, §5.2).

The status page is static Drupal HTML: one ``table.usa-table`` whose rows carry the court link
(``/eoir/<slug>``), its address, and a status cell ("OPEN", or free text that contains "CLOSED",
spread over several ``<p>``/``<div>`` leaves with ``&nbsp;`` fillers). The same page embeds the map
as JSON (``drupal-settings-json``: ``leaflet.*.features[]`` with a popup per court); the table is
read first and the map fills in courts the table lacks. Fewer than ``MIN_COURTS`` courts means the
layout changed, not that courts vanished.

The court page lists its judges under an "Immigration Judges" heading.
"""

from __future__ import annotations

import json
import re
from datetime import date

from parsel import Selector

from storage.errors import LayoutChangedError
from storage.snapshots import CourtRow

SOURCE = "court_status"

MIN_COURTS = 60
MONTHS = {
    m: i
    for i, m in enumerate(
        [
            "january",
            "february",
            "march",
            "april",
            "may",
            "june",
            "july",
            "august",
            "september",
            "october",
            "november",
            "december",
        ],
        start=1,
    )
}
# Court slugs -> EOIR base-city codes, for the courts docketwatch's clients appear at.
SLUG_CODES = {
    "adelanto-immigration-court": "ADL",
    "los-angeles-immigration-court": "LOS",
    "los-angeles-n-los-angeles-street-immigration-court": "NLA",
    "los-angeles-olive-street-immigration-court": "LOS",
    "los-angeles-van-nuys-boulevard-immigration-court": "VNS",
    "los-angeles-west-los-angeles-immigration-court": "WLA",
    "santa-ana-immigration-court": "SNC",
    "imperial-immigration-court": "IMP",
    "otay-mesa-immigration-court": "OTM",
    "san-diego-immigration-court": "SND",
}


def _text(nodes: list[str]) -> str:
    parts = [re.sub(r"\s+", " ", t.replace("\xa0", " ")).strip() for t in nodes]
    return " ".join(p for p in parts if p)


def closure_days(text: str, today: date) -> list[date]:
    """Dates named in a status text ("closed on November 28, 2026", "11/28/2026",
    "November 28-30, 2026"); empty when the text names none."""
    days: set[date] = set()
    for m in re.finditer(r"\b(\d{1,2})/(\d{1,2})/(\d{4})\b", text):
        try:
            days.add(date(int(m.group(3)), int(m.group(1)), int(m.group(2))))
        except ValueError:
            continue
    pattern = re.compile(
        r"\b(" + "|".join(MONTHS) + r")\.?\s+(\d{1,2})(?:\s*(?:-|–|through|to)\s*(\d{1,2}))?"
        r"(?:,?\s*(\d{4}))?",
        re.I,
    )
    for m in pattern.finditer(text):
        month = MONTHS[m.group(1).lower()]
        year = int(m.group(4)) if m.group(4) else today.year
        first = int(m.group(2))
        last = int(m.group(3)) if m.group(3) else first
        for day in range(first, min(last, 31) + 1):
            try:
                days.add(date(year, month, day))
            except ValueError:
                continue
    return sorted(days)


def parse_status_page(html: str, today: date) -> list[CourtRow]:
    sel = Selector(text=html)
    courts: dict[str, CourtRow] = {}
    for tr in sel.css("table.usa-table tr"):
        link = tr.css("td.views-field-nothing a")
        if not link:
            continue  # the header row
        href = link.attrib.get("href", "")
        slug = href.rstrip("/").rsplit("/", 1)[-1]
        name = _text(link.css("::text").getall())
        address = _text(tr.css("td.views-field-nothing p.address span::text").getall())
        status = _text(tr.css("td.views-field-field-eoir-court-status ::text").getall())
        if slug:
            courts[slug] = _row(slug, name, status, address, today)
    for slug, row in _map_features(sel, today).items():
        courts.setdefault(slug, row)
    result = sorted(courts.values(), key=lambda c: c.slug)
    if len(result) < MIN_COURTS:
        raise LayoutChangedError(
            f"only {len(result)} courts parsed from the status page (at least {MIN_COURTS} "
            "expected): the layout changed"
        )
    return result


def _row(slug: str, name: str, status: str, address: str, today: date) -> CourtRow:
    closed = "CLOSED" in status.upper()
    return CourtRow(
        slug=slug,
        name=name,
        status=status,
        address=address,
        code=SLUG_CODES.get(slug, ""),
        closed=closed,
        closed_days=closure_days(status, today) if closed else [],
    )


def _map_features(sel: Selector, today: date) -> dict[str, CourtRow]:
    raw = sel.css('script[data-drupal-selector="drupal-settings-json"]::text').get()
    if not raw:
        return {}
    try:
        settings = json.loads(raw)
    except ValueError:
        return {}
    out: dict[str, CourtRow] = {}
    leaflet = settings.get("leaflet", {}) if isinstance(settings, dict) else {}
    for block in leaflet.values() if isinstance(leaflet, dict) else []:
        for feature in block.get("features", []) if isinstance(block, dict) else []:
            popup = Selector(text=str((feature.get("popup") or {}).get("value", "")))
            link = popup.css("a")
            if not link:
                continue
            slug = link.attrib.get("href", "").rstrip("/").rsplit("/", 1)[-1]
            name = _text(link.css("::text").getall())
            address = _text(popup.css("p.address span::text").getall())
            status = _text(popup.xpath("//p[not(@class='address')]//text()").getall())
            if slug:
                out[slug] = _row(slug, name, status, address, today)
    return out


def parse_court_page(html: str) -> list[str]:
    """The judges listed under "Immigration Judges" on a court page."""
    sel = Selector(text=html)
    for heading in sel.css("h2, h3"):
        if "immigration judges" in _text(heading.css("::text").getall()).lower():
            items = heading.xpath("following-sibling::ul[1]/li")
            judges = [_text(li.css("::text").getall()) for li in items]
            return [j for j in judges if j]
    raise LayoutChangedError(
        "no 'Immigration Judges' heading on the court page: the layout changed"
    )
