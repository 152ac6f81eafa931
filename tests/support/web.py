"""The web app in Chromium: the staff password the fixtures set, and axe-core on a page."""

from __future__ import annotations

from functools import cache
from typing import Any

PASSWORD = "correct horse battery"


def accessible(page: Any) -> None:
    """axe-core on the page as it is (its whole default rule set): no serious or critical
    violation. The page hands back only those violations (the rule, its impact, the first
    three elements), not axe's whole report of every rule."""
    page.evaluate(_axe_script())
    bad = page.evaluate(
        """() => axe.run({resultTypes: ["violations"]}).then(r => r.violations
            .filter(v => v.impact === "serious" || v.impact === "critical")
            .map(v => [v.id, v.impact, v.nodes.slice(0, 3).map(n => n.target)]))"""
    )
    assert bad == [], bad


@cache
def _axe_script() -> str:
    """axe-core's script, as the package ships it (read once)."""
    from axe_playwright_python.sync_playwright import Axe

    return str(Axe().axe_script)


def sign_in(web: Any, engine: Any, staff_id: int | None, secret: str, now: Any) -> str:
    """Sign a test client (Starlette's) in as a staff member: a session, its cookie signed with
    the app's ``ack_secret``; returns the session's CSRF token for the forms."""
    from web import auth

    assert staff_id is not None
    cookie, csrf = auth.start_session(engine, staff_id, now)
    web.cookies.set(auth.COOKIE, auth.sign(secret, cookie))
    return str(csrf)
