"""A local replica of EOIR's case status site (ACIS), faithful to sources.md §1.

* ``/en/`` and ``/es/``: the page: a consent modal (``.ReactModalPortal``; the last button
  accepts), nine one-digit inputs in ``.react-code-input``, the nationality picker
  ``#react-select-3-input`` whose options read ``NAME (CODE)``, and ``#btn_submit``;
* an invisible-captcha stand-in: the page asks ``POST /captcha/mint`` for a token before
  calling the API; when told to refuse, the token is one the API rejects, or none is minted;
* ``/page-data/sq/d/<hash>.json``: the nationality list (the hash rotates on demand);
* ``GET /api/Case/GetCaseInfo?alienNumber&languageCode&natCode`` with ``Captcha-Token``: the full
  schema of §1.3, or the error bodies of §1.4, or a Cloudflare-style HTML 502.

State (cases, refusals, latency, layout, hash) is set from Python or over HTTP at
``/_sandbox/...`` (what ``docketwatch sandbox`` uses).
"""

from __future__ import annotations

import json
import random
import secrets
import threading
import time
from dataclasses import dataclass, field
from datetime import date
from http.server import BaseHTTPRequestHandler
from importlib import resources
from typing import Any
from urllib.parse import parse_qs, urlsplit

from sandbox.acis_data import ERROR_BODIES, Case, Hearing, case_body
from sandbox.http import ReplicaHandler, ReplicaServer
from storage.identifiers import nationalities

TEXT = {
    "en": {
        "title": "EOIR - Automated Case Information",
        "heading": "Automated Case Information",
        "consent_text": "You are accessing a U.S. Government information system.",
        "decline": "Decline",
        "accept": "I Accept",
        "anumber_label": "A-Number",
        "nat_label": "Nationality",
        "submit": "Submit",
        "incomplete": "Please enter a 9-digit A-Number and a nationality.",
    },
    "es": {
        "title": "EOIR - Información Automatizada de Casos",
        "heading": "Información Automatizada de Casos",
        "consent_text": "Está accediendo a un sistema de información del Gobierno de EE. UU.",
        "decline": "Rechazar",
        "accept": "Acepto",
        "anumber_label": "Número A",
        "nat_label": "Nacionalidad",
        "submit": "Enviar",
        "incomplete": "Ingrese un Número A de 9 dígitos y una nacionalidad.",
    },
}


@dataclass
class AcisState:
    cases: dict[str, Case] = field(default_factory=dict)
    nat_hash: str = "1791802679"
    layout: str = "v1"  # "v2" renames the form's ids: a layout change
    glitches: int = 0  # the next N page loads come with the v2 layout (a page caught mid-deploy)
    refuse_captcha: set[str] = field(default_factory=set)  # A-numbers whose token is rejected
    refuse_all: bool = False
    no_token: bool = False  # the page mints no token at all (no request follows)
    fail_502: set[str] = field(default_factory=set)
    latency_s: float = 0.0
    lookups: int = 0
    asked: int = 0  # GetCaseInfo calls received (counted before the latency: one in flight shows)
    asked_at: list[float] = field(default_factory=list)  # when each came (time.time())
    tokens: set[str] = field(default_factory=set)


class AcisSandbox(ReplicaServer):
    def __init__(self, port: int = 0) -> None:
        self.state = AcisState()
        self.lock = threading.Lock()
        super().__init__(port, self._handler())

    # ------------------------------------------------------------------ state, from Python

    def set_case(self, case: Case) -> None:
        with self.lock:
            self.state.cases[case.a_number] = case

    def remove_case(self, a_number: str) -> None:
        with self.lock:
            self.state.cases.pop(a_number, None)

    def rotate_nationality_hash(self) -> str:
        with self.lock:
            self.state.nat_hash = str(random.randrange(10**9, 10**10))
            return self.state.nat_hash

    # ------------------------------------------------------------------------- rendering

    def page(self, lang: str) -> str:
        template = resources.files("sandbox").joinpath("acis_page.html").read_text("utf-8")
        text = TEXT[lang]
        with self.lock:
            v2 = self.state.layout == "v2" or self.state.glitches > 0
            self.state.glitches = max(0, self.state.glitches - 1)
        digits = "".join(
            f'<input type="text" inputmode="{"text" if v2 else "numeric"}" maxlength="1" '
            f'data-id="{i}">'
            for i in range(9)
        )
        return template.format(
            lang=lang,
            lang_code=lang.upper(),
            nat_hash=self.state.nat_hash,
            digit_inputs=digits,
            form_id="acisForm" if v2 else "caseForm",
            submit_id="submitCase" if v2 else "btn_submit",
            **text,
        )

    def nationality_json(self) -> dict[str, Any]:
        return {
            "data": {
                "countries": {
                    "countries": [
                        {"Code": n.code, "Name": n.name, "IsActive": n.active}
                        for n in nationalities().values()
                    ]
                }
            }
        }

    def answer(self, query: dict[str, str], token: str) -> tuple[int, str, str]:
        """(status, content type, body) of one GetCaseInfo call."""
        with self.lock:
            state = self.state
            state.lookups += 1
            a_number = query.get("alienNumber", "")
            if token not in state.tokens or state.refuse_all or a_number in state.refuse_captcha:
                status, body = ERROR_BODIES["captcha"]
                return status, "application/json", body
            state.tokens.discard(token)  # a token is good once
            if a_number in state.fail_502:
                status, body = ERROR_BODIES["cloudflare_502"]
                return status, "text/html", body
            if not query.get("natCode"):
                return 400, "application/json", '{"message":"Nationality Code must be provided"}'
            case = state.cases.get(a_number)
            if case is None:
                status, body = ERROR_BODIES["not_found"]
                return status, "application/json", body
            if query["natCode"] != case.nat_code:
                status, body = ERROR_BODIES["invalid_nationality"]
                return status, "application/json", body
            if case.unavailable:
                status, body = ERROR_BODIES["unavailable"]
                return status, "application/json", body
            language = "ES" if query.get("languageCode", "EN").upper() == "ES" else "EN"
            return 200, "application/json", json.dumps(case_body(case, language))

    # -------------------------------------------------------------------------- the server

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        sandbox = self

        class Handler(ReplicaHandler):
            def do_GET(self) -> None:
                parts = urlsplit(self.path)
                path = parts.path
                if path in ("/", "/en", "/en/", "/es", "/es/"):
                    lang = "es" if path.startswith("/es") else "en"
                    self._send(200, "text/html; charset=utf-8", sandbox.page(lang))
                elif path == f"/page-data/sq/d/{sandbox.state.nat_hash}.json":
                    self._send(200, "application/json", json.dumps(sandbox.nationality_json()))
                elif path.startswith("/page-data/"):
                    self._send(404, "text/plain", "Not Found")
                elif path == "/api/Case/GetCaseInfo":
                    with sandbox.lock:
                        sandbox.state.asked += 1
                        sandbox.state.asked_at.append(time.time())
                    if sandbox.state.latency_s:
                        time.sleep(sandbox.state.latency_s)
                    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
                    status, ctype, body = sandbox.answer(
                        query, self.headers.get("Captcha-Token", "")
                    )
                    self._send(status, ctype, body)
                elif path == "/_sandbox/state":
                    with sandbox.lock:
                        s = sandbox.state
                        info = {
                            "cases": len(s.cases),
                            "lookups": s.lookups,
                            "asked": s.asked,
                            "layout": s.layout,
                            "nat_hash": s.nat_hash,
                            "refuse_all": s.refuse_all,
                        }
                    self._send(200, "application/json", json.dumps(info))
                else:
                    self._send(404, "text/plain", "Not Found")

            def do_POST(self) -> None:
                path = urlsplit(self.path).path
                length = int(self.headers.get("Content-Length", "0") or 0)
                payload = json.loads(self.rfile.read(length) or b"{}") if length else {}
                if path == "/captcha/mint":
                    with sandbox.lock:
                        if sandbox.state.no_token:
                            self._send(503, "application/json", "{}")
                            return
                        token = secrets.token_hex(16)
                        sandbox.state.tokens.add(token)
                    self._send(200, "application/json", json.dumps({"token": token}))
                elif path == "/_sandbox/case":
                    sandbox.set_case(case_from_json(payload))
                    self._send(200, "application/json", '{"ok": true}')
                elif path == "/_sandbox/knobs":
                    with sandbox.lock:
                        s = sandbox.state
                        s.layout = payload.get("layout", s.layout)
                        s.glitches = int(payload.get("glitches", s.glitches))
                        s.refuse_all = bool(payload.get("refuse_all", s.refuse_all))
                        s.no_token = bool(payload.get("no_token", s.no_token))
                        s.latency_s = float(payload.get("latency_s", s.latency_s))
                        s.refuse_captcha = set(payload.get("refuse_captcha", s.refuse_captcha))
                        s.fail_502 = set(payload.get("fail_502", s.fail_502))
                    if payload.get("rotate_nationality_hash"):
                        sandbox.rotate_nationality_hash()
                    self._send(200, "application/json", '{"ok": true}')
                else:
                    self._send(404, "text/plain", "Not Found")

        return Handler


def case_from_json(data: dict[str, Any]) -> Case:
    """A Case from JSON (``docketwatch sandbox acis set-case``); dates as YYYY-MM-DD."""
    hearing = data.pop("hearing", None)
    for key in ("completed_on", "appeal_due_on", "appeal_filed_on"):
        if data.get(key):
            data[key] = date.fromisoformat(data[key])
    case = Case(**data)
    if hearing:
        hearing["on"] = date.fromisoformat(hearing["on"])
        case.hearing = Hearing(**hearing)
    return case
