"""An ACIS lookup stored and compared as a check would (no browser): the replica's answer for a
case, parsed, recorded and run through the detector."""

from __future__ import annotations

import json
from datetime import datetime

import sqlalchemy as sa

from monitor.acis import detect
from sandbox.acis_data import ERROR_BODIES, Case, case_body
from spiders.acis import parse_case_info
from storage.acis import record
from storage.db import session_scope
from storage.models import Client


def look(
    engine: sa.Engine, client_id: int, case: Case | str, when: datetime, language: str = "EN"
) -> list[str]:
    if isinstance(case, str):
        status, text = ERROR_BODIES[case]
        raw = text.encode()
    else:
        status, raw = 200, json.dumps(case_body(case, language)).encode()
    observation = parse_case_info(status, raw, when.date(), language)
    with session_scope(engine) as s:
        client = s.get(Client, client_id)
        assert client is not None
        record(s, client, observation, raw, when, nationality_code="MX")
        return detect(s, client, when, when.date())
