"""Generated EOIR FOIA releases ("EOIR Case Data.zip"), laid out and compressed as EOIR's are
(the file share that serves them: :mod:`sandbox.eoir_foia`).

A release is laid out like EOIR's (sources.md §3): ``EOIR Case Data/`` with every core table
of the real release (A_TblCase, B_TblProceeding, tbl_schedule, tbl_RepsAssigned and
tbl_CustodyHistory in volume; the other fourteen with a few rows), a ``Lookup/`` folder with the
real lookup tables, and ``Count.txt`` (``<table>\\t<rows>``). Every header line is the real one
(``storage/reference/eoir_foia_headers.json``), and the zip is compressed as EOIR's is: the big
members (B_TblProceeding, tbl_schedule, D_TblAssociatedBond) with **Deflate64** (zip method 9),
the others with Deflate, Count.txt stored, zip64 records where a member passes 4 GiB.

The files carry every quirk of the real ones: tab-delimited ``.csv`` files, no quoting, latin-1,
NUL bytes inside fields, rows shifted by a stray tab in free text, codes with trailing spaces,
blank fields, ``2099-12-31`` dates, the ``GENDER`` → ``Sex`` header drift, and the
value shapes of the 2026 release: ``YYYY-MM-DD hh:mm:ss.fff`` datetimes, date-only INPUT_DATE in
tbl_schedule, ``M/YYYY`` birth dates, ``N/A`` and ``b6`` placeholders, ``??`` nationality,
zero-padded codes, ``A_Tblcase`` and ``a_tblcase`` in PARENT_TABLE, a datetime in IDNCASE.
Nothing in them is personal: cases carry only integer ids, as in the real files.

Everything is deterministic by seed. Proportions follow the national figures (1.31 proceedings
and 3.65 schedule rows per case, custody N/D/R about 65/23/11 %); a detained case that is more
than eight months old is rarely still pending. A successor release is derived
from a previous one by streaming its files: some pending cases complete, some get an EOIR-28,
some hearings move, new cases arrive with ids above the previous ones (detained courts take a
larger share of new intake than of the backlog), and the quirky rows pass through untouched.
"""

from __future__ import annotations

import bisect
import hashlib
import json
import random
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from importlib import resources
from pathlib import Path
from typing import Any

from sandbox.zipwriter import DEFLATE64, DEFLATED, STORED, ZipWriter
from storage.reference_data import court_decisions
from storage.zipmembers import member_chunks

CORE = "EOIR Case Data"
ZIP_NAME = "EOIR Case Data.zip"

CASE_COLUMNS = [
    "IDNCASE",
    "ALIEN_CITY",
    "ALIEN_STATE",
    "ALIEN_ZIPCODE",
    "UPDATED_ZIPCODE",
    "UPDATED_CITY",
    "NAT",
    "LANG",
    "CUSTODY",
    "SITE_TYPE",
    "E_28_DATE",
    "ATTY_NBR",
    "CASE_TYPE",
    "UPDATE_SITE",
    "LATEST_HEARING",
    "LATEST_TIME",
    "LATEST_CAL_TYPE",
    "UP_BOND_DATE",
    "UP_BOND_RSN",
    "CORRECTIONAL_FAC",
    "RELEASE_MONTH",
    "RELEASE_YEAR",
    "INMATE_HOUSING",
    "DATE_OF_ENTRY",
    "C_ASY_TYPE",
    "C_BIRTHDATE",
    "C_RELEASE_DATE",
    "UPDATED_STATE",
    "ADDRESS_CHANGEDON",
    "ZBOND_MRG_FLAG",
    "GENDER",
    "DATE_DETAINED",
    "DATE_RELEASED",
    "LPR",
    "DETENTION_DATE",
    "DETENTION_LOCATION",
    "DCO_LOCATION",
    "DETENTION_FACILITY_TYPE",
    "CASEPRIORITY_CODE",
]
PROCEEDING_COLUMNS = [
    "IDNPROCEEDING",
    "IDNCASE",
    "OSC_DATE",
    "INPUT_DATE",
    "BASE_CITY_CODE",
    "HEARING_LOC_CODE",
    "IJ_CODE",
    "TRANS_IN_DATE",
    "PREV_HEARING_LOC",
    "PREV_HEARING_BASE",
    "PREV_IJ_CODE",
    "TRANS_NBR",
    "HEARING_DATE",
    "HEARING_TIME",
    "DEC_TYPE",
    "DEC_CODE",
    "DEPORTED_1",
    "DEPORTED_2",
    "OTHER_COMP",
    "APPEAL_RSVD",
    "APPEAL_NOT_FILED",
    "COMP_DATE",
    "ABSENTIA",
    "VENUE_CHG_GRANTED",
    "TRANSFER_TO",
    "DATE_APPEAL_DUE_STATUS",
    "TRANSFER_STATUS",
    "CUSTODY",
    "CASE_TYPE",
    "NAT",
    "LANG",
    "SCHEDULED_HEAR_LOC",
    "CORRECTIONAL_FAC",
    "CRIM_IND",
    "IHP",
    "AGGRAVATE_FELON",
    "DATE_DETAINED",
    "DATE_RELEASED",
]
SCHEDULE_COLUMNS = [
    "IDNSCHEDULE",
    "IDNPROCEEDING",
    "IDNCASE",
    "OSC_DATE",
    "GENERATION",
    "SUB_GENERATION",
    "REC_TYPE",
    "LANG",
    "HEARING_LOC_CODE",
    "BASE_CITY_CODE",
    "IJ_CODE",
    "INTERPRETER_CODE",
    "INPUT_DATE",
    "INPUT_TIME",
    "UPDATE_DATE",
    "UPDATE_TIME",
    "ASSIGNMENT_PATH",
    "CAL_TYPE",
    "ADJ_DATE",
    "ADJ_TIME_START",
    "ADJ_TIME_STOP",
    "ADJ_RSN",
    "ADJ_MEDIUM",
    "ADJ_MSG",
    "ADJ_ELAP_DAYS",
    "LNGSESSNID",
    "SCHEDULE_TYPE",
    "NOTICE_CODE",
    "BLNCLOCKOVERRIDE",
    "EOIRAttorneyID",
]
REPS_COLUMNS = [
    "IDNREPSASSIGNED",
    "IDNCASE",
    "STRATTYLEVEL",
    "STRATTYTYPE",
    "PARENT_TABLE",
    "PARENT_IDN",
    "BASE_CITY_CODE",
    "INS_TA_DATE_ASSIGNED",
    "E_27_DATE",
    "E_28_DATE",
    "BLNPRIMEATTY",
]
CUSTODY_COLUMNS = ["IDNCUSTODY", "IDNCASE", "CUSTODY", "DATDETAINED", "DATRELEASED"]

#: the real header lines, per edition (2026-04, and 2023-06 for tbl_schedule)
REAL_HEADERS: dict[str, Any] = json.loads(
    resources.files("storage.reference").joinpath("eoir_foia_headers.json").read_text("utf-8")
)
EDITION_2026 = REAL_HEADERS["editions"]["2026-04"]
LOOKUP_TABLES = REAL_HEADERS["lookup_tables"]
#: members EOIR compresses with Deflate64 (zip method 9); the rest with Deflate
DEFLATE64_MEMBERS = {"B_TblProceeding", "tbl_schedule", "D_TblAssociatedBond"}

TABLES = {
    "A_TblCase": CASE_COLUMNS,
    "B_TblProceeding": PROCEEDING_COLUMNS,
    "tbl_schedule": SCHEDULE_COLUMNS,
    "tbl_RepsAssigned": REPS_COLUMNS,
    "tbl_CustodyHistory": CUSTODY_COLUMNS,
}

MINOR_TABLES = [
    t for t in EDITION_2026 if t not in LOOKUP_TABLES and t not in TABLES
]  # the other core tables of the real release: real header, a few rows

SOCAL = ["ADL", "LOS", "NLA", "WLA", "VNS", "LAD", "SNC", "IMP", "OTM", "SND"]
OTHER_COURTS = [
    "ATL",
    "BAL",
    "BOS",
    "BUF",
    "CHI",
    "DAL",
    "DEN",
    "DET",
    "ELP",
    "HAR",
    "HON",
    "HOU",
    "KRO",
    "LVG",
    "MEM",
    "MIA",
    "NEW",
    "NOL",
    "NYC",
    "OAK",
    "ORL",
    "PHI",
    "PHO",
    "SAJ",
    "SEA",
    "SFR",
    "SNA",
    "SPD",
    "TUC",
    "ULS",
    "SLC",
    "CLE",
    "TAC",
    "KAN",
    "OMA",
    "CHL",
    "PSD",
    "AUR",
    "ELO",
    "OTO",
    "CIC",
    "FTW",
    "NYB",
    "RIC",
    "SIN",
    "HYA",
    "STE",
    "CCC",
    "POR",
    "CHE",
    "ANN",
]
# Share of all proceedings per base city: the Southern California courts, then the rest.
COURT_WEIGHTS = [
    ("ADL", 0.02),
    ("LOS", 0.05),
    ("NLA", 0.01),
    ("WLA", 0.02),
    ("VNS", 0.01),
    ("LAD", 0.004),
    ("SNC", 0.012),
    ("IMP", 0.004),
    ("OTM", 0.006),
    ("SND", 0.012),
]
DETAINED_COURTS = {"ADL", "LAD", "IMP", "OTM", "ELO", "OTO", "STE", "CCC", "TAC"}
HEARING_LOCS = {"ADL": ["ADL", "ADL", "ADE", "ADW", "ADV"], "LOS": ["LOS"], "SNC": ["SNC", "SIH"]}
NATS = [
    ("MX", 30),
    ("GT", 14),
    ("HO", 13),
    ("ES", 9),
    ("VE", 6),
    ("CU", 4),
    ("CO", 4),
    ("EC", 4),
    ("IN", 3),
    ("CH", 3),
    ("HA", 3),
    ("NU", 3),
    ("BR", 2),
    ("PE", 2),
    ("RS", 1),
    ("TU", 1),
]
NAT_NAMES = {
    "MX": "MEXICO",
    "GT": "GUATEMALA",
    "HO": "HONDURAS",
    "ES": "EL SALVADOR",
    "VE": "VENEZUELA",
    "CU": "CUBA",
    "CO": "COLOMBIA",
    "EC": "ECUADOR",
    "IN": "INDIA",
    "CH": "CHINA",
    "HA": "HAITI",
    "NU": "NICARAGUA",
    "BR": "BRAZIL",
    "PE": "PERU",
    "RS": "SERBIA",
    "TU": "TURKEY",
}
LANG_BY_NAT = {
    "MX": ["SP"],
    "GT": ["SP", "SP", "MAM", "QUI"],
    "HO": ["SP"],
    "ES": ["SP"],
    "VE": ["SP"],
    "CU": ["SP"],
    "CO": ["SP"],
    "EC": ["SP"],
    "IN": ["PUN", "HIN", "ENG"],
    "CH": ["MAN"],
    "HA": ["HAI", "FR"],
    "NU": ["SP"],
    "BR": ["POR"],
    "PE": ["SP"],
    "RS": ["RUS", "ENG"],
    "TU": ["TUR"],
}
LANGUAGES = {
    "SP": "SPANISH",
    "MAM": "MAM",
    "QUI": "QUICHE",
    "PUN": "PUNJABI",
    "HIN": "HINDI",
    "ENG": "ENGLISH",
    "MAN": "MANDARIN",
    "HAI": "HAITIAN CREOLE",
    "FR": "FRENCH",
    "POR": "PORTUGUESE",
    "RUS": "RUSSIAN",
    "TUR": "TURKISH",
}
CASE_TYPES = [
    ("RMV", 83),
    ("DEP", 5),
    ("CFR", 3),
    ("WHO", 2),
    ("RFR", 2),
    ("EXC", 2),
    ("AOC", 2),
    ("CSR", 1),
]
CASE_TYPE_NAMES = {
    "RMV": "Removal",
    "DEP": "Deportation",
    "CFR": "Credible Fear Review",
    "WHO": "Withholding Only",
    "RFR": "Reasonable Fear Case",
    "EXC": "Exclusion",
    "AOC": "Asylum Only Case",
    "CSR": "Claimed Status Review",
}
# Completed proceedings by outcome group: (group, share), for respondents with and without
# an attorney (the gap EOIR's data shows nationally, roughly).
REP_OUTCOMES = [
    ("relief_or_termination", 0.45),
    ("removal", 0.30),
    ("voluntary_departure", 0.10),
    ("other", 0.15),
]
UNREP_OUTCOMES = [
    ("relief_or_termination", 0.10),
    ("removal", 0.65),
    ("voluntary_departure", 0.12),
    ("other", 0.13),
]
DECISIONS_BY: dict[tuple[str, str], list[tuple[str, str]]] = {}
for _d_ in court_decisions().values():
    DECISIONS_BY.setdefault((_d_.case_type, _d_.outcome), []).append((_d_.type, _d_.code))
SCHEDULE_TYPES = {"M": ["MM", "MR", "MD", "RD", "MA"], "I": ["II", "ID", "IR", "IA"]}
ADJ_REASONS = ["01", "02", "03", "09", "17", "30", "35", "41"]
CITIES = [
    "LOS ANGELES",
    "SANTA ANA",
    "ADELANTO",
    "SAN BERNARDINO",
    "RIVERSIDE",
    "HOUSTON",
    "SAN JOS\xc9",
    "PE\xd1ASCO",
    "CHICAGO",
    "MIAMI",
    "NEW YORK",
    "",
]
STATES = ["CA", "CA", "CA", "TX", "IL", "FL", "NY", "AZ", ""]
JUDGE_SURNAMES = [
    "Abara",
    "Bellweather",
    "Castellan",
    "Dunmore",
    "Esquivel",
    "Farrow",
    "Galloway",
    "Hartigan",
    "Ibarra",
    "Jessup",
    "Kowalczyk",
    "Lindqvist",
    "Marchetti",
    "Nakagawa",
    "Okonkwo",
    "Pruitt",
]
JUDGE_GIVEN = ["A.", "B.", "C.", "D.", "E.", "F.", "G.", "H."]


def _weights(pairs: list[tuple[str, float]]) -> tuple[list[str], list[float]]:
    total = 0.0
    cum = []
    for _, w in pairs:
        total += w
        cum.append(total)
    return [p[0] for p in pairs], [c / total for c in cum]


def _pick(rng: random.Random, table: tuple[list[str], list[float]]) -> str:
    return table[0][bisect.bisect_left(table[1], rng.random())]


def judge_codes(court: str) -> list[str]:
    """Synthetic judge codes of a court: three letters per judge, stable across releases."""
    n = 6 if court in ("ADL", "LOS") else 3
    return [f"{court[0]}{chr(65 + (ord(court[1]) + i) % 26)}{chr(65 + i)}" for i in range(n)]


def judge_name(code: str) -> str:
    h = int(hashlib.sha256(code.encode()).hexdigest(), 16)
    return f"{JUDGE_SURNAMES[h % 16]}, {JUDGE_GIVEN[(h >> 8) % 8]}"


def _stamp(day: date) -> float:
    """The members' time in the zip: the release's day, so one seed makes one file."""
    return datetime(day.year, day.month, day.day, 12, tzinfo=UTC).timestamp()


def _d(day: date) -> str:
    return f"{day.isoformat()} 00:00:00.000"


@dataclass
class Quirks:
    """What the generator put in, so tests can check the load report counts each one."""

    shifted_case_rows: list[int] = field(default_factory=list)  # 1-based physical lines
    shifted_proceeding_rows: list[int] = field(default_factory=list)
    nul_schedule_rows: int = 0
    nul_lookup_rows: int = 0
    far_future_dates: int = 0
    trailing_space_codes: int = 0
    placeholders: int = 0  # b6 and N/A in A_TblCase
    unknown_nationality: int = 0  # NAT ??
    datetime_idncase_rows: list[int] = field(default_factory=list)  # tbl_schedule lines


@dataclass
class ReleaseInfo:
    path: Path
    as_of: date
    counts: dict[str, int]
    quirks: Quirks
    max_case: int
    max_proceeding: int


class _Table:
    """One member of the zip, written line by line in big chunks."""

    def __init__(self, path: Path, header: list[str]) -> None:
        self.path = path
        self._stream = path.open("wb")
        self._buf: list[str] = []
        self.rows = 0
        self.line = 1  # physical line of the last row written (the header is line 1)
        self._write("\t".join(header))

    def _write(self, text: str) -> None:
        self._buf.append(text)
        if len(self._buf) >= 4096:
            self.flush()

    def add(self, fields: list[str]) -> int:
        self._write("\t".join(fields))
        self.rows += 1
        self.line += 1
        return self.line

    def add_raw(self, line: str) -> None:
        self._write(line)
        self.rows += 1
        self.line += 1

    def flush(self) -> None:
        if self._buf:
            self._stream.write(("\n".join(self._buf) + "\n").encode("latin-1"))
            self._buf = []

    def close(self) -> None:
        self.flush()
        self._stream.close()


class _World:
    """The random choices shared by the first release and its successors."""

    def __init__(self, seed: int, as_of: date, detained_adl_share: float = 0.85) -> None:
        self.rng = random.Random(seed)
        self.shapes = random.Random(seed * 7919 + 1)  # placeholders and padding, apart
        self.as_of = as_of
        rest = 1.0 - sum(w for _, w in COURT_WEIGHTS)
        each = rest / len(OTHER_COURTS)
        self.courts = _weights(COURT_WEIGHTS + [(c, each) for c in OTHER_COURTS])
        # Detained dockets turn over fast: their share of new intake is well above their share
        # of the backlog.
        self.new_courts = _weights(
            [(c, w * (4 if c in DETAINED_COURTS else 1)) for c, w in COURT_WEIGHTS]
            + [(c, each * (4 if c in DETAINED_COURTS else 1)) for c in OTHER_COURTS]
        )
        self.nats = _weights([(n, float(w)) for n, w in NATS])
        self.case_types = _weights([(n, float(w)) for n, w in CASE_TYPES])
        self.detained_adl_share = detained_adl_share
        self.judges = {c: judge_codes(c) for c in SOCAL + OTHER_COURTS}
        self.next_schedule = 1
        self.next_rep = 1
        self.next_custody = 1
        self.outcomes = random.Random(seed * 104729 + 3)  # decisions, apart (added later)

    def outcome(self, u: float, case_type: str, represented: bool, custody: str) -> list[str]:
        """DEC_CODE, OTHER_COMP and ABSENTIA of a completed proceeding, ``u`` drawn in [0, 1):
        represented respondents win relief far more often, as in EOIR's data."""
        weights = REP_OUTCOMES if represented else UNREP_OUTCOMES
        group, acc = weights[-1][0], 0.0
        for name, w in weights:
            acc += w
            if u < acc:
                group = name
                break
        codes = DECISIONS_BY.get((case_type, group)) or DECISIONS_BY[(case_type, "other")]
        kind, code = codes[int(self.outcomes.random() * len(codes))]
        absent_p = 0.01 if custody == "D" else (0.05 if represented else 0.3)
        absentia = "Y" if group == "removal" and self.outcomes.random() < absent_p else "N"
        return [code, "", absentia] if kind == "C" else ["", code, "N"]

    def custody_for(self, court: str) -> str:
        r = self.rng.random()
        if court in DETAINED_COURTS:
            return "D" if r < self.detained_adl_share else ("R" if r < 0.97 else "N")
        return "N" if r < 0.70 else ("D" if r < 0.88 else ("R" if r < 0.99 else ""))

    def hearing_loc(self, court: str) -> str:
        locs = HEARING_LOCS.get(court, [court])
        return locs[int(self.rng.random() * len(locs))]

    def judge(self, court: str) -> str:
        js = self.judges[court]
        return js[int(self.rng.random() * len(js))]


def _case_row(
    world: _World,
    idncase: int,
    nat: str,
    lang: str,
    custody: str,
    case_type: str,
    court: str,
    e28: str,
    latest: str,
    gender_col: str,
    quirks: Quirks,
) -> list[str]:
    rng = world.rng
    row = [""] * len(CASE_COLUMNS)
    row[0] = str(idncase)
    row[1] = CITIES[int(rng.random() * len(CITIES))]
    row[2] = STATES[int(rng.random() * len(STATES))]
    row[3] = f"{90000 + int(rng.random() * 9999):05d}" if row[2] else ""
    row[6] = nat
    # Trailing spaces on codes, as in the real files ('SP ').
    if rng.random() < 0.03:
        row[7] = lang + " "
        quirks.trailing_space_codes += 1
    else:
        row[7] = lang
    row[8] = custody
    row[10] = e28
    row[12] = case_type
    row[13] = court
    row[14] = latest
    row[15] = "0830" if latest else ""
    row[16] = "M" if latest else ""
    row[30] = "M" if rng.random() < 0.7 else "F"
    if custody == "D":
        row[31] = _d(world.as_of - timedelta(days=int(rng.random() * 200)))
    shapes = world.shapes
    born = world.as_of.year - 18 - int(shapes.random() * 50)
    row[25] = f"{1 + int(shapes.random() * 12)}/{born}"  # C_BIRTHDATE is M/YYYY
    r = shapes.random()
    if r < 0.01:
        row[1] = "b6"  # a FOIA redaction
        quirks.placeholders += 1
    elif r < 0.02:
        row[5] = "N/A"
        quirks.placeholders += 1
    if shapes.random() < 0.002:
        row[6] = "??"  # nationality unknown
        quirks.unknown_nationality += 1
    return row


def _new_case(
    world: _World,
    tables: dict[str, _Table],
    idncase: int,
    next_proc: int,
    quirks: Quirks,
    gender_col: str,
    *,
    recent: bool,
    shift_proceeding: bool = False,
    datetime_idncase: bool = False,
) -> int:
    """Write one case with its proceedings, hearings, representatives and custody history.

    Returns the next free proceeding id.
    """
    rng = world.rng
    as_of = world.as_of
    court = _pick(rng, world.new_courts if recent else world.courts)
    nat = _pick(rng, world.nats)
    langs = LANG_BY_NAT[nat]
    lang = langs[int(rng.random() * len(langs))]
    custody = world.custody_for(court)
    case_type = _pick(rng, world.case_types)
    r = rng.random()
    n_proc = 1 if r < 0.75 else (2 if r < 0.95 else 3)
    # Representation: detained respondents are represented far less often.
    rep_p = 0.30 if custody == "D" else 0.65
    represented = rng.random() < rep_p
    age = int(rng.random() * (120 if recent else 3000)) + 1
    osc = as_of - timedelta(days=age)
    # An attorney's appearance comes days to months after the case opens (most in weeks).
    e28 = (
        _d(osc + timedelta(days=min(age - 1, int(rng.random() ** 2 * 150)))) if represented else ""
    )
    latest = ""
    if rng.random() < 0.002:
        latest = _d(date(2099, 12, 31))  # the far-future placeholder seen in the real files
        quirks.far_future_dates += 1
    procs = tables["B_TblProceeding"]
    sched = tables["tbl_schedule"]
    for k in range(n_proc):
        idnproc = next_proc
        next_proc += 1
        last = k == n_proc - 1
        # Detained cases move fast: one detained for years is rarely still pending (a court
        # like Adelanto holds a docket of thousands, not tens of thousands).
        still = 0.35 if custody != "D" or age <= 240 else 0.02
        pending = last and (recent or rng.random() < still)
        pcourt = court if last else _pick(rng, world.courts)
        judge = world.judge(pcourt)
        loc = world.hearing_loc(pcourt)
        base = pcourt
        if rng.random() < 0.02:
            base = pcourt + " "  # trailing space on a code
            quirks.trailing_space_codes += 1
        prow, first = _proceeding_row(
            world,
            (idnproc, idncase, osc, base, loc, judge),
            pending,
            (custody, case_type, nat, lang, represented),
        )
        if shift_proceeding and last:
            # A stray tab in a text field: the row has one field too many and cannot load.
            prow[11] = "12\t3"
            procs.add_raw("\t".join(prow))
            quirks.shifted_proceeding_rows.append(procs.line)
        else:
            procs.add(prow)
        # Hearings: past ones adjourned with a reason; a pending proceeding has one ahead.
        n_sched = 1 + int(rng.random() * 4)
        day = first
        for j in range(n_sched):
            future = pending and j == n_sched - 1
            if future:
                day = as_of + timedelta(
                    days=1 + int(rng.random() * (90 if custody == "D" else 400))
                )
            srow = _schedule_row(
                world,
                quirks,
                (idnproc, idncase, osc, lang, loc, pcourt, judge),
                day,
                j == n_sched - 1,
                future,
                pending,
                datetime_idncase and j == 0,
            )
            line = sched.add(srow)
            if datetime_idncase and j == 0:
                quirks.datetime_idncase_rows.append(line)
            if not future:
                day = day + timedelta(days=20 + int(rng.random() * 120))
                if day >= as_of and pending:
                    day = as_of - timedelta(days=1)
    _reps(world, tables, idncase, court, represented, e28)
    if custody in ("D", "R"):
        crow = [str(world.next_custody), str(idncase), custody, _d(osc), ""]
        if custody == "R":
            crow[4] = _d(osc + timedelta(days=30))
        world.next_custody += 1
        tables["tbl_CustodyHistory"].add(crow)
    tables["A_TblCase"].add(
        _case_row(
            world, idncase, nat, lang, custody, case_type, court, e28, latest, gender_col, quirks
        )
    )
    return next_proc


def _proceeding_row(
    world: _World,
    of: tuple[int, int, date, str, str, str],
    pending: bool,
    case: tuple[str, str, str, str, bool],
) -> tuple[list[str], date]:
    """One B_TblProceeding row of a new case (``of``: its id, the case's, the case's start, the
    base city as written, hearing location and judge; ``case``: custody, case type,
    nationality, language, represented), and the day of its first master hearing."""
    rng, as_of = world.rng, world.as_of
    idnproc, idncase, osc, base, loc, judge = of
    custody, case_type, nat, lang, represented = case
    prow = [""] * len(PROCEEDING_COLUMNS)
    prow[0] = str(idnproc)
    prow[1] = str(idncase)
    prow[2] = _d(osc)
    prow[3] = _d(osc + timedelta(days=2))
    prow[4] = base
    prow[5] = loc
    prow[6] = judge
    first = osc + timedelta(days=14 + int(rng.random() * 60))
    prow[12] = _d(first)
    prow[13] = "0830"
    if not pending:
        comp = min(as_of - timedelta(days=1), first + timedelta(days=int(rng.random() * 400)))
        prow[14] = "O"
        prow[15], prow[18], prow[22] = world.outcome(rng.random(), case_type, represented, custody)
        prow[21] = _d(comp)
    prow[27] = custody
    prow[28] = case_type
    prow[29] = nat
    prow[30] = lang
    prow[31] = loc
    prow[33] = "N" if rng.random() < 0.9 else "Y"
    prow[35] = "0"
    if world.shapes.random() < 0.1:
        prow[7] = _d(osc + timedelta(days=5))
        prow[11] = "01"  # TRANS_NBR, zero-padded
    return prow, first


def _schedule_row(
    world: _World,
    quirks: Quirks,
    of: tuple[int, int, date, str, str, str, str],
    day: date,
    last: bool,
    future: bool,
    pending: bool,
    datetime_idncase: bool,
) -> list[str]:
    """One tbl_schedule row of a new case's proceeding ``of`` (its id, the case's, the case's
    start, language, hearing location, court and judge) for the hearing of ``day``."""
    rng, as_of = world.rng, world.as_of
    idnproc, idncase, osc, lang, loc, pcourt, judge = of
    srow = [""] * len(SCHEDULE_COLUMNS)
    srow[0] = str(world.next_schedule) if rng.random() > 0.05 else ""  # null keys exist
    world.next_schedule += 1
    srow[1] = str(idnproc)
    srow[2] = str(idncase)
    srow[3] = _d(osc)
    srow[4] = "99"
    srow[5] = "1"
    srow[6] = "B"
    srow[7] = lang
    srow[8] = loc
    srow[9] = pcourt
    srow[10] = judge
    srow[12] = (day - timedelta(days=30)).isoformat()  # INPUT_DATE: date only
    srow[13] = "1015"
    srow[14] = _d(day - timedelta(days=10))
    srow[15] = "1420"
    srow[16] = "W"
    cal = "I" if (last and rng.random() < 0.3) else "M"
    srow[17] = cal
    srow[18] = _d(day)
    hour = 8 + int(rng.random() * 7)
    srow[19] = f"{hour:02d}{'30' if rng.random() < 0.5 else '00'}"
    srow[20] = f"{hour + 1:02d}00"
    if not future and (not pending or day < as_of):
        srow[21] = ADJ_REASONS[int(rng.random() * len(ADJ_REASONS))]
    srow[22] = "P" if rng.random() < 0.6 else "V"
    if rng.random() < 0.001:
        srow[23] = "N\x00"  # a NUL byte inside a field
        quirks.nul_schedule_rows += 1
    st = SCHEDULE_TYPES[cal]
    srow[26] = st[int(rng.random() * len(st))]
    srow[28] = "0"
    if srow[21]:
        srow[24] = f"{int(world.shapes.random() * 200):04d}"  # ADJ_ELAP_DAYS, padded
    if datetime_idncase:
        srow[2] = _d(osc)  # a datetime where IDNCASE belongs, as in 2023 rows
    return srow


def _reps(
    world: _World,
    tables: dict[str, _Table],
    idncase: int,
    court: str,
    represented: bool,
    e28: str,
) -> None:
    rng = world.rng
    reps = tables["tbl_RepsAssigned"]
    # DHS counsel is on almost every case: the pitfall of counting any row as representation.
    parent = "a_tblcase" if world.shapes.random() < 0.3 else "A_Tblcase"  # both, as EOIR's
    if rng.random() < 0.85:
        reps.add(
            [
                str(world.next_rep),
                str(idncase),
                "COURT",
                "INS",
                parent,
                str(idncase),
                court,
                _d(world.as_of - timedelta(days=300)),
                "",
                "",
                "1",
            ]
        )
        world.next_rep += 1
    if represented:
        reps.add(
            [
                str(world.next_rep),
                str(idncase),
                "COURT",
                "ALIEN",
                parent,
                str(idncase),
                court,
                "",
                "",
                e28,
                "1",
            ]
        )
        world.next_rep += 1
    elif rng.random() < 0.04:
        # A BIA-level attorney only: not representation at the immigration court.
        reps.add(
            [
                str(world.next_rep),
                str(idncase),
                "BIA",
                "ALIEN",
                "A_Tblcase",
                str(idncase),
                court,
                "",
                _d(world.as_of - timedelta(days=20)),
                "",
                "0",
            ]
        )
        world.next_rep += 1


def _rows(header: list[str], records: list[dict[str, str]]) -> list[list[str]]:
    """Records as rows under a real header (a column a record does not name stays blank)."""
    return [[r.get(c, "") for c in header] for r in records]


def _pad(text: str, width: int = 40) -> str:
    return text.ljust(width)  # lookup names are space-padded in the real files


def _write_lookups(zw: ZipWriter, quirks: Quirks) -> None:
    stamp = "2019-03-01 00:00:00.000"

    def table(name: str, records: list[dict[str, str]], header: list[str] | None = None) -> None:
        cols = header or EDITION_2026[name]
        text = "\n".join("\t".join(r) for r in [cols, *_rows(cols, records)]) + "\n"
        zw.write_bytes(f"Lookup/{name}.csv", text.encode("latin-1"), DEFLATED)

    table(
        "tblLookupBaseCity",
        [
            {
                "idnBaseCity": str(i),
                "BASE_CITY_CODE": c,
                "BASE_CITY_NAME": _pad(c + " IMMIGRATION COURT"),
                "BASE_CITY": c,
                "BASE_STATE": "CA" if c in SOCAL else "",
                "strRegion": "",
                "BASE_PHONE_NO": "N/A",
            }
            for i, c in enumerate(SOCAL + OTHER_COURTS, 1)
        ],
    )
    table(
        "tblLookupHloc",
        [
            {
                "HEARING_LOC_CODE": code,
                "HEARING_LOC_NAME": name,
                "HEARING_CITY": "ADELANTO" if base == "ADL" else "SANTA ANA",
                "HEARING_STATE": "CA",
                "HEARING_BASE_CITY": base,
            }
            for code, name, base in (
                ("ADL", "ADELANTO", "ADL"),
                ("ADE", "ADELANTO DETENTION FACILITY EAST", "ADL"),
                ("ADW", "ADELANTO DETENTION FACILITY WEST", "ADL"),
                ("ADV", "DESERT VIEW", "ADL"),
                ("SIH", "SANTA ANA IHP", "SNC"),
            )
        ],
        header=[
            "HEARING_LOC_CODE",
            "HEARING_LOC_NAME",
            "HEARING_CITY",
            "HEARING_STATE",
            "HEARING_BASE_CITY",
        ],
    )  # (not among the printed headers)
    judges = [
        {
            "idnJudge": str(i),
            "JUDGE_CODE": code,
            "JUDGE_NAME": _pad(judge_name(code)),
            "blnActive": "1",
            "datCreatedOn": stamp,
        }
        for i, code in enumerate(
            (c for court in SOCAL + OTHER_COURTS for c in judge_codes(court)), 1
        )
    ]
    judges[3]["JUDGE_NAME"] += "\x00"  # NULs are most common in the lookup tables
    quirks.nul_lookup_rows += 1
    table("tblLookupJudge", judges)
    table(
        "tblLookupCustodyStatus",
        [
            {
                "idnCustodyStatus": str(i),
                "strCode": k,
                "strSelecBoxVal": k,
                "strDescription": v,
                "blnActive": "1",
            }
            for i, (k, v) in enumerate(
                (("D", "Detained"), ("N", "Never Detained"), ("R", "Released")), 1
            )
        ],
    )
    table(
        "tblLanguage",
        [
            {
                "idnLang": str(i),
                "strCode": k,
                "strDescription": _pad(v),
                "datCreatedOn": stamp,
                "blnActive": "1",
            }
            for i, (k, v) in enumerate(LANGUAGES.items(), 1)
        ],
    )
    table(
        "tblLookupNationality",
        [
            {
                "ID": str(i),
                "NAT_CODE": k,
                "NAT_NAME": _pad(v),
                "NAT_COUNTRY_NAME": v,
                "NAT_NACARA_COUNTRY": "N/A",
                "blnActive": "1",
            }
            for i, (k, v) in enumerate([*NAT_NAMES.items(), ("??", "UNKNOWN NATIONALITY")], 1)
        ],
    )
    table(
        "tblLookupCaseType",
        [
            {"idnCaseType": str(i), "strCode": k, "strDescription": v, "blnActive": "1"}
            for i, (k, v) in enumerate(CASE_TYPE_NAMES.items(), 1)
        ],
    )
    table(
        "tblLookupSex",
        [
            {"idnSex": "1", "strcode": "M", "strDescription": "Male", "blnActive": "1"},
            {"idnSex": "2", "strcode": "F", "strDescription": "Female", "blnActive": "1"},
        ],
    )
    table(
        "tblLookupCourtDecision",
        [
            {
                "idnCourtDecision": str(i),
                "strCaseType": d.case_type,
                "strDecCode": d.code,
                "strDecDescription": _pad(d.description.replace("\u2013", "-")),
                "strDecType": d.type,
                "blnActive": "1",
                "datCreatedOn": stamp,
            }
            for i, d in enumerate(court_decisions().values(), 1)
        ],
    )
    for name in LOOKUP_TABLES:  # the rest: their real header and a row
        if name not in (
            "tblLookupBaseCity",
            "tblLookupJudge",
            "tblLookupCustodyStatus",
            "tblLanguage",
            "tblLookupNationality",
            "tblLookupCaseType",
            "tblLookupSex",
            "tblLookupCourtDecision",
        ):
            cols = EDITION_2026[name]
            table(name, [{cols[0]: "1", cols[1]: "A", cols[2]: _pad("N/A")}])


def _write_minor_tables(zw: ZipWriter, world: _World, deflate64: bool) -> dict[str, int]:
    """The core tables docketwatch does not read, each with its real header and a few rows of
    the real value shapes (ids, datetimes, padded codes, placeholders)."""
    counts = {}
    rng = world.shapes
    for name in MINOR_TABLES:
        cols = EDITION_2026[name]
        rows = []
        for i in range(3):
            row = []
            for j, col in enumerate(cols):
                low = col.lower()
                if j == 0 or low.startswith("idn") or low.startswith("lng"):
                    row.append(str(500_001 + i * 7 + j))
                elif "dat" in low or "date" in low:
                    row.append(_d(world.as_of - timedelta(days=int(rng.random() * 900))))
                elif "time" in low:
                    row.append(f"{8 + int(rng.random() * 8):02d}00")
                elif low.startswith("bln"):
                    row.append("1" if rng.random() < 0.5 else "0")
                else:
                    row.append(("N/A", "b6", "", "01")[int(rng.random() * 4)])
            rows.append(row)
        text = "\n".join("\t".join(r) for r in [cols, *rows]) + "\n"
        method = DEFLATE64 if deflate64 and name in DEFLATE64_MEMBERS else DEFLATED
        zw.write_bytes(f"{CORE}/{name}.csv", text.encode("latin-1"), method)
        counts[name] = len(rows)
    return counts


def _open_tables(work: Path, gender_col: str) -> dict[str, _Table]:
    """The core tables, written to files in ``work`` first: a zip takes one member at a time."""
    work.mkdir(parents=True, exist_ok=True)
    out = {}
    for name, cols in TABLES.items():
        header = [gender_col if c == "GENDER" else c for c in cols]
        out[name] = _Table(work / f"{name}.csv", header)
    return out


def _shift(row: list[str], rng: random.Random) -> str:
    """A row with a stray tab inside its free text (ALIEN_CITY), as ~100 real rows have."""
    fields = list(row)
    fields[1] = (fields[1] or "SAN") + "\t" + "JOSE"
    if rng.random() < 0.5:
        fields[1] += "\tCA"
    return "\t".join(fields)


def _finish(
    zw: ZipWriter, tables: dict[str, _Table], deflate64: bool, minor: dict[str, int]
) -> dict[str, int]:
    counts = {}
    for name, t in tables.items():
        t.close()
        counts[name] = t.rows
        method = DEFLATE64 if deflate64 and name in DEFLATE64_MEMBERS else DEFLATED
        zw.write_file(f"{CORE}/{name}.csv", t.path, method)
        t.path.unlink()
    t.path.parent.rmdir()
    counts.update(minor)
    text = "".join(f"{k}\t{v}\r\n" for k, v in counts.items())
    zw.write_bytes("Count.txt", text.encode("latin-1"), STORED)
    return counts


def generate(
    path: Path,
    cases: int,
    *,
    seed: int = 1,
    as_of: date | None = None,
    gender_col: str = "Sex",
    deflate64: bool = True,
    progress: Callable[[int], None] | None = None,
) -> ReleaseInfo:
    """Write a first release of ``cases`` cases to ``path``: Deflate64 for the big members as
    EOIR does (``deflate64=False``: Deflate throughout, the same content)."""
    if cases < 10:
        raise ValueError("a release needs at least 10 cases")
    as_of = as_of or date(2026, 11, 1)
    world = _World(seed, as_of)
    quirks = Quirks()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    with ZipWriter(tmp, level=1, stamp=_stamp(as_of)) as zw:
        tables = _open_tables(path.with_name(path.name + ".parts"), gender_col)
        # About 100 shifted rows in 12.6 M cases nationally; at least two in any release.
        n_shift = max(2, cases * 100 // 12_600_000)
        shift_at = set(world.rng.sample(range(2, cases), n_shift))
        shift_proc_at = set(world.rng.sample(range(2, cases), n_shift)) - shift_at
        dated_at = set(world.shapes.sample(range(2, cases), n_shift)) - shift_at
        next_proc = 1_000_001
        for i in range(cases):
            idncase = 500_001 + i
            if i in shift_at:
                _shifted_case(world, tables, idncase, quirks)
                continue
            next_proc = _new_case(
                world,
                tables,
                idncase,
                next_proc,
                quirks,
                gender_col,
                recent=False,
                shift_proceeding=i in shift_proc_at,
                datetime_idncase=i in dated_at,
            )
            if progress and i % 10_000 == 0:
                progress(i)
        _write_lookups(zw, quirks)
        counts = _finish(zw, tables, deflate64, _write_minor_tables(zw, world, deflate64))
    tmp.replace(path)
    return ReleaseInfo(path, as_of, counts, quirks, 500_000 + cases, next_proc - 1)


def _shifted_case(world: _World, tables: dict[str, _Table], idncase: int, quirks: Quirks) -> None:
    """A case whose A_TblCase row is shifted by stray tabs (and so cannot be loaded)."""
    row = _case_row(world, idncase, "MX", "SP", "N", "RMV", "LOS", "", "", "Sex", quirks)
    tables["A_TblCase"].add_raw(_shift(row, world.rng))
    quirks.shifted_case_rows.append(tables["A_TblCase"].line)


def _zip_members(path: Path) -> dict[str, zipfile.ZipInfo]:
    with zipfile.ZipFile(path) as zf:
        return {info.filename: info for info in zf.infolist() if not info.is_dir()}


def _read_members(infos: dict[str, zipfile.ZipInfo]) -> dict[str, zipfile.ZipInfo]:
    """The tables generated in volume, by name, wherever the zip has them."""
    found = {}
    for filename, info in infos.items():
        stem = filename.rsplit("/", 1)[-1].rsplit(".", 1)[0]
        if stem in TABLES:
            found[stem] = info
    return found


def _lines(path: Path, info: zipfile.ZipInfo) -> Iterator[str]:
    """A member's lines, streamed (Deflate64 members too: read as docketwatch reads them)."""
    rest = b""
    for chunk in member_chunks(path, info):
        lines = (rest + chunk).split(b"\n")
        rest = lines.pop()
        for line in lines:
            yield line.decode("latin-1")
    if rest:
        yield rest.decode("latin-1")


def successor(
    previous: Path,
    path: Path,
    *,
    seed: int = 2,
    as_of: date | None = None,
    new_cases: int | None = None,
    gender_col: str = "Sex",
) -> ReleaseInfo:
    """Derive the next release from ``previous``.

    Pending proceedings: 4 % complete, 3 % of unrepresented cases get an EOIR-28 (a new
    tbl_RepsAssigned row and E_28_DATE), 6 % of upcoming hearings move. New cases arrive with ids
    above the previous release's (5 % of its cases by default). Rows that do not have the
    header's field count (the shifted rows) pass through unchanged.
    """
    infos = _zip_members(previous)
    deflate64 = any(i.compress_type == DEFLATE64 for i in infos.values())
    counts_text = b"".join(member_chunks(previous, infos["Count.txt"])).decode("latin-1")
    members = _read_members(infos)
    prev_counts = {
        k: int(v) for k, v in (ln.split("\t") for ln in counts_text.strip().splitlines())
    }
    as_of = as_of or _as_of_of(previous, members) + timedelta(days=30)
    world = _World(seed, as_of)
    quirks = Quirks()
    n_new = new_cases if new_cases is not None else max(10, prev_counts["A_TblCase"] // 20)
    tmp = path.with_name(path.name + ".tmp")
    with ZipWriter(tmp, level=1, stamp=_stamp(as_of)) as zw:
        tables = _open_tables(path.with_name(path.name + ".parts"), gender_col)
        completed, max_proc = _next_proceedings(previous, members, tables, world, quirks)
        lawyered, max_case = _next_cases(previous, members, tables, world, quirks)
        _next_hearings(previous, members, tables, world, quirks, completed)
        _carry_over(previous, members, tables, world, lawyered)
        next_proc = max_proc + 1
        for i in range(n_new):
            next_proc = _new_case(
                world, tables, max_case + 1 + i, next_proc, quirks, gender_col, recent=True
            )
        minor = {}
        for filename, info in infos.items():  # lookups and minor tables pass through
            stem = filename.rsplit("/", 1)[-1].rsplit(".", 1)[0]
            if filename.startswith("Lookup/") or stem in MINOR_TABLES:
                method = DEFLATE64 if deflate64 and stem in DEFLATE64_MEMBERS else DEFLATED
                zw.write_bytes(filename, b"".join(member_chunks(previous, info)), method)
                if stem in prev_counts and not filename.startswith("Lookup/"):
                    minor[stem] = prev_counts[stem]
        quirks.nul_lookup_rows = 1
        counts = _finish(zw, tables, deflate64, minor)
    tmp.replace(path)
    return ReleaseInfo(path, as_of, counts, quirks, max_case + n_new, next_proc - 1)


def _next_proceedings(
    previous: Path,
    members: dict[str, zipfile.ZipInfo],
    tables: dict[str, Any],
    world: _World,
    quirks: Quirks,
) -> tuple[set[str], int]:
    """The previous proceedings, 4 % of the pending ones completed; returns the completed ones'
    ids and the largest id."""
    rng, as_of = world.rng, world.as_of
    completed: set[str] = set()
    max_proc = 0
    # Proceedings first: which ones complete is decided here.
    it = _lines(previous, members["B_TblProceeding"])
    header = next(it).split("\t")
    width = len(header)
    comp_i, dec_i = header.index("COMP_DATE"), header.index("DEC_TYPE")
    code_i, other_i, absent_i = (header.index(c) for c in ("DEC_CODE", "OTHER_COMP", "ABSENTIA"))
    ctype_i, cust_i = header.index("CASE_TYPE"), header.index("CUSTODY")
    for line in it:
        f = line.split("\t")
        if len(f) != width:
            tables["B_TblProceeding"].add_raw(line)
            quirks.shifted_proceeding_rows.append(tables["B_TblProceeding"].line)
            continue
        max_proc = max(max_proc, int(f[0]))
        if not f[comp_i] and rng.random() < 0.04:
            f[comp_i] = _d(as_of - timedelta(days=1 + int(rng.random() * 25)))
            f[dec_i] = "O"
            f[code_i], f[other_i], f[absent_i] = world.outcome(
                world.outcomes.random(), f[ctype_i].strip(), False, f[cust_i].strip()
            )
            completed.add(f[0])
        if f[4] != f[4].strip():
            quirks.trailing_space_codes += 1
        tables["B_TblProceeding"].add(f)
    return completed, max_proc


def _next_cases(
    previous: Path,
    members: dict[str, zipfile.ZipInfo],
    tables: dict[str, Any],
    world: _World,
    quirks: Quirks,
) -> tuple[dict[str, str], int]:
    """The previous cases, 3 % of the unrepresented ones with an EOIR-28 now; returns those
    (case id -> court) and the largest id."""
    rng, as_of = world.rng, world.as_of
    lawyered: dict[str, str] = {}
    max_case = 0
    # Cases: some unrepresented ones get an EOIR-28.
    it = _lines(previous, members["A_TblCase"])
    header = next(it).split("\t")
    width = len(header)
    e28_i = header.index("E_28_DATE")
    for line in it:
        f = line.split("\t")
        if len(f) != width:
            tables["A_TblCase"].add_raw(line)
            quirks.shifted_case_rows.append(tables["A_TblCase"].line)
            continue
        max_case = max(max_case, int(f[0]))
        if not f[e28_i] and rng.random() < 0.03:
            f[e28_i] = _d(as_of - timedelta(days=1 + int(rng.random() * 25)))
            lawyered[f[0]] = f[13].strip()
        if f[7] != f[7].strip():
            quirks.trailing_space_codes += 1
        tables["A_TblCase"].add(f)
    return lawyered, max_case


def _next_hearings(
    previous: Path,
    members: dict[str, zipfile.ZipInfo],
    tables: dict[str, Any],
    world: _World,
    quirks: Quirks,
    completed: set[str],
) -> None:
    """The previous hearings: 6 % of the upcoming ones move; completed proceedings' are
    adjourned."""
    rng, as_of = world.rng, world.as_of
    # Hearings: upcoming ones move; completed proceedings' hearings are adjourned.
    it = _lines(previous, members["tbl_schedule"])
    header = next(it).split("\t")
    date_i, rsn_i, upd_i = (header.index(c) for c in ("ADJ_DATE", "ADJ_RSN", "UPDATE_DATE"))
    for line in it:
        f = line.split("\t")
        if f[date_i] and not f[rsn_i] and f[date_i][:10] >= as_of.isoformat():
            if f[1] in completed:
                f[rsn_i] = "30"
                f[upd_i] = _d(as_of - timedelta(days=2))
            elif rng.random() < 0.06:
                day = date.fromisoformat(f[date_i][:10])
                day += timedelta(days=int(rng.random() * 60) - 20)
                f[date_i] = _d(max(day, as_of + timedelta(days=1)))
                f[upd_i] = _d(as_of - timedelta(days=3))
        if "\x00" in line:
            quirks.nul_schedule_rows += 1
        world.next_schedule = max(world.next_schedule, int(f[0] or 0) + 1)
        tables["tbl_schedule"].add(f)


def _carry_over(
    previous: Path,
    members: dict[str, zipfile.ZipInfo],
    tables: dict[str, Any],
    world: _World,
    lawyered: dict[str, str],
) -> None:
    """tbl_RepsAssigned and tbl_CustodyHistory as they were, and a representation row for each
    case that got an EOIR-28."""
    as_of = world.as_of
    for name in ("tbl_RepsAssigned", "tbl_CustodyHistory"):
        it = _lines(previous, members[name])
        next(it)
        for line in it:
            f = line.split("\t")
            if name == "tbl_RepsAssigned":
                world.next_rep = max(world.next_rep, int(f[0]) + 1)
            else:
                world.next_custody = max(world.next_custody, int(f[0]) + 1)
            tables[name].add(f)
    for idncase, court in sorted(lawyered.items()):
        tables["tbl_RepsAssigned"].add(
            [
                str(world.next_rep),
                idncase,
                "COURT",
                "ALIEN",
                "A_Tblcase",
                idncase,
                court,
                "",
                "",
                _d(as_of - timedelta(days=5)),
                "1",
            ]
        )
        world.next_rep += 1


def _as_of_of(path: Path, members: dict[str, zipfile.ZipInfo]) -> date:
    """The newest input date in a release's proceedings: the release's own date, near enough."""
    latest = ""
    it = _lines(path, members["B_TblProceeding"])
    header = next(it).split("\t")
    i = header.index("INPUT_DATE")
    for line in it:
        f = line.split("\t")
        if len(f) > i and f[i][:10] > latest:
            latest = f[i][:10]
    return date.fromisoformat(latest) if latest else date(2026, 11, 1)


def describe(info: ReleaseInfo) -> dict[str, Any]:
    return {
        "path": str(info.path),
        "as_of": info.as_of.isoformat(),
        "counts": info.counts,
        "shifted_case_rows": info.quirks.shifted_case_rows,
        "max_case": info.max_case,
        "max_proceeding": info.max_proceeding,
    }
