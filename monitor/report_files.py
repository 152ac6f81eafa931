"""A report as a file: a self-contained HTML page with SVG charts (no script, no outside
resource), a PDF of the same page (WeasyPrint), an XLSX workbook (one sheet per figure, and the
definitions), or CSV (one row per cell: figure, row, column, value)."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

from markupsafe import Markup

from monitor.charts import bars
from monitor.reports import Figure, Report, row_label

FORMATS = ("html", "pdf", "xlsx", "csv")
MEDIA = {
    "html": "text/html; charset=utf-8",
    "pdf": "application/pdf",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "csv": "text/csv; charset=utf-8",
}


def _chart(fig: Figure) -> Markup:
    assert fig.chart is not None
    i = fig.columns.index(fig.chart)
    points = [(row_label(r[0]), r[i]) for r in fig.rows if isinstance(r[i], int | float)]
    title = f"{fig.title}: {fig.chart}"
    return bars([p[0] for p in points], [float(p[1]) for p in points], title)


def html(report: Report, organization: str = "") -> str:
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(Path(__file__).parent / "templates"), autoescape=True
    )
    charts = {f.key: _chart(f) for f in report.figures if f.chart}
    return env.get_template("report.html").render(
        report=report, charts=charts, organization=organization or "docketwatch", label=row_label
    )


def pdf(report: Report, organization: str = "") -> bytes:
    import logging

    for name in ("weasyprint", "weasyprint.progress", "fontTools"):
        logging.getLogger(name).setLevel(logging.ERROR)  # its page-by-page progress is noise
    import weasyprint

    return bytes(weasyprint.HTML(string=html(report, organization)).write_pdf())


def xlsx(report: Report) -> bytes:
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    book = Workbook(write_only=True)

    def cell(sheet: Any, value: Any) -> Any:
        c = WriteOnlyCell(sheet, value=value)
        if isinstance(value, str):
            c.data_type = "s"  # text, never a formula
        return c

    for fig in report.figures:
        sheet = book.create_sheet(fig.title[:31])
        sheet.append([cell(sheet, f"{fig.title} ({report.period})")])
        sheet.append([cell(sheet, c) for c in fig.columns])
        for row in fig.rows:
            sheet.append([cell(sheet, row_label(row[0])), *(cell(sheet, v) for v in row[1:])])
        sheet.append([])
        sheet.append([cell(sheet, fig.definition)])
    notes = book.create_sheet("Definitions")
    for fig in report.figures:
        notes.append([cell(notes, fig.title), cell(notes, fig.definition)])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def csv_text(report: Report) -> str:
    from storage.files import spreadsheet_cell

    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["figure", "row", "column", "value"])
    for fig in report.figures:
        for row in fig.rows:
            for column, value in zip(fig.columns[1:], row[1:], strict=True):
                cells = (fig.key, row_label(row[0]), column, "" if value is None else value)
                writer.writerow([spreadsheet_cell(x) for x in cells])
    return buffer.getvalue()


def render(report: Report, fmt: str, organization: str = "") -> bytes:
    if fmt == "html":
        return html(report, organization).encode()
    if fmt == "pdf":
        return pdf(report, organization)
    if fmt == "xlsx":
        return xlsx(report)
    if fmt == "csv":
        return csv_text(report).encode()
    from storage.errors import ValidationError

    raise ValidationError(f"--format must be one of {', '.join(FORMATS)}, not {fmt!r}")
