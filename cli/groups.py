"""The command groups: where each lives and what it is for, known without importing it.

``docketwatch --help`` lists the groups from here; a group's module is imported, and its commands
built, only when the group is used (``cli.LazyGroup``).
"""

from __future__ import annotations

from typing import NamedTuple


class Group(NamedTuple):
    module: str
    attribute: str
    help: str
    hidden: bool = False  # a name kept working for scripts, not listed


GROUPS: dict[str, Group] = {
    "clients": Group(
        "cli.clients", "app", "The client roster: import, add, list, show, deactivate."
    ),
    "orgs": Group(
        "cli.orgs",
        "app",
        "The programs this deployment serves: list, add, rename, set (roster source, LegalServer).",
    ),
    "api": Group(
        "cli.api",
        "app",
        "Tokens of the read-only JSON API (a program's own): create, list, revoke.",
    ),
    "staff": Group("cli.staff", "app", "Staff who receive alerts: add, list, assign to clients."),
    "alerts": Group(
        "cli.alerts",
        "app",
        "Alerts: send a test, see what is pending, read the delivery log, retry, acknowledge.",
    ),
    "events": Group("cli.alerts", "events_app", "Event kinds and what they mean."),
    # one group per source, named as the source
    "acis": Group(
        "cli.acis",
        "app",
        "EOIR case status (ACIS): check clients' hearings, refresh with a person's help, "
        "import an answer saved by hand.",
    ),
    "detainee_locator": Group(
        "cli.detainee_locator",
        "app",
        "ICE online detainee locator: check where detained clients are held.",
    ),
    "eoir_foia": Group(
        "cli.eoir_foia",
        "app",
        "EOIR's bulk FOIA case data: check for a new release, load one, see the load reports.",
    ),
    "federal_dockets": Group(
        "cli.federal_dockets",
        "app",
        "Federal dockets (CourtListener): link a client's habeas petition or petition for "
        "review, suggest candidates, check for new entries, set the token.",
    ),
    "detention_stats": Group(
        "cli.detention_stats",
        "app",
        "ICE detention statistics workbooks: parse one, load some, check ICE's page for new ones.",
    ),
    "court_status": Group(
        "cli.court_status",
        "app",
        "EOIR court operational status and the Adelanto judges: check now, list the statuses.",
    ),
    # queries for coordinators over what the sources stored
    "caseload": Group(
        "cli.eoir_foia",
        "caseload_app",
        "Unrepresented caseloads from the FOIA releases, for coordinators (table, --csv, --json).",
    ),
    "facilities": Group(
        "cli.detention_stats",
        "facilities_app",
        "Detention facilities: population series from ICE's statistics.",
    ),
    "reminders": Group(
        "cli.reminders",
        "app",
        "Hearing reminders to clients (SMS, WhatsApp): consent, languages, pause, send due ones.",
    ),
    "report": Group(
        "cli.reports",
        "app",
        "Reports for funders and the public (HTML, PDF, XLSX, CSV); no personal data.",
    ),
    "schedule": Group(
        "cli.service", "schedule_app", "The polling budget: who is checked when, and why."
    ),
    "sandbox": Group(
        "cli.sandbox",
        "app",
        "Local replicas of the public sources, for trying docketwatch without touching them.",
    ),
}
# the names the source groups had before the sources were named alike
for _old, _new in (
    ("custody", "detainee_locator"),
    ("foia", "eoir_foia"),
    ("stats", "detention_stats"),
    ("courts", "court_status"),
):
    GROUPS[_old] = GROUPS[_new]._replace(hidden=True)


def help_of(name: str) -> str:
    return GROUPS[name].help
