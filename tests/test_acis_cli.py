"""The ACIS commands as a person runs them: check, import, assisted refresh, blocked, sandbox."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlmodel import select

from sandbox.acis import AcisSandbox
from sandbox.acis_data import Case, Hearing, case_body
from sandbox.mail import SmtpSink
from storage.db import make_engine, session_scope
from storage.models import AcisLookup
from storage.people import add_client, add_staff, assign
from tests.support.cli import run_cli
from tests.support.db import migrated_sqlite

# Dated from the real today: the spider judges 'upcoming' by the real clock.
SOON = date.today() + timedelta(days=40)


@pytest.fixture
def setup(tmp_path: Path) -> Iterator[tuple[dict[str, str], AcisSandbox, SmtpSink, str]]:
    url = migrated_sqlite(tmp_path / "dw.db")
    engine = make_engine(url)
    with AcisSandbox() as replica, SmtpSink() as sink:
        with session_scope(engine) as s:
            add_staff(
                s,
                name="Ana",
                email="ana@example.org",
                role="attorney",
                channels=[sink.url("ana@example.org")],
            )
            for number, nat in (("912000001", "MX"), ("912000002", "IN")):
                add_client(s, a_number=number, name="DOE, JANE", nationality=nat)
                assign(s, number, "ana@example.org")
        replica.set_case(Case("912000001", "MX", hearing=Hearing(on=SOON)))
        replica.set_case(Case("912000002", "IN", hearing=Hearing(on=SOON + timedelta(days=31))))
        env = {
            "DATABASE_URL": url,
            "DOCKETWATCH_ACIS_BASE_URL": replica.url,
            "DOCKETWATCH_ACIS_PACE_SECONDS": "0",
        }
        yield env, replica, sink, url
    engine.dispose()


def _lookups(url: str) -> list[AcisLookup]:
    engine = make_engine(url)
    with session_scope(engine) as s:
        rows = list(s.exec(select(AcisLookup)))
    engine.dispose()
    return rows


@pytest.mark.slow
def test_check_import_and_blocked(
    setup: tuple[dict[str, str], AcisSandbox, SmtpSink, str], tmp_path: Path
) -> None:
    env, replica, sink, url = setup
    first = run_cli("acis", "check", cwd=tmp_path, env=env, timeout=300)
    assert first.returncode == 0, first.stdout + first.stderr
    assert "ACIS run #1: ok" in first.stdout
    assert ["ok", "2"] in [line.split() for line in first.stdout.splitlines()]

    replica.state.refuse_captcha = {"912000002"}
    replica.set_case(Case("912000001", "MX", hearing=Hearing(on=SOON - timedelta(days=16))))
    second = run_cli(
        "acis", "check", "A-912-000-001", "912000002", cwd=tmp_path, env=env, timeout=300
    )
    assert second.returncode == 0, second.stderr
    assert "1 hearing_moved_earlier" in second.stdout and "alerts: 1 sent" in second.stdout
    assert "acis refresh A-NUMBER --assist" in second.stdout
    blocked = run_cli("acis", "blocked", cwd=tmp_path, env=env)
    assert "***0002" in blocked.stdout and "***0001" not in blocked.stdout
    (mail,) = sink.to("ana@example.org")
    assert "Hearing moved EARLIER" in mail.subject

    # A body saved by hand from the browser's developer tools goes the same way.
    saved = tmp_path / "getcaseinfo.json"
    saved.write_text(
        json.dumps(
            case_body(Case("912000002", "IN", hearing=Hearing(on=SOON + timedelta(days=32))))
        )
    )
    imported = run_cli("acis", "import", "912000002", str(saved), cwd=tmp_path, env=env)
    assert imported.returncode == 0, imported.stderr
    assert "stored: ok; events: hearing_moved_later" in imported.stdout
    wrong = run_cli("acis", "import", "912000001", str(saved), cwd=tmp_path, env=env)
    assert wrong.returncode == 2 and "is for A-number ***0002, not ***0001" in wrong.stderr
    junk = tmp_path / "junk.json"
    junk.write_text("<html>")
    bad = run_cli("acis", "import", "912000001", str(junk), cwd=tmp_path, env=env)
    assert bad.returncode == 2 and "not JSON" in bad.stderr
    vias = [x.via for x in _lookups(url)]
    assert vias.count("import") == 1 and len(vias) == 5
    everything = "".join(r.stdout + r.stderr for r in (first, second, blocked, imported))
    assert "912000001" not in everything and "912000002" not in everything


def test_assisted_refresh_opens_a_visible_browser(
    setup: tuple[dict[str, str], AcisSandbox, SmtpSink, str], tmp_path: Path
) -> None:
    env, _replica, _sink, url = setup
    no_display = run_cli(
        "acis", "refresh", "912000001", "--assist", cwd=tmp_path, env={**env, "DISPLAY": ""}
    )
    assert no_display.returncode == 2 and "display" in no_display.stderr
    import os
    import subprocess
    import sys

    exe = str(Path(sys.executable).with_name("docketwatch"))
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("DOCKETWATCH_")}
    full_env.pop("DISPLAY", None)
    full_env.update(env)
    # A headed browser on a virtual display: the page is filled in and submitted for the person.
    result = subprocess.run(
        ["xvfb-run", "-a", exe, "acis", "refresh", "912000001", "--assist", "--wait", "1"],
        cwd=tmp_path,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "stored: ok" in result.stdout
    assert [x.via for x in _lookups(url)] == ["assisted"]


def test_sandbox_is_controlled_over_http() -> None:
    with AcisSandbox() as replica:

        def post(path: str, body: dict[str, object]) -> None:
            request = urllib.request.Request(
                replica.url + path,
                data=json.dumps(body).encode(),
                headers={"Content-Type": "application/json"},
            )
            with urllib.request.urlopen(request, timeout=10) as answer:
                assert answer.status == 200

        post(
            "/_sandbox/case",
            {
                "a_number": "912000009",
                "nat_code": "MX",
                "hearing": {"on": "2027-01-02", "time": "9:00 AM"},
            },
        )
        post(
            "/_sandbox/knobs", {"layout": "v2", "refuse_all": True, "rotate_nationality_hash": True}
        )
        with urllib.request.urlopen(replica.url + "/_sandbox/state", timeout=10) as answer:
            state = json.loads(answer.read())
        assert state["cases"] == 1 and state["layout"] == "v2" and state["refuse_all"]
        assert state["nat_hash"] != "1791802679"
        with urllib.request.urlopen(replica.url + "/en/", timeout=10) as page:
            html = page.read().decode()
        assert 'id="submitCase"' in html and state["nat_hash"] in html
        with pytest.raises(urllib.error.HTTPError) as old:
            urllib.request.urlopen(replica.url + "/page-data/sq/d/1791802679.json", timeout=10)
        assert old.value.code == 404
        request = urllib.request.Request(
            replica.url + "/api/Case/GetCaseInfo?alienNumber=912000009&languageCode=EN&natCode=MX",
            headers={"Captcha-Token": "forged"},
        )
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(request, timeout=10)
        assert refused.value.code == 400
        assert json.loads(refused.value.read()) == {"message": "Invalid Captcha Provided."}
