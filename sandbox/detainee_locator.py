"""A local replica of ICE's Online Detainee Locator (ODLS), after sources.md §2.

``/odls/#/search`` is an Angular-style page with the A-number form (``#alienNumber`` and the
country-of-birth select ``#alien_Search_Country``) and the biographical form (``#lastName``,
``#firstName``, a country select, optional date of birth). Results render as "Label : Value"
lines in ``#resultsPage``, the facility as ``span.detention-link`` leading to ``#/details``
(``#detentionPage``, address and phone). The real zero-result text and "Internal Error" page,
a captcha stand-in and an "Access Denied" block page are served on demand, with knobs for
intermittent false zero results (seeded) and latency. Released people stay findable for 60 days.
"""

from __future__ import annotations

import html
import json
import random
import threading
import time
from dataclasses import dataclass, field
from datetime import date, timedelta
from http.server import BaseHTTPRequestHandler
from importlib import resources
from typing import Any
from urllib.parse import parse_qs, urlsplit

from sandbox.http import ReplicaHandler, ReplicaServer

ZERO_TEXT = (
    "Your search has returned zero (0) matching records. Please re-check the search terms and "
    "try again. Please note that the system does not provide information for detainees under "
    "the age of 18. Also note that only exact matches to the name you entered will be returned."
)
INTERNAL_ERROR = (
    "Internal ErrorOur apologies. An internal error has occurred. This error has "
    "been logged. GO TO LOCATOR HOME / SEARCH >"
)
ACCESS_DENIED = (
    "<html><head><title>Access Denied</title></head><body><h1>Access Denied</h1>"
    "You don't have permission to access this server.</body></html>"
)
COUNTRIES = {
    "MX": "Mexico",
    "GT": "Guatemala",
    "HO": "Honduras",
    "ES": "El Salvador",
    "IN": "India",
    "CH": "China",
    "VE": "Venezuela",
    "CU": "Cuba",
    "CO": "Colombia",
    "RU": "Russia",
    "UE": "Ukraine",
    "HA": "Haiti",
}


@dataclass
class FacilityPage:
    code: str
    name: str
    address: list[str]
    phone: str


FACILITIES = {
    "ADLNTCA": FacilityPage(
        "ADLNTCA",
        "ADELANTO ICE PROCESSING CENTER",
        ["10250 Rancho Road", "Adelanto, CA 92301"],
        "(760) 561-6100",
    ),
    "CADESVI": FacilityPage(
        "CADESVI",
        "DESERT VIEW ANNEX",
        ["10450 Rancho Road", "Adelanto, CA 92301"],
        "(760) 561-6100",
    ),
    "OTAYMESA": FacilityPage(
        "OTAYMESA",
        "OTAY MESA DETENTION CENTER",
        ["7488 Calzada de la Fuente", "San Diego, CA 92154"],
        "(619) 661-6500",
    ),
    "IMPERIAL": FacilityPage(
        "IMPERIAL",
        "IMPERIAL REGIONAL DETENTION FACILITY",
        ["1572 Gateway Road", "Calexico, CA 92231"],
        "(760) 768-4370",
    ),
    "ELOYAZ": FacilityPage(
        "ELOYAZ",
        "ELOY FEDERAL CONTRACT FACILITY",
        ["1705 E. Hanna Rd.", "Eloy, AZ 85131"],
        "(520) 466-3600",
    ),
    "TACOMA": FacilityPage(
        "TACOMA",
        "NORTHWEST ICE PROCESSING CENTER (NWIPC)",
        ["1623 East J Street, Suite 2", "Tacoma, WA 98421"],
        "(253) 779-6000",
    ),
}


@dataclass
class Person:
    a_number: str
    country: str  # country-of-birth code (see COUNTRIES)
    first: str
    last: str
    born_on: date | None = None
    facility: str | None = "ADLNTCA"  # None: released
    released_on: date | None = None

    @property
    def state(self) -> str:
        f = FACILITIES.get(self.facility or "")
        return f.address[-1].split(",")[1].split()[0] if f else ""


@dataclass
class LocatorState:
    people: dict[str, Person] = field(default_factory=dict)
    false_zero_rate: float = 0.0
    rng: random.Random = field(default_factory=lambda: random.Random(42))
    blocked: bool = False  # "Access Denied"
    captcha: bool = False  # the score-based captcha says no
    internal_error: set[str] = field(default_factory=set)
    layout: str = "v1"
    latency_s: float = 0.0
    today: date = field(default_factory=date.today)
    searches: int = 0


class DetaineeLocatorSandbox(ReplicaServer):
    def __init__(self, port: int = 0) -> None:
        self.state = LocatorState()
        self.lock = threading.Lock()
        super().__init__(port, self._handler())

    # state changes, as the tests and the demo make them
    def detain(self, person: Person, facility: str = "ADLNTCA") -> None:
        with self.lock:
            person.facility, person.released_on = facility, None
            self.state.people[person.a_number] = person

    def transfer(self, a_number: str, facility: str) -> None:
        with self.lock:
            self.state.people[a_number].facility = facility

    def release(self, a_number: str) -> None:
        with self.lock:
            person = self.state.people[a_number]
            person.facility, person.released_on = None, self.state.today

    def remove(self, a_number: str) -> None:
        with self.lock:
            self.state.people.pop(a_number, None)

    # --------------------------------------------------------------------------- answers

    def search(self, a_number: str, country: str) -> tuple[int, str]:
        """(HTTP status, results HTML fragment) for an A-number search."""
        with self.lock:
            s = self.state
            s.searches += 1
            if s.blocked:
                return 403, ACCESS_DENIED
            if s.captcha:
                return 200, "<div id='captchaFail'>Please verify you are a human.</div>"
            if a_number in s.internal_error:
                return 500, f"<div id='errorPage'>{INTERNAL_ERROR}</div>"
            person = s.people.get(a_number)
            if person and person.released_on and s.today - person.released_on > timedelta(60):
                person = None  # the locator keeps released people for about 60 days
            if (
                person is None
                or COUNTRIES.get(person.country) != country
                or (s.false_zero_rate and s.rng.random() < s.false_zero_rate)
            ):
                return 200, f"<div id='resultsPage'><p class='zero'>{ZERO_TEXT}</p></div>"
            return 200, self._result(person)

    def search_bio(self, last: str, first: str, country: str, born: date | None) -> tuple[int, str]:
        """A biographical search: exact names, country of birth, and the date when given."""
        with self.lock:
            s = self.state
            s.searches += 1
            if s.blocked:
                return 403, ACCESS_DENIED
            for person in s.people.values():
                if (
                    person.last.upper() == last.strip().upper()
                    and person.first.upper() == first.strip().upper()
                    and COUNTRIES.get(person.country) == country
                    and (born is None or person.born_on in (None, born))
                ):
                    return 200, self._result(person)
            return 200, f"<div id='resultsPage'><p class='zero'>{ZERO_TEXT}</p></div>"

    def _result(self, p: Person) -> str:
        e = html.escape
        status = "In ICE Custody" if p.facility else "Released"
        facility = FACILITIES.get(p.facility or "")
        lines = [
            f"<div class='name'>{e(p.first)} {e(p.last)}</div>",
            f"<div>Country of Birth : {e(COUNTRIES.get(p.country, p.country))}</div>",
            f"<div>Status : {status}</div>",
            f"<div>State: {e(p.state)}</div>",
        ]
        if facility:
            lines.append(
                "<div>Current Detention Facility: <span class='detention-link' "
                f"data-code='{facility.code}'>{e(facility.name)}</span></div>"
            )
        label = "result-card" if self.state.layout == "v1" else "card-v2"
        return (
            f"<div id='{'resultsPage' if self.state.layout == 'v1' else 'results-v2'}'>"
            f"<h2>1 Search Results</h2><div class='{label}'>{''.join(lines)}</div></div>"
        )

    def facility_page(self, code: str) -> str:
        f = FACILITIES[code]
        e = html.escape
        address = "".join(f"<div>{e(line)}</div>" for line in f.address)
        return (
            f"<app-detention-facility><div id='detentionPage'><div class='facility-info info'>"
            f"<div class='facility-name'>{e(f.name)}</div>{address}"
            f"<p>Visitor Information: call ahead.</p><div class='ero'>ERO Field Office"
            f"<div>Phone Number: {e(f.phone)}</div></div></div></div></app-detention-facility>"
        )

    # ---------------------------------------------------------------------------- server

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        sandbox = self

        class Handler(ReplicaHandler):
            def do_GET(self) -> None:
                parts = urlsplit(self.path)
                if sandbox.state.blocked:
                    self._send(403, "text/html", ACCESS_DENIED)
                elif parts.path in ("/odls", "/odls/"):
                    self._send(200, "text/html; charset=utf-8", page(sandbox.state.layout))
                elif parts.path == "/odls/api/search":
                    if sandbox.state.latency_s:
                        time.sleep(sandbox.state.latency_s)
                    q = {k: v[0] for k, v in parse_qs(parts.query).items()}
                    status, body = sandbox.search(q.get("a", ""), q.get("country", ""))
                    self._send(status, "text/html; charset=utf-8", body)
                elif parts.path == "/odls/api/bio":
                    q = {k: v[0] for k, v in parse_qs(parts.query).items()}
                    born = None
                    if q.get("year") and q.get("month") and q.get("day"):
                        born = date(int(q["year"]), int(q["month"]), int(q["day"]))
                    status, body = sandbox.search_bio(
                        q.get("last", ""), q.get("first", ""), q.get("country", ""), born
                    )
                    self._send(status, "text/html; charset=utf-8", body)
                elif parts.path == "/odls/api/facility":
                    code = parse_qs(parts.query).get("code", [""])[0]
                    if code in FACILITIES:
                        self._send(200, "text/html; charset=utf-8", sandbox.facility_page(code))
                    else:
                        self._send(404, "text/plain", "Not Found")
                else:
                    self._send(404, "text/plain", "Not Found")

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0") or 0)
                payload: dict[str, Any] = json.loads(self.rfile.read(length) or b"{}")
                path = urlsplit(self.path).path
                with sandbox.lock:
                    s = sandbox.state
                    if path == "/_sandbox/knobs":
                        s.blocked = bool(payload.get("blocked", s.blocked))
                        s.captcha = bool(payload.get("captcha", s.captcha))
                        s.layout = payload.get("layout", s.layout)
                        s.false_zero_rate = float(payload.get("false_zero_rate", s.false_zero_rate))
                        s.latency_s = float(payload.get("latency_s", s.latency_s))
                    elif path == "/_sandbox/person":
                        # detain / transfer / release (facility null, released_on set)
                        for key in ("born_on", "released_on"):
                            if payload.get(key):
                                payload[key] = date.fromisoformat(payload[key])
                        person = Person(**payload)
                        s.people[person.a_number] = person
                    elif path == "/_sandbox/remove":
                        s.people.pop(str(payload.get("a_number", "")), None)
                    else:
                        self._send(404, "text/plain", "Not Found")
                        return
                self._send(200, "application/json", '{"ok": true}')

        return Handler


def page(layout: str) -> str:
    """The single-page app: hash routes #/search, #/results, #/details."""
    options = "".join(f"<option>{html.escape(n)}</option>" for n in sorted(COUNTRIES.values()))
    a_id, btn = ("alienNumber", "Search by A-Number") if layout == "v1" else ("aNum", "Search")
    text = resources.files("sandbox").joinpath("detainee_locator_page.html").read_text("utf-8")
    for key, value in (
        ("@OPTIONS@", options),
        ("@A_ID@", a_id),
        ("@BTN@", btn),
        ("@ZERO@", ZERO_TEXT),
    ):
        text = text.replace(key, value)
    return text
