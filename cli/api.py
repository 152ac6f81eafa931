"""``docketwatch api``: tokens of the read-only JSON API, each one program's (``--org``)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

import typer

from cli.common import (
    JsonOpt,
    emit_records,
    group,
    handles_errors,
    open_engine,
    open_session,
    out,
    program_of,
)
from cli.groups import help_of

app = group(help_of("api"))


@app.command("create")
@handles_errors
def api_create(
    name: Annotated[str, typer.Argument(help="What will use it, e.g. 'intake dashboard'.")],
) -> None:
    """Make a token for the program's systems; it is printed once (only its digest is kept)."""
    from storage.api_tokens import create_token

    with open_engine() as engine, open_session(engine) as session:
        token = create_token(session, program_of(session), name, datetime.now(UTC))
    out.print(f"API token for {name!r}: {token}")
    out.print(
        "  Copy it now: it is not shown again. Use it as `Authorization: Bearer TOKEN` on "
        "/api/v1/... (the document: /api/openapi.json)."
    )


@app.command("list")
@handles_errors
def api_list(as_json: JsonOpt = False) -> None:
    """The program's tokens: name, made, last used, revoked (never the tokens themselves)."""
    from storage.api_tokens import tokens

    with open_engine() as engine, open_session(engine) as session:
        rows = [
            {
                "id": t.id,
                "name": t.name,
                "created": t.created_at.isoformat(timespec="minutes"),
                "last_used": t.last_used_at.isoformat(timespec="minutes") if t.last_used_at else "",
                "revoked": t.revoked_at.isoformat(timespec="minutes") if t.revoked_at else "",
            }
            for t in tokens(session, program_of(session))
        ]
    emit_records(rows, as_json, False, "API tokens")


@app.command("revoke")
@handles_errors
def api_revoke(
    token_id: Annotated[int, typer.Argument(help="The token's id (`api list`).")],
) -> None:
    """Revoke a token: calls with it are refused from now on."""
    from storage.api_tokens import revoke_token

    with open_engine() as engine, open_session(engine) as session:
        row = revoke_token(session, program_of(session), token_id, datetime.now(UTC))
    out.print(f"API token #{row.id} ({row.name}) revoked")
