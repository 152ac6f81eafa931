"""Federal dockets stored: clients' links to their federal cases, the dockets and entries as
CourtListener has them, the account (token, request budget) and the webhook events received.

A docket number is kept in one form per court kind, so the same case typed two ways is one link:
a district case ``O:YY-TT-NNNNN`` (``5:25-cv-01234``: the office, the year, the case type, the
number in five digits; CDCA's ``EDCV 25-1234`` is office 5, ``SACV`` 8, ``CV`` 2), an appeal
``YY-N`` (``25-1234``). CourtListener's ``docket_number_core`` of both is ``YYNNNNN``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from storage.errors import ValidationError
from storage.models import (
    Client,
    FederalAccount,
    FederalCase,
    FederalDocket,
    FederalEntry,
    FederalWebhook,
)

#: courts of appeals: their docket numbers are YY-N
APPELLATE = re.compile(r"ca(?:[1-9]|1[01]|dc|fc)")
_COURT = re.compile(r"[a-z0-9]{2,15}")
_DISTRICT = re.compile(
    r"(?:(?P<office>\d{1,2})\s*:\s*)?(?P<year>\d{2})\s*-?\s*(?P<type>[a-z]{2,4})\s*-?\s*"
    r"(?P<number>\d{1,5})(?:\s*-\s*[a-z0-9-]+)?",
    re.IGNORECASE,
)
#: CDCA's own caption form: EDCV 25-01234-ABC (Eastern Division = office 5, Southern 8, Western 2)
_CDCA = re.compile(
    r"(?P<division>ED|SA|)\s*(?P<type>CV|CR)\s*(?P<year>\d{2})\s*-\s*(?P<number>\d{1,5})"
    r"(?:\s*-\s*[a-z0-9-]+)?",
    re.IGNORECASE,
)
_CDCA_OFFICE = {"ED": "5", "SA": "8", "": "2"}
_APPEAL = re.compile(r"(?P<year>\d{2})\s*-\s*(?P<number>\d{1,5})")


@dataclass(frozen=True)
class DocketKey:
    court: str
    number: str  # normalized

    @property
    def core(self) -> str:
        """CourtListener's docket_number_core: the year and the number in five digits."""
        if APPELLATE.fullmatch(self.court):
            year, number = self.number.split("-")
        else:
            _, rest = self.number.split(":") if ":" in self.number else ("", self.number)
            year, _, number = rest.split("-")
        return f"{year}{int(number):05d}"

    def __str__(self) -> str:
        return f"{self.court} {self.number}"


def normalize(court: str, number: str) -> DocketKey:
    """The court id and docket number in their stored form, or a ValidationError saying what is
    wrong with which."""
    court = court.strip().lower()
    if not _COURT.fullmatch(court):
        raise ValidationError(f"court {court!r}: give CourtListener's court id (cacd, ca9 ...)")
    text = " ".join(number.split())
    if APPELLATE.fullmatch(court):
        found = _APPEAL.fullmatch(text)
        if not found:
            raise ValidationError(
                f"docket number {number!r}: a court of appeals' number looks like 25-1234"
            )
        return DocketKey(court, f"{found['year']}-{int(found['number'])}")
    district = _DISTRICT.fullmatch(text)
    if district:
        office = f"{int(district['office'])}:" if district["office"] else ""
        return DocketKey(
            court,
            f"{office}{district['year']}-{district['type'].lower()}-{int(district['number']):05d}",
        )
    cdca = _CDCA.fullmatch(text) if court == "cacd" else None
    if cdca:
        office = _CDCA_OFFICE[cdca["division"].upper()]
        return DocketKey(
            court,
            f"{office}:{cdca['year']}-{cdca['type'].lower()}-{int(cdca['number']):05d}",
        )
    raise ValidationError(
        f"docket number {number!r}: a district court's number looks like 5:25-cv-01234"
    )


def parse_cases(text: str) -> list[DocketKey]:
    """The roster's Federal Case column: ``cacd 5:25-cv-01234; ca9 25-1234`` (court id, a space,
    the docket number; several separated by ``;``)."""
    keys: list[DocketKey] = []
    for part in text.split(";"):
        part = part.strip()
        if not part:
            continue
        court, _, number = part.partition(" ")
        if not number.strip():
            raise ValidationError(
                f"federal case {part!r}: give the court id and the docket number, like "
                "`cacd 5:25-cv-01234`"
            )
        key = normalize(court, number)
        if key not in keys:
            keys.append(key)
    return keys


def cases_text(keys: list[DocketKey]) -> str:
    return "; ".join(str(k) for k in keys)


# ---------------------------------------------------------------------------------------- links


def watched() -> Any:
    """The links being watched: active, of an active client (a deactivated client's cases are
    not polled, and alert nobody, until the client is active again)."""
    return sa.and_(
        col(FederalCase.active),
        col(FederalCase.client_id).in_(select(Client.id).where(col(Client.active))),
    )


def link(session: Session, client: Client, key: DocketKey, now: datetime) -> FederalCase:
    """The client's link to ``key``: made (unresolved: the check resolves it), or the one there
    (made active again if it was unlinked)."""
    assert client.id is not None
    row = session.exec(
        select(FederalCase).where(
            FederalCase.client_id == client.id,
            FederalCase.court == key.court,
            FederalCase.docket_number == key.number,
        )
    ).first()
    if row is None:
        row = FederalCase(
            organization_id=client.organization_id,
            client_id=client.id,
            court=key.court,
            docket_number=key.number,
            created_at=now,
        )
    elif not row.active:
        row.active, row.state, row.message, row.baseline = True, "unresolved", "", None
        row.docket_id = None
    session.add(row)
    session.flush()
    return row


def unlink(session: Session, client: Client, key: DocketKey) -> bool:
    """Stop watching the client's case ``key`` (the link and its entries stay, inactive); the
    roster column forgets it too. False when it was not linked."""
    row = session.exec(
        select(FederalCase).where(
            FederalCase.client_id == client.id,
            FederalCase.court == key.court,
            FederalCase.docket_number == key.number,
            col(FederalCase.active),
        )
    ).first()
    listed = parse_cases(client.federal_cases) if client.federal_cases else []
    if key in listed:
        client.federal_cases = cases_text([k for k in listed if k != key])
        session.add(client)
    if row is None:
        return False
    row.active = False
    session.add(row)
    return True


def links_of(session: Session, client_id: int) -> list[FederalCase]:
    return list(
        session.exec(
            select(FederalCase)
            .where(FederalCase.client_id == client_id)
            .order_by(col(FederalCase.active).desc(), col(FederalCase.id))
        )
    )


def entries_of(session: Session, docket_id: int, limit: int = 200) -> list[FederalEntry]:
    """A docket's entries, newest first."""
    return list(
        session.exec(
            select(FederalEntry)
            .where(FederalEntry.docket_id == docket_id)
            .order_by(col(FederalEntry.entry_id).desc())
            .limit(limit)
        )
    )


# ------------------------------------------------------------------------------------ the account


def account(session: Session) -> FederalAccount:
    row = session.exec(select(FederalAccount).order_by(col(FederalAccount.id))).first()
    if row is None:
        row = FederalAccount()
        session.add(row)
        session.flush()
    return row


def set_token(session: Session, token: str) -> None:
    token = token.strip()
    if not re.fullmatch(r"[A-Za-z0-9]{20,80}", token):
        raise ValidationError(
            "that is not a CourtListener API token (40 letters and digits, from your "
            "CourtListener profile's API page)"
        )
    row = account(session)
    row.token = token
    session.add(row)


# ------------------------------------------------------------------------------------ the records


def docket_row(session: Session, answer: dict[str, Any], now: datetime) -> FederalDocket:
    """The stored docket for CourtListener's answer about it (made the first time)."""
    docket_id = int(answer["id"])
    row = session.exec(select(FederalDocket).where(FederalDocket.docket_id == docket_id)).first()
    if row is None:
        row = FederalDocket(
            docket_id=docket_id,
            court=str(answer.get("court_id") or answer.get("court") or "")[:20],
            docket_number=str(answer.get("docket_number") or "")[:60],
            created_at=now,
        )
    row.case_name = str(answer.get("case_name") or row.case_name)[:300]
    session.add(row)
    session.flush()
    return row


def _date(value: Any) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(str(value)[:10])
    except ValueError:
        return None


def _number(value: Any) -> int | None:
    try:
        return int(value) if value not in (None, "") else None
    except (TypeError, ValueError):
        return None


def documents(entry: dict[str, Any]) -> list[dict[str, Any]]:
    """What an entry's RECAP documents say that people use: the description, pages, the link."""
    out = []
    for doc in entry.get("recap_documents") or []:
        if isinstance(doc, dict):
            out.append(
                {
                    "description": str(doc.get("description") or "")[:300],
                    "attachment": doc.get("attachment_number"),
                    "pages": doc.get("page_count"),
                    "url": str(doc.get("absolute_url") or "")[:300],
                }
            )
    return out


def store_entry(
    session: Session, docket: FederalDocket, entry: dict[str, Any], via: str, now: datetime
) -> FederalEntry | None:
    """Store one of the docket's entries as CourtListener gives it; None when it was stored
    already (the webhook and the poll may both bring it)."""
    entry_id = int(entry["id"])
    if session.exec(select(FederalEntry.id).where(FederalEntry.entry_id == entry_id)).first():
        return None
    assert docket.id is not None
    row = FederalEntry(
        entry_id=entry_id,
        docket_id=docket.id,
        entry_number=_number(entry.get("entry_number")),
        date_filed=_date(entry.get("date_filed")),
        description=str(entry.get("description") or "")[:4000],
        documents=documents(entry),
        via=via,
        seen_at=now,
    )
    session.add(row)
    docket.last_entry_id = max(docket.last_entry_id, entry_id)
    session.add(docket)
    session.flush()
    return row


def record_webhook(
    session: Session, key: str, body: dict[str, Any], now: datetime
) -> FederalWebhook | None:
    """Keep a webhook event to process; None when its Idempotency-Key was seen before."""
    if session.exec(select(FederalWebhook.id).where(FederalWebhook.key == key)).first():
        return None
    row = FederalWebhook(key=key[:100], received_at=now, body=body)
    session.add(row)
    session.flush()
    return row


def pending_webhooks(session: Session) -> list[FederalWebhook]:
    return list(
        session.exec(
            select(FederalWebhook)
            .where(FederalWebhook.state == "pending")
            .order_by(col(FederalWebhook.id))
        )
    )
