"""``docketwatch staff``: staff who receive alerts."""

from __future__ import annotations

import json
import sys
from typing import Annotated, Any

import typer

from cli.common import (
    JsonOpt,
    emit_records,
    group,
    handles_errors,
    open_engine,
    open_session,
    out,
)
from cli.groups import help_of
from storage.identifiers import redact_a_number

app = group(help_of("staff"))


@app.command("add")
@handles_errors
def staff_add(
    name: Annotated[str, typer.Option(help="Full name.")],
    email: Annotated[str, typer.Option(help="Email address (also the staff member's key).")],
    role: Annotated[str, typer.Option(help="attorney, coordinator or admin.")],
    language: Annotated[str, typer.Option(help="Alert language: en or es.")] = "en",
    channel: Annotated[
        list[str] | None,
        typer.Option(
            help="Apprise URL to alert on (mailto://..., slack://..., json://...), or a signed "
            "webhook (webhooks://host/path: its secret is made and shown once). Repeatable; "
            "checked now."
        ),
    ] = None,
    quiet_hours: Annotated[
        str | None,
        typer.Option(help="Local hours when only urgent alerts go out, e.g. 21:00-07:00."),
    ] = None,
    allow_personal_data: Annotated[
        bool,
        typer.Option(help="Let these channels carry full names and A-numbers (off by default)."),
    ] = False,
    digest: Annotated[
        bool, typer.Option(help="Send non-urgent alerts as one daily digest instead.")
    ] = False,
    min_severity: Annotated[
        str, typer.Option(help="Lowest severity to receive: info, normal or urgent.")
    ] = "info",
    mute: Annotated[
        list[str] | None,
        typer.Option(help="Event kind not to receive (see `events kinds`). Repeatable."),
    ] = None,
) -> None:
    """Add a staff member who receives alerts, with their channels and preferences."""
    from monitor.events import known_kinds
    from storage.people import add_staff

    urls, made = _with_secrets(channel or [])
    with open_engine() as engine, open_session(engine) as session:
        staff = add_staff(
            session,
            name=name,
            email=email,
            role=role,
            language=language,
            channels=urls,
            quiet_hours=quiet_hours,
            allow_personal_data=allow_personal_data,
            digest=digest,
            min_severity=min_severity,
            muted_kinds=known_kinds(mute or []),
        )
        out.print(f"added {staff.role} {staff.email} with {len(channel or [])} channel(s)")
    _show_secrets(made)


@app.command("list")
@handles_errors
def staff_list(
    as_json: JsonOpt = False,
) -> None:
    """List staff and their channels (channel secrets masked)."""
    from storage.people import list_staff
    from storage.settings import mask_channel

    with open_engine() as engine, open_session(engine) as session:
        records: list[dict[str, Any]] = [
            {
                "name": s.name,
                "email": s.email,
                "role": s.role,
                "language": s.language,
                "quiet_hours": f"{s.quiet_start:%H:%M}-{s.quiet_end:%H:%M}"
                if s.quiet_start and s.quiet_end
                else None,
                "active": s.active,
                "channels": [mask_channel(c.url) for c in chans],
            }
            for s, chans in list_staff(session)
        ]
    if as_json:
        sys.stdout.write(json.dumps(records, indent=2) + "\n")
        return
    for rec in records:
        rec["channels"] = ", ".join(rec["channels"])
    emit_records(records, False, False, title=f"staff ({len(records)})")


@app.command("assign")
@handles_errors
def staff_assign(
    a_number: Annotated[str, typer.Argument(help="The client's A-number.")],
    email: Annotated[str, typer.Argument(help="The attorney's email.")],
    role: Annotated[str, typer.Option(help="primary or backup.")] = "primary",
) -> None:
    """Make an attorney the primary or backup attorney of a client."""
    from storage.people import assign

    with open_engine() as engine, open_session(engine) as session:
        client = assign(session, a_number, email, role)
        out.print(
            f"{email.strip().lower()} is now the {role} attorney of "
            f"{redact_a_number(client.a_number)}"
        )


@app.command("set")
@handles_errors
def staff_set(
    email: Annotated[str, typer.Argument(help="The staff member's email.")],
    digest: Annotated[
        bool | None, typer.Option("--digest/--no-digest", help="Daily digest for non-urgent.")
    ] = None,
    min_severity: Annotated[
        str | None, typer.Option(help="Lowest severity to receive: info, normal or urgent.")
    ] = None,
    mute: Annotated[list[str] | None, typer.Option(help="Event kind to mute. Repeatable.")] = None,
    unmute: Annotated[
        list[str] | None, typer.Option(help="Event kind to receive again. Repeatable.")
    ] = None,
    quiet_hours: Annotated[
        str | None, typer.Option(help="e.g. 21:00-07:00; an empty string removes them.")
    ] = None,
    add_channel: Annotated[
        list[str] | None,
        typer.Option(help="Apprise URL or signed webhook (webhooks://...) to add. Repeatable."),
    ] = None,
    language: Annotated[str | None, typer.Option(help="en or es.")] = None,
    active: Annotated[
        bool | None, typer.Option("--active/--inactive", help="Receive alerts at all.")
    ] = None,
    personal_data: Annotated[
        bool | None,
        typer.Option(
            "--personal-data/--no-personal-data",
            help="Let all this person's channels carry full names and A-numbers, or stop it.",
        ),
    ] = None,
    unlink_sign_in: Annotated[
        bool,
        typer.Option(
            "--unlink-sign-in",
            help="Forget the organization account linked at their first sign-in (a new "
            "account): the next sign-in with a verified email links again.",
        ),
    ] = False,
) -> None:
    """Change a staff member's alert preferences and channels."""
    from monitor.events import known_kinds
    from storage.people import update_staff

    urls, made = _with_secrets(add_channel or [])
    with open_engine() as engine, open_session(engine) as session:
        staff = update_staff(
            session,
            email,
            digest=digest,
            min_severity=min_severity,
            mute=known_kinds(mute or []),
            unmute=known_kinds(unmute or []),
            quiet_hours=quiet_hours,
            add_channels=urls,
            language=language,
            active=active,
            allow_personal_data=personal_data,
        )
        if unlink_sign_in:
            staff.oidc_subject = None
            session.add(staff)
        out.print(f"updated {staff.email}")
    _show_secrets(made)


def _with_secrets(channels: list[str]) -> tuple[list[str], list[tuple[str, str]]]:
    """The channels, each signed webhook given a secret of its own if it has none; and the
    (masked address, secret) pairs made, to be shown once."""
    from storage.settings import mask_channel
    from storage.webhook_channels import with_secret

    urls, made = [], []
    for given in channels:
        url, secret = with_secret(given)
        urls.append(url)
        if secret:
            made.append((mask_channel(url), secret))
    return urls, made


def _show_secrets(made: list[tuple[str, str]]) -> None:
    for where, secret in made:
        out.print(
            f"webhook {where}: its signing secret is {secret}\n"
            "  Copy it to the receiver now: it is not shown again (README: Signed webhooks)."
        )


@app.command("rekey")
@handles_errors
def staff_rekey() -> None:
    """Seal every alert channel's URL, and every client's reminder phone number, with a new
    secrets key (after a key may have leaked, or on a schedule). The old key is kept beside the
    new one as KEY.old until you delete it; a running service picks the new key up by itself."""
    from storage.secrets import keyring_of, rotate

    with open_engine() as engine:
        channels, phones = rotate(engine)
        path = keyring_of(engine.dialect).path
    also = f" and {phones} client phone number(s)" if phones else ""
    out.print(
        f"{channels} channel URL(s){also} sealed with a new key at {path} (the old one: {path}.old)"
    )


@app.command("calendar")
@handles_errors
def staff_calendar(
    email: Annotated[str, typer.Argument(help="The staff member's email.")],
    revoke: Annotated[
        bool, typer.Option("--revoke", help="Stop the current address; issue none.")
    ] = False,
) -> None:
    """Give a staff member a new secret calendar address (Outlook, Google Calendar) of their
    clients' hearings: moved hearings update, removed ones are cancelled. Issuing a new address
    stops the old one; --revoke stops it without a new one. Served by the web endpoint
    (web_listen), at web_base_url."""
    from cli.common import get_settings
    from monitor.calendar import feed_path, issue
    from monitor.calendar import revoke as revoke_feed

    with open_engine() as engine, open_session(engine) as session:
        if revoke:
            revoke_feed(session, email)
        else:
            token = issue(session, email)
    who = email.strip().lower()
    if revoke:
        out.print(f"the calendar address of {who} is revoked")
        return
    base = get_settings().web_base_url
    if base:
        out.print(
            f"calendar address of {who} (keep it secret): {base.rstrip('/')}{feed_path(token)}"
        )
    else:
        out.print(
            f"calendar path of {who} (keep it secret): {feed_path(token)}\n"
            "set web_base_url (and web_listen) to serve it; it is shown once: issue a new "
            "one if it is lost"
        )


@app.command("password")
@handles_errors
def staff_password(
    email: Annotated[str, typer.Argument(help="The staff member's email.")],
    stdin: Annotated[
        bool,
        typer.Option("--stdin", help="Read the password from the first line of standard input."),
    ] = False,
    link: Annotated[
        bool,
        typer.Option(
            "--link",
            help="Print a one-time link (72 hours) for the staff member to set it themselves.",
        ),
    ] = False,
) -> None:
    """Set the password a staff member signs in to the web app with (at least 12 characters;
    stored as an argon2id hash); it ends their open web sessions. Asked twice, hidden, unless
    --stdin; or --link gives a one-time link so that nobody else learns it."""
    from datetime import UTC, datetime

    from cli.common import fail, get_settings
    from storage.passwords import issue_link, set_password

    if link:
        base = get_settings().web_base_url
        with open_engine() as engine, open_session(engine) as session:
            token = issue_link(session, email, datetime.now(UTC))
        path = f"/welcome/{token}"
        where = (
            f"{base.rstrip('/')}{path}"
            if base
            else f"{path} (set web_base_url for the full address)"
        )
        out.print(
            f"one-time link for {email.strip().lower()} (72 hours; send it privately): {where}"
        )
        return
    if stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    elif not sys.stdin.isatty():
        raise fail("no terminal to ask the password on: pipe it with --stdin, or use --link")
    else:
        password = typer.prompt("New password", hide_input=True, confirmation_prompt=True)
    with open_engine() as engine, open_session(engine) as session:
        staff = set_password(session, email, password)
        who = staff.email
    out.print(f"password set for {who}; they sign in at the web app's /login")
