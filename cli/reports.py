"""``docketwatch report``: reports for funders and the public."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from cli.common import get_settings, group, handles_errors, open_engine, open_session, out
from cli.groups import help_of

app = group(help_of("report"))


@app.command("program")
@handles_errors
def report_program(
    start: Annotated[str, typer.Option("--from", help="First month, YYYY-MM.")],
    end: Annotated[str, typer.Option("--to", help="Last month, YYYY-MM.")],
    fmt: Annotated[
        str, typer.Option("--format", help="html, pdf, xlsx or csv (repeatable).")
    ] = "html",
    output: Annotated[
        Path | None,
        typer.Option(help="File to write (default: program-FROM-TO.FORMAT here)."),
    ] = None,
    unsuppressed: Annotated[
        bool,
        typer.Option(
            "--unsuppressed",
            help="Keep counts under 10 (for the program's own eyes, never to publish).",
        ),
    ] = False,
) -> None:
    """What the program watched and caught, month by month: clients watched, hearing and
    custody changes caught, how fast attorneys heard and acknowledged, each source's
    availability. Every figure carries its definition and source tables; counts under 10 are
    shown as <10 unless --unsuppressed."""
    from datetime import UTC, datetime

    from monitor.report_files import render
    from monitor.reports import parse_month, program_report
    from storage.files import private_file

    settings = get_settings()
    first, last = parse_month(start, "--from"), parse_month(end, "--to")
    with open_engine() as engine, open_session(engine) as session:
        report = program_report(session, first, last, settings.timezone, datetime.now(UTC))
    if not unsuppressed:
        report = report.published()
    data = render(report, fmt.strip().lower())
    target = output or Path(f"program-{first:%Y-%m}-{last:%Y-%m}.{fmt.strip().lower()}")
    with private_file(target, "wb") as f:
        f.write(data)
    form = "unsuppressed, not for publication" if unsuppressed else "small cells suppressed"
    out.print(f"wrote {target} ({len(data):,} bytes; {report.period}; {form})")
