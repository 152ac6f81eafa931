"""The ``docketwatch`` command line: one module per command group, each a thin layer over
:mod:`checks`, :mod:`monitor` and :mod:`storage`.

Output for people goes to stdout (tables through rich, or ``--json`` / ``--csv``); the log goes to
stderr, redacted. Errors are one line that says what and where, with exit status 2; a roster
import that rejected rows exits 1. Each source has the command group of its name
(``docketwatch acis``, ``docketwatch detainee_locator`` ...); the group names used before the
sources were named alike (``custody``, ``foia``, ``stats``, ``courts``) still work, unlisted.
"""

from __future__ import annotations

from cli import (
    acis,
    alerts,
    clients,
    court_status,
    detainee_locator,
    detention_stats,
    eoir_foia,
    sandbox,
    service,
    staff,
)
from cli.common import group

app = group(
    "docketwatch watches public immigration-court and detention records for your clients "
    "and alerts the right people when something changes."
)
app.registered_commands.extend(service.app.registered_commands)
app.add_typer(clients.app, name="clients")
app.add_typer(staff.app, name="staff")
app.add_typer(alerts.app, name="alerts")
app.add_typer(alerts.events_app, name="events")
# one group per source, named as the source
app.add_typer(acis.app, name="acis")
app.add_typer(detainee_locator.app, name="detainee_locator")
app.add_typer(eoir_foia.app, name="eoir_foia")
app.add_typer(detention_stats.app, name="detention_stats")
app.add_typer(court_status.app, name="court_status")
# queries for coordinators over what the sources stored
app.add_typer(eoir_foia.caseload_app, name="caseload")
app.add_typer(detention_stats.facilities_app, name="facilities")
app.add_typer(service.schedule_app, name="schedule")
app.add_typer(sandbox.app, name="sandbox")
# the names the source groups had before (scripts and cron lines keep working)
for old, module in (("custody", detainee_locator), ("foia", eoir_foia),
                    ("stats", detention_stats), ("courts", court_status)):  # fmt: skip
    app.add_typer(module.app, name=old, hidden=True)


def main() -> None:
    app()
