"""A LegalServer replica: the Reports API as LegalServer documents it, with its quirks.

``GET /modules/report/api_export.php?load=REPORT_ID&api_key=KEY`` answers a report's rows:

* JSON (a list of objects keyed by the report's column headers) or XML (``row`` elements whose
  children are the columns), as the report is set up;
* LegalServer's JSON quirks: booleans written ``t``/``f``, integers as strings, an empty value
  as ``null``;
* hidden columns are included unless the call says ``display_hidden_columns=false`` (or ``0``);
* a wrong or missing ``api_key`` is refused (401), an unknown report is 404; a site that asks
  for user authentication too (``require_bearer``) refuses a call without its personal access
  token.

And the Core API (v1, Bearer token): ``GET /api/v1/matters`` (Search Matters: filtered by
``case_disposition``, paged, 20 by default, full results), ``GET /api/v1/users/{uuid}`` (a user
record, its ``email``), and the matter case notes:

* ``POST /api/v1/matters/{uuid}/notes`` with ``subject``, ``body`` and ``note_type`` (a Note
  Type lookup value) creates a note: ``201`` with ``{"data": {... "casenote_uuid": ...}}``;
  400 for a missing field or an unknown note type, 401 ``{"error_message": ...}`` without the
  token, 404 for an unknown matter;
* ``GET /api/v1/matters/{uuid}/notes`` lists them, paged (``page_number``, ``page_size``,
  ``total_number_of_pages``, ``total_records``, ``data``), oldest first;
* every answer carries the rate-limit headers (``x-rate-limit-limit`` ...).

Scripted trouble for tests and the demo: ``fail_next`` (statuses answered to the next calls,
first first: 429 with ``Retry-After``, 500, 503 ...) and ``write_then_fail`` (a note is written,
then that status answered: a timeout after the write, as a client sees it). Shapes relied on are
written up in ``docs/legalserver.md``. All data is synthetic.
"""

from __future__ import annotations

import json
import threading
import uuid
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit
from xml.sax.saxutils import escape

from sandbox.http import ReplicaHandler, ReplicaServer

REPORT_PATH = "/modules/report/api_export.php"


@dataclass
class Report:
    api_key: str
    columns: list[str]
    rows: list[dict[str, Any]]
    hidden: set[str] = field(default_factory=set)
    format: str = "json"  # or "xml"


@dataclass
class LegalServerState:
    reports: dict[int, Report] = field(default_factory=dict)
    require_bearer: str | None = None
    fail_next: list[int] = field(default_factory=list)
    write_then_fail: list[int] = field(default_factory=list)
    core_token: str = "sandbox-token"
    note_types: set[str] = field(default_factory=lambda: {"docketwatch", "Case Note"})
    matters: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # uuid -> notes
    full_matters: list[dict[str, Any]] = field(default_factory=list)  # the matters search
    users: dict[str, dict[str, Any]] = field(default_factory=dict)  # user uuid -> record
    calls: list[dict[str, str]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


def _json_value(value: Any) -> Any:
    """As LegalServer's JSON writes it: t/f for booleans, numbers as strings."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, int | float):
        return str(value)
    return str(value)


def _xml_tag(column: str) -> str:
    tag = "".join(c if c.isalnum() or c == "_" else "_" for c in column.strip().lower())
    return tag if tag and not tag[0].isdigit() else f"c_{tag}"


def render(report: Report, hidden: bool) -> tuple[str, str]:
    """(content type, body) of a report's answer."""
    columns = [c for c in report.columns if hidden or c not in report.hidden]
    if report.format == "xml":
        rows = []
        for row in report.rows:
            cells = "".join(
                f"<{_xml_tag(c)}>{escape(str(_json_value(row.get(c)) or ''))}</{_xml_tag(c)}>"
                for c in columns
            )
            rows.append(f"<row>{cells}</row>")
        body = '<?xml version="1.0" encoding="UTF-8"?>\n<otherdata>' + "".join(rows)
        return "application/xml; charset=utf-8", body + "</otherdata>"
    data = [{c: _json_value(row.get(c)) for c in columns} for row in report.rows]
    return "application/json", json.dumps(data)


def _page(items: list[dict[str, Any]], query: dict[str, str], default: int) -> dict[str, Any]:
    """A Core API search answer: one page of ``items`` and where it stands."""
    size = max(1, min(int(query.get("page_size", "") or default), 100))
    number = max(1, int(query.get("page_number", "1") or 1))
    return {
        "page_number": number,
        "page_size": size,
        "total_number_of_pages": max(1, -(-len(items) // size)),
        "total_records": len(items),
        "data": items[(number - 1) * size : number * size],
    }


def matter(
    a_number: str,
    name: str,
    citizenship: str,
    advocates: list[tuple[str, str]],
    *,
    disposition: str = "Open",
    custom: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A matter as the Core API's full search results give it (a few of its fields):
    ``advocates`` are (type, user uuid) of its current assignments."""
    family, _, given = name.partition(",")
    return {
        "matter_uuid": str(uuid.uuid4()),
        "client_full_name": f"{given.strip()} {family.strip()}".strip(),
        "first": given.strip(),
        "last": family.strip(),
        "case_disposition": disposition,
        "a_number": a_number,
        "citizenship": citizenship,
        "date_of_birth": {"raw_value": None, "text_value": None},
        "custom_fields": custom or {},
        "assignments": [
            {
                "type": kind,
                "end_date": None,
                "user": {"user_id": 1, "user_uuid": user, "user_name": "Advocate"},
            }
            for kind, user in advocates
        ],
    }


class _LegalServerHandler(ReplicaHandler):
    """LegalServer's report, matters, users and notes, as its API reference documents them
    (``replica``: the :class:`LegalServerSandbox` that serves it)."""

    replica: LegalServerSandbox

    def do_GET(self) -> None:
        parts = urlsplit(self.path)
        query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        with self.replica.state.lock:
            self.replica.state.calls.append({"path": parts.path, **query})
            failure = self.replica.state.fail_next.pop(0) if self.replica.state.fail_next else None
        if failure is not None:
            self.send_response(failure)
            if failure == 429:
                self.send_header("Retry-After", "30")
            body = json.dumps({"error": f"HTTP {failure}"}).encode()
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        if parts.path.startswith("/api/v1/matters/") and parts.path.endswith("/notes"):
            self._notes_list(parts.path.split("/")[4], query)
            return
        if parts.path == "/api/v1/matters":
            self._matters(query)
            return
        if parts.path.startswith("/api/v1/users/"):
            self._user(parts.path.rsplit("/", 1)[-1])
            return
        if parts.path != REPORT_PATH:
            self._send(404, "text/plain", "Not Found")
            return
        self._report(query)

    def _json(self, status: int, data: Any) -> None:
        body = json.dumps(data).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        for name, value in (("limit", "200"), ("remaining", "199"), ("reset", "60")):
            self.send_header(f"x-rate-limit-{name}", value)
        self.end_headers()
        self.wfile.write(body)

    def _core(self, matter: str) -> list[dict[str, Any]] | None:
        """The matter's notes, or None (and the refusal answered)."""
        if self.headers.get("Authorization", "") != f"Bearer {self.replica.state.core_token}":
            self._json(401, {"error_message": "User not authorized to perform this operation"})
            return None
        notes = self.replica.state.matters.get(matter)
        if notes is None:
            self._json(404, {"error_message": f"Unknown UUID {matter}"})
        return notes

    def _authorized(self) -> bool:
        if self.headers.get("Authorization", "") == f"Bearer {self.replica.state.core_token}":
            return True
        refused = "User not authorized to perform this operation"
        self._json(401, {"error_message": refused})
        return False

    def _matters(self, query: dict[str, str]) -> None:
        """Search Matters: filtered by disposition, paged (20 by default)."""
        if not self._authorized():
            return
        with self.replica.state.lock:
            wanted = query.get("case_disposition")
            found = [
                m
                for m in self.replica.state.full_matters
                if not wanted or m.get("case_disposition") == wanted
            ]
            self._json(200, _page(found, query, 20))

    def _user(self, user_uuid: str) -> None:
        if not self._authorized():
            return
        user = self.replica.state.users.get(user_uuid)
        if user is None:
            self._json(404, {"error_message": f"Unknown UUID {user_uuid}"})
            return
        self._json(200, {"data": user})

    def _notes_list(self, matter: str, query: dict[str, str]) -> None:
        with self.replica.state.lock:
            notes = self._core(matter)
            if notes is None:
                return
            answer = _page(notes, query, 20)
        self._json(200, answer)

    def do_POST(self) -> None:
        parts = urlsplit(self.path)
        length = int(self.headers.get("Content-Length", "0") or 0)
        raw = self.rfile.read(length)
        with self.replica.state.lock:
            self.replica.state.calls.append({"path": parts.path, "method": "POST"})
            failure = self.replica.state.fail_next.pop(0) if self.replica.state.fail_next else None
        if failure is not None:
            self._json(failure, {"error_message": f"HTTP {failure}"})
            return
        if not (parts.path.startswith("/api/v1/matters/") and parts.path.endswith("/notes")):
            self._json(404, {"error_message": "Not Found"})
            return
        try:
            given = json.loads(raw or b"{}")
        except ValueError:
            self._json(400, {"error_message": "Invalid JSON"})
            return
        with self.replica.state.lock:
            notes = self._core(parts.path.split("/")[4])
            if notes is None:
                return
            missing = [f for f in ("subject", "body", "note_type") if not given.get(f)]
            if missing:
                self._json(400, {"error_message": f"Missing argument: {missing[0]}"})
                return
            if given["note_type"] not in self.replica.state.note_types:
                self._json(400, {"error_message": "Invalid note_type"})
                return
            note = {
                "id": 1000 + sum(len(n) for n in self.replica.state.matters.values()),
                "subject": str(given["subject"]),
                "body": str(given["body"]),
                "note_type": given["note_type"],
                "casenote_uuid": str(uuid.uuid4()),
                "active": True,
                "is_html": False,
            }
            notes.append(note)
            after = (
                self.replica.state.write_then_fail.pop(0)
                if self.replica.state.write_then_fail
                else None
            )
        if after is not None:
            self._json(after, {"error_message": f"HTTP {after}"})
            return
        self._json(201, {"data": note})

    def _report(self, query: dict[str, str]) -> None:
        load = query.get("load", "")
        report = self.replica.state.reports.get(int(load)) if load.isdigit() else None
        if report is None:
            self._send(404, "application/json", json.dumps({"error": "Invalid report"}))
            return
        if query.get("api_key") != report.api_key:
            self._send(401, "application/json", json.dumps({"error": "Invalid API key"}))
            return
        if self.replica.state.require_bearer is not None:
            given = self.headers.get("Authorization", "")
            if given != f"Bearer {self.replica.state.require_bearer}":
                self._send(401, "application/json", json.dumps({"error": "Not authorized"}))
                return
        hidden = query.get("display_hidden_columns", "true").lower() not in (
            "false",
            "0",
            "f",
        )
        ctype, body = render(report, hidden)
        self._send(200, ctype, body)


class LegalServerSandbox(ReplicaServer):
    def __init__(self, port: int = 0) -> None:
        self.state = LegalServerState()
        super().__init__(port, type("Handler", (_LegalServerHandler,), {"replica": self}))

    def set_report(self, report_id: int, report: Report) -> None:
        with self.state.lock:
            self.state.reports[report_id] = report

    def report_url(self, report_id: int) -> str:
        return f"{self.url}{REPORT_PATH}?load={report_id}"


#: the columns of the demo's report, as a program's LegalServer report would name them
DEMO_COLUMNS = [
    "Matter/Case ID#",
    "Client Full Name",
    "A Number",
    "Citizenship",
    "Primary Advocate Email",
    "Case Disposition",
    "Detained?",
    "Internal Notes",
]
DEMO_MAPPING = ["a_number=A Number", "attorney_email=Primary Advocate Email"]


def demo_report(count: int, attorney: str, fmt: str = "json", seed: int = 7) -> Report:
    """A report of ``count`` synthetic open cases (never real people), for the replica's
    command and the demo; map its columns with :data:`DEMO_MAPPING`."""
    from sandbox.roster import make_roster

    roster = make_roster(count, bad=0, attorneys=[attorney], seed=seed)
    rows = []
    for number, row in enumerate(roster.rows, start=1):
        rows.append(
            {
                "Matter/Case ID#": f"26-{number:07d}",
                "Client Full Name": row[1],
                "A Number": row[0],
                "Citizenship": row[2],
                "Primary Advocate Email": attorney,
                "Case Disposition": "Open",
                "Detained?": number % 2 == 0,
                "Internal Notes": "",
            }
        )
    return Report(
        api_key="sandbox-key",
        columns=list(DEMO_COLUMNS),
        rows=rows,
        hidden={"Internal Notes"},
        format=fmt,
    )
