"""Charts as inline SVG (no script, no library): a bar per value, labelled, with a title the
screen reader reads. The numbers are always in a table beside the chart (the web app's pages,
the reports)."""

from __future__ import annotations

from typing import Any

from markupsafe import Markup, escape


def bars(labels: list[str], values: list[float], title: str, width: int = 640) -> Markup:
    if not values:
        return Markup("")
    height, pad, top = 160, 40, max(values) or 1
    step = min((width - 2 * pad) / len(values), 90.0)  # a few releases: narrow bars
    parts = [
        f'<svg class="chart" role="img" aria-label="{escape(title)}" viewBox="0 0 {width} '
        f'{height + 40}" width="100%" xmlns="http://www.w3.org/2000/svg">'
        f"<title>{escape(title)}</title>"
    ]
    for i, (label, value) in enumerate(zip(labels, values, strict=True)):
        h = height * value / top
        x = pad + i * step
        parts.append(
            f'<rect x="{x + step * 0.15:.1f}" y="{height - h + 10:.1f}" width="{step * 0.7:.1f}" '
            f'height="{h:.1f}" class="bar" fill="#0b4f8a">'
            f"<title>{escape(label)}: {value:g}</title></rect>"
            f'<text x="{x + step / 2:.1f}" y="{height + 28}" text-anchor="middle" '
            f'class="axis" font-size="11" fill="#1b1b1b">{escape(label)}</text>'
            f'<text x="{x + step / 2:.1f}" y="{max(height - h + 4, 12):.1f}" '
            f'text-anchor="middle" class="value" font-size="11" fill="#1b1b1b">{value:g}</text>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))


def trend_chart(table: Any) -> Markup:
    """The trend table of :func:`monitor.eoir_foia.caseload_trend`: unrepresented per release."""
    col = table.columns.index("unrepresented")
    labels = [str(r[table.columns.index("as_of")]) for r in table.rows]
    return bars(labels, [float(r[col]) for r in table.rows], table.title)
