"""``docketwatch detention_stats`` and ``docketwatch facilities``: ICE detention statistics."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Annotated

import typer

from cli.common import (
    CsvOpt,
    JsonOpt,
    emit_records,
    err,
    group,
    handles_errors,
    open_engine,
    open_session,
    out,
    print_table,
    run_check_command,
)
from cli.groups import help_of

app = group(help_of("detention_stats"))
facilities_app = group(help_of("facilities"))


@app.command("parse")
@handles_errors
def stats_parse(
    path: Annotated[Path, typer.Argument(help="An ICE detention statistics .xlsx workbook.")],
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the whole edition as JSON.")
    ] = False,
) -> None:
    """Parse a workbook's Facilities sheet: the edition (fiscal year, data-as-of date, stale flag,
    sheet name) and every facility (name, city, state, AOR, type, levels A-D, ADP, ...)."""

    from spiders.detention_stats import parse_workbook

    edition = parse_workbook(path)
    if as_json:
        sys.stdout.write(json.dumps(edition.as_dict(), indent=1, default=str) + "\n")
        return
    stale = f" STALE: {edition.stale_reason}" if edition.stale else ""
    out.print(
        f"{edition.file}: sheet {edition.sheet.strip()!r}, FY{edition.fiscal_year}, data as of "
        f"{edition.data_as_of}, header at row {edition.header_row}, "
        f"{len(edition.facilities)} facilities ({edition.dropped_rows} rows dropped){stale}"
    )
    rows = [
        (
            f.name,
            f.city,
            f.state,
            f.aor,
            f.type,
            f"{f.adp:.1f}",
            f"{f.alos:.1f}" if f.alos is not None else "",
            "; ".join(f.checks),
        )
        for f in edition.facilities
    ]
    print_table(
        ["name", "city", "state", "aor", "type", "adp", "alos", "checks"],
        rows,
        right=["adp", "alos"],
    )


@app.command("load")
@handles_errors
def stats_load(
    paths: Annotated[
        list[Path], typer.Argument(help="Workbooks to store (a file once, by SHA-256).")
    ],
) -> None:
    """Store workbooks' facility rows (matched to known facilities by name) for the trend."""
    from checks.detention_stats import load_file

    with open_engine() as engine:
        for path in paths:
            with open_session(engine, program=False) as session:
                row, new = load_file(session, path)
            flag = f" STALE ({row.stale_reason})" if row.stale else ""
            out.print(
                f"{path.name}: {'edition' if new else 'already stored as'} {row.id}"
                f", FY{row.fiscal_year}, data as of {row.data_as_of}, {row.facilities} facilities, "
                f"{row.checks_failed} failing sanity checks{flag}"
            )


@app.command("check")
@handles_errors
def stats_check() -> None:
    """Look at ICE's detention-management page now; fetch and store the newest workbook if new."""
    from checks.detention_stats import check

    run_check_command("detention_stats", check, dispatch=False)


@facilities_app.command("trend")
@handles_errors
def facilities_trend(
    name: Annotated[str, typer.Argument(help="Part of a facility's name, or its DETLOC code.")],
    chart: Annotated[
        Path | None, typer.Option(help="Where to write the SVG chart (default: NAME-trend.svg).")
    ] = None,
    as_json: JsonOpt = False,
    as_csv: CsvOpt = False,
) -> None:
    """A facility's population per stored edition (ADP by level, ALOS, guaranteed minimum, last
    inspection, failed sanity checks), and a chart of its ADP."""
    from monitor.detention_stats import svg_chart, trend_records
    from storage.detention_stats import trend
    from storage.errors import NotFoundError

    with open_engine() as engine, open_session(engine, program=False) as session:
        series = trend(session, name)
        if not series:
            raise NotFoundError(f"no stored edition has a facility matching {name!r}")
        records = trend_records(series)
        # NAME is a search, never a path: only its letters and digits name the chart's file
        slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") or "facility"
        path = chart or Path(f"{slug}-trend.svg")
        path.write_text(svg_chart(series, f"{name.upper()}: average daily population"))
    emit_records(records, as_json, as_csv, title=f"{name}: population per edition")
    err.print(f"chart: {path}")
