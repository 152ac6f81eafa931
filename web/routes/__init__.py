"""The web app's routers, one module per area; :mod:`web.app` includes :data:`ROUTERS`.

Signed-in routers are made by :func:`web.deps.signed_in_router` (roles from
:data:`web.deps.ROLES`, CSRF on every change, the program-scoped session); public ones by
:func:`web.deps.public_router`. ``tests/test_routes.py`` derives the contract from the routes.
"""

from fastapi import APIRouter

from web.routes import (
    account,
    admin,
    alerts,
    api,
    auth,
    caseload,
    clients,
    links,
    reports,
    roster,
)

ROUTERS: list[APIRouter] = [
    auth.public,
    account.router,
    clients.router,
    alerts.router,
    caseload.router,
    caseload.facilities_router,
    reports.router,
    roster.router,
    admin.router,
    links.router,
    api.router,
]
