"""``docketwatch sandbox``: local replicas of the public sources (loaded only when used)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from cli.common import (
    group,
    handles_errors,
    out,
    serve_until_interrupted,
)
from cli.groups import help_of

app = group(help_of("sandbox"))


@app.command("acis")
def sandbox_acis(
    port: Annotated[int, typer.Option(help="Port on 127.0.0.1.")] = 8471,
    cases: Annotated[
        Path | None,
        typer.Option(help="JSON list of cases to load (see sandbox/acis.py case_from_json)."),
    ] = None,
) -> None:
    """Serve the ACIS replica on loopback until Ctrl-C. Control it over HTTP: POST
    /_sandbox/case (a case as JSON) and /_sandbox/knobs (refuse_all, refuse_captcha, no_token,
    fail_502, latency_s, layout, rotate_nationality_hash)."""
    from sandbox.acis import AcisSandbox, case_from_json

    with AcisSandbox(port) as replica:
        for item in json.loads(cases.read_text()) if cases else []:
            replica.set_case(case_from_json(item))
        serve_until_interrupted(replica, f"ACIS replica at {replica.url}/en/")


@app.command("detainee_locator")
def sandbox_locator(
    port: Annotated[int, typer.Option(help="Port on 127.0.0.1.")] = 8472,
    false_zero_rate: Annotated[
        float, typer.Option(help="Share of searches that wrongly answer 'zero'.")
    ] = 0.0,
) -> None:
    """Serve the ICE locator replica on loopback until Ctrl-C. Control it over HTTP: POST
    /_sandbox/person (detain, transfer, release), /_sandbox/remove, /_sandbox/knobs (blocked,
    captcha, layout, false_zero_rate, latency_s)."""
    from sandbox.detainee_locator import DetaineeLocatorSandbox

    with DetaineeLocatorSandbox(port) as replica:
        replica.state.false_zero_rate = false_zero_rate
        serve_until_interrupted(replica, f"ICE locator replica at {replica.url}/odls/#/search")


@app.command("eoir_foia_release")
@handles_errors
def sandbox_foia_release(
    out_path: Annotated[Path, typer.Argument(help="Where to write the zip.")],
    cases: Annotated[int, typer.Option(help="Cases in the release (national: 12,600,000).")] = 2000,
    seed: Annotated[int, typer.Option(help="Random seed (same seed, same release).")] = 1,
    as_of: Annotated[str, typer.Option(help="Release date, YYYY-MM-DD.")] = "2026-11-01",
    previous: Annotated[
        Path | None,
        typer.Option(help="Derive a successor of this release instead of a first one."),
    ] = None,
    new_cases: Annotated[
        int | None, typer.Option(help="New cases in a successor (default: 2.5 % of the previous).")
    ] = None,
) -> None:
    """Write a generated EOIR FOIA release (the real layout, columns, codes and quirks; no
    personal data), or a successor of one (new cases, new EOIR-28s, moved hearings,
    completions)."""
    from datetime import date

    from sandbox.eoir_foia_release import describe, generate, successor

    day = date.fromisoformat(as_of)
    if previous is not None:
        info = successor(previous, out_path, as_of=day, new_cases=new_cases)
    else:
        info = generate(out_path, cases, seed=seed, as_of=day)
    out.print_json(json.dumps(describe(info)))


@app.command("eoir_foia")
def sandbox_foia(
    release: Annotated[Path, typer.Argument(help="The release zip to serve.")],
    port: Annotated[int, typer.Option(help="Port on 127.0.0.1.")] = 8473,
    weak_etag: Annotated[bool, typer.Option(help="Serve weak ETags, as Cloudflare does.")] = False,
    modified: Annotated[
        str | None,
        typer.Option(help="Last-Modified date to announce, YYYY-MM-DD (default: the file's)."),
    ] = None,
) -> None:
    """Serve a release as EOIR's file share does (HEAD with ETag and Last-Modified, Range) until
    Ctrl-C. Control it over HTTP: GET /_control?publish=PATH (a new release; with
    modified=YYYY-MM-DD), weak=0|1,
    fail=block|truncate|truncate_once."""
    from datetime import UTC, datetime

    from sandbox.eoir_foia import EoirFoiaSandbox

    stamp = (
        datetime.fromisoformat(modified).replace(tzinfo=UTC)
        if modified
        else datetime.fromtimestamp(release.stat().st_mtime, UTC)
    )
    with EoirFoiaSandbox(port) as share:
        share.publish(release.resolve(), stamp)
        share.set(weak=weak_etag)
        serve_until_interrupted(share, f"FOIA file share at {share.zip_url}")


@app.command("court_status")
def sandbox_courts(port: Annotated[int, typer.Option(help="Port on 127.0.0.1.")] = 8474) -> None:
    """Serve the EOIR court status page and Adelanto court page replicas until Ctrl-C. Control
    over HTTP: GET /_control?slug=adelanto-immigration-court&status=CLOSED..., judges=A|B,
    layout=broken|normal."""
    from sandbox.court_status import CourtStatusSandbox

    with CourtStatusSandbox(port) as replica:
        page = f"{replica.url}/eoir/immigration-court-operational-status"
        serve_until_interrupted(replica, f"EOIR court pages at {page}")


@app.command("detention_stats")
def sandbox_ice_stats(
    files: Annotated[list[Path], typer.Argument(help="Workbooks to serve, oldest first.")],
    port: Annotated[int, typer.Option(help="Port on 127.0.0.1.")] = 8475,
) -> None:
    """Serve ICE's detention-management page replica, linking the given workbooks, until Ctrl-C."""
    from sandbox.detention_stats import DetentionStatsSandbox

    with DetentionStatsSandbox(port) as replica:
        replica.serve([f.resolve() for f in files])
        serve_until_interrupted(replica, f"ICE detention-management page at {replica.page_url}")


@app.command("legalserver")
def sandbox_legalserver(
    port: Annotated[int, typer.Option(help="Port on 127.0.0.1.")] = 8477,
    roster: Annotated[
        int, typer.Option(help="Synthetic active clients in report 1 (api_key: sandbox-key).")
    ] = 25,
    attorney: Annotated[
        str, typer.Option(help="The attorney email the report's rows name.")
    ] = "attorney@example.org",
) -> None:
    """Serve a LegalServer replica on loopback until Ctrl-C: the Reports API (report 1 lists
    synthetic active clients as JSON, api_key sandbox-key; report 2 the same as XML) and the
    Core API (the same clients as open matters, their advocate's user record, case notes;
    Bearer token sandbox-token). Sync it with `docketwatch clients sync URL --token-file FILE`
    (a report's address, or the site's for the Core API)."""
    import uuid

    from sandbox.legalserver import LegalServerSandbox, demo_report, matter

    with LegalServerSandbox(port) as replica:
        report = demo_report(roster, attorney, "json")
        replica.set_report(1, report)
        replica.set_report(2, demo_report(roster, attorney, "xml"))
        advocate = str(uuid.uuid4())
        replica.state.users[advocate] = {"user_uuid": advocate, "email": attorney}
        for row in report.rows:
            found = matter(
                str(row["A Number"]),
                str(row["Client Full Name"]),
                str(row["Citizenship"]),
                [("Primary", advocate)],
            )
            replica.state.full_matters.append(found)
            replica.state.matters[found["matter_uuid"]] = []
        serve_until_interrupted(
            replica,
            f"LegalServer replica: report 1 at {replica.report_url(1)}; Core API at {replica.url}",
        )


@app.command("federal_dockets")
def sandbox_federal_dockets(
    port: Annotated[int, typer.Option(help="Port on 127.0.0.1.")] = 8478,
    webhook_url: Annotated[
        str,
        typer.Option(
            help="Where its DOCKET_ALERT webhooks go (the web app's "
            "/hooks/federal_dockets/courtlistener/SECRET)."
        ),
    ] = "",
) -> None:
    """Serve a CourtListener API v4 replica on loopback until Ctrl-C: dockets, docket entries
    (cursor pages), search, docket alerts, token auth (the token: 40 characters, printed), and
    DOCKET_ALERT webhooks for new entries. It holds one habeas docket (cacd 5:25-cv-01234, with
    its petition); add entries by POSTing {"docket": ID, "description": TEXT} to /_entry."""
    from sandbox.federal_dockets import TOKEN, FederalDocketsSandbox

    with FederalDocketsSandbox(port, retry_unit=60.0) as replica:
        replica.state.webhook_url = webhook_url
        docket = replica.add_docket(
            "cacd", "5:25-cv-01234", "Doe v. Warden, Adelanto ICE Processing Center", ["Jane Doe"]
        )
        replica.add_entry(
            docket,
            "PETITION for Writ of Habeas Corpus (28:2241), filed by "
            "Petitioner. (Attachments: # 1 Memorandum)",
        )
        serve_until_interrupted(
            replica,
            f"CourtListener replica at {replica.url}/api/rest/v4 (token {TOKEN}; docket {docket})",
        )


# the names the replicas' commands had before (scripts keep working), unlisted
for _old, _command in (
    ("locator", sandbox_locator),
    ("foia-release", sandbox_foia_release),
    ("foia", sandbox_foia),
    ("courts", sandbox_courts),
    ("ice-stats", sandbox_ice_stats),
):
    app.command(_old, hidden=True)(_command)
