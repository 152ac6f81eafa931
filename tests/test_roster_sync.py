"""The roster follows the program's case-management system (issue 28, points 1 and 2): each sync
kind over real HTTP or a real folder, sync's rules (a blank never erases, two misses deactivate,
a mass omission refused whole), the coordinators and admins told once, two programs apart."""

from __future__ import annotations

import csv
import os
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa
from sqlmodel import col, select

from checks.roster_sync import SyncOutcome, SyncSource, due_programs, sync_program
from sandbox.legalserver import DEMO_MAPPING, LegalServerSandbox, demo_report
from storage.db import session_scope
from storage.errors import ValidationError
from storage.models import AuditEntry, Client, Event, Organization, RosterSyncRun, Staff
from storage.people import add_client, add_staff
from storage.roster_sync import check_source, configure
from storage.settings import Settings
from storage.tenancy import only_organization
from tests.support.cli import run_cli
from tests.support.web import sign_in as signed_in

NOW = datetime(2026, 12, 7, 18, 0, tzinfo=UTC)
HEADER = ["A-Number", "Client Name", "Nationality", "Attorney Email"]
ANA = "ana@example.org"


def _people(n: int, start: int = 0) -> list[list[str]]:
    return [[f"9{i:08d}", f"DOE{i}, JANE", "MX", ANA] for i in range(start, start + n)]


def _write(folder: Path, name: str, rows: list[list[str]], age: int = 0) -> Path:
    path = folder / name
    with path.open("w", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(HEADER)
        writer.writerows(rows)
    stamp = NOW.timestamp() - age
    os.utime(path, (stamp, stamp))
    return path


@pytest.fixture
def program(sqlite_engine: sa.Engine) -> Iterator[tuple[sa.Engine, int]]:
    with session_scope(sqlite_engine) as s:
        org = only_organization(s)
        assert org is not None
        hook = ["json://127.0.0.1:9/nobody-listens"]  # deliveries are queued, never sent
        add_staff(s, name="Ana Ruiz", email=ANA, role="attorney", channels=hook)
        add_staff(s, name="Cora Lee", email="cora@example.org", role="coordinator", channels=hook)
        add_staff(s, name="Adm In", email="adm@example.org", role="admin", channels=hook)
    yield sqlite_engine, org


def _clients(engine: sa.Engine, org: int) -> dict[str, Client]:
    with session_scope(engine) as s:
        rows = s.exec(select(Client).where(Client.organization_id == org)).all()
        return {c.a_number: c for c in rows}


def _events(engine: sa.Engine, kind: str) -> list[Event]:
    with session_scope(engine) as s:
        return list(s.exec(select(Event).where(Event.kind == kind)))


def _sync(
    engine: sa.Engine,
    org: int,
    *,
    now: datetime = NOW,
    given: SyncSource | None = None,
    force: bool = False,
) -> SyncOutcome:
    return sync_program(engine, Settings(), org, given=given, force=force, now=now)


def test_a_folder_drop_is_synced_by_its_rules(
    program: tuple[sa.Engine, int], tmp_path: Path
) -> None:
    engine, org = program
    drop = tmp_path / "drop"
    drop.mkdir()
    with session_scope(engine) as s:
        configure(s, org, kind="file", source=str(drop), now=NOW)
        # added by hand: no sync ever deactivates this one
        add_client(s, a_number="999000001", name="HAND, ADDED", nationality="GT")
    people = _people(20)
    _write(drop, "old.csv", _people(3, 500), age=3600)  # an older export: not read
    _write(drop, "clients-2026-12-07.csv", people)
    first = _sync(engine, org)
    assert (first.exit_code, first.outcome) == (0, "ok"), first.message
    stored = _clients(engine, org)
    assert len(stored) == 21 and "900000500" not in stored
    assert all(stored[p[0]].roster_source for p in people)
    assert stored["999000001"].roster_source is None

    # A blank never erases; a new row missing a required field is rejected; a rejected row of a
    # known client is not an omission; an unknown attorney leaves the client watched.
    changed = [list(p) for p in people]
    changed[0][2] = ""  # stored client, blank nationality: kept
    changed[1][1] = "DOE1, JANET"  # a changed name: updated
    changed[2][3] = "nobody@example.org"  # no such staff member: reported, attorney kept
    changed[3][0] = changed[3][0][:-1] + "X"  # unreadable A-number: rejected (an omission)
    changed.append(["912000777", "NEW, PERSON", "", ANA])  # new, no nationality: rejected
    changed.append(["912000778", "NEW, OTHER", "HO", ANA])  # new: added
    _write(drop, "clients-2026-12-08.csv", changed)
    second = _sync(engine, org, now=NOW + timedelta(hours=1))
    assert (second.exit_code, second.outcome) == (1, "partial")
    report = second.report
    assert report is not None
    assert (report.created, report.updated, report.deactivated) == (1, 1, 0)
    assert report.unknown_emails == ["nobody@example.org"]
    assert sorted(r.column for r in report.rejects) == ["A-Number", "Nationality"]
    stored = _clients(engine, org)
    assert stored[people[0][0]].nationality_code == "MX"
    assert stored[people[1][0]].name == "DOE1, JANET"
    assert stored[people[2][0]].primary_attorney_id is not None  # Ana still
    assert stored[people[3][0]].active and stored[people[3][0]].roster_missed == 1
    assert "912000777" not in stored and "912000778" in stored
    digests = _events(engine, "roster_sync_rejects")
    assert len(digests) == 1 and digests[0].organization_id == org
    notes = str(digests[0].payload)
    assert "nobody@example.org" in notes and "912000777" not in notes

    # The same file again: nothing changes, and the same rejects are not reported again.
    _write(drop, "clients-2026-12-09.csv", changed)
    third = _sync(engine, org, now=NOW + timedelta(hours=2))
    assert third.exit_code == 1
    assert len(_events(engine, "roster_sync_rejects")) == 1
    stored = _clients(engine, org)
    # omitted twice in a row (its row unreadable twice): deactivated, kept with its history
    assert not stored[people[3][0]].active
    assert third.report is not None and third.report.deactivated == 1
    # ... and back: reactivated
    _write(drop, "clients-2026-12-10.csv", [*people, ["912000778", "NEW, OTHER", "HO", ANA]])
    fourth = _sync(engine, org, now=NOW + timedelta(hours=3))
    assert fourth.report is not None and fourth.report.reactivated == 1
    stored = _clients(engine, org)
    assert stored[people[3][0]].active and stored["999000001"].active
    with session_scope(engine) as s:
        runs = s.exec(select(RosterSyncRun).order_by(col(RosterSyncRun.id))).all()
        assert [r.outcome for r in runs] == ["ok", "partial", "partial", "ok"]
        assert (runs[1].added, runs[1].updated, runs[1].rejected) == (1, 1, 2)
        audits = s.exec(select(AuditEntry).where(AuditEntry.action == "roster_sync")).all()
        assert len(audits) == 4 and all("912" not in a.detail for a in audits)


def test_a_truncated_export_is_refused_whole_and_said_once(
    program: tuple[sa.Engine, int], tmp_path: Path
) -> None:
    engine, org = program
    export = tmp_path / "roster.csv"
    with session_scope(engine) as s:
        configure(s, org, kind="file", source=str(export), now=NOW)
    people = _people(40)
    _write(tmp_path, "roster.csv", people)
    assert _sync(engine, org).exit_code == 0
    before = {a: (c.active, c.roster_missed) for a, c in _clients(engine, org).items()}
    _write(tmp_path, "roster.csv", people[:30])  # a quarter missing: more than 10%
    for hour in (1, 2):
        refused = _sync(engine, org, now=NOW + timedelta(hours=hour))
        assert (refused.exit_code, refused.outcome) == (2, "refused")
        assert "10 of the 40" in refused.message
        after = {a: (c.active, c.roster_missed) for a, c in _clients(engine, org).items()}
        assert after == before  # nothing stored, not counted toward "two in a row"
    told = _events(engine, "roster_sync_refused")
    assert len(told) == 1  # the coordinators told once
    # A small omission is applied (not refused): 4 of 40 is 10%.
    _write(tmp_path, "roster.csv", people[:36])
    assert _sync(engine, org, now=NOW + timedelta(hours=3)).exit_code == 0
    # --force applies a big one, from the command line only
    _write(tmp_path, "roster.csv", people[:20])
    forced = _sync(engine, org, now=NOW + timedelta(hours=4), force=True)
    assert forced.exit_code == 0
    stored = _clients(engine, org)
    assert sum(c.roster_missed == 1 for c in stored.values()) == 16
    assert sum(not c.active for c in stored.values()) == 4  # the four missed twice


def test_a_legalserver_report_json_and_xml(program: tuple[sa.Engine, int], tmp_path: Path) -> None:
    engine, org = program
    with LegalServerSandbox() as site:
        site.set_report(312, demo_report(12, ANA, "json"))
        site.set_report(313, demo_report(12, ANA, "xml", seed=8))
        source = SyncSource.given(
            "legalserver-report", site.report_url(312), "sandbox-key", DEMO_MAPPING
        )
        done = _sync(engine, org, given=source)
        assert done.exit_code == 0, done.message
        call = site.state.calls[-1]
        assert call["api_key"] == "sandbox-key" and call["load"] == "312"
        assert "display_hidden_columns" not in call  # LegalServer's default: hidden ones too
        # asked not to: the hidden column is not in the answer, and nothing else changes
        shown = SyncSource.given(
            "legalserver-report", site.report_url(312), "sandbox-key", DEMO_MAPPING, False
        )
        assert _sync(engine, org, given=shown).exit_code == 0
        assert site.state.calls[-1]["display_hidden_columns"] == "false"
        with httpx.Client() as web:  # the replica's answer, as LegalServer writes it
            url = site.report_url(312) + "&api_key=sandbox-key"
            answer = web.get(url).json()
            hidden = web.get(url + "&display_hidden_columns=false").json()
        assert "Internal Notes" in answer[0] and "Internal Notes" not in hidden[0]
        assert {answer[0]["Detained?"], answer[1]["Detained?"]} == {"t", "f"}
        stored = _clients(engine, org)
        assert len(stored) == 12
        assert {c.primary_attorney_id for c in stored.values()} != {None}
        # XML, with LegalServer's own tag names (a column map names them)
        xml = SyncSource.given(
            "legalserver-report",
            site.report_url(313),
            "sandbox-key",
            ["a_number=a_number", "name=client_full_name", "attorney_email=primary_advocate_email"],
        )
        assert _sync(engine, org, given=xml).exit_code == 0
        assert len(_clients(engine, org)) == 24

        # A report whose column was renamed: a clear error naming the column, nothing stored.
        renamed = demo_report(12, ANA, "json")
        renamed.columns[4] = "Advocate E-mail"
        renamed.rows = [
            {("Advocate E-mail" if k == "Primary Advocate Email" else k): v for k, v in r.items()}
            for r in renamed.rows
        ]
        site.set_report(312, renamed)
        failed = _sync(engine, org, given=source)
        assert (failed.exit_code, failed.outcome) == (2, "failed")
        assert "attorney_email='Primary Advocate Email'" in failed.message
        # A wrong key, and throttling: said plainly, nothing stored.
        bad = SyncSource.given("legalserver-report", site.report_url(313), "wrong", None)
        assert "refused the credentials (HTTP 401)" in _sync(engine, org, given=bad).message
        site.state.fail_next = [429]
        throttled = _sync(engine, org, given=xml)
        assert "HTTP 429, retry after 30 s" in throttled.message
        assert len(_clients(engine, org)) == 24
    with pytest.raises(ValidationError, match="api_key"):
        check_source("legalserver-report", site.report_url(1) + "&api_key=x")
    with pytest.raises(ValidationError, match="https://"):
        check_source("file", "http://roster.example.org/clients.csv")


def test_a_source_down_changes_nothing_and_admins_are_told_once(
    program: tuple[sa.Engine, int], tmp_path: Path
) -> None:
    engine, org = program
    with LegalServerSandbox() as site:
        site.set_report(7, demo_report(10, ANA))
        with session_scope(engine) as s:
            configure(
                s,
                org,
                kind="legalserver-report",
                source=site.report_url(7),
                token="sandbox-key",
                mapping=DEMO_MAPPING,
                now=NOW,
            )
        assert _sync(engine, org).exit_code == 0
        site.state.fail_next = [503, 500, 503, 503]
        for hour in range(1, 5):
            down = _sync(engine, org, now=NOW + timedelta(hours=hour))
            assert (down.exit_code, down.outcome) == (2, "failed")
        assert len(_events(engine, "roster_sync_failing")) == 1  # after the third; once
        assert all(c.active and c.roster_missed == 0 for c in _clients(engine, org).values())
        back = _sync(engine, org, now=NOW + timedelta(hours=6))
        assert back.exit_code == 0
        assert len(_events(engine, "roster_sync_recovered")) == 1
    (failing,) = _events(engine, "roster_sync_failing")
    with session_scope(engine) as s:
        from storage.models import Delivery

        deliveries = s.exec(select(Delivery).where(Delivery.event_id == failing.id)).all()
        roles = {s.get(Staff, d.staff_id).role for d in deliveries}  # type: ignore[union-attr]
    assert roles == {"admin"}


def test_two_programs_sync_from_two_sources_apart(
    program: tuple[sa.Engine, int], tmp_path: Path
) -> None:
    engine, first = program
    with session_scope(engine) as s:
        other = Organization(slug="santa-ana", name="Santa Ana Defenders", created_at=NOW)
        s.add(other)
        s.flush()
        assert other.id is not None
        second = other.id
        add_staff(s, name="Bea", email="bea@example.org", role="attorney", organization_id=second)
    shared = _people(5)  # the same people watched by both programs
    _write(tmp_path, "a.csv", shared + _people(5, 100))
    b_rows = [[a, n, nat, "bea@example.org"] for a, n, nat, _ in shared + _people(5, 200)]
    _write(tmp_path, "b.csv", b_rows)
    a_source = SyncSource.given("file", str(tmp_path / "a.csv"), None, None)
    b_source = SyncSource.given("file", str(tmp_path / "b.csv"), None, None)
    assert _sync(engine, first, given=a_source).exit_code == 0
    assert _sync(engine, second, given=b_source).exit_code == 0
    # Program A drops its five shared clients, twice: only A's rows are deactivated.
    _write(tmp_path, "a.csv", _people(5, 100) + _people(1, 300))
    for hour in (1, 2):
        _sync(engine, first, given=a_source, now=NOW + timedelta(hours=hour), force=True)
    a, b = _clients(engine, first), _clients(engine, second)
    assert sum(not c.active for c in a.values()) == 5
    assert all(c.active for c in b.values()) and len(b) == 10
    with session_scope(engine) as s:
        bea = s.exec(select(Staff).where(Staff.email == "bea@example.org")).one()
    assert {c.primary_attorney_id for c in b.values()} == {bea.id}


def test_the_command_line_and_the_schedule(program: tuple[sa.Engine, int], tmp_path: Path) -> None:
    engine, org = program
    assert due_programs(engine, NOW) == []
    drop = tmp_path / "drop"
    drop.mkdir()
    with session_scope(engine) as s:
        configure(s, org, kind="file", source=str(drop), now=NOW, interval_minutes=60)
    assert due_programs(engine, NOW) == [org]
    _write(drop, "x.csv", _people(3))
    looked = sync_program(engine, Settings(), org, dry_run=True, now=NOW)
    assert looked.outcome == "dry-run" and due_programs(engine, NOW) == [org]
    assert _sync(engine, org).exit_code == 0
    assert due_programs(engine, NOW + timedelta(minutes=30)) == []
    assert due_programs(engine, NOW + timedelta(minutes=61)) == [org]


def test_clients_sync_from_the_command_line_over_http(tmp_path: Path) -> None:
    assert run_cli("init", cwd=tmp_path).returncode == 0
    added = run_cli(
        "staff", "add", "--name", "Ana", "--email", ANA, "--role", "attorney", cwd=tmp_path
    )
    assert added.returncode == 0, added.stderr
    token = tmp_path / "key.txt"
    token.write_text("sandbox-key\n")
    with LegalServerSandbox() as site:
        site.set_report(1, demo_report(8, ANA))
        maps = [x for m in DEMO_MAPPING for x in ("--map", m)]
        url = site.report_url(1)
        dry = run_cli(
            "clients", "sync", url, "--token-file", str(token), *maps, "--dry-run", cwd=tmp_path
        )
        assert dry.returncode == 0, dry.stderr
        assert "dry run, nothing stored: 8 rows: 8 added" in dry.stdout
        done = run_cli("clients", "sync", url, "--token-file", str(token), *maps, cwd=tmp_path)
        assert done.returncode == 0, done.stderr
        assert "8 added" in done.stdout
        listed = run_cli("clients", "list", "--json", cwd=tmp_path)
        assert listed.returncode == 0 and listed.stdout.count("a_number") == 8
        site.state.fail_next = [503]
        down = run_cli("clients", "sync", url, "--token-file", str(token), *maps, cwd=tmp_path)
        assert down.returncode == 2 and "HTTP 503" in down.stderr
        # configured for the program: the scheduled sync reads it, its token sealed
        setting = run_cli(
            "orgs", "set", "--roster-sync", url, "--roster-sync-token-file", str(token),
            *[x for m in DEMO_MAPPING for x in ("--roster-sync-map", m)],
            cwd=tmp_path,
        )  # fmt: skip
        assert setting.returncode == 0, setting.stderr
        assert "legalserver-report" in setting.stdout and "token sealed" in setting.stdout
        again = run_cli("clients", "sync", cwd=tmp_path)
        assert again.returncode == 0 and "8 unchanged" in again.stdout, again.stderr
    written = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert not [p for p in written if b"sandbox-key" in p.read_bytes() and p != token]


def test_the_roster_page_sets_the_source_and_dry_runs_it(
    program: tuple[sa.Engine, int], tmp_path: Path
) -> None:
    from fastapi.testclient import TestClient

    from web.app import create_app

    engine, org = program
    _write(tmp_path, "roster.csv", _people(6))
    with session_scope(engine) as s:
        ids = {st.role: st.id for st in s.exec(select(Staff))}
    app = create_app(engine, Settings(ack_secret="s3cret"), clock=lambda: NOW)
    with TestClient(app, base_url="http://127.0.0.1", follow_redirects=False) as web:

        def sign_in(role: str) -> str:
            return signed_in(web, engine, ids[role], "s3cret", NOW)

        csrf = sign_in("coordinator")
        assert "No source is set" in web.get("/roster").text
        form = {
            "kind": "file",
            "source": "https://93.184.216.34/exports/roster.csv",  # a public address
            "token": "bearer-secret-value",
            "mapping": "",
            "every": "30",
            "enabled": "1",
            "csrf_token": csrf,
        }
        assert web.post("/roster/sync", data=form).status_code == 403  # admins only
        form["csrf_token"] = sign_in("admin")
        saved = web.post("/roster/sync", data=form)
        assert saved.status_code == 303 and saved.headers["location"] == "/roster?done=sync-saved"
        shown = web.get("/roster?done=sync-saved").text
        assert "every 30 min" in shown and "bearer-secret-value" not in shown
        form["source"] = "http://roster.example.org/x.csv"
        refused = web.post("/roster/sync", data=form)
        assert refused.status_code == 400 and "https://" in refused.text
        # a program's admin never points the server at its own files or networks
        for inside, why in [
            (str(tmp_path / "roster.csv"), "set by the host"),
            ("/etc/passwd", "set by the host"),
            ("https://127.0.0.1/x.csv", "loopback, private"),
            ("https://169.254.169.254/latest/meta-data", "loopback, private"),
        ]:
            form["source"] = inside
            answer = web.post("/roster/sync", data=form)
            assert answer.status_code == 400 and why in answer.text, inside
        # the host's admin set the program's source to a file on the server
        with session_scope(engine) as s:
            configure(s, org, kind="file", source=str(tmp_path / "roster.csv"), now=NOW)

        csrf = sign_in("coordinator")
        dry = web.post("/roster/sync/dry-run", data={"csrf_token": csrf})
        assert dry.status_code == 200
        assert "6 rows: 6 added" in dry.text and "dry-run" in dry.text
        assert _clients(engine, org) == {}  # nothing stored
        sources = web.get("/sources")
        assert sources.status_code == 403
        sign_in("admin")
        page = web.get("/sources").text
        assert "Roster sync" in page and "dry-run" in page


def test_legalserver_core_api_matters_with_pages_custom_fields_and_advocates(
    program: tuple[sa.Engine, int],
) -> None:
    from sandbox.legalserver import matter

    engine, org = program
    settings = Settings(legalserver_a_number_field="a_number_77")
    with LegalServerSandbox() as site:
        ana_uuid, cora_uuid, gone_uuid = (str(uuid.uuid4()) for _ in range(3))
        site.state.users = {
            ana_uuid: {"user_uuid": ana_uuid, "email": "Ana@Example.org"},
            cora_uuid: {"user_uuid": cora_uuid, "email": "cora@example.org"},
            gone_uuid: {"user_uuid": gone_uuid, "email": "left@example.org"},
        }
        open_ones = [
            matter(
                "",
                f"DOE{i}, JANE",
                "MEXICO",
                [("Primary", ana_uuid)] if i % 7 else [("Primary", gone_uuid)],
                custom={"a_number_77": f"A-912-{i:03d}-{i:03d}"},
            )
            for i in range(130)
        ]
        closed = matter(
            "", "ROE, RITA", "MX", [], disposition="Closed", custom={"a_number_77": "912999999"}
        )
        site.state.full_matters = [*open_ones, closed]
        source = SyncSource.given("legalserver", site.url, "sandbox-token", None)
        done = sync_program(engine, settings, org, given=source, now=NOW)
        assert (done.exit_code, done.outcome) == (0, "ok"), done.message
        assert done.report is not None and done.report.unknown_emails == ["left@example.org"]
        pages = [c for c in site.state.calls if c["path"] == "/api/v1/matters"]
        assert [c["page_number"] for c in pages] == ["1", "2"]
        assert all(
            c["case_disposition"] == "Open" and c["custom_fields"] == "a_number_77" for c in pages
        )
        # each advocate looked up once (two of them are assigned)
        assert sum(c["path"].startswith("/api/v1/users/") for c in site.state.calls) == 2
        stored = _clients(engine, org)
        assert len(stored) == 130 and "912999999" not in stored
        one = stored["912001001"]
        assert (one.name, one.nationality_code) == ("DOE1, JANE", "MX")
        assert one.case_uuid == open_ones[1]["matter_uuid"]
        with session_scope(engine) as s:
            ana = s.exec(select(Staff).where(Staff.email == ANA)).one()
        assert one.primary_attorney_id == ana.id
        assert stored["912000000"].primary_attorney_id is None  # its advocate is not staff
        site.state.core_token = "rotated"
        refused = sync_program(engine, settings, org, given=source, now=NOW)
        assert refused.exit_code == 2 and "HTTP 401" in refused.message
    with pytest.raises(ValidationError, match="site's address alone"):
        check_source("legalserver", "https://x.legalserver.org/api/v1/matters")


def test_an_export_at_an_address_over_http(program: tuple[sa.Engine, int], tmp_path: Path) -> None:
    import functools
    import threading
    from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

    engine, org = program
    _write(tmp_path, "clients.csv", _people(4))
    (tmp_path / "export").write_bytes((tmp_path / "clients.csv").read_bytes())  # no suffix

    class Quiet(SimpleHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(Quiet, directory=str(tmp_path))
    )
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        base = f"http://127.0.0.1:{server.server_address[1]}"
        done = _sync(engine, org, given=SyncSource.given("file", f"{base}/clients.csv", None, None))
        assert (done.exit_code, done.outcome) == (0, "ok"), done.message
        # no suffix in the address: the content type (or the bytes) say what it is; another
        # address is another source, which now lists them (nothing added)
        again = _sync(engine, org, given=SyncSource.given("file", f"{base}/export", None, None))
        assert again.exit_code == 0 and again.report is not None
        assert (again.report.rows, again.report.created) == (4, 0)
        missing = _sync(engine, org, given=SyncSource.given("file", f"{base}/nope.csv", None, None))
        assert (missing.exit_code, missing.outcome) == (
            2,
            "failed",
        ) and "HTTP 404" in missing.message
    finally:
        server.shutdown()
        server.server_close()
    assert len(_clients(engine, org)) == 4
