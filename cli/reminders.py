"""``docketwatch reminders``: hearing reminders to clients (module :mod:`monitor.reminders`)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated

import typer

from cli.common import (
    JsonOpt,
    emit_records,
    fail,
    get_settings,
    group,
    handles_errors,
    open_engine,
    open_session,
    out,
    print_table,
)
from cli.groups import help_of
from storage.identifiers import redact_a_number

if TYPE_CHECKING:
    from sqlmodel import Session

app = group(help_of("reminders"))

ClientArg = Annotated[str, typer.Argument(help="The client's A-number.")]


@app.command("languages")
@handles_errors
def languages(
    review: Annotated[
        str | None,
        typer.Option(help="Switch this language on: you (--by) read every one of its texts."),
    ] = None,
    by: Annotated[str, typer.Option(help="Who reviewed the texts (with --review).")] = "",
    off: Annotated[str | None, typer.Option(help="Switch this language off.")] = None,
    show: Annotated[
        str | None, typer.Option(help="Print this language's texts as a client would read them.")
    ] = None,
) -> None:
    """The reminder languages of the registry, and which are switched on.

    A language is used only once a person has reviewed its texts (`--review CODE --by NAME`,
    after reading them with `--show CODE`); a later change to its file switches it off until it
    is reviewed again."""
    from monitor import reminders as r

    settings = get_settings()
    now = datetime.now(UTC)
    with open_engine() as engine, open_session(engine, program=False) as session:
        if show:
            known = r.languages(settings)
            if show not in known:
                raise fail(f"no reminder language {show!r} (the registry has: {', '.join(known)})")
            _show(known[show], settings.program_phone or "(213) 555-0100")
            return
        if review:
            lang = r.review_language(session, settings, review, by, now)
            out.print(f"{lang.code} ({lang.english_name}) switched on, reviewed by {by.strip()}")
        if off:
            if not r.switch_off(session, off):
                raise fail(f"{off!r} is not switched on")
            out.print(f"{off} switched off: no reminder goes out in it")
        session.flush()
        on = r.switched_on(session, settings)
        from sqlmodel import select

        from storage.models import ReminderLanguage

        reviews = {x.code: x for x in session.exec(select(ReminderLanguage))}
        rows = []
        for code, lang in r.languages(settings).items():
            seen = reviews.get(code)
            state = (
                "on"
                if code in on
                else "changed since review: off"
                if seen is not None
                else "off (not reviewed)"
            )
            who = f"{seen.reviewed_by}, {seen.reviewed_at:%Y-%m-%d}" if seen else ""
            rows.append((code, lang.english_name, lang.name, state, who, str(lang.path)))
    print_table(
        ["code", "language", "own name", "state", "reviewed", "file"], rows, "reminder languages"
    )


def _show(lang: object, phone: str) -> None:
    from datetime import date, time

    from monitor.reminder_texts import Language

    assert isinstance(lang, Language)
    day = date(2026, 12, 3)
    place = "10400 Rancho Road, Adelanto, CA 92301"
    out.print(f"{lang.code} · {lang.english_name} · {lang.path}")
    for rule in ("7d", "moved", "cancelled"):
        out.print(
            f"\n[{rule}]\n"
            + lang.render(rule, day=day, clock=time(8, 30), place=place, phone=phone)
        )
    out.print(
        "\n[video hearing]\n"
        + lang.render("1d", day=day, clock=time(13, 0), place=lang.texts["video"], phone=phone)
    )


@app.command("consent")
@handles_errors
def consent(
    a_number: ClientArg,
    phone: Annotated[str, typer.Option(help="The client's mobile number, e.g. +12135550123.")],
    language: Annotated[str, typer.Option(help="Reminder language (a code switched on).")],
    how: Annotated[str, typer.Option(help="How the client consented: in_person or phone.")],
    by: Annotated[str, typer.Option(help="Who recorded the consent (a name or email).")],
    via: Annotated[str, typer.Option(help="sms or whatsapp.")] = "sms",
    on: Annotated[
        str | None, typer.Option(help="When the client consented, YYYY-MM-DD (default: now).")
    ] = None,
    timezone: Annotated[
        str, typer.Option(help="The client's zone, e.g. America/New_York (default: the court's).")
    ] = "",
) -> None:
    """Record a client's consent to hearing reminders (or consent given again)."""
    from monitor import reminders as r
    from storage.people import get_client
    from storage.roster import parse_date

    settings = get_settings()
    now = datetime.now(UTC)
    at = None
    if on:
        day = parse_date(on)
        at = datetime(day.year, day.month, day.day, 12, tzinfo=UTC)
    with open_engine() as engine, open_session(engine) as session:
        client = get_client(session, a_number)
        contact = r.record_consent(
            session,
            settings,
            client,
            r.Consent(
                phone=phone, via=via, language=language, how=how, by=by, at=at, timezone=timezone
            ),
            now,
        )
        _audit(session, client.id, "reminder_consent", f"{how}, recorded by {by}", now)
        out.print(
            f"client {redact_a_number(client.a_number)}: reminders by {contact.via} to "
            f"{r.mask_phone(contact.phone)} in {contact.language}"
        )


@app.command("withdraw")
@handles_errors
def withdraw(
    a_number: ClientArg,
    by: Annotated[str, typer.Option(help="Who records the withdrawal.")],
) -> None:
    """Withdraw a client's consent: nothing more is sent, queued reminders are voided."""
    from monitor import reminders as r
    from storage.people import get_client

    now = datetime.now(UTC)
    with open_engine() as engine, open_session(engine) as session:
        client = get_client(session, a_number)
        assert client.id is not None
        if not r.withdraw_consent(session, client.id, f"withdrawn by {by}", now):
            raise fail("this client has no consent to withdraw")
        _audit(session, client.id, "reminder_withdrawn", f"by {by}", now)
        out.print(f"client {redact_a_number(client.a_number)}: consent withdrawn")


@app.command("pause")
@handles_errors
def pause(
    a_number: ClientArg,
    by: Annotated[str, typer.Option(help="Who pauses them.")],
    resume: Annotated[bool, typer.Option("--resume", help="Resume instead.")] = False,
) -> None:
    """Pause (or --resume) a client's reminders; consent stays on record."""
    from monitor import reminders as r
    from storage.people import get_client

    now = datetime.now(UTC)
    with open_engine() as engine, open_session(engine) as session:
        client = get_client(session, a_number)
        assert client.id is not None
        changed = r.set_paused(session, client.id, not resume, by, now)
        state = "resumed" if resume else "paused"
        if changed:
            _audit(session, client.id, f"reminders_{state}", f"by {by}", now)
        out.print(
            f"client {redact_a_number(client.a_number)}: reminders {state}"
            + ("" if changed else " already")
        )


@app.command("list")
@handles_errors
def list_reminders(
    a_number: Annotated[str | None, typer.Argument(help="Only this client.")] = None,
    status: Annotated[
        str | None, typer.Option(help="Only this status (waiting, queued, sent, attorney ...).")
    ] = None,
    limit: Annotated[int, typer.Option(help="At most this many, newest first.")] = 200,
    as_json: JsonOpt = False,
) -> None:
    """Reminders, newest first: rule, hearing, status and why."""
    from sqlmodel import col, select

    from storage.models import Client, Reminder
    from storage.people import get_client

    with open_engine() as engine, open_session(engine) as session:
        query = select(Reminder, Client.a_number).join(Client, col(Client.id) == Reminder.client_id)
        if a_number:
            query = query.where(Reminder.client_id == get_client(session, a_number).id)
        if status:
            query = query.where(Reminder.status == status)
        rows = session.exec(query.order_by(col(Reminder.id).desc()).limit(limit)).all()
        records = [
            {
                "id": x.id,
                "client": redact_a_number(a),
                "rule": x.rule,
                "hearing": f"{x.hearing.get('date', '')} {x.hearing.get('time', '')}".strip(),
                "status": x.status,
                "due": f"{x.due_at:%Y-%m-%d %H:%M}",
                "sent": f"{x.sent_at:%Y-%m-%d %H:%M}" if x.sent_at else "",
                "note": x.note,
            }
            for x, a in rows
        ]
    emit_records(records, as_json, False, title=f"reminders ({len(records)}, UTC)")


@app.command("run")
@handles_errors
def run(
    dispatch: Annotated[
        bool, typer.Option("--dispatch/--no-dispatch", help="Send the queued ones now.")
    ] = True,
) -> None:
    """One pass: make the due reminders, confirm them on ACIS (early checks are requested),
    queue the confirmed ones, tell attorneys of the unconfirmed; then send (the service does this
    every reminder_pass_minutes)."""
    from monitor import reminders as r
    from monitor.dispatch import Dispatcher

    settings = get_settings()
    with open_engine() as engine:
        report = r.run_pass(engine, settings)
        out.print(
            f"reminders: {report.created} due, {report.queued} queued, {report.waiting} waiting "
            f"for ACIS ({report.lookups_requested} lookups requested), {report.deferred} in quiet "
            f"hours, {report.superseded} superseded, {report.to_attorney} to attorneys, "
            f"{report.expired} expired"
        )
        if dispatch:
            sent = Dispatcher(engine, settings).run_once()
            out.print(f"sent: {sent.sent}, failed attempts: {sent.failed_attempts}")


def _audit(
    session: Session, client_id: int | None, action: str, detail: str, now: datetime
) -> None:
    from web.auth import audit

    audit(session, now, None, action, client_id=client_id, detail=detail, ip="cli")
