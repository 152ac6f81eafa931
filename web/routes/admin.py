"""The admin's pages: the sources' health (blocked lookups, channels, FOIA releases) and the
program's staff (their channels, preferences, test messages)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import BackgroundTasks, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlmodel import Session, select

from storage.channel_targets import check_web_channel
from storage.errors import NotFoundError
from storage.models import Staff, StaffChannel
from storage.settings import mask_channel
from storage.webhook_channels import with_secret
from web import auth
from web.deps import App, RowId, Scoped, User, client_ip, page, signed_in_router

router = signed_in_router("admin")


@router.get("/sources")
def sources(request: Request, w: App, user: User, s: Scoped) -> Response:
    from monitor.views import blocked_clients, channel_lines, foia_releases, source_lines
    from storage.roster_sync import status_record

    at = w.now()
    return page(
        request,
        "admin/sources.html",
        user,
        lines=source_lines(s, w.settings, at),
        blocked=blocked_clients(s),
        channels=channel_lines(s),
        releases=foia_releases(s),
        roster=status_record(s, user.organization_id),
        at=at,
    )


@router.post("/roster/sync")
def roster_sync_settings(
    request: Request,
    w: App,
    user: User,
    s: Scoped,
    kind: Annotated[str, Form(max_length=24)],
    source: Annotated[str, Form(max_length=1000)],
    token: Annotated[str, Form(max_length=2000)] = "",
    mapping: Annotated[str, Form(max_length=4000)] = "",
    every: Annotated[int, Form(ge=5, le=10080)] = 60,
    enabled: Annotated[str, Form(max_length=5)] = "",
) -> Response:
    """A program's roster source (admins): a token given is sealed; a blank one keeps it."""
    from storage.channel_targets import check_web_source
    from storage.roster_sync import check_source, configure

    check_web_source(check_source(kind, source), w.settings.web_channels_private)
    saved = configure(
        s,
        user.organization_id,
        kind=kind,
        source=source,
        now=w.now(),
        token=token.strip() or None,
        mapping=[line.strip() for line in mapping.splitlines() if line.strip()],
        interval_minutes=every,
        enabled=bool(enabled),
    )
    auth.audit(
        s, w.now(), user.staff_id, "roster_sync_set", detail=saved.kind, ip=client_ip(request)
    )
    return RedirectResponse("/roster?done=sync-saved", status_code=303)


def api_tokens_view(request: Request, user: User, s: Session, made: str = "") -> Response:
    from storage.api_tokens import tokens

    return page(
        request,
        "admin/api_tokens.html",
        user,
        tokens=tokens(s, user.organization_id),
        made=made,
    )


@router.get("/api-tokens")
def api_tokens(request: Request, user: User, s: Scoped) -> Response:
    """The program's tokens of the read-only JSON API (never the tokens themselves)."""
    return api_tokens_view(request, user, s)


@router.post("/api-tokens")
def api_token_create(
    request: Request,
    w: App,
    user: User,
    s: Scoped,
    name: Annotated[str, Form(max_length=80)],
) -> Response:
    """A new token, shown on this answer only (only its digest is kept)."""
    from storage.api_tokens import create_token

    token = create_token(s, user.organization_id, name, w.now())
    auth.audit(s, w.now(), user.staff_id, "api_token_made", detail=name, ip=client_ip(request))
    return api_tokens_view(request, user, s, made=token)


@router.post("/api-tokens/{token_id}/revoke")
def api_token_revoke(request: Request, w: App, user: User, s: Scoped, token_id: RowId) -> Response:
    from storage.api_tokens import revoke_token

    row = revoke_token(s, user.organization_id, token_id, w.now())
    detail = f"#{row.id} {row.name}"
    auth.audit(s, w.now(), user.staff_id, "api_token_revoked", detail=detail, ip=client_ip(request))
    return RedirectResponse("/api-tokens", status_code=303)


@router.get("/staff")
def staff_list(request: Request, user: User, s: Scoped) -> Response:
    from storage.people import list_staff

    rows = [(st, [(mask_channel(c.url), c) for c in chans]) for st, chans in list_staff(s)]
    return page(
        request,
        "admin/staff.html",
        user,
        rows=rows,
        done=request.query_params.get("done", "")[:200],
    )


@router.post("/staff")
def staff_add(
    request: Request,
    w: App,
    user: User,
    s: Scoped,
    name: Annotated[str, Form(max_length=120)],
    email: Annotated[str, Form(max_length=200)],
    staff_role: Annotated[str, Form(alias="role", max_length=20)],
    language: Annotated[str, Form(max_length=2)] = "en",
    channel: Annotated[str, Form(max_length=1000)] = "",
) -> Response:
    from storage.people import add_staff

    secret = None
    if channel.strip():
        check_web_channel(channel.strip(), w.settings.web_channels_private)
        channel, secret = with_secret(channel)
    added = add_staff(
        s,
        name=name,
        email=email,
        role=staff_role,
        language=language,
        channels=[channel] if channel.strip() else [],
    )
    auth.audit(s, w.now(), user.staff_id, "staff_added", detail=added.email, ip=client_ip(request))
    assert added.id is not None
    if secret:  # shown on this answer only: never in an address, never again
        return staff_view(request, user, s, added.id, "added", secret=secret)
    return RedirectResponse(f"/staff/{added.id}?done=added", status_code=303)


def member_of(s: Session, staff_id: int) -> Staff:
    member = s.get(Staff, staff_id)
    if member is None:
        raise NotFoundError("no such staff member")
    return member


def staff_view(
    request: Request,
    user: auth.SignedIn,
    s: Session,
    staff_id: RowId,
    done: str,
    outcomes: Any = None,
    secret: str | None = None,
) -> Response:
    member = member_of(s, staff_id)
    found = s.exec(select(StaffChannel).where(StaffChannel.staff_id == staff_id))
    channels = [(mask_channel(c.url), c) for c in found]
    return page(
        request,
        "admin/staff_edit.html",
        user,
        member=member,
        channels=channels,
        done=done,
        outcomes=outcomes,
        secret=secret,
    )


@router.get("/staff/{staff_id}")
def staff_page(request: Request, user: User, s: Scoped, staff_id: RowId) -> Response:
    return staff_view(request, user, s, staff_id, request.query_params.get("done", "")[:40])


@router.post("/staff/{staff_id}")
def staff_edit(
    request: Request,
    w: App,
    user: User,
    s: Scoped,
    staff_id: RowId,
    language: Annotated[str, Form(max_length=2)] = "en",
    quiet_hours: Annotated[str, Form(max_length=20)] = "",
    digest: Annotated[str, Form(max_length=5)] = "",
    active: Annotated[str, Form(max_length=5)] = "",
    channel: Annotated[str, Form(max_length=1000)] = "",
) -> Response:
    from storage.people import update_staff

    secret = None
    if channel.strip():
        check_web_channel(channel.strip(), w.settings.web_channels_private)
        channel, secret = with_secret(channel)
    email = member_of(s, staff_id).email
    update_staff(
        s,
        email,
        language=language,
        quiet_hours=quiet_hours.strip() or "off",
        digest=bool(digest),
        active=bool(active),
        add_channels=[channel] if channel.strip() else None,
    )
    auth.audit(s, w.now(), user.staff_id, "staff_changed", detail=email, ip=client_ip(request))
    if secret:
        return staff_view(request, user, s, staff_id, "saved", secret=secret)
    return RedirectResponse(f"/staff/{staff_id}?done=saved", status_code=303)


@router.post("/staff/{staff_id}/test")
def staff_test(request: Request, user: User, s: Scoped, staff_id: RowId) -> Response:
    from monitor.alerts import send_test

    outcomes = send_test(s, member_of(s, staff_id).email)
    return staff_view(request, user, s, staff_id, "", outcomes)


@router.post("/clients/{client_id}/erase")
def client_erase(
    request: Request,
    w: App,
    user: User,
    s: Scoped,
    client_id: RowId,
    tasks: BackgroundTasks,
    confirm: Annotated[str, Form(max_length=10)] = "",
) -> Response:
    """An admin erases a client's personal data (there is no undo: the form's box must be
    ticked); the database is compacted once the answer is sent."""
    from monitor.views import visible_client
    from storage.erasure import compact, erase_client
    from storage.errors import ValidationError

    client = visible_client(s, user.role, user.staff_id, client_id)
    if confirm != "yes":
        raise ValidationError("tick the box to confirm: an erasure cannot be undone")
    erase_client(s, client, w.now(), user.staff_id)
    tasks.add_task(compact, w.engine)
    return RedirectResponse(f"/clients/{client_id}?erased=1", status_code=303)
