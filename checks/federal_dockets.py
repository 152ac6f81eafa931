"""The federal_dockets check: clients' federal cases, watched through CourtListener.

One check, in this order, each step within the hour's request budget:

1. links the roster's Federal Case column asks for are made (unresolved);
2. unresolved links (and ones CourtListener did not know, tried again) are resolved to a docket;
   a resolved link's baseline is the docket's entries as they are then: stored, shown, never
   alerted;
3. each linked docket has a docket alert at CourtListener (so its webhooks come), and a docket
   nobody links any more has its alert deleted;
4. webhook events waiting are confirmed: each entry is read back through the API before anyone
   is alerted (a webhook body is never trusted alone);
5. every linked docket is polled for entries newer than the newest stored, following the cursor
   pages: the fallback when webhooks do not come, and the catch-up after downtime.

CourtListener's 429 is honored: no request before its ``Retry-After`` has passed (the run is
recorded ``blocked``, admins hear of it if it lasts). An out-of-budget run stops where it is and
the next one goes on.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlmodel import col, select

from checks.run import CheckReport, crawl_run
from monitor.federal_dockets import apply_entries
from spiders.federal_dockets import (
    SOURCE,
    CourtListener,
    NotFound,
    OutOfBudget,
    Throttled,
    docket_of,
)
from storage.db import session_scope
from storage.errors import BlockedError, SourceError, ValidationError
from storage.federal_dockets import (
    DocketKey,
    account,
    docket_row,
    link,
    normalize,
    parse_cases,
    pending_webhooks,
    watched,
)
from storage.models import Client, FederalCase, FederalDocket, FederalEntry, FederalWebhook
from storage.settings import Settings

log = logging.getLogger(__name__)


def _spender(engine: sa.Engine, settings: Settings, clock: Callable[[], datetime]) -> Any:
    """A ``spend()`` that counts each request against the hour's budget, in the database (the
    web app's webhook confirmations and the service's checks share it)."""

    def spend() -> bool:
        now = clock()
        with session_scope(engine) as session:
            row = account(session)
            if row.not_before is not None and now < row.not_before:
                wait = (row.not_before - now).total_seconds()
                raise Throttled(f"CourtListener asked to wait; {wait:.0f} s left", wait)
            start = row.window_start
            if start is None or not start <= now < start + timedelta(hours=1):  # a new hour
                row.window_start, row.used = now, 0
            if row.used >= settings.federal_dockets_requests_per_hour:
                return False
            row.used += 1
            session.add(row)
        return True

    return spend


@contextmanager
def courtlistener(
    engine: sa.Engine,
    settings: Settings,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> Iterator[CourtListener]:
    """An API session with the stored token; a 429 it meets is remembered (``not_before``)."""
    with session_scope(engine) as session:
        token = account(session).token
    if not token:
        raise BlockedError(
            "no CourtListener token: set one with "
            "`docketwatch federal_dockets token --token-file F`"
        )
    api = CourtListener(
        settings.federal_dockets_url, token, settings.user_agent, _spender(engine, settings, clock)
    )
    try:
        yield api
    except Throttled as exc:
        with session_scope(engine) as session:
            row = account(session)
            until = clock() + timedelta(seconds=exc.retry_after)
            if row.not_before is None or row.not_before < until:
                row.not_before = until
                session.add(row)
        raise
    finally:
        api.close()


# ------------------------------------------------------------------------------------ the steps


def roster_links(engine: sa.Engine, now: datetime) -> int:
    """Links for the cases clients' roster rows list and nobody linked yet."""
    made = 0
    with session_scope(engine) as session:
        for client in session.exec(
            select(Client).where(col(Client.active), Client.federal_cases != "")
        ):
            try:
                keys = parse_cases(client.federal_cases)
            except ValidationError as exc:
                log.warning("client #%s: federal cases unreadable: %s", client.id, exc)
                continue
            for key in keys:
                exists = session.exec(
                    select(FederalCase.id).where(
                        FederalCase.client_id == client.id,
                        FederalCase.court == key.court,
                        FederalCase.docket_number == key.number,
                    )
                ).first()
                if exists is None:
                    link(session, client, key, now)
                    made += 1
    return made


def _same(key: DocketKey, answer: dict[str, Any]) -> bool:
    try:
        theirs = normalize(key.court, str(answer.get("docket_number") or ""))
    except ValidationError:
        return False
    if theirs.number == key.number:
        return True
    # a number given without its office (25-cv-01234) matches the docket's 5:25-cv-01234
    return ":" not in key.number and theirs.number.split(":")[-1] == key.number


def resolve(engine: sa.Engine, api: CourtListener, now: datetime, zone: str) -> Counter[str]:
    """Resolve waiting links to CourtListener's dockets, each with its baseline."""
    counts: Counter[str] = Counter()
    with session_scope(engine) as session:
        waiting = [
            (c.id, c.court, c.docket_number)
            for c in session.exec(
                select(FederalCase).where(watched(), col(FederalCase.state) != "linked")
            )
        ]
    for case_id, court, number in waiting:
        key = DocketKey(court, number)
        found = [d for d in api.dockets(court, number, key.core) if _same(key, d)]
        with session_scope(engine) as session:
            case = session.get(FederalCase, case_id)
            assert case is not None
            if not found:
                case.state = "not_found"
                case.message = (
                    f"CourtListener has no {court} docket {number} (asked "
                    f"{now:%Y-%m-%d %H:%M} UTC); asked again at each check"
                )[:300]
                session.add(case)
                counts["not_found"] += 1
                continue
            docket = docket_row(session, found[0], now)
            docket_id, after = docket.docket_id, docket.last_entry_id
        baseline = list(api.entries(docket_id, after))
        with session_scope(engine) as session:
            docket = session.exec(
                select(FederalDocket).where(FederalDocket.docket_id == docket_id)
            ).one()
            watchers = session.exec(
                select(FederalCase.id).where(
                    FederalCase.docket_id == docket.id, col(FederalCase.baseline).is_not(None)
                )
            ).first()
            # Entries new to a docket another link watches alert its watchers (the new link's
            # baseline is not set yet, so they are this link's baseline either way).
            counts.update(
                apply_entries(session, docket, baseline, "poll" if watchers else "link", now, zone)
            )
            case = session.get(FederalCase, case_id)
            assert case is not None
            case.docket_id, case.state, case.message = docket.id, "linked", ""
            case.baseline, case.resolved_at = docket.last_entry_id, now
            session.add(case)
            counts["linked"] += 1
    return counts


def sync_alerts(engine: sa.Engine, api: CourtListener) -> Counter[str]:
    """A docket alert on each linked docket; none on a docket nobody links any more."""
    counts: Counter[str] = Counter()
    with session_scope(engine) as session:
        linked = set(
            session.exec(
                select(FederalCase.docket_id).where(
                    watched(), col(FederalCase.docket_id).is_not(None)
                )
            )
        )
        dockets = [(d.id, d.docket_id, d.alert_id) for d in session.exec(select(FederalDocket))]
    for row_id, docket_id, alert_id in dockets:
        if row_id in linked and alert_id is None:
            new_id: int | None = api.add_alert(docket_id)
            counts["alerts_added"] += 1
        elif row_id not in linked and alert_id is not None:
            api.delete_alert(alert_id)
            new_id = None
            counts["alerts_deleted"] += 1
        else:
            continue
        with session_scope(engine) as session:
            docket = session.get(FederalDocket, row_id)
            assert docket is not None
            docket.alert_id = new_id
            session.add(docket)
    return counts


def confirm_webhooks(
    engine: sa.Engine, api: CourtListener, now: datetime, zone: str
) -> Counter[str]:
    """Process the webhook events waiting: each entry of a linked docket is read back through
    the API, and only what CourtListener confirms is stored and alerted."""
    counts: Counter[str] = Counter()
    with session_scope(engine) as session:
        waiting = [(w.id, w.body) for w in pending_webhooks(session)]
    for webhook_id, body in waiting:
        payload = body.get("payload") if isinstance(body, dict) else None
        results = payload.get("results") if isinstance(payload, dict) else None
        notes: list[str] = []
        for entry in results if isinstance(results, list) else []:
            if not isinstance(entry, dict) or not str(entry.get("id", "")).isdigit():
                notes.append("an entry without an id")
                continue
            docket_id = docket_of(entry)
            with session_scope(engine) as session:
                docket = session.exec(
                    select(FederalDocket).where(FederalDocket.docket_id == docket_id)
                ).first()
                linked = docket is not None and (
                    session.exec(
                        select(FederalCase.id).where(FederalCase.docket_id == docket.id, watched())
                    ).first()
                    is not None
                )
                stored = (
                    session.exec(
                        select(FederalEntry.id).where(FederalEntry.entry_id == int(entry["id"]))
                    ).first()
                    is not None
                )
            if not linked:
                notes.append(f"entry {entry['id']}: docket {docket_id} is not linked: ignored")
                counts["webhook_unlinked"] += 1
                continue
            if stored:  # polled already: nothing to confirm, nothing new
                notes.append(f"entry {entry['id']}: stored already")
                continue
            try:
                confirmed = api.entry(int(entry["id"]))
            except NotFound:
                confirmed = None
            if confirmed is None or docket_of(confirmed) != docket_id:
                notes.append(f"entry {entry['id']}: not confirmed by the API: not alerted")
                counts["webhook_unconfirmed"] += 1
                continue
            try:
                with session_scope(engine) as session:
                    docket = session.exec(
                        select(FederalDocket).where(FederalDocket.docket_id == docket_id)
                    ).one()
                    found = apply_entries(session, docket, [confirmed], "webhook", now, zone)
            except sa.exc.IntegrityError:  # the check stored it meanwhile: nothing twice
                notes.append(f"entry {entry['id']}: stored meanwhile")
                continue
            counts.update(found)
            counts["webhook_confirmed"] += 1
        with session_scope(engine) as session:
            row = session.get(FederalWebhook, webhook_id)
            assert row is not None
            row.state, row.done_at = "done", now
            row.note = "; ".join(notes)[:300] or "confirmed"
            session.add(row)
    return counts


def poll(engine: sa.Engine, api: CourtListener, now: datetime, zone: str) -> Counter[str]:
    """Every linked docket's entries newer than the newest stored (oldest dockets first)."""
    counts: Counter[str] = Counter()
    with session_scope(engine) as session:
        dockets = [
            (d.id, d.docket_id, d.last_entry_id)
            for d in session.exec(
                select(FederalDocket)
                .where(col(FederalDocket.id).in_(select(FederalCase.docket_id).where(watched())))
                .order_by(col(FederalDocket.polled_at).is_not(None), col(FederalDocket.polled_at))
            )
        ]
    for row_id, docket_id, after in dockets:
        answers = list(api.entries(docket_id, after))
        with session_scope(engine) as session:
            docket = session.get(FederalDocket, row_id)
            assert docket is not None
            counts.update(apply_entries(session, docket, answers, "poll", now, zone))
            docket.polled_at = now
            session.add(docket)
        counts["dockets_polled"] += 1
    return counts


# -------------------------------------------------------------------------------------- the check


def _watching(engine: sa.Engine) -> bool:
    with session_scope(engine) as session:
        return (
            session.exec(select(FederalCase.id).where(watched())).first() is not None
            or session.exec(
                select(FederalDocket.id).where(col(FederalDocket.alert_id).is_not(None))
            ).first()
            is not None
            or bool(pending_webhooks(session))
            or session.exec(
                select(Client.id).where(col(Client.active), Client.federal_cases != "")
            ).first()
            is not None
        )


def check(engine: sa.Engine, settings: Settings, now: datetime | None = None) -> CheckReport:
    now = now or datetime.now(UTC)
    clock = lambda: now  # noqa: E731 - the run's one clock: its budget hour, its 429
    with crawl_run(engine, settings, SOURCE) as report:
        if not _watching(engine):
            report.message = "no federal case is linked: nothing asked of CourtListener"
            return report
        counts: Counter[str] = Counter(made=roster_links(engine, now))
        try:
            with courtlistener(engine, settings, clock) as api:
                try:
                    counts.update(resolve(engine, api, now, settings.timezone))
                    counts.update(sync_alerts(engine, api))
                    counts.update(confirm_webhooks(engine, api, now, settings.timezone))
                    counts.update(poll(engine, api, now, settings.timezone))
                except OutOfBudget:
                    counts["out_of_budget"] += 1
                report.items = api.requests
        finally:
            report.events.update({k: v for k, v in counts.items() if k.startswith("federal_")})
            report.details["federal_dockets"] = dict(counts)
        report.message = _summary(counts)
    return report


def _summary(counts: Counter[str]) -> str:
    parts = [
        f"{counts[k]} {label}"
        for k, label in (
            ("linked", "linked"),
            ("not_found", "not found"),
            ("dockets_polled", "dockets polled"),
            ("entries", "new entries"),
            ("webhook_confirmed", "webhook entries confirmed"),
            ("webhook_unconfirmed", "unconfirmed"),
            ("webhook_unlinked", "for unlinked dockets"),
            ("alerts_added", "docket alerts added"),
            ("alerts_deleted", "deleted"),
        )
        if counts[k]
    ]
    if counts["out_of_budget"]:
        parts.append("the hour's request budget is spent: the rest waits for the next run")
    return "; ".join(parts) or "nothing new"


def process_webhooks(engine: sa.Engine, settings: Settings) -> None:
    """Confirm and apply the webhook events waiting (the web app runs this after answering
    CourtListener); trouble waits for the next check, which tries again."""
    now = datetime.now(UTC)
    try:
        with courtlistener(engine, settings) as api:
            confirm_webhooks(engine, api, now, settings.timezone)
    except SourceError as exc:  # OutOfBudget included
        log.warning("federal_dockets webhooks wait for the next check: %s", exc)


def resolve_waiting(engine: sa.Engine, settings: Settings) -> None:
    """Resolve the links waiting (after a link is made on the web or the command line); trouble
    is left on the waiting links for the page to show, and the next check tries again."""
    now = datetime.now(UTC)
    try:
        with courtlistener(engine, settings) as api:
            resolve(engine, api, now, settings.timezone)
    except SourceError as exc:  # OutOfBudget included
        with session_scope(engine) as session:
            for case in session.exec(
                select(FederalCase).where(
                    col(FederalCase.active), col(FederalCase.state) != "linked"
                )
            ):
                case.message = f"not resolved yet ({exc}); the next check tries again"[:300]
                session.add(case)


def suggest(
    engine: sa.Engine, settings: Settings, name: str, courts: list[str]
) -> list[dict[str, Any]]:
    """Dockets in ``courts`` whose search matches the client's name: candidates for a person to
    confirm (never linked from here)."""
    family, _, given = name.partition(",")  # the roster's "FAMILY, GIVEN" as dockets write it
    spoken = " ".join(f"{given} {family}".split()) if given.strip() else " ".join(name.split())
    with courtlistener(engine, settings) as api:
        results = api.search(spoken.title(), courts)
    return [
        {
            "court": str(r.get("court_id") or ""),
            "docket_number": str(r.get("docketNumber") or r.get("docket_number") or ""),
            "case_name": str(r.get("caseName") or r.get("case_name") or ""),
            "filed": str(r.get("dateFiled") or "")[:10],
            "docket_id": r.get("docket_id"),
        }
        for r in results
    ]


def link_now(
    engine: sa.Engine, settings: Settings, client_id: int, key: DocketKey
) -> tuple[str, str]:
    """Link and resolve at once (the command line): (state, message)."""
    with session_scope(engine) as session:
        client = session.get(Client, client_id)
        assert client is not None
        case_id = link(session, client, key, datetime.now(UTC)).id
    resolve_waiting(engine, settings)
    with session_scope(engine) as session:
        done = session.get(FederalCase, case_id)
        assert done is not None
        return done.state, done.message
