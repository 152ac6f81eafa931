"""A local replica of CourtListener's REST API v4, as far as docketwatch uses it, and of its
docket-alert webhooks.

Built from CourtListener's public documentation and its open-source code
(``freelawproject/courtlistener``: ``cl/search/api_views.py`` and ``filters.py`` for the dockets
and docket-entries endpoints and their filters, ``cl/api/pagination.py`` for cursor pagination,
``cl/alerts/api_views.py`` for docket alerts, ``cl/api/webhooks.py`` and ``cl/api/utils.py`` for
how a webhook is sent and retried, ``cl/users/templates/includes/docket_alert_webhook_dummy.txt``
for a DOCKET_ALERT body):

- ``Authorization: Token …``; without it or with a wrong one, 401 with DRF's ``{"detail": …}``;
- ``GET /api/rest/v4/dockets/?court=&docket_number=`` (or ``docket_number_core=``),
  ``/dockets/{id}/``; ``GET /docket-entries/?docket=&id__gt=&order_by=id`` paged by cursor
  (``next`` is an absolute URL with an opaque ``cursor``), ``/docket-entries/{id}/``: entries
  carry their ``recap_documents``, and their ``docket`` as a URL;
- ``GET /search/?type=d&q=&court=``: dockets whose case name or parties match;
- ``GET/POST /docket-alerts/``, ``DELETE /docket-alerts/{id}/`` (the account's own);
- scripted trouble: the next N answers 429 with ``Retry-After``, or 5xx;
- a DOCKET_ALERT webhook for each new entry of a docket with an alert, POSTed to the account's
  webhook address as CourtListener sends it: JSON ``{"payload": {"results": [entry]},
  "webhook": {...}}`` (``docket`` an integer there), headers ``Content-type: application/json``
  and ``Idempotency-Key`` (the event's id, the same on every retry), retried on failure with
  CourtListener's exponential back-off (3, 9, 27 ... minutes; scaled by ``retry_unit`` seconds
  here), at most 7 retries.
"""

from __future__ import annotations

import base64
import json
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx

from sandbox.http import ReplicaHandler, ReplicaServer

API = "/api/rest/v4"
TOKEN = "0123456789abcdef0123456789abcdef01234567"  # the replica's account token
MAX_RETRIES = 7


@dataclass
class Docket:
    id: int
    court: str
    docket_number: str
    case_name: str
    parties: list[str]
    date_filed: str

    @property
    def core(self) -> str:
        tail = self.docket_number.split(":")[-1]
        parts = tail.split("-")
        return f"{parts[0]}{int(parts[-1]):05d}"


@dataclass
class Delivery:
    key: str
    body: dict[str, Any]
    attempts: list[int] = field(default_factory=list)  # the status of each try (0: no answer)


@dataclass
class FederalState:
    lock: threading.RLock = field(default_factory=threading.RLock)
    dockets: dict[int, Docket] = field(default_factory=dict)
    entries: list[dict[str, Any]] = field(default_factory=list)
    alerts: dict[int, int] = field(default_factory=dict)  # alert id -> docket id
    webhook_url: str = ""
    page_size: int = 20
    trouble: list[tuple[int, float]] = field(default_factory=list)  # (status, retry-after)
    requests: list[str] = field(default_factory=list)
    deliveries: list[Delivery] = field(default_factory=list)
    next_id: int = 1000


def _listing(results: list[dict[str, Any]]) -> dict[str, Any]:
    """A list's one page, as DRF answers it."""
    return {"count": len(results), "next": None, "previous": None, "results": results}


def _entry_json(entry: dict[str, Any], base: str) -> dict[str, Any]:
    return {**entry, "docket": f"{base}{API}/dockets/{entry['docket']}/"}


class _FederalDocketsHandler(ReplicaHandler):
    """CourtListener's REST API (v4) for the dockets the replica holds (``replica``: the
    :class:`FederalDocketsSandbox` that serves it)."""

    replica: FederalDocketsSandbox

    def _json(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def _gate(self, method: str) -> bool:
        """Auth and scripted trouble; True when the request may be answered."""
        url = urlsplit(self.path)
        with self.replica.state.lock:
            self.replica.state.requests.append(f"{method} {url.path}?{url.query}")
            trouble = self.replica.state.trouble.pop(0) if self.replica.state.trouble else None
        auth = self.headers.get("Authorization", "")
        if not auth:
            self._json(401, {"detail": "Authentication credentials were not provided."})
            return False
        if auth != f"Token {TOKEN}":
            self._json(401, {"detail": "Invalid token."})
            return False
        if trouble is not None:
            status, wait = trouble
            if status == 429:
                self._json(
                    429,
                    {"detail": f"Request was throttled. Expected available in {wait:.0f} seconds."},
                    {"Retry-After": str(int(wait))},
                )
            else:
                self._json(status, {"detail": "A server error occurred."})
            return False
        return True

    def do_GET(self) -> None:
        if not self._gate("GET"):
            return
        url = urlsplit(self.path)
        q = {k: v[-1] for k, v in parse_qs(url.query).items()}
        path = url.path.removeprefix(API)
        base = self.replica.url
        with self.replica.state.lock:
            if path == "/dockets/":
                found = [
                    d
                    for d in self.replica.state.dockets.values()
                    if d.court == q.get("court", d.court)
                    and (
                        ("docket_number" in q and d.docket_number == q["docket_number"])
                        or ("docket_number_core" in q and d.core == q["docket_number_core"])
                    )
                ]
                results = [self.replica.docket_json(d) for d in found]
                self._json(200, _listing(results))
            elif path.startswith("/dockets/") and path.strip("/").split("/")[-1].isdigit():
                docket = self.replica.state.dockets.get(int(path.strip("/").split("/")[-1]))
                if docket is None:
                    self._json(404, {"detail": "No Docket matches the given query."})
                else:
                    self._json(200, self.replica.docket_json(docket))
            elif path == "/docket-entries/":
                self._json(200, self.replica.entries_page(q, base))
            elif path.startswith("/docket-entries/"):
                wanted = path.strip("/").split("/")[-1]
                found_entry = next(
                    (e for e in self.replica.state.entries if str(e["id"]) == wanted), None
                )
                if found_entry is None:
                    self._json(404, {"detail": "No DocketEntry matches the given query."})
                else:
                    self._json(200, _entry_json(found_entry, base))
            elif path == "/search/":
                self._json(200, self.replica.search(q))
            elif path == "/docket-alerts/":
                results = [
                    {"id": a, "docket": d, "alert_type": 1}
                    for a, d in sorted(self.replica.state.alerts.items())
                ]
                self._json(200, _listing(results))
            else:
                self._json(404, {"detail": "Not found."})

    def do_POST(self) -> None:
        if urlsplit(self.path).path == "/_entry":  # control: a docket moves
            length = int(self.headers.get("Content-Length") or 0)
            asked = json.loads(self.rfile.read(length) or b"{}")
            entry = self.replica.add_entry(int(asked["docket"]), str(asked["description"]))
            self._json(201, entry)
            return
        if not self._gate("POST"):
            return
        path = urlsplit(self.path).path.removeprefix(API)
        length = int(self.headers.get("Content-Length") or 0)
        try:
            body = json.loads(self.rfile.read(length) or b"{}")
        except ValueError:
            self._json(400, {"detail": "JSON parse error"})
            return
        if path != "/docket-alerts/":
            self._json(405, {"detail": 'Method "POST" not allowed.'})
            return
        with self.replica.state.lock:
            docket_id = body.get("docket")
            if docket_id not in self.replica.state.dockets:
                self._json(400, {"docket": [f'Invalid pk "{docket_id}" - object does not exist.']})
                return
            self.replica.state.next_id += 1
            self.replica.state.alerts[self.replica.state.next_id] = docket_id
            self._json(
                201,
                {
                    "id": self.replica.state.next_id,
                    "docket": docket_id,
                    "alert_type": 1,
                    "date_created": datetime.now(UTC).isoformat(),
                },
            )

    def do_DELETE(self) -> None:
        if not self._gate("DELETE"):
            return
        wanted = urlsplit(self.path).path.removeprefix(API).strip("/").split("/")[-1]
        with self.replica.state.lock:
            if not wanted.isdigit() or int(wanted) not in self.replica.state.alerts:
                self._json(404, {"detail": "Not found."})
                return
            del self.replica.state.alerts[int(wanted)]
        self.send_response(204)
        self.send_header("Content-Length", "0")
        self.end_headers()


class FederalDocketsSandbox(ReplicaServer):
    def __init__(self, port: int = 0, retry_unit: float = 0.2) -> None:
        self.state = FederalState()
        self.retry_unit = retry_unit
        super().__init__(port, type("Handler", (_FederalDocketsHandler,), {"replica": self}))

    # ---- answers

    def docket_json(self, docket: Docket) -> dict[str, Any]:
        return {
            "resource_uri": f"{self.url}{API}/dockets/{docket.id}/",
            "id": docket.id,
            "court": f"{self.url}{API}/courts/{docket.court}/",
            "court_id": docket.court,
            "docket_number": docket.docket_number,
            "docket_number_core": docket.core,
            "case_name": docket.case_name,
            "date_filed": docket.date_filed,
            "pacer_case_id": str(docket.id * 7),
        }

    def entries_page(self, q: dict[str, str], base: str) -> dict[str, Any]:
        docket = int(q.get("docket", "0") or 0)
        after = int(q.get("id__gt", "0") or 0)
        if "cursor" in q:  # opaque to clients: the last id of the page before
            after = int(base64.urlsafe_b64decode(q["cursor"]).decode().removeprefix("p="))
        rows = sorted(
            (e for e in self.state.entries if e["docket"] == docket and e["id"] > after),
            key=lambda e: e["id"],
        )
        page, rest = rows[: self.state.page_size], rows[self.state.page_size :]
        following = None
        if rest:
            cursor = base64.urlsafe_b64encode(f"p={page[-1]['id']}".encode()).decode()
            params = {k: v for k, v in q.items() if k != "cursor"} | {"cursor": cursor}
            following = f"{base}{API}/docket-entries/?{urlencode(params)}"
        return {
            "next": following,
            "previous": None,
            "results": [_entry_json(e, base) for e in page],
        }

    def search(self, q: dict[str, str]) -> dict[str, Any]:
        words = q.get("q", "").strip('"').lower()
        courts = set(q.get("court", "").split())
        results = [
            {
                "docket_id": d.id,
                "caseName": d.case_name,
                "docketNumber": d.docket_number,
                "court_id": d.court,
                "dateFiled": d.date_filed,
                "party": d.parties,
            }
            for d in self.state.dockets.values()
            if (not courts or d.court in courts)
            and any(words and words in p.lower() for p in [d.case_name, *d.parties])
        ]
        return _listing(results)

    # ---- the docket's life, for tests and the demo

    def add_docket(
        self,
        court: str,
        docket_number: str,
        case_name: str,
        parties: list[str] | None = None,
        date_filed: str | None = None,
    ) -> int:
        with self.state.lock:
            self.state.next_id += 1
            docket_id = self.state.next_id
            self.state.dockets[docket_id] = Docket(
                docket_id,
                court,
                docket_number,
                case_name,
                parties or [],
                date_filed or date.today().isoformat(),
            )
        return docket_id

    def add_entry(
        self,
        docket_id: int,
        description: str,
        date_filed: str | None = None,
        notify: bool = True,
    ) -> dict[str, Any]:
        """A new entry on the docket; with an alert on it, its webhook goes out (in a thread,
        retried as CourtListener does) unless ``notify`` is False (a webhook lost)."""
        with self.state.lock:
            self.state.next_id += 1
            numbers = [e["entry_number"] for e in self.state.entries if e["docket"] == docket_id]
            now = datetime.now(UTC).isoformat()
            entry = {
                "id": self.state.next_id,
                "docket": docket_id,
                "entry_number": max(numbers, default=0) + 1,
                "date_filed": date_filed or date.today().isoformat(),
                "description": description,
                "date_created": now,
                "date_modified": now,
                "recap_documents": [
                    {
                        "id": self.state.next_id * 10,
                        "description": description.split(".")[0][:80],
                        "document_number": str(max(numbers, default=0) + 1),
                        "attachment_number": None,
                        "page_count": 3,
                        "is_available": False,
                        "absolute_url": f"/docket/{docket_id}/{max(numbers, default=0) + 1}/",
                    }
                ],
                "pacer_sequence_number": None,
                "recap_sequence_number": "",
            }
            self.state.entries.append(entry)
            alerted = docket_id in self.state.alerts.values()
        if alerted and notify:
            self.send_webhook([entry])
        return entry

    def webhook_body(self, entries: list[dict[str, Any]]) -> dict[str, Any]:
        return {
            "payload": {"results": entries},
            "webhook": {
                "version": 2,
                "event_type": 1,
                "date_created": "2026-01-05T10:00:00-08:00",
                "deprecation_date": None,
            },
        }

    def send_webhook(
        self, entries: list[dict[str, Any]], key: str | None = None, wait: bool = False
    ) -> Delivery:
        """POST a DOCKET_ALERT event to the account's webhook address; retried in a thread."""
        delivery = Delivery(key or str(uuid.uuid4()), self.webhook_body(entries))
        with self.state.lock:
            self.state.deliveries.append(delivery)
            url = self.state.webhook_url
        thread = threading.Thread(target=self._deliver, args=(url, delivery), daemon=True)
        thread.start()
        if wait:
            thread.join()
        return delivery

    def _deliver(self, url: str, delivery: Delivery) -> None:
        for retry in range(MAX_RETRIES + 1):
            try:
                answer = httpx.post(
                    url,
                    json=delivery.body,
                    headers={"Idempotency-Key": delivery.key, "X-WhSentry-TLS": "true"},
                    timeout=3.0,
                    follow_redirects=False,
                )
                status = answer.status_code
            except httpx.HTTPError:
                status = 0
            with self.state.lock:
                delivery.attempts.append(status)
            if 200 <= status < 300:
                return
            time.sleep(self.retry_unit * 3**retry)

    # ---- scripted trouble

    def throttle(self, seconds: float, times: int = 1) -> None:
        with self.state.lock:
            self.state.trouble.extend([(429, seconds)] * times)

    def fail(self, status: int = 503, times: int = 1) -> None:
        with self.state.lock:
            self.state.trouble.extend([(status, 0.0)] * times)
