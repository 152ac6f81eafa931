"""The web app in Chromium: the staff password the fixtures set, and axe-core on a page."""

from __future__ import annotations

from typing import Any

PASSWORD = "correct horse battery"


def accessible(page: Any) -> None:
    """axe-core on the page as it is (its whole default rule set): no serious or critical
    violation."""
    from axe_playwright_python.sync_playwright import Axe

    response = Axe().run(page).response
    bad = [
        (v["id"], v["impact"], [n["target"] for n in v["nodes"]][:3])
        for v in response["violations"]
        if v["impact"] in ("serious", "critical")
    ]
    assert bad == [], bad


def sign_in(web: Any, engine: Any, staff_id: int | None, secret: str, now: Any) -> str:
    """Sign a test client (Starlette's) in as a staff member: a session, its cookie signed with
    the app's ``ack_secret``; returns the session's CSRF token for the forms."""
    from web import auth

    assert staff_id is not None
    cookie, csrf = auth.start_session(engine, staff_id, now)
    web.cookies.set(auth.COOKIE, auth.sign(secret, cookie))
    return str(csrf)
