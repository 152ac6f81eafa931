"""What pages and downloads are made of: the templates' filters, the alert rows of the inbox,
and tables as CSV or XLSX (every text cell a string, never a formula)."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import jinja2
from fastapi.responses import Response

from storage.logs import redact
from storage.urls import https_only
from web.i18n import environments


def asset_version(static: Path) -> str:
    """A short digest of the stylesheet: its address changes when it does, so browsers may keep
    it a week (a slow connection loads it once)."""
    import hashlib

    return hashlib.sha256((static / "style.css").read_bytes()).hexdigest()[:10]


def template_environments(templates: Path) -> dict[str, jinja2.Environment]:
    envs = environments(templates)
    version = asset_version(templates.parent / "static")
    for env in envs.values():
        env.globals["asset_version"] = version
        env.filters["initials"] = _initials
        env.filters["last_four"] = _last_four
        env.filters["headline"] = _headline
        env.filters["chart"] = _chart
        env.filters["zone"] = _zone
        env.filters["row_label"] = _row_label
        env.filters["https_only"] = https_only
        env.filters["redact"] = redact  # a reject's reason may quote an A-number
    return envs


def alert_rows(rows: list[tuple[Any, Any]]) -> list[dict[str, Any]]:
    from monitor.events import KINDS
    from monitor.messages import initials
    from monitor.views import last_four

    out = []
    for event, client in rows:
        spec = KINDS.get(event.kind)
        out.append(
            {
                "event": event,
                "headline_en": spec.en if spec else event.kind,
                "headline_es": spec.es if spec else event.kind,
                "client": client,
                "who": f"{initials(client.name)} {last_four(client.a_number)}" if client else "",
            }
        )
    return out


def _initials(name: str) -> str:
    from monitor.messages import initials

    return initials(name)


def _last_four(a_number: str) -> str:
    from monitor.views import last_four

    return last_four(a_number)


def _headline(kind: str, lang: str) -> str:
    from monitor.events import KINDS

    spec = KINDS.get(kind)
    return (spec.es if lang == "es" else spec.en) if spec else kind


def _row_label(value: Any, lang: str) -> str:
    from monitor.reports import row_label

    return row_label(value, lang)


def _zone(hearing: Any) -> str:
    from monitor.messages import zone_name

    return zone_name(hearing.timezone, hearing.hearing_on.isoformat())


def _chart(table: Any) -> Any:
    from monitor.charts import trend_chart

    return trend_chart(table)


def sort_key(value: Any) -> tuple[int, Any]:
    """Text sorted as text, numbers as numbers."""
    if isinstance(value, int | float):
        return (0, value)
    text = str(value or "")
    return (0, int(text)) if text.isdigit() and len(text) < 19 else (1, text.lower())


def xlsx(columns: list[str], rows: list[list[Any]], filename: str, title: str) -> Response:
    """An XLSX whose every text cell is a string, never a formula (openpyxl reads a text that
    starts with = as one)."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    book = Workbook(write_only=True)
    sheet = book.create_sheet("caseload")

    def cell(value: Any) -> Any:
        c = WriteOnlyCell(sheet, value=value)
        if isinstance(value, str):
            c.data_type = "s"
        return c

    sheet.append([cell(title)])
    sheet.append([cell(c) for c in columns])
    for row in rows:
        sheet.append([cell(v) for v in row])
    buffer = io.BytesIO()
    book.save(buffer)
    return Response(
        buffer.getvalue(),
        media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


def csv_file(columns: list[str], rows: list[list[Any]], filename: str) -> Response:
    from storage.files import spreadsheet_cell

    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(columns)
    writer.writerows([spreadsheet_cell(v) for v in row] for row in rows)
    return Response(
        buffer.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
