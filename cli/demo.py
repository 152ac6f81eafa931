"""``docketwatch demo``: the whole service against local replicas, in a few minutes.

It starts every replica on loopback (ACIS, the ICE locator, EOIR's FOIA file share, EOIR's court
pages, ICE's detention-management page, a LegalServer site, CourtListener) and an SMTP sink that
files every message in a mailbox folder; seeds a demo organization (synthetic clients and staff, no
real person) in its own database; syncs its roster from the LegalServer report (a client taken on
this morning is added); runs one cycle of every source; changes the world (a hearing moved earlier,
a transfer out of Adelanto, a new FOIA release with new unrepresented cases, an Adelanto closure on
a client's hearing day, an order to show cause on a client's habeas docket); runs again; sends the
alerts, and writes the client events as case notes on the clients' LegalServer matters. Nothing
public is contacted.
"""

from __future__ import annotations

import shutil
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from sqlmodel import Session, col, select

from checks import acis as acis_check
from checks import court_status as court_status_check
from checks import detainee_locator as detainee_locator_check
from checks import detention_stats as detention_stats_check
from checks import eoir_foia as eoir_foia_check
from checks import federal_dockets as federal_dockets_check
from monitor.dispatch import Dispatcher
from storage.db import make_engine, session_scope, upgrade
from storage.models import Client, Delivery, Event, Staff
from storage.people import add_client, add_staff, assign
from storage.reference_data import load_reference_data
from storage.settings import Settings

if TYPE_CHECKING:  # the replicas are loaded when the demo runs, never with the CLI
    import sqlalchemy as sa

    from sandbox.acis import AcisSandbox
    from sandbox.court_status import CourtStatusSandbox
    from sandbox.detainee_locator import DetaineeLocatorSandbox
    from sandbox.detention_stats import DetentionStatsSandbox
    from sandbox.eoir_foia import EoirFoiaSandbox
    from sandbox.federal_dockets import FederalDocketsSandbox
    from sandbox.legalserver import LegalServerSandbox
    from sandbox.mail import SmtpSink

ZONE = ZoneInfo("America/Los_Angeles")
STAFF = [
    ("Ana Ruiz", "ana.ruiz@demo.example", "attorney", "en"),
    ("Beto Paz", "beto.paz@demo.example", "attorney", "es"),
    ("Cora Lee", "cora.lee@demo.example", "coordinator", "en"),
    ("Dee Admin", "it@demo.example", "admin", "en"),
]
# Synthetic clients (A-numbers in the 999 range, names that are plainly not people's).
CLIENTS = [
    ("999000101", "DEMO, HEARING MOVED", "GT", "ana.ruiz@demo.example"),
    ("999000102", "DEMO, TRANSFERRED", "HO", "beto.paz@demo.example"),
    ("999000103", "DEMO, COURT CLOSED", "MX", "ana.ruiz@demo.example"),
]


@dataclass
class DemoResult:
    folder: Path
    mailbox: Path
    database_url: str
    events: Counter[str] = field(default_factory=Counter)
    sent: Counter[str] = field(default_factory=Counter)  # recipient -> messages
    steps: list[str] = field(default_factory=list)
    synced: str = ""  # what the roster sync did
    case_notes: list[str] = field(default_factory=list)  # the subjects written on matters


def run_demo(folder: Path, say: Callable[[str], None] = print) -> DemoResult:
    from sandbox.acis import AcisSandbox
    from sandbox.court_status import CourtStatusSandbox
    from sandbox.detainee_locator import DetaineeLocatorSandbox
    from sandbox.detention_stats import DetentionStatsSandbox
    from sandbox.eoir_foia import EoirFoiaSandbox
    from sandbox.federal_dockets import TOKEN, FederalDocketsSandbox
    from sandbox.legalserver import LegalServerSandbox
    from sandbox.mail import SmtpSink

    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    mailbox = folder / "mailbox"
    url = f"sqlite:///{(folder / 'docketwatch.db').resolve()}"
    result = DemoResult(folder, mailbox, url)
    engine = make_engine(url)
    upgrade(engine)
    load_reference_data(engine)
    today = datetime.now(UTC).astimezone(ZONE).date()
    with (
        SmtpSink(maildir=mailbox) as sink,
        AcisSandbox() as acis,
        DetaineeLocatorSandbox() as locator,
        EoirFoiaSandbox() as share,
        CourtStatusSandbox() as courts,
        DetentionStatsSandbox() as ice,
        LegalServerSandbox() as legalserver,
        FederalDocketsSandbox() as courtlistener,
    ):
        world = _World(acis, locator, share, courts, ice, legalserver, courtlistener)
        settings = Settings(
            database_url=url,
            data_dir=folder / "data",
            acis_base_url=acis.url,
            acis_pace_seconds=0,
            detainee_locator_base_url=locator.url,
            detainee_locator_pace_seconds=0,
            eoir_foia_url=share.zip_url,
            court_status_base_url=courts.url,
            detention_stats_url=ice.page_url,
            federal_dockets_url=f"{courtlistener.url}/api/rest/v4",
            sources=[],
        )
        say(f"replicas on 127.0.0.1; mail goes to {mailbox}")
        _seed(engine, sink, acis, locator, today)
        result.synced = _sync_from_legalserver(engine, settings, legalserver, acis, today)
        say(f"roster sync from LegalServer: {result.synced}")
        habeas = _federal_docket(engine, courtlistener, TOKEN)
        say(f"CourtListener: client ***0102's habeas petition, {HABEAS}, is on the roster")
        release1 = _publish_first_files(world, folder / "data", today)
        _cycle(engine, settings, result, say, "first cycle (baselines: nothing has changed yet)")
        _change_the_world(world, folder / "data", release1, habeas, today, say)
        _cycle(engine, settings, result, say, "second cycle")
        _tally(engine, world, result, say)
    engine.dispose()
    return result


@dataclass
class _World:
    """The replicas the demo runs against."""

    acis: AcisSandbox
    locator: DetaineeLocatorSandbox
    share: EoirFoiaSandbox
    courts: CourtStatusSandbox
    ice: DetentionStatsSandbox
    legalserver: LegalServerSandbox
    courtlistener: FederalDocketsSandbox


def _publish_first_files(world: _World, data: Path, today: date) -> Path:
    """EOIR's first FOIA release and ICE's statistics workbook, as the replicas serve them."""
    from sandbox.detention_stats import make_workbook
    from sandbox.eoir_foia_release import generate

    release1 = generate(data / "release-1.zip", 3000, seed=7, as_of=today)
    world.share.publish(release1.path, datetime.combine(today, datetime.min.time(), UTC))
    fy = today.year + (1 if today.month >= 10 else 0)
    workbook = make_workbook(
        data / f"FY{fy % 100}_detentionStats_1.xlsx",
        fy,
        today - timedelta(days=10),
        {"ADELANTO ICE PROCESSING CENTER": 1650.0},
    )
    world.ice.serve([workbook])
    return release1.path


def _cycle(
    engine: sa.Engine,
    settings: Settings,
    result: DemoResult,
    say: Callable[[str], None],
    label: str,
) -> None:
    """One check of every source, then the alerts sent."""
    say(f"-- {label}")
    with Session(engine) as s:
        clients = list(s.exec(select(Client).where(col(Client.active).is_(True))))
    a = acis_check.check(engine, settings, clients)
    say(f"ACIS: {a.outcome} {dict(a.outcomes)}")
    c = detainee_locator_check.check(engine, settings, clients)
    say(f"ICE locator: {c.outcome} {dict(c.outcomes)}")
    f = eoir_foia_check.check(engine, settings)
    say(f"EOIR FOIA: {f.outcome}: {f.message}")
    st = detention_stats_check.check(engine, settings)
    say(f"ICE statistics: {st.outcome}: {st.message}")
    ct = court_status_check.check(engine, settings)
    say(f"court status: {ct.outcome}: {ct.message}")
    fd = federal_dockets_check.check(engine, settings)
    say(f"federal dockets: {fd.outcome}: {fd.message}")
    sent = Dispatcher(engine, settings).run_once()
    say(f"alerts sent: {sent.sent}")
    result.steps.append(label)


def _change_the_world(
    world: _World,
    data: Path,
    release1: Path,
    habeas: int,
    today: date,
    say: Callable[[str], None],
) -> None:
    """A hearing moved earlier, a transfer out of Adelanto, a new FOIA release, an Adelanto
    closure on a client's hearing day, an order to show cause on the habeas docket."""
    from sandbox.acis_data import Case, Hearing
    from sandbox.eoir_foia_release import successor

    say("-- the world changes")
    hearing_soon = today + timedelta(days=3)
    world.acis.set_case(
        Case(
            "999000101",
            "GT",
            name="DEMO, HEARING MOVED",
            case_id=20000101,
            hearing=Hearing(on=hearing_soon, time="8:30 AM"),
        )
    )
    say(f"ACIS: client ***0101's hearing moved earlier, to {hearing_soon}")
    world.locator.transfer("999000102", "ELOYAZ")
    say("ICE locator: client ***0102 transferred from Adelanto to Eloy, AZ")
    release2 = successor(release1, data / "release-2.zip", seed=8, as_of=today + timedelta(days=1))
    published = datetime.combine(today, datetime.min.time(), UTC) + timedelta(hours=12)
    world.share.publish(release2.path, published)
    say("EOIR: a new FOIA release is out")
    closed_day = today + timedelta(days=2)
    notice = f"CLOSED\nThe court is closed on {closed_day:%m/%d/%Y} (power outage)."
    world.courts.close("adelanto-immigration-court", notice)
    say(f"EOIR: Adelanto Immigration Court closed on {closed_day}")
    world.courtlistener.add_entry(habeas, OSC_TEXT, notify=False)  # no web app here: polled
    say(f"CourtListener: an order to show cause on {HABEAS}")


def _tally(
    engine: sa.Engine, world: _World, result: DemoResult, say: Callable[[str], None]
) -> None:
    """What happened: the events, the messages sent to each person, the case notes written."""
    with Session(engine) as s:
        result.events = Counter(e.kind for e in s.exec(select(Event)))
        for d, member in s.exec(
            select(Delivery, Staff).join(Staff, col(Staff.id) == col(Delivery.staff_id))
        ):
            if d.status == "sent":
                result.sent[member.email] += 1
    for notes in world.legalserver.state.matters.values():
        result.case_notes += [str(n["subject"]) for n in notes]
    for subject in result.case_notes:
        say(f"LegalServer: case note written: {subject}")


def _seed(
    engine: object, sink: SmtpSink, acis: AcisSandbox, locator: DetaineeLocatorSandbox, today: date
) -> None:
    from sandbox.acis_data import Case, Hearing
    from sandbox.detainee_locator import Person

    with session_scope(engine) as s:  # type: ignore[arg-type]
        for name, email, role, lang in STAFF:
            add_staff(
                s, name=name, email=email, role=role, language=lang, channels=[sink.url(email)]
            )
        for number, name, nat, attorney in CLIENTS:
            add_client(s, a_number=number, name=name, nationality=nat, country_of_birth=nat)
            assign(s, number, attorney, "primary")
    acis.set_case(
        Case(
            "999000101",
            "GT",
            name="DEMO, HEARING MOVED",
            case_id=20000101,
            hearing=Hearing(on=today + timedelta(days=40)),
        )
    )
    acis.set_case(
        Case(
            "999000102",
            "HO",
            name="DEMO, TRANSFERRED",
            case_id=20000102,
            hearing=Hearing(on=today + timedelta(days=25)),
        )
    )
    acis.set_case(
        Case(
            "999000103",
            "MX",
            name="DEMO, COURT CLOSED",
            case_id=20000103,
            hearing=Hearing(on=today + timedelta(days=2), time="1:00 PM"),
        )
    )
    locator.detain(Person("999000102", "HO", "DEMO", "TRANSFERRED"), "ADLNTCA")
    locator.detain(Person("999000103", "MX", "DEMO", "COURT CLOSED"), "ADLNTCA")


HABEAS = "cacd 5:25-cv-01234"
OSC_TEXT = (
    "ORDER TO SHOW CAUSE why the Petition for Writ of Habeas Corpus should not be granted. "
    "Respondents shall file a return within three (3) days. (demo)"
)


def _federal_docket(engine: object, courtlistener: object, token: str) -> int:
    """The transferred client's habeas docket at CourtListener (its petition filed), listed in
    the client's roster row; the token stored as an admin stores it."""
    from sandbox.federal_dockets import FederalDocketsSandbox
    from storage.federal_dockets import set_token

    assert isinstance(courtlistener, FederalDocketsSandbox)
    docket = courtlistener.add_docket(
        "cacd", "5:25-cv-01234", "Demo v. Warden, Adelanto ICE Processing Center", ["DEMO"]
    )
    courtlistener.add_entry(
        docket, "PETITION for Writ of Habeas Corpus (28:2241), filed by Petitioner. (demo)"
    )
    with session_scope(engine) as s:  # type: ignore[arg-type]
        set_token(s, token)
        client = s.exec(select(Client).where(Client.a_number == "999000102")).one()
        client.federal_cases = HABEAS
        s.add(client)
    return docket


#: the program's LegalServer matters of the demo's clients (synthetic ids)
MATTERS = {number: f"00000000-0000-4000-8000-{number[-12:].rjust(12, '0')}" for number in (
    "999000101", "999000102", "999000103", "999000104"
)}  # fmt: skip


def _sync_from_legalserver(
    engine: object, settings: Settings, site: object, acis: AcisSandbox, today: date
) -> str:
    """The program's LegalServer report lists the seeded clients and one taken on this
    morning; the sync adds that one and learns each client's matter (for case notes)."""
    from checks.roster_sync import sync_program
    from sandbox.acis_data import Case, Hearing
    from sandbox.legalserver import LegalServerSandbox, Report
    from storage.case_system import set_case_system
    from storage.roster_sync import configure
    from storage.tenancy import only_organization

    assert isinstance(site, LegalServerSandbox)
    rows = [
        {
            "A Number": number,
            "Client Full Name": name,
            "Citizenship": nat,
            "Primary Advocate Email": attorney,
            "Globally Unique ID": MATTERS[number],
            "Open?": True,
        }
        for number, name, nat, attorney in [
            *CLIENTS,
            ("999000104", "DEMO, TAKEN ON TODAY", "ES", "beto.paz@demo.example"),
        ]
    ]
    site.set_report(
        312, Report(api_key="demo-key", columns=list(rows[0]), rows=rows, hidden={"Open?"})
    )
    for matter in MATTERS.values():
        site.state.matters[matter] = []
    acis.set_case(
        Case(
            "999000104",
            "ES",
            name="DEMO, TAKEN ON TODAY",
            case_id=20000104,
            hearing=Hearing(on=today + timedelta(days=60)),
        )
    )
    with session_scope(engine) as s:  # type: ignore[arg-type]
        org = only_organization(s)
        assert org is not None
        configure(
            s,
            org,
            kind="legalserver-report",
            source=site.report_url(312),
            token="demo-key",
            mapping=["attorney_email=Primary Advocate Email"],
            now=datetime.now(UTC),
        )
        set_case_system(s, org, now=datetime.now(UTC), site=site.url, token=site.state.core_token)
    outcome = sync_program(engine, settings, org)  # type: ignore[arg-type]
    return f"{outcome.outcome}: {outcome.message}"
