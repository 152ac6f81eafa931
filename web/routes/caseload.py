"""The unrepresented caseload at a court from EOIR's FOIA release (coordinators, admins), its
hearings day by day, and the detention population per edition of ICE's statistics (everyone)."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import Query, Request
from fastapi.responses import Response
from markupsafe import Markup

from storage.errors import NotFoundError, ValidationError
from web.deps import App, Scoped, User, day_param, page, signed_in_router
from web.render import csv_file, sort_key, xlsx

router = signed_in_router("caseload")
facilities_router = signed_in_router("facilities")


@router.get("/caseload")
def caseload(
    request: Request,
    w: App,
    user: User,
    s: Scoped,
    court: str = "ADL",
    detained: str = "",
    by: str = "",
    new: str = "",
    nationality: str = "",
    language: str = "",
    case_type: str = "",
    judge: str = "",
    hearing_from: str = "",
    hearing_to: str = "",
    sort: str = "",
    desc: str = "",
    page_no: Annotated[int, Query(alias="page", ge=1, le=100_000)] = 1,
    format: str = "",
) -> Response:
    from monitor.eoir_foia import (
        GROUPS,
        CaseloadFilter,
        caseload_choices,
        caseload_trend,
        caseload_unrepresented,
    )

    court = court.strip().upper()[:3] or "ADL"
    flt = CaseloadFilter(
        nationality[:2],
        language[:3],
        case_type[:3],
        judge[:3],
        day_param(hearing_from, "hearing from"),
        day_param(hearing_to, "hearing to"),
    )
    params = {
        "court": court,
        "detained": detained,
        "by": by,
        "new": new,
        "nationality": flt.nationality,
        "language": flt.language,
        "case_type": flt.case_type,
        "judge": flt.judge,
        "hearing_from": hearing_from,
        "hearing_to": hearing_to,
    }
    context: dict[str, Any] = {
        "court": court,
        "params": params,
        "groups": GROUPS,
        "table": None,
        "trend": None,
        "choices": {},
    }
    try:
        table = caseload_unrepresented(
            s,
            court,
            detained=bool(detained),
            by=by if by in GROUPS else None,
            new_only=bool(new),
            flt=flt,
        )
        context["choices"] = caseload_choices(s, court)
    except NotFoundError as exc:
        return page(request, "caseload/caseload.html", user, problem=str(exc), **context)
    context["trend"] = caseload_trend(s, court)
    if sort in table.columns:  # sorted as text, numbers as numbers, blanks last
        i = table.columns.index(sort)
        table.rows.sort(key=lambda r: (r[i] in ("", None), sort_key(r[i])), reverse=bool(desc))
    if format == "csv":
        return csv_file(table.columns, table.rows, f"caseload-{court}.csv")
    if format == "xlsx":
        return xlsx(table.columns, table.rows, f"caseload-{court}.xlsx", table.title)
    pages = max(1, -(-len(table.rows) // w.page_size))
    page_no = min(page_no, pages)
    shown = table.rows[(page_no - 1) * w.page_size : page_no * w.page_size]

    def link(**kw: Any) -> str:
        return "/caseload?" + urlencode({**params, "sort": sort, "desc": desc, **kw})

    return page(
        request,
        "caseload/caseload.html",
        user,
        shown=shown,
        page_no=page_no,
        pages=pages,
        sort=sort,
        desc=desc,
        link=link,
        **{**context, "table": table},
    )


@router.get("/caseload/hearings")
def caseload_hearings_page(
    request: Request,
    w: App,
    user: User,
    s: Scoped,
    court: str = "ADL",
    start: Annotated[str, Query(alias="from")] = "",
    end: Annotated[str, Query(alias="to")] = "",
    format: str = "",
) -> Response:
    from monitor.eoir_foia import caseload_hearings

    court = court.strip().upper()[:3] or "ADL"
    first = day_param(start, "from") or w.now().date()
    last = day_param(end, "to") or first + timedelta(days=6)
    if last < first or (last - first).days > 92:
        raise ValidationError("the days run from 'from' to 'to', at most 93 days")
    try:
        table = caseload_hearings(s, court, first, last)
    except NotFoundError as exc:
        return page(
            request,
            "caseload/hearings.html",
            user,
            problem=str(exc),
            court=court,
            first=first,
            last=last,
            days=[],
        )
    if format == "csv":
        return csv_file(table.columns, table.rows, f"hearings-{court}-{first}.csv")
    days: dict[str, list[list[Any]]] = {}
    for row in table.rows:
        days.setdefault(row[0], []).append(row[1:])
    query = urlencode({"court": court, "from": first, "to": last, "format": "csv"})
    return page(
        request,
        "caseload/hearings.html",
        user,
        court=court,
        first=first,
        last=last,
        table=table,
        days=list(days.items()),
        query=query,
    )


@facilities_router.get("/facilities")
def facilities(request: Request, user: User, s: Scoped, q: str = "") -> Response:
    from monitor.detention_stats import svg_chart, trend_records
    from storage.detention_stats import trend

    names = [q.strip()[:80]] if q.strip() else ["Adelanto", "Desert View"]
    series: dict[str, Any] = {}
    for name in names:
        series.update(trend(s, name))
    chart = Markup(svg_chart(series, "Average daily population per edition")) if series else ""
    return page(
        request,
        "caseload/facilities.html",
        user,
        q=q,
        names=names,
        chart=chart,
        records=trend_records(series),
    )
