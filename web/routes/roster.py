"""Roster import by upload (coordinators, admins): a preview with the rejects, then the import.
An uploaded file is kept owner-only until imported or an hour old."""

from __future__ import annotations

import secrets
import time
from pathlib import Path
from typing import Annotated, Any

from fastapi import Form, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from storage.db import session_scope
from storage.errors import NotFoundError, ValidationError
from web import auth
from web.deps import BODY_LIMIT, App, Scoped, User, Web, client_ip, page, signed_in_router
from web.render import csv_file

MAX_UPLOAD = 20 * 1024 * 1024  # a roster file
router = signed_in_router("roster")


class Uploads:
    """Roster files uploaded for a preview, kept owner-only until imported or an hour old; each
    is known by a random token and belongs to the staff member who uploaded it."""

    KEEP = 3600.0

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._owners: dict[str, tuple[int, Path, float]] = {}
        self._previews: dict[str, Any] = {}  # token -> the preview's report (its rejects)

    def put(self, token: str, staff_id: int, suffix: str, data: bytes) -> Path:
        from storage.files import private_file

        if len(data) > MAX_UPLOAD:
            raise ValidationError(f"a roster file may be at most {MAX_UPLOAD // 2**20} MB")
        self._sweep()
        self.folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        path = self.folder / f"{token}{suffix}"
        with private_file(path, "wb") as out:
            out.write(data)
        self._owners[token] = (staff_id, path, time.monotonic())
        return path

    def get(self, token: str, staff_id: int) -> Path:
        owner = self._owners.get(token)
        if owner is None or owner[0] != staff_id or not owner[1].exists():
            raise NotFoundError("that upload is gone: upload the file again")
        return owner[1]

    def keep_preview(self, token: str, report: Any) -> None:
        self._previews[token] = report

    def preview(self, token: str, staff_id: int) -> Any:
        """The preview's report of the upload (its rejects are not computed again)."""
        self.get(token, staff_id)
        report = self._previews.get(token)
        if report is None:
            raise NotFoundError("that upload is gone: upload the file again")
        return report

    def _sweep(self) -> None:
        old = [t for t, (_, _, at) in self._owners.items() if time.monotonic() - at > self.KEEP]
        for token in old:
            _, path, _ = self._owners.pop(token)
            self._previews.pop(token, None)
            path.unlink(missing_ok=True)


def roster_run(w: Web, path: Path, dry_run: bool, org: int) -> Any:
    """The roster file read (a preview) or imported, for program ``org``. The import writes
    through its own sessions, each scoped to ``org``."""
    from monitor.reminders import switched_on
    from storage.roster import import_roster

    with session_scope(w.engine, org) as s:
        languages = frozenset(switched_on(s, w.settings))
    return import_roster(
        w.engine,
        path,
        dry_run=dry_run,
        now=w.now(),
        write_rejects=False,
        reminder_languages=languages,
        organization_id=org,
        max_rows=w.settings.roster_max_rows,
    )


def sync_view(s: Any, org: int) -> dict[str, Any]:
    """The program's roster source and its recent syncs, for the Roster page."""
    from storage.roster_sync import configured, recent_runs, shown

    row = configured(s, org)
    where = shown(row.source) if row is not None else ""
    return {"config": row, "where": where, "runs": recent_runs(s, org, 5)}


@router.get("/roster")
def roster_form(request: Request, user: User, s: Scoped) -> Response:
    done = request.query_params.get("done", "")[:20]
    return page(
        request,
        "roster/roster.html",
        user,
        report=None,
        token="",
        sync=sync_view(s, user.organization_id),
        done=done,
    )


@router.post("/roster/sync/dry-run")
def roster_sync_dry_run(request: Request, w: App, user: User) -> Response:
    """What the next sync of the configured source would do; nothing stored."""
    from checks.roster_sync import sync_program

    outcome = sync_program(w.engine, w.settings, user.organization_id, dry_run=True, now=w.now())
    _audit(w, user, "roster_sync_dry_run", outcome.outcome, client_ip(request))
    with session_scope(w.engine, user.organization_id) as s:
        view = sync_view(s, user.organization_id)
    return page(request, "roster/roster.html", user, report=None, token="", sync=view, dry=outcome)


@router.post("/roster/preview", openapi_extra={BODY_LIMIT: MAX_UPLOAD + 65536})
async def roster_preview(request: Request, w: App, user: User) -> Response:
    form = await request.form(max_files=1, max_fields=5)  # read (and CSRF-checked) by the router
    upload = form.get("file")
    if not isinstance(upload, UploadFile) or not upload.filename:
        raise ValidationError("choose a roster file (CSV or XLSX) to upload")
    suffix = Path(upload.filename).suffix.lower()
    if suffix not in (".csv", ".xlsx", ".txt"):
        raise ValidationError(f"{upload.filename}: a roster is a .csv or .xlsx file")
    token = secrets.token_urlsafe(18)
    path = w.uploads.put(token, user.staff_id, suffix, await upload.read(MAX_UPLOAD + 1))
    report = await run_in_threadpool(roster_run, w, path, True, user.organization_id)
    w.uploads.keep_preview(token, report)
    await run_in_threadpool(
        _audit,
        w,
        user,
        "roster_preview",
        f"{report.rows} rows, {len(report.rejects)} rejected",
        client_ip(request),
    )
    return page(
        request,
        "roster/roster.html",
        user,
        report=report,
        token=token,
        filename=upload.filename[:120],
    )


def _audit(w: Web, user: auth.SignedIn, action: str, detail: str, ip: str) -> None:
    with session_scope(w.engine, user.organization_id) as s:
        auth.audit(s, w.now(), user.staff_id, action, detail=detail, ip=ip)


@router.post("/roster/import")
def roster_import(
    request: Request, w: App, user: User, token: Annotated[str, Form(max_length=40)]
) -> Response:
    report = roster_run(w, w.uploads.get(token, user.staff_id), False, user.organization_id)
    _audit(
        w,
        user,
        "roster_import",
        f"{report.created} created, {report.updated} updated, {len(report.rejects)} rejected",
        client_ip(request),
    )
    return page(request, "roster/roster.html", user, report=report, token=token, imported=True)


@router.get("/roster/rejects/{token}.csv")
def roster_rejects(request: Request, w: App, user: User, s: Scoped, token: str) -> Response:
    report = w.uploads.preview(token, user.staff_id)  # kept from the preview, not redone
    # the rows as they were: names and A-numbers
    auth.audit(
        s,
        w.now(),
        user.staff_id,
        "roster_rejects_download",
        detail=f"{len(report.rejects)} rows",
        ip=client_ip(request),
    )
    width = max([len(report.header), *(len(r.values) for r in report.rejects)], default=0)
    rows = [
        [r.line, r.column, r.reason, *r.values, *[""] * (width - len(r.values))]
        for r in report.rejects
    ]
    return csv_file(["line", "column", "reason", *report.header], rows, "roster.rejects.csv")
