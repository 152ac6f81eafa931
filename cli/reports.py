"""``docketwatch report``: reports for funders and the public."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from cli.common import get_settings, group, handles_errors, open_engine, open_session, out
from cli.groups import help_of

app = group(help_of("report"))

From = Annotated[str, typer.Option("--from", help="First month, YYYY-MM.")]
To = Annotated[str, typer.Option("--to", help="Last month, YYYY-MM.")]
Format = Annotated[str, typer.Option("--format", help="html, pdf, xlsx or csv.")]
Unsuppressed = Annotated[
    bool,
    typer.Option(
        "--unsuppressed",
        help="Keep counts under 10 (for the program's own eyes, never to publish).",
    ),
]


def _write(report: Any, fmt: str, output: Path | None, default: str, unsuppressed: bool) -> None:
    """The report in its published form (unless ``unsuppressed``) as ``fmt``, to ``output`` or
    to ``default.FORMAT`` here."""
    from monitor.report_files import render
    from storage.files import private_file

    kind = fmt.strip().lower()
    if not unsuppressed:
        report = report.published()
    data = render(report, kind)
    target = output or Path(f"{default}.{kind}")
    with private_file(target, "wb") as f:
        f.write(data)
    form = "unsuppressed, not for publication" if unsuppressed else "small cells suppressed"
    out.print(f"wrote {target} ({len(data):,} bytes; {report.period}; {form})")


@app.command("program")
@handles_errors
def report_program(
    start: From,
    end: To,
    fmt: Format = "html",
    output: Annotated[
        Path | None,
        typer.Option(help="File to write (default: program-FROM-TO.FORMAT here)."),
    ] = None,
    unsuppressed: Unsuppressed = False,
) -> None:
    """What the program watched and caught, month by month: clients watched, hearing and
    custody changes caught, how fast attorneys heard and acknowledged, each source's
    availability. Every figure carries its definition and source tables; counts under 10 are
    shown as <10 unless --unsuppressed."""
    from datetime import UTC, datetime

    from monitor.reports import parse_month, program_report

    settings = get_settings()
    first, last = parse_month(start, "--from"), parse_month(end, "--to")
    with open_engine() as engine, open_session(engine) as session:
        report = program_report(session, first, last, settings.timezone, datetime.now(UTC))
    _write(report, fmt, output, f"program-{first:%Y-%m}-{last:%Y-%m}", unsuppressed)


@app.command("representation")
@handles_errors
def report_representation(
    start: From,
    end: To,
    court: Annotated[
        str | None,
        typer.Option(help="Base city code (default: eoir_foia_alert_court, e.g. ADL)."),
    ] = None,
    fmt: Format = "html",
    output: Annotated[
        Path | None,
        typer.Option(help="File to write (default: representation-COURT-FROM-TO.FORMAT here)."),
    ] = None,
    unsuppressed: Unsuppressed = False,
) -> None:
    """Detained people at one immigration court, with and without a lawyer, from the EOIR FOIA
    release loaded last: the pending detained caseload and the share without an attorney, new
    detained cases and how soon they found counsel (30/60/90 days, median days), counsel at the
    first master calendar hearing, completed proceedings by outcome with and without counsel,
    and breakdowns by nationality, language and case type. Every figure carries its definition
    and source columns (docs/representation-report.md); counts under 10 are shown as <10
    unless --unsuppressed."""
    from datetime import UTC, datetime

    from monitor.reports import parse_month
    from monitor.representation import representation_report

    settings = get_settings()
    first, last = parse_month(start, "--from"), parse_month(end, "--to")
    code = (court or settings.eoir_foia_alert_court).strip().upper()
    with open_engine() as engine, open_session(engine, program=False) as session:
        report = representation_report(session, code, first, last, datetime.now(UTC))
    _write(report, fmt, output, f"representation-{code}-{first:%Y-%m}-{last:%Y-%m}", unsuppressed)
