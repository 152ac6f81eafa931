"""ICE detention statistics for people: a facility's population series as records and a chart."""

from __future__ import annotations

import html
from datetime import date
from typing import Any

from storage.detention_stats import Point


def svg_chart(series: dict[str, list[Point]], title: str) -> str:
    """A small line chart of ADP per edition (stale editions drawn hollow), as SVG text."""
    width, height, left, right, top, bottom = 760, 360, 60, 20, 40, 50
    points = [
        (p.edition.data_as_of, p.row.adp)
        for pts in series.values()
        for p in pts
        if p.edition.data_as_of is not None
    ]
    if not points:
        return (
            f"<svg xmlns='http://www.w3.org/2000/svg' width='{width}' height='80'>"
            f"<text x='10' y='40'>{html.escape(title)}: no dated editions</text></svg>"
        )
    d0 = min(d for d, _ in points).toordinal()
    d1 = max(d for d, _ in points).toordinal()
    vmax = max(v for _, v in points) * 1.1 or 1.0
    span = max(d1 - d0, 1)

    def xy(day: date, value: float) -> tuple[float, float]:
        x = left + (day.toordinal() - d0) / span * (width - left - right)
        y = top + (1 - value / vmax) * (height - top - bottom)
        return x, y

    colors = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e"]
    parts = [
        f"<svg xmlns='http://www.w3.org/2000/svg' width='{width}' height='{height}' "
        "font-family='sans-serif' font-size='12'>",
        f"<text x='{left}' y='22' font-size='15'>{html.escape(title)}</text>",
        f"<line x1='{left}' y1='{height - bottom}' x2='{width - right}' y2='{height - bottom}' "
        "stroke='#333'/>",
        f"<line x1='{left}' y1='{top}' x2='{left}' y2='{height - bottom}' stroke='#333'/>",
    ]
    for k in range(5):
        value = vmax * k / 4
        _, y = xy(date.fromordinal(d0), value)
        parts.append(f"<text x='{left - 6}' y='{y + 4:.1f}' text-anchor='end'>{value:,.0f}</text>")
    for year in range(date.fromordinal(d0).year, date.fromordinal(d1).year + 2):
        day = date(year, 1, 1)
        if d0 <= day.toordinal() <= d1:
            x, _ = xy(day, 0)
            parts.append(
                f"<text x='{x:.1f}' y='{height - bottom + 18}' text-anchor='middle'>{year}</text>"
            )
    for i, (name, pts) in enumerate(sorted(series.items())):
        color = colors[i % len(colors)]
        dated = [p for p in pts if p.edition.data_as_of]
        coords = [xy(p.edition.data_as_of, p.row.adp) for p in dated]  # type: ignore[arg-type]
        if len(coords) > 1:
            path = " ".join(f"{x:.1f},{y:.1f}" for x, y in coords)
            parts.append(
                f"<polyline fill='none' stroke='{color}' stroke-width='2' points='{path}'/>"
            )
        for p, (x, y) in zip(dated, coords, strict=True):
            fill = "white" if p.edition.stale else color
            parts.append(
                f"<circle cx='{x:.1f}' cy='{y:.1f}' r='4' fill='{fill}' stroke='{color}'>"
                f"<title>{html.escape(p.row.name)} {p.edition.data_as_of}: ADP {p.row.adp:.1f}"
                f"{' (stale)' if p.edition.stale else ''}</title></circle>"
            )
        parts.append(
            f"<text x='{width - right - 4}' y='{top + 16 * (i + 1)}' text-anchor='end' "
            f"fill='{color}'>{html.escape(name)}</text>"
        )
    parts.append(
        f"<text x='{left}' y='{height - 10}'>average daily population (Level A-D) per edition; "
        "hollow = stale edition</text></svg>"
    )
    return "\n".join(parts)


def trend_records(series: dict[str, list[Point]]) -> list[dict[str, Any]]:
    return [
        {
            "facility": p.row.name,
            "data_as_of": p.edition.data_as_of.isoformat() if p.edition.data_as_of else "",
            "fiscal_year": p.edition.fiscal_year,
            "file": p.edition.file_name,
            "stale": p.edition.stale,
            "adp": round(p.row.adp, 1),
            "level_a": round(p.row.level_a, 1),
            "level_b": round(p.row.level_b, 1),
            "level_c": round(p.row.level_c, 1),
            "level_d": round(p.row.level_d, 1),
            "alos": round(p.row.alos, 1) if p.row.alos is not None else None,
            "guaranteed_minimum": p.row.guaranteed_minimum,
            "last_inspection": (
                p.row.last_inspection_date.isoformat()
                if p.row.last_inspection_date
                else p.row.last_inspection_note
            ),
            "checks": p.row.checks,
        }
        for pts in series.values()
        for p in pts
    ]
