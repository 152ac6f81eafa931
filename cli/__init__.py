"""The ``docketwatch`` command line: one module per command group, each a thin layer over
:mod:`checks`, :mod:`monitor` and :mod:`storage`.

Output for people goes to stdout (tables through rich, or ``--json`` / ``--csv``); the log goes to
stderr, redacted. Errors are one line that says what and where, with exit status 2; a roster
import that rejected rows exits 1. Each source has the command group of its name
(``docketwatch acis``, ``docketwatch detainee_locator`` ...); the group names used before the
sources were named alike (``custody``, ``foia``, ``stats``, ``courts``) still work, unlisted.

The top level holds the service's commands (:mod:`cli.service`); every group is imported, and its
commands built, only when it is used (:mod:`cli.groups` knows them all without importing them),
so ``docketwatch --help`` loads little more than typer.
"""

from __future__ import annotations

from importlib import import_module
from typing import Annotated, Any

import typer
from typer.core import TyperGroup
from typer.main import get_group

from cli import service
from cli.common import ORG, group
from cli.groups import GROUPS


class LazyGroup(TyperGroup):
    """The top level: its own commands, and the groups of :data:`cli.groups.GROUPS`, built when
    they are called."""

    def list_commands(self, ctx: Any) -> list[str]:
        return [*super().list_commands(ctx), *GROUPS]

    def get_command(self, ctx: Any, name: str) -> Any:
        spec = GROUPS.get(name)
        if spec is None:
            return super().get_command(ctx, name)
        command = get_group(getattr(import_module(spec.module), spec.attribute))
        command.name, command.hidden = name, spec.hidden
        return command

    def format_commands(self, ctx: Any, formatter: Any) -> None:
        limit = formatter.width - 6 - max(len(n) for n in self.list_commands(ctx))
        rows = [
            (name, command.get_short_help_str(limit))
            for name, command in self.commands.items()
            if not command.hidden
        ]
        rows += [(name, g.help) for name, g in GROUPS.items() if not g.hidden]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


app = group(
    "docketwatch watches public immigration-court and detention records for your clients "
    "and alerts the right people when something changes.",
    cls=LazyGroup,
)
app.registered_commands.extend(service.app.registered_commands)


@app.callback()
def _top(
    org: Annotated[
        str | None,
        typer.Option(
            "--org",
            metavar="SLUG",
            help="The program to work on, when this deployment serves several (`docketwatch "
            "orgs list`); the organization setting (DOCKETWATCH_ORG) is the default.",
        ),
    ] = None,
) -> None:
    ORG.slug = org


def main() -> None:
    import os

    os.umask(0o077)  # every file a command or the service creates holds client data: owner only
    app()
