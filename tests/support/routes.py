"""The web app's routes, read from the app itself: the tests derive the pages and their roles
from ``app.routes`` instead of keeping a list by hand."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from fastapi import FastAPI
from fastapi.routing import APIRoute

from web.deps import Require


def app_routes(app: FastAPI) -> list[APIRoute]:
    """Every route of the app, in the routers it includes too (FastAPI keeps an included
    router as one entry of ``app.routes`` whose ``original_router`` holds its routes)."""
    routes: list[APIRoute] = []
    todo: list[Any] = list(app.routes)
    while todo:
        route = todo.pop(0)
        if isinstance(route, APIRoute):
            routes.append(route)
        elif hasattr(route, "original_router"):
            todo.extend(route.original_router.routes)
    assert len(routes) > 30  # the whole app, not an empty list
    return routes


def guard(route: APIRoute) -> Require | None:
    """The route's role check (None: a public route)."""
    found = [d.call for d in route.dependant.dependencies if isinstance(d.call, Require)]
    return found[0] if found else None


def is_public(route: APIRoute) -> bool:
    return any(str(t).startswith("public:") for t in route.tags or [])


def signed_in_pages() -> dict[str, tuple[str, ...]]:
    """Every page a signed-in user opens by its address alone (a GET with no parameter in its
    path and no required query), with the roles that may open it."""
    from storage.settings import Settings
    from web.app import create_app

    app = create_app(sa.create_engine("sqlite://"), Settings(ack_secret="x"))
    pages = {}
    for route in app_routes(app):
        found = guard(route)
        required = [p for p in route.dependant.query_params if p.field_info.is_required()]
        if found and "GET" in (route.methods or set()) and "{" not in route.path and not required:
            pages[route.path] = found.roles
    return pages
