"""The program report and EOIR's representation report (coordinators, admins), as pages and
as files (PDF, XLSX, CSV, HTML)."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import Query, Request
from fastapi.responses import Response
from sqlmodel import Session

from storage.errors import NotFoundError, ValidationError
from web.deps import App, Scoped, User, Web, page, signed_in_router

router = signed_in_router("reports")


@router.get("/reports")
def reports_page(
    request: Request,
    w: App,
    user: User,
    s: Scoped,
    start: Annotated[str, Query(alias="from", max_length=7)] = "",
    end: Annotated[str, Query(alias="to", max_length=7)] = "",
) -> Response:
    from monitor.reports import parse_month, previous_month, program_report

    last_month = f"{previous_month(w.now().date()):%Y-%m}"
    start, end = start or last_month, end or start or last_month
    first, last = parse_month(start, "from"), parse_month(end, "to")
    report = program_report(s, first, last, w.settings.timezone, w.now()).published()
    query = urlencode({"from": start, "to": end})
    return page(
        request, "reports/reports.html", user, report=report, start=start, end=end, query=query
    )


@router.get("/reports/program.{fmt}")
def report_file(
    w: App,
    s: Scoped,
    fmt: str,
    start: Annotated[str, Query(alias="from", max_length=7)],
    end: Annotated[str, Query(alias="to", max_length=7)],
) -> Response:
    from monitor.report_files import FORMATS
    from monitor.reports import parse_month, program_report

    if fmt not in FORMATS:
        raise NotFoundError("no such format")
    first, last = parse_month(start, "from"), parse_month(end, "to")
    report = program_report(s, first, last, w.settings.timezone, w.now()).published()
    return report_response(report, fmt, f"program-{first:%Y-%m}-{last:%Y-%m}.{fmt}")


def report_response(report: Any, fmt: str, name: str) -> Response:
    from monitor.report_files import MEDIA, render

    headers = {}
    if fmt == "html":  # its own inline styles; still no script, nothing from elsewhere
        headers["Content-Security-Policy"] = (
            "default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
            "frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
        )
    else:
        headers["Content-Disposition"] = f'attachment; filename="{name}"'
    return Response(render(report, fmt), media_type=MEDIA[fmt], headers=headers)


def representation(
    w: Web, s: Session, court: str, start: str, end: str
) -> tuple[Any, str, str, str]:
    """The representation report (published form), and the months and court it covers:
    by default the twelve months before the release's."""
    from monitor.reports import parse_month, previous_month, year_up_to
    from monitor.representation import history_release, representation_report

    code = (court or w.settings.eoir_foia_alert_court).strip().upper()[:3]
    if not start or not end:
        release = history_release(s, code)
        last_month = previous_month(release.as_of)
        start = start or f"{year_up_to(last_month):%Y-%m}"
        end = end or f"{last_month:%Y-%m}"
    first, last = parse_month(start, "from"), parse_month(end, "to")
    report = representation_report(s, code, first, last, w.now()).published()
    return report, code, f"{first:%Y-%m}", f"{last:%Y-%m}"  # as parsed: safe in a filename


@router.get("/reports/representation")
def representation_page(
    request: Request,
    w: App,
    user: User,
    s: Scoped,
    court: Annotated[str, Query(max_length=3)] = "",
    start: Annotated[str, Query(alias="from", max_length=7)] = "",
    end: Annotated[str, Query(alias="to", max_length=7)] = "",
) -> Response:
    from monitor.reports import parse_month

    report, error, status = None, "", 200
    code = (court or w.settings.eoir_foia_alert_court).upper()
    try:
        for text, what in ((start, "from"), (end, "to")):
            if text:
                parse_month(text, what)  # a month that is no month: the request is bad (400)
    except ValidationError as exc:
        error, status = str(exc), 400
    if not error:
        try:  # nothing to report yet (no release with the court's history): said on the page
            report, code, start, end = representation(w, s, code, start, end)
        except ValidationError as exc:
            error = str(exc)
    query = urlencode({"court": code, "from": start, "to": end})
    return page(
        request,
        "reports/representation.html",
        user,
        report=report,
        error=error,
        court=code,
        start=start,
        end=end,
        query=query,
        status=status,
    )


@router.get("/reports/representation.{fmt}")
def representation_file(
    w: App,
    s: Scoped,
    fmt: str,
    start: Annotated[str, Query(alias="from", max_length=7)],
    end: Annotated[str, Query(alias="to", max_length=7)],
    court: Annotated[str, Query(max_length=3)] = "",
) -> Response:
    from monitor.report_files import FORMATS

    if fmt not in FORMATS:
        raise NotFoundError("no such format")
    report, code, start, end = representation(w, s, court, start, end)
    return report_response(report, fmt, f"representation-{code}-{start}-{end}.{fmt}")
