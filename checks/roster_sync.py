"""Syncing a program's roster from its case-management system (the contract:
:mod:`storage.roster_sync`).

A source is read into one file, then applied with the roster import's rules:

* ``file``: a CSV or XLSX at an ``https://`` address (a token, if given, is sent as a Bearer
  token), a file, or a folder (the newest ``.csv``, ``.tsv`` or ``.xlsx`` in it: where a nightly
  export or an SFTP drop writes);
* ``legalserver-report``: LegalServer's Reports API (``/modules/report/api_export.php?load=ID``
  with the report's ``api_key``), JSON or XML, its columns mapped to the roster's fields;
* ``legalserver``: LegalServer's Core API, a search of the site's open matters
  (``/api/v1/matters``, Bearer token, paged), the A-number and nationality from the fields the
  settings name, the current advocates' emails (``/api/v1/users/{uuid}``), the matter's UUID
  (for case notes).

Exit status of a sync, as the command line gives it: 0 every row applied, 1 some rows rejected
(the rest stored), 2 refused or the source could not be read (nothing stored). A source that
cannot be read several syncs in a row (``source_failure_threshold``) is reported to the
program's admins once; a refused sync to its coordinators once; rejected rows to its
coordinators as one digest when they change, never the same ones every hour.
"""

from __future__ import annotations

import csv
import hashlib
import json
import logging
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import sqlalchemy as sa
from parsel import Selector
from sqlmodel import col, select

from monitor.events import EventInput
from monitor.route import emit
from storage.db import session_scope
from storage.errors import ImportFileError, ValidationError
from storage.logs import redact
from storage.models import RosterSync, RosterSyncKind, RosterSyncRun
from storage.roster import ImportReport, parse_mapping, sync_roster
from storage.roster_sync import check_source, configured, record_run, source_key
from storage.settings import Settings

log = logging.getLogger(__name__)

USER_AGENT = "docketwatch-roster-sync/1 (a legal services program's own case list)"
MAX_BYTES = 64 * 1024 * 1024
SUFFIXES = (".csv", ".tsv", ".xlsx")
#: rejected rows listed in a digest; the rest are counted
DIGEST_ROWS = 20


class SourceError(Exception):
    """The source could not be read: nothing is stored."""


@dataclass(frozen=True)
class SyncSource:
    kind: str
    source: str
    token: str | None = None
    mapping: dict[str, str] = field(default_factory=dict)
    hidden_columns: bool = True  # a LegalServer report's hidden columns (its API's default)

    @property
    def key(self) -> str:
        return source_key(self.kind, self.source)

    @classmethod
    def of(cls, row: RosterSync) -> SyncSource:
        hidden = row.options.get("hidden_columns", "yes") != "no"
        return cls(row.kind, row.source, row.token, dict(row.mapping), hidden)

    @classmethod
    def given(
        cls,
        kind: str,
        source: str,
        token: str | None,
        mapping: list[str] | None,
        hidden_columns: bool = True,
    ) -> SyncSource:
        checked = check_source(kind, source)
        return cls(kind, checked, token, parse_mapping(mapping or []), hidden_columns)


@dataclass
class SyncOutcome:
    exit_code: int
    outcome: str  # ok, partial, refused, failed, dry-run
    message: str
    report: ImportReport | None = None
    run_id: int | None = None


# ------------------------------------------------------------------------------------- reading


def _newest(folder: Path) -> Path:
    found = [
        p
        for p in folder.iterdir()
        if p.is_file()
        and p.suffix.lower() in SUFFIXES
        and not p.name.startswith(".")
        and not p.name.endswith(".rejects.csv")
    ]
    if not found:
        raise SourceError(f"{folder}: no .csv, .tsv or .xlsx file in the folder")
    return max(found, key=lambda p: (p.stat().st_mtime, p.name))


def _get(url: str, params: dict[str, Any], headers: dict[str, str]) -> httpx.Response:
    where = _bare(url)
    try:
        with httpx.stream(
            "GET",
            httpx.URL(url).copy_merge_params(params),
            headers={"user-agent": USER_AGENT, **headers},
            timeout=httpx.Timeout(60.0, connect=15.0),
            follow_redirects=False,
        ) as answer:
            body = bytearray()
            for chunk in answer.iter_bytes():
                body += chunk
                if len(body) > MAX_BYTES:
                    raise SourceError(f"{where}: the answer is larger than {MAX_BYTES:,} bytes")
    except httpx.HTTPError as exc:
        raise SourceError(f"{where}: {type(exc).__name__}: {exc}") from None
    status = answer.status_code
    if status in (401, 403):
        raise SourceError(f"{where}: refused the credentials (HTTP {status}): check the token")
    if status == 429:
        wait = answer.headers.get("retry-after", "")
        raise SourceError(
            f"{where}: too many requests (HTTP 429{', retry after ' + wait + ' s' if wait else ''})"
        )
    if status >= 300:
        raise SourceError(f"{where}: HTTP {status}")
    return httpx.Response(status, headers=answer.headers, content=bytes(body))


def _download(source: SyncSource, workdir: Path) -> Path:
    headers = {"authorization": f"Bearer {source.token}"} if source.token else {}
    answer = _get(source.source, {}, headers)
    name = Path(urlsplit(source.source).path).name
    suffix = Path(name).suffix.lower()
    if suffix not in SUFFIXES:
        kind = answer.headers.get("content-type", "")
        zipped = answer.content[:4] == b"PK\x03\x04"
        suffix = ".xlsx" if zipped or "spreadsheetml" in kind else ".csv"
    target = workdir / f"roster{suffix}"
    target.write_bytes(answer.content)
    return target


def _report_rows(answer: httpx.Response, where: str) -> list[dict[str, str]]:
    """A LegalServer report's rows: JSON (a list of objects, or one wrapping the list) or XML
    (``row`` elements whose children are the columns). Booleans come as ``t``/``f`` and numbers
    as strings: every value is read as text."""
    kind = answer.headers.get("content-type", "")
    text = answer.text
    if "json" in kind or text.lstrip()[:1] in ("[", "{"):
        try:
            data: Any = json.loads(text)
        except ValueError as exc:
            raise SourceError(f"{where}: the report's JSON cannot be read: {exc}") from None
        if isinstance(data, dict):
            if "error" in data or "errors" in data:
                raise SourceError(f"{where}: LegalServer says: {str(data)[:300]}")
            lists = [v for v in data.values() if isinstance(v, list)]
            data = lists[0] if len(lists) == 1 else None
        if not isinstance(data, list) or not all(isinstance(r, dict) for r in data):
            raise SourceError(f"{where}: the report's JSON is not a list of rows")
        return [{str(k): "" if v is None else str(v) for k, v in r.items()} for r in data]
    if "xml" in kind or text.lstrip().startswith("<"):
        page = Selector(text=text, type="xml")
        rows = []
        for row in page.xpath("//row"):
            rows.append(
                {
                    str(cell.xpath("name()").get()): "".join(cell.xpath("text()").getall()).strip()
                    for cell in row.xpath("*")
                }
            )
        if not rows and page.xpath("//error"):
            raise SourceError(f"{where}: LegalServer says: {page.xpath('string(//error)').get()}")
        return rows
    raise SourceError(f"{where}: the report answered {kind or 'no content type'}, not JSON or XML")


def _legalserver_report(source: SyncSource, workdir: Path) -> Path:
    where = _bare(source.source)
    if not source.token:
        raise SourceError(f"{where}: the report's api_key is missing (--token-file)")
    key, _, bearer = source.token.partition("\n")
    headers = {"authorization": f"Bearer {bearer.strip()}"} if bearer.strip() else {}
    params = {"api_key": key.strip()}
    if not source.hidden_columns:  # LegalServer includes them unless asked
        params["display_hidden_columns"] = "false"
    answer = _get(source.source, params, headers)
    rows = _report_rows(answer, where)
    if not rows:
        raise SourceError(f"{where}: the report has no rows (a sync never reads an empty list)")
    header = list(dict.fromkeys(k for r in rows for k in r))
    target = workdir / "report.csv"
    with target.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(header)
        writer.writerows([r.get(h, "") for h in header] for r in rows)
    return target


#: the roster's headers of what a matter search gives (read by the import's usual rules)
MATTER_HEADER = [
    "A-Number",
    "Client Name",
    "Nationality",
    "Date of Birth",
    "Attorney Email",
    "Backup Attorney Email",
    "Matter UUID",
]
MAX_PAGES = 200  # of 100 matters: a program's open cases are a few thousand


def _field(matter: dict[str, Any], name: str) -> str:
    """A matter's field, or its custom field of that database name; as text."""
    value = matter.get(name)
    if value is None:
        value = (matter.get("custom_fields") or {}).get(name)
    if isinstance(value, dict):  # a date or a lookup: {"raw_value": ..., "text_value": ...}
        value = value.get("raw_value") or value.get("text_value") or value.get("lookup_value")
    return "" if value is None else str(value).strip()


def _matters(source: SyncSource, settings: Settings) -> list[dict[str, Any]]:
    site = source.source.rstrip("/")
    headers = {"authorization": f"Bearer {source.token}"}
    customs = [
        f
        for f in (settings.legalserver_a_number_field, settings.legalserver_nationality_field)
        if f not in ("a_number", "citizenship", "citizenship_country")
    ]
    found: list[dict[str, Any]] = []
    for page in range(1, MAX_PAGES + 1):
        params: dict[str, Any] = {
            "case_disposition": "Open",
            "results": "full",
            "page_number": str(page),
            "page_size": "100",
        }
        if customs:
            params["custom_fields"] = customs
        body = _json(_get(f"{site}/api/v1/matters", params, headers), f"{site}/api/v1/matters")
        found += [m for m in body.get("data") or [] if isinstance(m, dict)]
        if page >= int(body.get("total_number_of_pages") or 1):
            return found
    raise SourceError(f"{site}: more than {MAX_PAGES} pages of open matters")


def _json(answer: httpx.Response, where: str) -> dict[str, Any]:
    try:
        body = answer.json()
    except ValueError:
        raise SourceError(f"{where}: the answer is not JSON") from None
    if not isinstance(body, dict):
        raise SourceError(f"{where}: the answer is not a JSON object")
    return body


def _email(site: str, headers: dict[str, str], user_uuid: str, cache: dict[str, str]) -> str:
    if user_uuid not in cache:
        where = f"{site}/api/v1/users/{user_uuid}"
        user = _json(_get(where, {}, headers), where).get("data") or {}
        cache[user_uuid] = str(user.get("email") or "").lower()
    return cache[user_uuid]


def _legalserver_matters(source: SyncSource, settings: Settings, workdir: Path) -> Path:
    """The site's open matters as roster rows: the A-number and nationality from the fields
    the settings name, the primary and first other current advocate's emails."""
    if not source.token:
        raise SourceError(f"{source.source}: the API user's token is missing (--token-file)")
    site = source.source.rstrip("/")
    headers = {"authorization": f"Bearer {source.token}"}
    users: dict[str, str] = {}
    rows = []
    for matter in _matters(source, settings):
        current = [a for a in matter.get("assignments") or [] if not a.get("end_date")]
        current.sort(key=lambda a: str(a.get("type", "")).lower() != "primary")
        emails = [
            _email(site, headers, str(a["user"]["user_uuid"]), users)
            for a in current[:2]
            if isinstance(a.get("user"), dict) and a["user"].get("user_uuid")
        ]
        last, first = _field(matter, "last"), _field(matter, "first")
        name = f"{last}, {first}" if last and first else _field(matter, "client_full_name")
        rows.append(
            [
                _field(matter, settings.legalserver_a_number_field),
                name,
                _field(matter, settings.legalserver_nationality_field),
                _field(matter, "date_of_birth"),
                emails[0] if emails else "",
                emails[1] if len(emails) > 1 else "",
                _field(matter, "matter_uuid"),
            ]
        )
    if not rows:
        raise SourceError(f"{site}: no open matter (a sync never reads an empty list)")
    target = workdir / "matters.csv"
    with target.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(MATTER_HEADER)
        writer.writerows(rows)
    return target


def read_source(source: SyncSource, workdir: Path, settings: Settings | None = None) -> Path:
    """The source as one roster file (downloaded or converted into ``workdir``)."""
    if source.kind == RosterSyncKind.legalserver_report.value:
        return _legalserver_report(source, workdir)
    if source.kind == RosterSyncKind.legalserver.value:
        return _legalserver_matters(source, settings or Settings(), workdir)
    if "://" in source.source:
        return _download(source, workdir)
    path = Path(source.source).expanduser()
    if path.is_dir():
        return _newest(path)
    if not path.is_file():
        raise SourceError(f"{path}: no such file or folder")
    return path


# ------------------------------------------------------------------------------------- syncing


def sync_program(
    engine: sa.Engine,
    settings: Settings,
    organization_id: int,
    *,
    given: SyncSource | None = None,
    dry_run: bool = False,
    force: bool = False,
    now: datetime | None = None,
) -> SyncOutcome:
    """Sync one program's roster from ``given`` or its configured source; record the run and
    tell whom it concerns."""
    started = now or datetime.now(UTC)
    with session_scope(engine) as session:
        row = configured(session, organization_id)
        source = given or (SyncSource.of(row) if row else None)
        configured_here = (
            row is not None and source is not None and source.key == (SyncSource.of(row).key)
        )
    if source is None:
        raise ValidationError(
            "this program has no roster source: give one (`docketwatch clients sync SOURCE`) "
            "or set it (`docketwatch orgs set --roster-sync SOURCE`)"
        )
    report: ImportReport | None = None
    with tempfile.TemporaryDirectory(prefix="docketwatch-sync-") as work:
        path = Path(work) / "source"
        try:
            path = read_source(source, Path(work), settings)
            report = sync_roster(
                engine,
                path,
                key=source.key,
                organization_id=organization_id,
                mapping=source.mapping,
                max_omitted_share=settings.roster_sync_max_deactivate_share,
                force=force,
                dry_run=dry_run,
                now=started,
                reminder_languages=_languages(engine, settings),
                max_rows=settings.roster_max_rows,
            )
        except (SourceError, ImportFileError) as exc:
            # a downloaded or converted file is named by where it came from
            message = str(exc)
            if path.is_relative_to(work):
                message = message.replace(str(path), _where(source))
            return _failed(engine, settings, organization_id, source, started, message, dry_run)
    if report.refused:
        outcome = SyncOutcome(2, "refused", report.refused, report)
    elif dry_run:
        outcome = SyncOutcome(1 if report.rejects else 0, "dry-run", _summary(report), report)
    else:
        outcome = SyncOutcome(
            1 if report.rejects else 0,
            "partial" if report.rejects else "ok",
            _summary(report),
            report,
        )
    finished = datetime.now(UTC) if now is None else started
    with session_scope(engine) as session:
        run = record_run(
            session,
            organization_id,
            source.kind,
            started,
            finished,
            outcome.outcome,
            report,
            outcome.message,
        )
        outcome.run_id = run.id
        if configured_here and not dry_run:
            _after(session, settings, organization_id, report, run, started)
    return outcome


def _languages(engine: sa.Engine, settings: Settings) -> frozenset[str]:
    from monitor.reminders import switched_on

    with session_scope(engine) as session:
        return frozenset(switched_on(session, settings))


def _bare(url: str) -> str:
    """An address without its query (where a LegalServer report's key travels)."""
    return urlsplit(url)._replace(query="").geturl()


def _where(source: SyncSource) -> str:
    return _bare(source.source) if "://" in source.source else source.source


def _summary(report: ImportReport) -> str:
    words = (
        f"{report.rows} rows: {report.created} added, {report.updated} updated, "
        f"{report.unchanged} unchanged, {report.deactivated} deactivated, "
        f"{report.reactivated} reactivated, {len(report.rejects)} rejected"
    )
    if report.unknown_emails:
        words += f"; attorney emails that match no staff: {', '.join(report.unknown_emails)}"
    return words


def _failed(
    engine: sa.Engine,
    settings: Settings,
    organization_id: int,
    source: SyncSource,
    started: datetime,
    message: str,
    dry_run: bool,
) -> SyncOutcome:
    with session_scope(engine) as session:
        run = record_run(
            session, organization_id, source.kind, started, started, "failed", None, message
        )
        row = configured(session, organization_id)
        if row is not None and not dry_run and SyncSource.of(row).key == source.key:
            row.consecutive_failures += 1
            if row.consecutive_failures >= settings.source_failure_threshold and not row.failing:
                row.failing = True
                _emit(
                    session,
                    "roster_sync_failing",
                    organization_id,
                    f"roster:{organization_id}:failing:{run.id}",
                    [
                        {
                            "note": "roster_failing",
                            "runs": row.consecutive_failures,
                            "message": message,
                        }
                    ],
                    started,
                )
            session.add(row)
    log.warning("roster sync of program #%d failed: %s", organization_id, message)
    return SyncOutcome(2, "failed", message, None, run.id)


def _after(
    session: Any,
    settings: Settings,
    organization_id: int,
    report: ImportReport,
    run: RosterSyncRun,
    now: datetime,
) -> None:
    """After a sync of the configured source: its failure count, the refusal said once, the
    rejects digest when they changed."""
    row = configured(session, organization_id)
    assert row is not None
    if row.failing:
        _emit(
            session,
            "roster_sync_recovered",
            organization_id,
            f"roster:{organization_id}:recovered:{run.id}",
            [{"note": "roster_recovered", "at": now.strftime("%Y-%m-%d %H:%M")}],
            now,
        )
    row.consecutive_failures, row.failing = 0, False
    if report.refused:
        if row.refused_since is None:
            row.refused_since = now
            _emit(
                session,
                "roster_sync_refused",
                organization_id,
                f"roster:{organization_id}:refused:{run.id}",
                [
                    {
                        "note": "roster_refused",
                        "omitted": report.omitted,
                        "listed": report.listed_before,
                    }
                ],
                now,
            )
        session.add(row)
        return
    row.refused_since = None
    changed = report.created + report.updated + report.deactivated + report.reactivated
    digest = _rejects_digest(report)
    if changed and digest != row.rejects_digest and (report.rejects or report.unknown_emails):
        notes: list[dict[str, Any]] = [
            {
                "note": "roster_reject",
                "line": r.line,
                "column": r.column,
                "reason": redact(r.reason),
            }
            for r in report.rejects[:DIGEST_ROWS]
        ]
        if len(report.rejects) > DIGEST_ROWS:
            notes.append(
                {"note": "roster_more_rejects", "count": len(report.rejects) - DIGEST_ROWS}
            )
        if report.unknown_emails:
            notes.append(
                {"note": "roster_unknown_emails", "emails": ", ".join(report.unknown_emails)}
            )
        _emit(
            session,
            "roster_sync_rejects",
            organization_id,
            f"roster:{organization_id}:rejects:{digest[:32]}:{run.id}",
            notes,
            now,
        )
    if changed or not (report.rejects or report.unknown_emails):
        row.rejects_digest = digest
    session.add(row)


def _rejects_digest(report: ImportReport) -> str:
    lines: Iterator[str] = (f"{r.line}|{r.column}|{r.reason}" for r in report.rejects)
    text = "\n".join([*sorted(lines), *report.unknown_emails])
    return hashlib.sha256(text.encode()).hexdigest() if text else ""


def _emit(
    session: Any,
    kind: str,
    organization_id: int,
    dedup: str,
    notes: list[dict[str, Any]],
    now: datetime,
) -> None:
    emit(
        session,
        EventInput(
            kind=kind,
            subject_type="roster",
            subject_key=str(organization_id),
            dedup_key=dedup,
            organization_id=organization_id,
            payload={"notes": notes},
            occurred_at=now,
        ),
        now,
    )


def due_programs(engine: sa.Engine, now: datetime) -> list[int]:
    """Programs whose configured, enabled source is due (its interval since its last run)."""
    due = []
    with session_scope(engine) as session:
        for row in session.exec(select(RosterSync).where(col(RosterSync.enabled).is_(True))):
            last = session.exec(
                select(RosterSyncRun.started_at)
                .where(
                    RosterSyncRun.organization_id == row.organization_id,
                    RosterSyncRun.outcome != "dry-run",  # a look, not a sync
                )
                .order_by(col(RosterSyncRun.id).desc())
            ).first()
            if last is None or (now - last).total_seconds() >= row.interval_minutes * 60:
                due.append(row.organization_id)
    return due
