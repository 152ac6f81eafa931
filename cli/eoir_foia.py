"""``docketwatch eoir_foia`` and ``docketwatch caseload``: EOIR's bulk FOIA data and the
unrepresented caseload it gives coordinators."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer

from cli.common import (
    CourtOpt,
    CsvOpt,
    DispatchOpt,
    JsonOpt,
    emit_records,
    emit_result,
    err,
    get_settings,
    group,
    handles_errors,
    open_engine,
    open_session,
    out,
    print_table,
    run_check_command,
)
from cli.groups import help_of

app = group(help_of("eoir_foia"))
caseload_app = group(help_of("caseload"))


@contextmanager
def _stage_bar() -> Iterator[Callable[[str, int, int], None]]:
    """A progress bar per stage (download, extract, read, store) of a FOIA load."""
    from rich.progress import (
        BarColumn,
        DownloadColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
    )

    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TimeElapsedColumn(),
        console=err.real,
        transient=True,
    ) as bar:
        tasks: dict[str, Any] = {}

        def tick(stage: str, done: int, total: int) -> None:
            if stage not in tasks:
                tasks[stage] = bar.add_task(stage, total=total or None)
            bar.update(tasks[stage], completed=done, total=total or None)

        yield tick


def _print_load(report: Any) -> None:
    d = report.as_dict()
    columns = ["table", "Count.txt", "rows found", "loaded", "quarantined"]
    rows = [
        (
            name,
            f"{d['counts'].get(name, 0):,}",
            f"{d['lines'][name]:,}",
            f"{d['loaded'][name]:,}",
            f"{d['quarantined'][name]:,}",
        )
        for name in d["lines"]
    ]
    print_table(columns, rows, f"release {d['release_id']} (as of {d['as_of']})", right=columns[1:])
    out.print("quirks handled: " + ", ".join(f"{k} {v:,}" for k, v in d["quirks"].items()))
    for drift in d["header_drift"]:
        out.print(f"header drift: {drift}")
    out.print(
        f"{d['detail_rows']:,} proceedings kept at the watched courts; {d['courts']} courts "
        f"aggregated; {d['new_unrepresented']} new unrepresented detained case(s)"
    )


@app.command("check")
@handles_errors
def foia_check(
    force: Annotated[
        bool, typer.Option("--force", help="Download and load even if the release is unchanged.")
    ] = False,
    dispatch: DispatchOpt = True,
) -> None:
    """HEAD the FOIA file (ETag, Last-Modified); if there is a new release, download it (resumable,
    length-checked), load it, and tell coordinators of new unrepresented cases at the alert
    court."""
    from checks.eoir_foia import check

    def run(engine: Any, settings: Any) -> Any:
        with _stage_bar() as tick:
            return check(engine, settings, force=force, progress=tick)

    def details(report: Any) -> None:
        if "release" in report.details:
            _print_load(report.details["release"])

    run_check_command("eoir_foia", run, dispatch, details)


@app.command("load")
@handles_errors
def foia_load(
    path: Annotated[Path, typer.Argument(help="An 'EOIR Case Data.zip' on disk.")],
    as_of: Annotated[
        str | None,
        typer.Option(help="Release date YYYY-MM-DD (default: today); hearings from it are 'next'."),
    ] = None,
) -> None:
    """Load a release zip that is already on disk (whole, or not at all)."""
    from datetime import date

    from checks.eoir_foia import load_file
    from storage.errors import ValidationError

    try:
        day = date.fromisoformat(as_of) if as_of else None
    except ValueError:
        raise ValidationError(f"--as-of {as_of!r} is not a date (YYYY-MM-DD)") from None
    settings = get_settings()
    with open_engine() as engine:
        with _stage_bar() as tick:
            report = load_file(engine, settings, path, as_of=day, progress=tick)
        _print_load(report)


@app.command("releases")
@handles_errors
def foia_releases(
    as_json: JsonOpt = False,
    as_csv: CsvOpt = False,
) -> None:
    """Every release seen: when, status (loaded, failed, loading), rows kept and quarantined."""
    from sqlmodel import col, select

    from storage.models import FoiaRelease

    with open_engine() as engine, open_session(engine, program=False) as session:
        rows = session.exec(select(FoiaRelease).order_by(col(FoiaRelease.id))).all()
        records = [
            {
                "release": r.id,
                "as_of": r.as_of.isoformat(),
                "status": r.status,
                "loaded_at": r.loaded_at.isoformat(timespec="seconds") if r.loaded_at else "",
                "kept": r.report.get("detail_rows", ""),
                "quarantined": sum((r.report.get("quarantined") or {}).values()),
                "new_unrepresented": r.report.get("new_unrepresented", ""),
                "etag": r.etag,
                "message": r.message,
            }
            for r in rows
        ]
    emit_records(records, as_json, as_csv, title=f"FOIA releases ({len(records)})")


@app.command("quarantine")
@handles_errors
def foia_quarantine(
    release: Annotated[int | None, typer.Option(help="Release id (default: the newest).")] = None,
    as_json: JsonOpt = False,
    as_csv: CsvOpt = False,
) -> None:
    """The rows of a release that could not be loaded: file, line, reason and the raw text."""
    from sqlmodel import col, func, select

    from storage.models import FoiaQuarantine, FoiaRelease

    with open_engine() as engine, open_session(engine, program=False) as session:
        rid = release or session.exec(select(func.max(FoiaRelease.id))).one()
        rows = session.exec(
            select(FoiaQuarantine)
            .where(FoiaQuarantine.release_id == rid)
            .order_by(col(FoiaQuarantine.file), col(FoiaQuarantine.line))
        ).all()
        records = [
            {"file": q.file, "line": q.line, "reason": q.reason, "raw": q.raw[:160]} for q in rows
        ]
    emit_records(
        records, as_json, as_csv, title=f"quarantined rows of release {rid} ({len(records)})"
    )


@caseload_app.command("unrepresented")
@handles_errors
def caseload_unrepresented(
    court: CourtOpt = "ADL",
    detained: Annotated[bool, typer.Option("--detained", help="Detained cases only.")] = False,
    by: Annotated[
        str | None,
        typer.Option(help="Count by nationality, language, judge, week or case_type."),
    ] = None,
    new: Annotated[
        bool, typer.Option("--new", help="Only those new since the previous release.")
    ] = False,
    release: Annotated[int | None, typer.Option(help="Release id (default: current).")] = None,
    as_json: JsonOpt = False,
    as_csv: CsvOpt = False,
) -> None:
    """Pending proceedings without a respondent's attorney at a court (anonymous: EOIR's case
    ids, nationality, language, next hearing and judge), listed or counted --by a field."""
    from monitor.eoir_foia import caseload_unrepresented as query

    with open_engine() as engine, open_session(engine, program=False) as session:
        result = query(
            session, court.upper(), detained=detained, by=by, new_only=new, release_id=release
        )
    emit_result(result, as_json, as_csv)


@caseload_app.command("trend")
@handles_errors
def caseload_trend(
    court: CourtOpt = "ADL",
    as_json: JsonOpt = False,
    as_csv: CsvOpt = False,
) -> None:
    """Per release: pending proceedings, unrepresented ones and their share at a court."""
    from monitor.eoir_foia import caseload_trend as query

    with open_engine() as engine, open_session(engine, program=False) as session:
        result = query(session, court.upper())
    emit_result(result, as_json, as_csv)


@caseload_app.command("hearings")
@handles_errors
def caseload_hearings(
    start: Annotated[str, typer.Option("--from", help="First day, YYYY-MM-DD.")],
    end: Annotated[str, typer.Option("--to", help="Last day, YYYY-MM-DD.")],
    court: CourtOpt = "ADL",
    as_json: JsonOpt = False,
    as_csv: CsvOpt = False,
) -> None:
    """Upcoming hearings of unrepresented respondents at a court between two dates, by date,
    time and judge: the list to take to a master calendar."""
    from datetime import date

    from monitor.eoir_foia import caseload_hearings as query
    from storage.errors import ValidationError

    try:
        first, last = date.fromisoformat(start), date.fromisoformat(end)
    except ValueError:
        raise ValidationError(f"--from {start!r} / --to {end!r}: dates are YYYY-MM-DD") from None
    if last < first:
        raise ValidationError(f"--to {end} is before --from {start}")
    with open_engine() as engine, open_session(engine, program=False) as session:
        result = query(session, court.upper(), first, last)
    emit_result(result, as_json, as_csv)
