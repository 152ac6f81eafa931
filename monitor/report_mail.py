"""The monthly report's alert carries the reports themselves (PDF, published form) to email
channels: the program report of the month and, when a FOIA release with the alert court's
history is loaded, the representation report of the twelve months up to it. Each file is made
once per month in ``data_dir/reports``. A report that cannot be made is left out (the alert still
gives its figures and where to download it)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session

from monitor.messages import Message
from monitor.outbox import attaches
from storage.db import session_scope
from storage.errors import ValidationError
from storage.models import Event
from storage.settings import Settings

log = logging.getLogger(__name__)


@attaches("monthly_report")
def with_reports(
    message: Message, event: Event, settings: Settings, engine: sa.Engine, now: datetime
) -> Message:
    from monitor.reports import parse_month, program_report, year_up_to
    from monitor.representation import history_release, representation_report

    try:
        month = parse_month(event.subject_key, "report month")
    except ValidationError:
        return message
    zone, court = settings.timezone, settings.eoir_foia_alert_court

    def representation(s: Session) -> Any:
        release = history_release(s, court)
        last = min(month, date(release.as_of.year, release.as_of.month, 1))
        return representation_report(s, court, year_up_to(last), last, now)

    made = [
        report_pdf(
            settings,
            engine,
            f"program-{month:%Y-%m}.pdf",
            lambda s: program_report(s, month, month, zone, now),
        ),
        report_pdf(settings, engine, f"representation-{court}-{month:%Y-%m}.pdf", representation),
    ]
    attachments = tuple(path for path in made if path is not None)
    return replace(message, attachments=attachments) if attachments else message


def report_pdf(
    settings: Settings, engine: sa.Engine, name: str, make: Callable[[Session], Any]
) -> str | None:
    """The report's PDF in ``data_dir/reports`` (made once), or None when it cannot be made."""
    from monitor.report_files import pdf
    from storage.files import private_file

    folder = settings.data_dir / "reports"
    path = folder / name
    try:
        if not path.exists():
            folder.mkdir(parents=True, exist_ok=True, mode=0o700)
            with session_scope(engine) as session:
                report = make(session)
            staged = path.with_suffix(".pdf.part")
            with private_file(staged, "wb") as out:
                out.write(pdf(report.published()))
            staged.replace(path)
    except ValidationError as exc:  # nothing to report yet (no release loaded, say)
        log.info("the monthly %s is not attached: %s", name, exc)
        return None
    except Exception:
        log.exception("the monthly report %s could not be made", name)
        return None
    return str(path)
