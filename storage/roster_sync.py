"""A program's roster source, and the record of each sync.

Sync is not import. The source is the program's **complete list of active clients**:

* a row new to docketwatch is added; a changed field is updated; a blank never erases (for a
  stored client a blank cell, even a required one, keeps the stored value; a new client missing
  a required field is rejected, and a rejected row of a stored client does not count as omitted);
* a client the source listed before and omits in two syncs in a row is deactivated (kept, with
  its history; reactivated when it comes back); clients added by hand or by another source are
  never deactivated by a sync;
* a sync whose source omits more than ``roster_sync_max_deactivate_share`` of the active clients
  it listed last time is refused whole: nothing is stored, it does not count toward "two in a
  row", and the coordinators are told once (``--force``, from the command line only, applies it);
* an attorney email that matches no staff member leaves the client watched with its previous
  attorney (or none), and the email is reported.

The rows are read and stored by :func:`storage.roster.sync_roster`; fetching the source and
telling people is :mod:`checks.roster_sync`'s.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from urllib.parse import parse_qsl, urlsplit

from sqlmodel import Session, col, select

from storage.errors import ValidationError
from storage.models import AuditEntry, RosterSync, RosterSyncKind, RosterSyncRun
from storage.roster import ImportReport, parse_mapping

KINDS = tuple(k.value for k in RosterSyncKind)


def source_key(kind: str, source: str) -> str:
    """What ``client.roster_source`` stores for a source: its kind and a digest of where."""
    return f"{kind}:" + hashlib.sha256(source.strip().encode()).hexdigest()[:40]


def guess_kind(source: str) -> str:
    """A LegalServer report's API address is that, a LegalServer site's address (no path) its
    Core API; any other address or a path is a file."""
    if "/modules/report/api_export.php" in source:
        return RosterSyncKind.legalserver_report.value
    if "://" in source and ".legalserver.org" in source and urlsplit(source).path in ("", "/"):
        return RosterSyncKind.legalserver.value
    return RosterSyncKind.file.value


def check_source(kind: str, source: str) -> str:
    """The source, checked for its kind (an error that says what is wrong otherwise)."""
    source = source.strip()
    if kind not in KINDS:
        raise ValidationError(f"roster source kind {kind!r} is not one of: {', '.join(KINDS)}")
    if not source:
        raise ValidationError("the roster source is missing")
    if kind == RosterSyncKind.legalserver_report.value:
        check_address(source)
        parts = urlsplit(source)
        load = [v for k, v in parse_qsl(parts.query) if k == "load"]
        if not parts.path.endswith("/modules/report/api_export.php") or not (
            load and load[0].isdigit()
        ):
            raise ValidationError(
                "a LegalServer report is its API address, as the report's page shows it: "
                "https://SITE.legalserver.org/modules/report/api_export.php?load=REPORT_ID "
                "(its api_key goes in --token-file, not in the address)"
            )
        if any(k == "api_key" for k, _ in parse_qsl(parts.query)):
            raise ValidationError(
                "the report's address carries its api_key: give the address without it, and "
                "the key in --token-file (it is sealed, and never shown)"
            )
    elif kind == RosterSyncKind.legalserver.value:
        check_address(source)
        if urlsplit(source).path not in ("", "/") or urlsplit(source).query:
            raise ValidationError(
                "LegalServer's Core API source is the site's address alone, e.g. "
                "https://SITE.legalserver.org (the matters are searched under /api/v1/)"
            )
        source = source.rstrip("/")
    elif "://" in source:
        check_address(source)
    return source


def check_address(address: str) -> None:
    """``https://`` anywhere; plain ``http://`` only on this machine (tests, the replica)."""
    try:
        parts = urlsplit(address)
        host = parts.hostname or ""
    except ValueError as exc:
        raise ValidationError(f"the address {address!r} cannot be read: {exc}") from None
    if parts.scheme == "https" and host:
        return
    if parts.scheme == "http" and host in ("127.0.0.1", "localhost", "::1"):
        return
    raise ValidationError(
        f"the address {address!r} must be https:// (plain http:// only to this machine)"
    )


def shown(source: str) -> str:
    """A roster source as it may be shown: an address with its secrets masked, a path as it is."""
    from storage.settings import mask_channel

    return mask_channel(source) if "://" in source else source


def configured(session: Session, organization_id: int) -> RosterSync | None:
    return session.exec(
        select(RosterSync).where(RosterSync.organization_id == organization_id)
    ).first()


def configure(
    session: Session,
    organization_id: int,
    *,
    kind: str,
    source: str,
    now: datetime,
    token: str | None = None,
    mapping: list[str] | None = None,
    options: dict[str, str] | None = None,
    interval_minutes: int | None = None,
    enabled: bool = True,
) -> RosterSync:
    """Set (or change) a program's roster source; every value checked first."""
    source = check_source(kind, source)
    pairs = parse_mapping(mapping or [])
    if interval_minutes is not None and not 5 <= interval_minutes <= 7 * 24 * 60:
        raise ValidationError("the sync interval is 5 minutes to a week (in minutes)")
    row = configured(session, organization_id) or RosterSync(
        organization_id=organization_id, kind=kind, source=source, created_at=now, updated_at=now
    )
    if (row.kind, row.source) != (kind, source):
        row.refused_since, row.rejects_digest = None, ""
        row.consecutive_failures, row.failing = 0, False
    row.kind, row.source, row.updated_at, row.enabled = kind, source, now, enabled
    row.mapping = pairs if mapping is not None else row.mapping
    row.options = dict(options) if options is not None else row.options
    if token is not None:
        row.token = token.strip() or None
    if interval_minutes is not None:
        row.interval_minutes = interval_minutes
    session.add(row)
    session.flush()
    return row


def record_run(
    session: Session,
    organization_id: int,
    kind: str,
    started: datetime,
    finished: datetime,
    outcome: str,
    report: ImportReport | None,
    message: str = "",
) -> RosterSyncRun:
    """A run row (``docketwatch status``, the Sources page) and its audit row."""
    run = RosterSyncRun(
        organization_id=organization_id,
        kind=kind,
        started_at=started,
        finished_at=finished,
        outcome=outcome,
        message=message[:2000],
    )
    if report is not None:
        run.rows, run.added, run.updated = report.rows, report.created, report.updated
        run.unchanged, run.rejected = report.unchanged, len(report.rejects)
        run.deactivated, run.reactivated = report.deactivated, report.reactivated
    session.add(run)
    session.add(
        AuditEntry(
            at=finished,
            organization_id=organization_id,
            action="roster_sync",
            detail=(
                f"{kind} {outcome}: {run.rows} rows, {run.added} added, {run.updated} updated, "
                f"{run.deactivated} deactivated, {run.reactivated} reactivated, "
                f"{run.rejected} rejected"
            )[:300],
        )
    )
    session.flush()
    return run


def recent_runs(session: Session, organization_id: int, limit: int = 10) -> list[RosterSyncRun]:
    return list(
        session.exec(
            select(RosterSyncRun)
            .where(RosterSyncRun.organization_id == organization_id)
            .order_by(col(RosterSyncRun.id).desc())
            .limit(limit)
        )
    )


def status_record(session: Session, organization_id: int) -> dict[str, object] | None:
    """The program's roster source and its last sync, for ``status`` and the Sources page."""
    row = configured(session, organization_id)
    runs = recent_runs(session, organization_id, 1)
    if row is None and not runs:
        return None
    last = runs[0] if runs else None
    return {
        "source": f"{row.kind} {shown(row.source)}" if row else "none set (synced by hand)",
        "every": f"{row.interval_minutes} min{'' if row.enabled else ' (paused)'}" if row else "",
        "failing": bool(row and row.failing),
        "last_sync": last.started_at.isoformat(timespec="minutes") if last else None,
        "outcome": last.outcome if last else None,
        "rows": last.rows if last else 0,
        "added": last.added if last else 0,
        "updated": last.updated if last else 0,
        "deactivated": last.deactivated if last else 0,
        "reactivated": last.reactivated if last else 0,
        "rejected": last.rejected if last else 0,
        "message": last.message if last else "",
    }
