"""Synthetic ACIS GetCaseInfo bodies in the full schema of sources.md §1.3.

The replica serves these, and the parser's fixtures are written from them. Every value is
invented (names like "DOE, JANE", A-numbers in the 9xx range); codes and address formats follow
the real responses.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

ADL_ADDRESS = "ADELANTO, CALIFORNIA|10250 RANCHO ROAD, SUITE 201A|ADELANTO, CA 92301"
ADL_CONTACT = "10250 RANCHO ROAD, SUITE 201A|ADELANTO, CA 92301|7605616500"
COURTS = {
    "ADL": (ADL_ADDRESS, ADL_CONTACT),
    "LOS": (
        "LOS ANGELES, CALIFORNIA|606 S OLIVE ST, 15TH FL|LOS ANGELES, CA 90014",
        "606 S OLIVE ST, 15TH FL|LOS ANGELES, CA 90014|2138942811",
    ),
    "SNC": (
        "SANTA ANA, CALIFORNIA|1241 E DYER RD, SUITE 200|SANTA ANA, CA 92705",
        "1241 E DYER RD, SUITE 200|SANTA ANA, CA 92705|7146463321",
    ),
}
DECISIONS_ES = {"Removal ordered": "Se ordenó la deportación"}


@dataclass
class Hearing:
    on: date
    time: str = "8:30 AM"
    court: str = "ADL"
    location: str = "ADL"
    judge_code: str = "ARO"
    judge: str = "Roe, Alex"
    cal_type: str = "M"
    schedule_type: str = "MD"
    medium: str = "P"
    webex: str | None = "https://eoir.webex.com/meet/IJ.Roe"


@dataclass
class Case:
    """The state of one synthetic case, as the replica keeps it."""

    a_number: str
    nat_code: str
    name: str = "DOE, JANE"
    case_id: int = 10000001
    hearing: Hearing | None = None
    court: str = "ADL"
    case_type: str = "RMV"
    decision_code: str | None = None
    decision_text: str | None = None
    completed_on: date | None = None
    appeal_due_on: date | None = None
    appeal_filed_on: date | None = None
    pending_at_bia: bool = False
    elapsed_days: int = 543
    unavailable: bool = False
    extra: dict[str, Any] = field(default_factory=dict)


def _dt(day: date | None) -> str | None:
    return f"{day.isoformat()}T00:00:00" if day else None


def case_body(case: Case, language: str = "EN") -> dict[str, Any]:
    """The GetCaseInfo JSON for ``case`` in ``language`` (EN or ES)."""
    h = case.hearing
    address, contact = COURTS.get(case.court, COURTS["ADL"])
    decision = case.decision_text
    if language == "ES" and decision:
        decision = DECISIONS_ES.get(decision, decision)
    appeal_filed = case.appeal_filed_on is not None
    return {
        "Language": language,
        "Data": {
            "ValidAlienNumber": True,
            "ReopenExists": False,
            "AppealFiled": appeal_filed,
            "CaseAppealExists": appeal_filed,
            "MTR_BIA_Appeal": False,
            "MTR_BIA_Type": None,
            "AlienName": case.name,
            "CaseID": case.case_id,
            "OSC_Date": "2025-01-16T00:00:00",
            "ClockStatus": "R",
            "ElapsedDays": str(case.elapsed_days),
            "LatestHearingDate": _dt(h.on) if h else None,
            "LatestHearingTime": h.time if h else None,
            "LatestCalType": h.cal_type if h else None,
            "DocketDate": "2025-01-17T00:00:00",
            "CaseContactInfo": contact,
            "CaseDecisionString": decision,
            "MTRDecisionString": None,
            "ReopenDecisionString": None,
            "AppealDecisionString": None,
            "PendingAtBIA": case.pending_at_bia,
        },
        "AlienNumber": case.a_number,
        "Proceeding": {
            "DateAppealDue": _dt(case.appeal_due_on),
            "BaseCityCode": case.court,
            "Generation": "98",
            "Subgeneration": None,
            "HearingLocationCode": h.location if h else case.court,
            "HearingLocationAddress": address,
            "ContactAddress": None,
            "CompDate": _dt(case.completed_on),
            "IJCode": None,
            "IJName": None,
            "CaseType": case.case_type,
            "DecisionCode": case.decision_code,
            "OtherComp": None,
            "OtherReceived1": None,
            "OtherReceived2": None,
            "BatteredSpouse": False,
            "ReleaseInfo": "Y",
        },
        "Reopen": {"CompDate": None, "Decision": None, "MotionReceivedDate": None},
        "Appeal": {
            "AlienBriefDue": None,
            "AlienBriefFiled": None,
            "BIADecision": None,
            "BIADecisionDate": None,
            "DHSBriefDue": None,
            "DHSBriefFiled": None,
            "FiledDate": _dt(case.appeal_filed_on),
            "AppealType": "IJ" if appeal_filed else None,
        },
        "MTR": {"MTRDecision": None, "MTRDecisionDate": None, "MTRAppealFiledDate": None},
        "Schedule": {
            "ProceedingID": case.case_id + 10000000,
            "AdjDate": _dt(h.on) if h else None,
            "IJ_Code": h.judge_code if h else None,
            "IJ_Name": h.judge if h else None,
            "IJ_WebExURLLink": h.webex if h else None,
            "AdjTime": h.time if h else None,
            "CalType": h.cal_type if h else None,
            "ScheduleType": h.schedule_type if h else None,
            "HearingMedium": h.medium if h else None,
            "HearingLocationCode": h.location if h else None,
            "HearingLocationAddress": address if h else None,
            "ContactAddress": contact if h else None,
        },
        **case.extra,
    }


ERROR_BODIES: dict[str, tuple[int, str]] = {
    "captcha": (400, '{"message":"Invalid Captcha Provided."}'),
    "not_found": (404, '{"message":"No case info found for A-Number"}'),
    "invalid_nationality": (404, '{"message":"Invalid nationality code"}'),
    "unavailable": (422, '{"message":"Case information is unavailable"}'),
    "valid_false": (200, '{"Data":{"ValidAlienNumber":false}}'),
    "cloudflare_502": (
        502,
        "<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway"
        "</h1></center><hr><center>cloudflare</center></body></html>",
    ),
}
