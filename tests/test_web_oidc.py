"""Sign-in with the organization's account (OpenID Connect), in Chromium, against a local
provider standing in for Microsoft 365 or Google (third-party services are never reached)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from sqlmodel import col, select

from sandbox.oidc import OidcProvider
from storage.db import make_engine, session_scope
from storage.models import AuditEntry, Staff
from storage.people import add_staff
from tests.support.alerting import web_server
from tests.support.db import migrated_sqlite

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def world(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[str, OidcProvider, sa.Engine]]:
    tmp = tmp_path_factory.mktemp("oidc")
    engine = make_engine(migrated_sqlite(tmp / "dw.db"))
    with session_scope(engine) as s:
        add_staff(s, name="Ana Ruiz", email="ana@example.org", role="attorney")
        add_staff(s, name="Old Timer", email="gone@example.org", role="attorney")
        add_staff(s, name="Carla Diaz", email="carla@example.org", role="attorney")
        add_staff(s, name="Bea Soto", email="bea@example.org", role="attorney")
        add_staff(s, name="Eva Paz", email="eva@example.org", role="coordinator")
    with session_scope(engine) as s:
        from storage.people import update_staff

        update_staff(s, "gone@example.org", active=False)
    with OidcProvider("docketwatch-web", "client-secret") as idp:
        server = web_server(
            engine,
            "web-secret",
            0,
            oidc_issuer=idp.issuer,
            oidc_client_id="docketwatch-web",
            oidc_client_secret="client-secret",
            oidc_label="Test Org",
        )
        try:
            yield f"http://127.0.0.1:{server.port}", idp, engine
        finally:
            server.stop()
            engine.dispose()


def _sign_in_with_provider(page: Any, base: str) -> None:
    page.goto(f"{base}/login?next=/alerts")
    page.get_by_role("link", name="Sign in with Test Org").click()
    page.wait_for_load_state()


def test_a_staff_members_account_signs_in(world: Any, page: Any) -> None:
    base, idp, engine = world
    idp.state.email, idp.state.email_verified, idp.state.issuer_override = (
        "Ana@Example.org",
        True,
        "",
    )
    _sign_in_with_provider(page, base)
    assert page.url == f"{base}/alerts"  # where the person was going
    assert "Ana Ruiz (attorney)" in page.inner_text("header")
    assert not idp.state.codes  # the code was spent
    with session_scope(engine) as s:
        actions = [a.action for a in s.exec(select(AuditEntry).order_by(col(AuditEntry.id)))]
    assert "sign_in_oidc" in actions


@pytest.mark.parametrize(
    ("email", "verified", "issuer", "shown"),
    [
        ("stranger@example.org", True, "", "not a staff member"),
        ("gone@example.org", True, "", "not a staff member"),  # no longer active
        ("carla@example.org", False, "", "has not verified"),
        ("ana@example.org", True, "https://forged.example", "ID token is not valid"),
    ],
)
def test_refused_sign_ins(
    world: Any, page: Any, email: str, verified: bool, issuer: str, shown: str
) -> None:
    base, idp, _ = world
    idp.state.email, idp.state.email_verified, idp.state.issuer_override = email, verified, issuer
    idp.state.subject, idp.state.extra = "", {}
    _sign_in_with_provider(page, base)
    assert shown in page.inner_text("main")
    assert not any(c["name"] == "dw_session" for c in page.context.cookies())
    page.goto(f"{base}/")
    assert page.url.startswith(f"{base}/login")


def test_a_callback_without_its_own_state_is_refused(world: Any, page: Any) -> None:
    base, idp, _ = world
    idp.state.email, idp.state.email_verified, idp.state.issuer_override = (
        "ana@example.org",
        True,
        "",
    )
    page.goto(f"{base}/login/oidc")  # starts a flow: the browser holds its state
    page.context.clear_cookies()
    answer = page.goto(f"{base}/login/oidc/callback?code=stolen&state=guessed")
    assert answer.status == 403 and "Form expired" in page.inner_text("main")


def _as(idp: OidcProvider, email: str, verified: bool | None, subject: str, **extra: Any) -> None:
    idp.state.email, idp.state.email_verified, idp.state.issuer_override = email, verified, ""
    idp.state.subject, idp.state.extra = subject, extra


def _oidc_subject(engine: sa.Engine, email: str) -> str | None:
    with session_scope(engine) as s:
        staff = s.exec(select(Staff).where(Staff.email == email)).one()
        return staff.oidc_subject


def test_the_account_is_linked_at_the_first_sign_in_and_matched_by_it_after(
    world: Any, page: Any
) -> None:
    """Issue 27, point 8: an account is the provider's stable subject, linked at the first
    sign-in with a verified email; the email is never matched again."""
    base, idp, engine = world
    _as(idp, "bea@example.org", True, "bea-subject-1")
    _sign_in_with_provider(page, base)
    assert "Bea Soto (attorney)" in page.inner_text("header")
    assert _oidc_subject(engine, "bea@example.org") == f"{idp.issuer} bea-subject-1"
    with session_scope(engine) as s:
        actions = [a.action for a in s.exec(select(AuditEntry).order_by(col(AuditEntry.id)))]
    assert actions[-2:] == ["oidc_linked", "sign_in_oidc"]
    page.context.clear_cookies()

    # Her email changes at the provider (a name change): she is still Bea.
    _as(idp, "bea.soto@example.org", True, "bea-subject-1")
    _sign_in_with_provider(page, base)
    assert "Bea Soto (attorney)" in page.inner_text("header")
    page.context.clear_cookies()

    # Another account of the provider given her old email (renamed, or recycled): refused.
    _as(idp, "bea@example.org", True, "someone-else")
    _sign_in_with_provider(page, base)
    assert "linked to another account" in page.inner_text("main")
    assert not any(c["name"] == "dw_session" for c in page.context.cookies())
    assert _oidc_subject(engine, "bea@example.org") == f"{idp.issuer} bea-subject-1"


@pytest.mark.parametrize(
    ("claims", "shown"),
    [
        # Microsoft Entra ID: no email_verified; its oid is the stable subject, and its
        # optional xms_edov vouches for the email's domain.
        ({"oid": "eva-oid", "xms_edov": True}, "Eva Paz (coordinator)"),
        ({"oid": "eva-oid-2"}, "has not verified eva@example.org"),
        ({"oid": "eva-oid-3", "xms_edov": False}, "has not verified eva@example.org"),
    ],
)
def test_microsoft_entra_id_without_email_verified(
    world: Any, page: Any, claims: dict[str, Any], shown: str
) -> None:
    base, idp, engine = world
    _as(idp, "eva@example.org", None, "pairwise-sub", **claims)
    _sign_in_with_provider(page, base)
    assert shown in page.inner_text("body")
    linked = _oidc_subject(engine, "eva@example.org")
    if claims.get("xms_edov"):
        assert linked == f"{idp.issuer} eva-oid"  # the oid, not the per-app sub
    else:
        assert linked in (None, f"{idp.issuer} eva-oid")  # never the refused token's


def test_a_login_name_never_stands_in_for_an_email(world: Any, page: Any) -> None:
    base, idp, _ = world
    _as(idp, "", True, "no-email", preferred_username="ana@example.org")
    _sign_in_with_provider(page, base)
    assert "gave no email address" in page.inner_text("main")
    assert not any(c["name"] == "dw_session" for c in page.context.cookies())
