"""Loading an EOIR FOIA release ("EOIR Case Data.zip") into storage, whole or not at all.

The files are hostile (sources.md §3.2): tab-delimited despite the ``.csv`` names, unquoted,
latin-1, with NUL bytes, rows shifted by stray tabs, codes with trailing spaces and headers that
drift between releases. The loader:

1. finds the members by name wherever the zip nests them and inflates the four tables it needs,
   in two child processes, into pieces of whole lines in a work folder (bounded memory and disk:
   each piece is deleted once read), counting lines as the bytes go by, and checks each table's
   count against ``Count.txt``: a truncated or incomplete release is refused and nothing of it
   is stored;
2. reads each piece as soon as it is out with DuckDB's CSV reader (in-process, memory-capped,
   spilling to disk), columns mapped by header name; a row whose field count is not the
   header's or whose id is not a number is quarantined with its file and line number, never
   silently dropped;
3. trims codes, strips NUL bytes, turns blanks into NULL, and computes per proceeding the
   representation (a respondent's attorney at court level: ``STRATTYTYPE='ALIEN'`` and
   ``STRATTYLEVEL='COURT'`` in tbl_RepsAssigned, or an ``E_28_DATE`` on the case; DHS counsel does
   not count) and the next hearing (the earliest tbl_schedule row on or after the release date
   without an adjournment reason);
4. writes, in one transaction, the detail of the watched courts' pending proceedings (and every
   proceeding of the alert court, which the next release's diff needs), per-court
   national aggregates, the quarantined rows and the load report. Until that transaction commits
   the previous release stays the current one; if anything fails, nothing of the new one stays.
"""

from __future__ import annotations

import json
import logging
import os
import queue
import re
import shutil
import time
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from storage.bulk import insert_rows, table, write_tuples
from storage.errors import ReleaseError, ReleaseLayoutError
from storage.models import (
    FoiaCourtStats,
    FoiaLookup,
    FoiaProceeding,
    FoiaQuarantine,
    FoiaRelease,
)
from storage.processes import tag_alive, this_process
from storage.zipmembers import MAX_LINE_BYTES, Done, extract_worker, read_member

log = logging.getLogger(__name__)

# Columns the loader needs, by table; ``int`` ones are typed so that a row whose id is not a
# number is rejected (and quarantined) by the reader itself.
NEEDED: dict[str, dict[str, str]] = {
    "A_TblCase": {
        "IDNCASE": "BIGINT",
        "NAT": "VARCHAR",
        "LANG": "VARCHAR",
        "CUSTODY": "VARCHAR",
        "CASE_TYPE": "VARCHAR",
        "E_28_DATE": "VARCHAR",
    },
    "B_TblProceeding": {
        "IDNPROCEEDING": "BIGINT",
        "IDNCASE": "BIGINT",
        "OSC_DATE": "VARCHAR",
        "INPUT_DATE": "VARCHAR",
        "BASE_CITY_CODE": "VARCHAR",
        "HEARING_LOC_CODE": "VARCHAR",
        "IJ_CODE": "VARCHAR",
        "COMP_DATE": "VARCHAR",
        "OTHER_COMP": "VARCHAR",
        "CASE_TYPE": "VARCHAR",
        "DEC_CODE": "VARCHAR",
        "ABSENTIA": "VARCHAR",
        "HEARING_DATE": "VARCHAR",
    },
    "tbl_schedule": {
        "IDNPROCEEDING": "VARCHAR",  # null keys are common here; not a reason to quarantine
        "HEARING_LOC_CODE": "VARCHAR",
        "IJ_CODE": "VARCHAR",
        "CAL_TYPE": "VARCHAR",
        "ADJ_DATE": "VARCHAR",
        "ADJ_TIME_START": "VARCHAR",
        "ADJ_RSN": "VARCHAR",
        "SCHEDULE_TYPE": "VARCHAR",
    },
    "tbl_RepsAssigned": {
        "IDNCASE": "VARCHAR",
        "STRATTYLEVEL": "VARCHAR",
        "STRATTYTYPE": "VARCHAR",
        "E_28_DATE": "VARCHAR",
    },
}
# Header names seen to drift between releases: the release's name -> the loader's.
ALIASES = {"SEX": "GENDER"}
LOOKUPS = {
    "tbllookupjudge": "judge",
    "tbllanguage": "language",
    "tbllookupcasetype": "case_type",
    "tbllookupnationality": "nationality",
    "tbllookupaliennat": "nationality",  # the name of the nationality table in older releases
    "tbllookupbasecity": "base_city",
}
# Fields kept raw, tab-joined, while reading (converted later, for the few rows that need them).
CASE_FIELDS = ("NAT", "LANG", "CASE_TYPE")
PROCEEDING_FIELDS = (
    "HEARING_LOC_CODE",
    "IJ_CODE",
    "CASE_TYPE",
    "OSC_DATE",
    "INPUT_DATE",
    "COMP_DATE",
    "DEC_CODE",
    "OTHER_COMP",
    "ABSENTIA",
    "HEARING_DATE",
)
SCHEDULE_FIELDS = (
    "IDNPROCEEDING",
    "ADJ_DATE",
    "ADJ_TIME_START",
    "CAL_TYPE",
    "SCHEDULE_TYPE",
    "IJ_CODE",
    "HEARING_LOC_CODE",
)
MAX_QUARANTINE_STORED = 10_000
# Tables are extracted in pieces of about this size, each read and deleted in turn.
PART_BYTES = 64 << 20
# A lookup table or Count.txt is kilobytes; one that inflates past this is refused, not read.
SMALL_MEMBER_LIMIT = 64 << 20
STATUS_LOADED = "loaded"

Progress = Callable[[str, int, int], None]


def normalize_etag(value: str | None) -> str:
    """``W/"abc:0"`` and ``"abc:0"`` are the same release: strip the weak prefix and quotes."""
    if not value:
        return ""
    tag = value.strip()
    if tag[:2].upper() == "W/":
        tag = tag[2:]
    return tag.strip().strip('"')


@dataclass
class LoadReport:
    release_id: int
    as_of: date
    counts: dict[str, int] = field(default_factory=dict)  # Count.txt
    lines: dict[str, int] = field(default_factory=dict)  # data lines found
    loaded: dict[str, int] = field(default_factory=dict)
    quarantined: dict[str, int] = field(default_factory=dict)
    quirks: dict[str, int] = field(default_factory=dict)
    header_drift: list[str] = field(default_factory=list)
    detail_rows: int = 0
    courts: int = 0
    new_unrepresented: int = 0
    event_id: int | None = None
    seconds: dict[str, float] = field(default_factory=dict)
    #: the court whose every proceeding (completed too) is kept, with outcomes, first EOIR-28
    #: and first master hearing: the representation report's court
    history_court: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {
            "release_id": self.release_id,
            "as_of": self.as_of.isoformat(),
            "counts": self.counts,
            "lines": self.lines,
            "loaded": self.loaded,
            "quarantined": self.quarantined,
            "quirks": self.quirks,
            "header_drift": self.header_drift,
            "detail_rows": self.detail_rows,
            "courts": self.courts,
            "new_unrepresented": self.new_unrepresented,
            "event_id": self.event_id,
            "history_court": self.history_court,
            "seconds": {k: round(v, 3) for k, v in self.seconds.items()},
        }


# -- reading the zip --------------------------------------------------------------------------


def _members(zf: zipfile.ZipFile) -> tuple[dict[str, zipfile.ZipInfo], dict[str, zipfile.ZipInfo]]:
    """(core tables by name, lookup tables by lower-case name), wherever the zip nests them."""
    core: dict[str, zipfile.ZipInfo] = {}
    lookups: dict[str, zipfile.ZipInfo] = {}
    for info in zf.infolist():
        if info.is_dir():
            continue
        parts = info.filename.replace("\\", "/").split("/")
        stem = parts[-1].rsplit(".", 1)[0]
        if any(p.lower() == "lookup" for p in parts[:-1]):
            lookups[stem.lower()] = info
            continue
        for name in NEEDED:
            if stem.lower() == name.lower():
                core[name] = info
        if stem.lower() == "count":
            core["Count"] = info
    return core, lookups


def read_counts(text: str, where: str = "Count.txt") -> dict[str, int]:
    """``<table>\\t<rows>`` lines; table names with or without ``.csv``."""
    out: dict[str, int] = {}
    for n, line in enumerate(text.replace("\x00", "").splitlines(), start=1):
        line = line.strip()
        if not line:
            continue
        parts = line.split("\t") if "\t" in line else line.rsplit(None, 1)
        if len(parts) != 2:
            raise ReleaseError(f"{where} line {n}: expected '<table><TAB><rows>', got {line!r}")
        name, value = parts[0].strip(), parts[1].strip().replace(",", "")
        if not value.isdigit():
            raise ReleaseError(f"{where} line {n}: row count {value!r} is not a number")
        out[name.rsplit(".", 1)[0] if name.lower().endswith(".csv") else name] = int(value)
    return out


def _next_piece(pieces: Any, extractors: list[Any]) -> Any:
    """The next thing an extractor handed over; an extractor that died (killed, out of memory)
    without saying why is an error, never a wait without end."""
    while True:
        try:
            return pieces.get(timeout=1)
        except queue.Empty:
            for x in extractors:
                if x.exitcode not in (None, 0):
                    raise ReleaseError(
                        f"the process extracting the release ({x.name}) ended with status "
                        f"{x.exitcode}; nothing was loaded"
                    ) from None


def _process_context() -> Any:
    """Processes forked by a server that has imported only :mod:`storage.zipmembers`: safe in
    a process that runs threads (the service), and quick to start after the first time."""
    import multiprocessing

    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(["storage.zipmembers"])
    return ctx


def _header(path: Path) -> list[str]:
    with path.open("rb") as fh:
        first = fh.readline(1 << 16)
    return [
        h.replace("\x00", "").strip() for h in first.decode("latin-1").rstrip("\r\n").split("\t")
    ]


def _lookup_rows(zf_path: Path, info: zipfile.ZipInfo, kind: str) -> Iterator[tuple[str, str]]:
    text = read_member(zf_path, info, SMALL_MEMBER_LIMIT).decode("latin-1").replace("\x00", "")
    rows = [r.split("\t") for r in text.splitlines() if r.strip()]
    if not rows:
        return
    header = [h.strip().lower() for h in rows[0]]
    label_i = next(
        (i for i, h in enumerate(header) if "name" in h or "desc" in h), 1 if len(header) > 1 else 0
    )
    # The code column is named as one (strCode, JUDGE_CODE, NAT_CODE ...); older files had it
    # first, before the real ones' id column.
    code_i = next((i for i, h in enumerate(header) if h.endswith("code")), 0)
    for r in rows[1:]:
        if len(r) != len(header):
            continue
        code = r[code_i].strip()
        if code:
            yield code[:10], r[label_i].strip()[:200]


# -- the load ---------------------------------------------------------------------------------


def _clean(sql: str) -> str:
    """SQL: ``sql`` (a quoted column or an expression) trimmed and NUL-free; '' when blank.

    Where a piece of a table holds no NUL byte, the reader drops the ``replace`` around its
    columns (see ``_NUL_STRIP``).
    """
    return f"trim(replace({sql}, chr(0), ''))"


def _nz(sql: str) -> str:
    """SQL: trimmed, NUL-free text, NULL when blank."""
    return f"nullif({_clean(sql)}, '')"


def _day(sql: str) -> str:
    return f"try_cast(left({_clean(sql)}, 10) AS DATE)"


def _fields(names: tuple[str, ...]) -> str:
    """SQL: the raw fields ``names`` in one tab-joined string (a tab is never inside a field);
    split again only for the few rows that need them, far cheaper than a column each."""
    return "concat(" + ", chr(9), ".join(f'"{n}"' for n in names) + ")"


def _field(names: tuple[str, ...], name: str, var: str = "f") -> str:
    """SQL: field ``name`` of a ``_fields`` string split into the list ``var``."""
    return f"{var}[{names.index(name) + 1}]"


_NUL_STRIP = re.compile(r"replace\((\"[^\"]+\"), chr\(0\), ''\)")


def _dedupe(header: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    cols: list[str] = []
    for h in header:
        name = (h or "UNNAMED").replace("'", "").replace('"', "")
        if name in seen:  # a repeated header name gets a suffix; never a reason to fail
            seen[name] += 1
            name = f"{name}_{seen[name]}"
        else:
            seen[name] = 0
        cols.append(name)
    return cols


def _read_csv(
    path: Path,
    header: list[str],
    types: dict[str, str],
    rejects: str,
    has_header: bool = True,
    encoding: str = "latin-1",
) -> str:
    """DuckDB's reader for one table, every column by name.

    DuckDB accepts a row with extra *empty* trailing fields, and a stray tab in the real files
    often leaves exactly that. So eight spare columns are declared, blanks are kept as '' (the
    NULL string is a byte no field holds) and a row fits the header only when the first spare is
    NULL and the header's last column is not.
    """
    cols = _dedupe(header) + [f"_X{i}" for i in range(1, 9)]
    spec = ", ".join(f"'{c.replace(chr(39), '')}': '{types.get(c, 'VARCHAR')}'" for c in cols)
    return (
        f"read_csv('{path}', delim='\\t', quote='', escape='', header={str(has_header).lower()}, "
        "auto_detect=false, "
        f"columns={{{spec}}}, encoding='{encoding}', strict_mode=true, null_padding=true, "
        f"nullstr='\\x02', "
        f"store_rejects=true, rejects_table='{rejects}', rejects_scan='{rejects}_scan', "
        f"max_line_size={MAX_LINE_BYTES})"
    )


@cache
def known_headers() -> dict[str, dict[str, list[str]]]:
    """The header lines seen in EOIR's releases: table -> edition -> columns."""
    text = resources.files("storage.reference").joinpath("eoir_foia_headers.json").read_text()
    out: dict[str, dict[str, list[str]]] = {}
    for edition, tables in json.loads(text)["editions"].items():
        for name, columns in tables.items():
            out.setdefault(name, {})[edition] = columns
    return out


def header_changes(name: str, header: list[str]) -> list[str]:
    """How a table's header differs from every edition docketwatch knows: its new columns and
    the known columns it lacks (nothing when it is one of them exactly)."""
    editions = known_headers().get(name)
    if not editions or header in editions.values():
        return []
    seen = {c.upper() for cols in editions.values() for c in cols}
    latest = max(editions)  # editions are named YYYY-MM
    new = [c for c in header if c.upper() not in seen]
    have = {c.upper() for c in header}
    gone = [c for c in editions[latest] if c.upper() not in have]
    out = []
    if new:
        out.append(f"{name}: new column(s) {', '.join(new)}, in no edition docketwatch knows")
    if gone:
        out.append(f"{name}: column(s) {', '.join(gone)} of the {latest} edition missing")
    return out


def _map_header(name: str, header: list[str]) -> tuple[list[str], list[str]]:
    """The header with drifted names mapped to the loader's, and what drifted: renamed columns,
    new ones, missing ones (a missing column the loader needs fails the load, with its name)."""
    drift = header_changes(name, header)
    mapped = []
    for h in header:
        canon = ALIASES.get(h.upper())
        if canon:
            drift.append(f"{name}: {h} read as {canon}")
            mapped.append(h)
        else:
            mapped.append(h.upper() if h.upper() in NEEDED[name] else h)
    missing = [c for c in NEEDED[name] if c not in mapped]
    if missing:
        raise ReleaseLayoutError(
            f"{name}.csv: column(s) {', '.join(missing)} not found in its header "
            f"({', '.join(header[:12])}{'…' if len(header) > 12 else ''}); the layout changed"
        )
    return mapped, drift


def previous_loaded(session: Session, before: int | None = None) -> FoiaRelease | None:
    q = select(FoiaRelease).where(FoiaRelease.status == STATUS_LOADED)
    if before is not None:
        q = q.where(col(FoiaRelease.id) < before)
    return session.exec(q.order_by(col(FoiaRelease.id).desc())).first()


def current_release(session: Session) -> FoiaRelease | None:
    """The newest release that loaded completely."""
    return previous_loaded(session)


def load_release(
    engine: sa.Engine,
    zip_path: Path,
    *,
    courts: list[str],
    as_of: date | None = None,
    work_dir: Path,
    memory_mb: int = 600,
    alert_court: str = "ADL",
    meta: dict[str, Any] | None = None,
    progress: Progress | None = None,
    now: datetime | None = None,
    after_detail: Callable[[Session, FoiaRelease, LoadReport], None] | None = None,
) -> LoadReport:
    """Load ``zip_path`` as a new release; raise ReleaseError (and store nothing) if it can't be.

    ``after_detail`` runs inside the load's transaction once the detail is written (the monitor
    computes the release diff and its event there, so the event and the release commit together).
    """
    now = now or datetime.now(UTC)
    meta = meta or {}
    tick = progress or (lambda stage, done, total: None)
    if not zip_path.is_file():
        raise ReleaseError(f"{zip_path}: no such file")
    try:
        zf = zipfile.ZipFile(zip_path)
    except zipfile.BadZipFile as exc:
        raise ReleaseError(f"{zip_path}: not a zip file ({exc})") from exc
    with zf:
        core, lookup_infos = _members(zf)
        missing = [n for n in (*NEEDED, "Count") if n not in core]
        if missing:
            raise ReleaseError(
                f"{zip_path.name}: "
                + ", ".join(m + (".txt" if m == "Count" else ".csv") for m in missing)
                + " not found in the zip"
            )
        counts = read_counts(
            read_member(zip_path, core["Count"], SMALL_MEMBER_LIMIT).decode("latin-1"),
            f"{zip_path.name}: Count.txt",
        )
        as_of = as_of or (meta.get("last_modified") or now).date()
        lookups = [
            (kind, code, label)
            for stem, kind in LOOKUPS.items()
            if stem in lookup_infos
            for code, label in _lookup_rows(zip_path, lookup_infos[stem], kind)
        ]
    report = LoadReport(release_id=0, as_of=as_of, counts=counts)
    sweep_interrupted_loads(engine, work_dir)
    with Session(engine, expire_on_commit=False) as session:
        release = FoiaRelease(
            url=str(meta.get("url", "")),
            etag=normalize_etag(meta.get("etag")),
            last_modified=meta.get("last_modified"),
            content_length=meta.get("content_length"),
            sha256=str(meta.get("sha256", "")),
            file_path=str(zip_path),
            as_of=as_of,
            status="loading",
            started_at=now,
            message=f"{LOADER}{this_process()}",
        )
        session.add(release)
        session.commit()
        assert release.id is not None
        report.release_id = release.id
    work = work_dir / f"release-{report.release_id}"
    try:
        ReleaseLoad(
            engine,
            zip_path,
            core,
            counts,
            lookups,
            report,
            courts=courts,
            alert_court=alert_court,
            work=work,
            memory_mb=memory_mb,
            tick=tick,
            after_detail=after_detail,
        ).run()
    except BaseException as exc:
        message = str(exc) if isinstance(exc, ReleaseError) else f"{type(exc).__name__}: {exc}"
        with Session(engine) as session:
            row = session.get(FoiaRelease, report.release_id)
            if row is not None:
                row.status = "failed"
                row.message = message[:2000]
                row.report = report.as_dict()
                session.add(row)
                session.commit()
        raise
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return report


LOADER = "loading by "
STALE_LOAD = timedelta(hours=12)  # a national release loads in minutes; another host's, too


def sweep_interrupted_loads(engine: sa.Engine, work_dir: Path | None = None) -> int:
    """Loads whose process is gone (killed: no ``finally`` ran) are marked failed, and their
    work folders, and any other folder of a load not running, removed. A load on another
    machine is only judged by its age."""
    now = datetime.now(UTC)
    swept = 0
    running: set[int] = set()
    with Session(engine) as session:
        for row in session.exec(select(FoiaRelease).where(FoiaRelease.status == "loading")):
            tag = (row.message or "").removeprefix(LOADER)
            alive = tag_alive(tag) if tag else False
            started = (
                row.started_at if row.started_at.tzinfo else row.started_at.replace(tzinfo=UTC)
            )
            if alive or (alive is None and now - started < STALE_LOAD):
                assert row.id is not None
                running.add(row.id)
                continue
            row.status = "failed"
            row.message = "interrupted: the loading process ended before the load did"
            session.add(row)
            swept += 1
        session.commit()
    if work_dir is not None and work_dir.is_dir():
        for folder in work_dir.glob("release-*"):
            number = folder.name.removeprefix("release-")
            if folder.is_dir() and not (number.isdigit() and int(number) in running):
                shutil.rmtree(folder, ignore_errors=True)
    if swept:
        log.warning("%d interrupted FOIA load(s) marked failed", swept)
    return swept


DETAIL_COLUMNS = (
    "release_id",
    "idnproceeding",
    "idncase",
    "base_city",
    "hearing_loc",
    "ij_code",
    "custody",
    "case_type",
    "nat",
    "lang",
    "osc_date",
    "input_date",
    "comp_date",
    "pending",
    "represented",
    "next_date",
    "next_time",
    "next_cal_type",
    "next_schedule_type",
    "next_judge",
    "next_hearing_loc",
    "dec_code",
    "other_comp",
    "absentia",
    "counsel_date",
    "first_master_date",
)
REPRESENTED = "(coalesce(c.has_e28, false) OR r.idncase IS NOT NULL)"


def keep_sql(as_of: str, courts_sql: str) -> dict[str, str]:
    """What each table keeps while it is read. Only what every row needs is converted; the
    fields kept for the watched courts, and for upcoming hearings, travel as one raw string and
    are converted later (most of the biggest table is past or adjourned hearings: those rows are
    checked for their shape and otherwise left unconverted; ISO dates compare as text, and a
    malformed one is simply not upcoming)."""
    city = _clean('"BASE_CITY_CODE"')
    return {
        "A_TblCase": f"""IDNCASE AS idncase, {_clean('"CUSTODY"')} AS custody,
            {_clean('"E_28_DATE"')} <> '' AS has_e28, "E_28_DATE" AS e28,
            LANG <> trim(LANG) OR CUSTODY <> trim(CUSTODY) OR NAT <> trim(NAT) AS spaced,
            {_fields(CASE_FIELDS)} AS w""",
        "B_TblProceeding": f"""IDNPROCEEDING AS idnproceeding, IDNCASE AS idncase,
            {city} AS base_city,
            {_clean('"COMP_DATE"')} = '' AND {_clean('"OTHER_COMP"')} = '' AS pending,
            BASE_CITY_CODE <> trim(BASE_CITY_CODE) AS spaced,
            CASE WHEN {city} IN ({courts_sql}) THEN {_fields(PROCEEDING_FIELDS)} END AS w""",
        "tbl_RepsAssigned": f"""CASE WHEN upper({_clean('"STRATTYTYPE"')}) = 'ALIEN'
              AND upper({_clean('"STRATTYLEVEL"')}) = 'COURT'
            THEN try_cast({_clean('"IDNCASE"')} AS BIGINT) END AS idncase,
            "E_28_DATE" AS e28""",
        "tbl_schedule": f"""CASE WHEN {_clean('"ADJ_RSN"')} = ''
              AND left(trim(ADJ_DATE), 10) >= '{as_of}'
            THEN {_fields(SCHEDULE_FIELDS)} END AS h""",
    }


@dataclass
class ReadState:
    """What reading has found so far, per table."""

    headers: dict[str, list[str]] = field(default_factory=dict)
    bad_lines: dict[str, dict[int, str]] = field(default_factory=lambda: {n: {} for n in NEEDED})
    quarantine: list[tuple[str, int, str, str]] = field(default_factory=list)
    nuls: dict[str, int] = field(default_factory=lambda: dict.fromkeys(NEEDED, 0))
    seen_lines: dict[str, int] = field(default_factory=lambda: dict.fromkeys(NEEDED, 0))
    rows: dict[str, int] = field(default_factory=lambda: dict.fromkeys(NEEDED, 0))  # raw_<table>
    blank: dict[str, int] = field(default_factory=lambda: dict.fromkeys(NEEDED, 0))  # not rows
    finished: int = 0


class ReleaseLoad:
    """One load of one release, in four steps: :meth:`extract` (two child processes inflate the
    tables into pieces of whole lines), :meth:`read` (DuckDB reads each piece as it comes out,
    quarantining what it refuses), :meth:`derive` (representation, next hearings, aggregates,
    the detail) and :meth:`write` (one transaction)."""

    def __init__(
        self,
        engine: sa.Engine,
        zip_path: Path,
        core: dict[str, zipfile.ZipInfo],
        counts: dict[str, int],
        lookups: list[tuple[str, str, str]],
        report: LoadReport,
        *,
        courts: list[str],
        alert_court: str,
        work: Path,
        memory_mb: int,
        tick: Progress,
        after_detail: Callable[[Session, FoiaRelease, LoadReport], None] | None = None,
    ) -> None:
        self.engine, self.zip_path, self.core, self.counts = engine, zip_path, core, counts
        self.lookups, self.report, self.work, self.memory_mb = lookups, report, work, memory_mb
        self.tick, self.after_detail = tick, after_detail
        self.courts_sql = ", ".join(f"'{c}'" for c in courts if c.isalnum()) or "''"
        self.alert = alert_court if alert_court.isalnum() else ""
        self.state = ReadState()
        self.extractors: list[Any] = []
        self.stop: Any = None
        self.t0 = time.perf_counter()

    def run(self) -> None:
        import duckdb

        self.work.mkdir(parents=True, exist_ok=True)
        for name in NEEDED:
            if name not in self.counts:
                raise ReleaseError(f"Count.txt has no row count for {name}")
        pieces = self.extract()
        con = duckdb.connect()
        try:
            con.execute(f"SET memory_limit='{self.memory_mb}MB'")
            con.execute(f"SET temp_directory='{self.work / 'spill'}'")
            con.execute("SET threads=2")
            self.read(con, pieces)
            stats = self.derive(con)
            self.write(con, stats)
        finally:
            self.stop_extracting()
            con.close()

    # -- 1. extract -------------------------------------------------------------------------

    def extract(self) -> Any:
        """Start two extracting processes (the biggest table, the rest): inflating holds the
        interpreter while it works, so in a thread it would take turns with the reader, and in
        one process it could not use both cores while the reader waits for its next piece.
        Returns the queue their pieces come through."""
        ctx = _process_context()
        pieces: Any = ctx.Queue(maxsize=2)  # on disk: 2 queued, 2 being written, 1 read
        self.stop = ctx.Event()
        order = sorted(NEEDED, key=lambda n: -self.core[n].file_size)
        me = os.getpid()
        for i, group in enumerate((order[:1], order[1:])):
            members = [(n, self.core[n]) for n in group]
            self.extractors.append(
                ctx.Process(
                    target=extract_worker,
                    args=(self.zip_path, members, self.work, PART_BYTES, pieces, self.stop, me),
                    name=f"foia-extract-{i}",
                    daemon=True,
                )
            )
        for x in self.extractors:
            x.start()
        return pieces

    def stop_extracting(self) -> None:
        if self.stop is not None:
            self.stop.set()
        for x in self.extractors:
            if x.pid is not None:
                x.join(5)
                if x.is_alive():
                    x.kill()

    # -- 2. read ----------------------------------------------------------------------------

    def read(self, con: Any, pieces: Any) -> None:
        """Each piece as soon as it is out; a table's end checks its rows against Count.txt."""
        total = sum(self.core[n].file_size for n in NEEDED)
        inflated_so_far = 0
        keep = keep_sql(self.report.as_of.isoformat(), self.courts_sql)
        self.report.history_court = self.alert
        producing = len(self.extractors)
        while producing:
            item = _next_piece(pieces, self.extractors)
            if item is None:
                producing -= 1
                continue
            if isinstance(item, BaseException):
                raise item
            inflated, item = item
            inflated_so_far += inflated
            self.tick("extract", inflated_so_far, total)
            if isinstance(item, Done):
                self.table_done(item)
            else:
                self.read_piece(con, item, keep[item.name])
        for x in self.extractors:
            x.join()
        self.report.seconds["extract_and_read"] = time.perf_counter() - self.t0
        for n in NEEDED:
            self.report.quarantined[n] = len(self.state.bad_lines[n])
            self.report.loaded[n] = self.report.lines[n] - len(self.state.bad_lines[n])

    def table_done(self, item: Done) -> None:
        found = self.report.lines[item.name] = item.data_lines - self.state.blank[item.name]
        if found != self.counts[item.name]:
            raise ReleaseError(
                f"{item.name}.csv has {found:,} rows but Count.txt says "
                f"{self.counts[item.name]:,}: the release is incomplete or damaged; "
                "nothing was loaded"
            )
        self.state.finished += 1
        self.tick("read", self.state.finished, len(NEEDED))

    def read_piece(self, con: Any, item: Any, keep: str) -> None:
        """One piece into ``raw_<table>``; every line accounted for (a row, refused, the
        header, or empty); the refused and misshapen lines quarantined with their text."""
        n, first, st = item.name, item.index == 0, self.state
        if first:
            header, drift = _map_header(n, _header(item.path))
            self.report.header_drift += drift
            st.headers[n] = header
        header = st.headers[n]
        src = _read_csv(
            item.path, header, NEEDED[n], f"rej_{n}", first, "utf-8" if item.ascii else "latin-1"
        )
        if not item.nuls:  # no NUL byte in this piece: skip stripping them
            keep = _NUL_STRIP.sub(r"\1", keep)
        st.nuls[n] += item.nuls
        # Insertion order is kept, so rowid is a row's rank among the accepted rows.
        last = _dedupe(header)[-1]
        select = f'SELECT {keep}, ("_X1" IS NULL AND "{last}" IS NOT NULL) AS _ok FROM {src}'
        con.execute(
            f"CREATE TEMP TABLE raw_{n} AS {select}" if first else f"INSERT INTO raw_{n} {select}"
        )
        rejected = _refused(con, n)
        start = st.rows[n]
        (st.rows[n],) = con.execute(f"SELECT count(*) FROM raw_{n}").fetchone()
        shifted = [
            int(r)
            for (r,) in con.execute(
                f"SELECT rowid - {start} FROM raw_{n} WHERE rowid >= {start} AND NOT _ok ORDER BY 1"
            ).fetchall()
        ]
        skipped = self._account(item, first, st.rows[n] - start, len(rejected))
        bad = dict(rejected)
        passed = sorted([*rejected, *skipped])
        for line in _accepted_lines(shifted, passed, 2 if first else 1):
            bad[line] = f"FIELD COUNT: not the header's {len(header)} fields (stray tab?)"
        if bad:
            self._quarantine(item, bad)
        st.seen_lines[n] += item.lines
        item.path.unlink()

    def _account(self, item: Any, first: bool, read: int, refused: int) -> list[int]:
        """Every line is a row read, a line refused, the header, or empty (the reader skips
        those); anything else unaccounted for would misplace the quarantine's line numbers.
        Returns the empty lines (looked for only when rows are missing)."""
        n = item.name
        data = max(item.lines - (1 if first else 0), 0)
        if read + refused == data:
            return []
        skipped = _empty_lines(item.path)
        if read + refused + len(skipped) != data:
            seen = self.state.seen_lines[n]
            raise ReleaseError(
                f"{n}.csv, lines {seen + 1:,}-{seen + item.lines:,}: {data:,} lines but "
                f"{read:,} rows read and {refused:,} refused; nothing was loaded"
            )
        self.state.blank[n] += len(skipped)
        return skipped

    def _quarantine(self, item: Any, bad: dict[int, str]) -> None:
        """The raw text of the bad lines, while the piece is still on disk."""
        st = self.state
        room = max(MAX_QUARANTINE_STORED - len(st.quarantine), 0)
        wanted = sorted(bad)[:room]
        texts = _fetch_lines(item.path, wanted)
        offset = st.seen_lines[item.name]
        for line in wanted:
            raw = texts.get(line, "").replace("\x00", "\\0")
            st.quarantine.append((f"{item.name}.csv", offset + line, bad[line], raw))
        st.bad_lines[item.name].update({offset + line: why for line, why in bad.items()})

    # -- 3. derive --------------------------------------------------------------------------

    def derive(self, con: Any) -> list[Any]:
        """The accepted rows' views, representation, next hearings and the quirks; returns
        the per-court aggregates."""
        courts_sql = self.courts_sql
        con.execute("CREATE TEMP VIEW c AS SELECT * FROM raw_A_TblCase WHERE _ok")
        con.execute("CREATE TEMP VIEW p AS SELECT * FROM raw_B_TblProceeding WHERE _ok")
        con.execute(_watched_proceedings_sql())
        # A respondent's attorney at the court, and the first EOIR-28 date on those rows.
        con.execute(
            f"""CREATE TEMP TABLE r AS SELECT idncase, min({_day("e28")}) AS e28_date
                FROM raw_tbl_RepsAssigned WHERE _ok AND idncase IS NOT NULL GROUP BY idncase"""
        )
        con.execute("DROP TABLE raw_tbl_RepsAssigned")
        con.execute(_next_hearings_sql(courts_sql))
        con.execute("DROP TABLE raw_tbl_schedule")
        read_s = self.report.seconds["extract_and_read"]
        self.report.seconds["next_hearings"] = time.perf_counter() - self.t0 - read_s
        self.state.quarantine.sort(key=lambda q: (q[0], q[1]))
        self.report.quirks = self._quirks(con)
        self.t2 = time.perf_counter()
        stats = con.execute(_court_stats_sql()).fetchall()  # every court, in one pass
        con.execute(_detail_sql(self.alert))
        return list(stats)

    def _quirks(self, con: Any) -> dict[str, int]:
        (dups,) = con.execute("SELECT count(*) - count(DISTINCT idnproceeding) FROM p").fetchone()
        q = con.execute(
            """SELECT (SELECT count(*) FILTER (WHERE spaced) FROM c)
                    + (SELECT count(*) FILTER (WHERE spaced) FROM p),
                      (SELECT count(*) FILTER (WHERE bad_date) FROM pw),
                      (SELECT count(*) FROM p LEFT JOIN c USING (idncase)
                       WHERE c.idncase IS NULL)"""
        ).fetchone()
        return {
            "codes_with_trailing_spaces": int(q[0]),
            "unreadable_dates": int(q[1]),
            "proceedings_without_case_row": int(q[2]),
            "duplicate_proceeding_ids": int(dups),
            "nul_bytes_stripped": sum(self.state.nuls.values()),
            "empty_lines_skipped": sum(self.state.blank.values()),
        }

    # -- 4. write ---------------------------------------------------------------------------

    def write(self, con: Any, stats: list[Any]) -> None:
        """The detail, the aggregates, the quarantine and the lookups in one transaction, which
        makes this release the current one."""
        report = self.report
        detail = con.execute(_detail_rows_sql(report.release_id, self.engine.dialect.name))
        with Session(self.engine, expire_on_commit=False) as session:
            conn = session.connection()
            release = session.get(FoiaRelease, report.release_id)
            assert release is not None
            written = 0
            while batch := detail.fetchmany(50_000):
                written += write_tuples(conn, table(FoiaProceeding), list(DETAIL_COLUMNS), batch)
                self.tick("store", written, 0)
            report.detail_rows = written
            insert_rows(conn, table(FoiaCourtStats), _stats_rows(report.release_id, stats))
            report.courts = len(stats)
            quarantine = self.state.quarantine[:MAX_QUARANTINE_STORED]
            insert_rows(
                conn, table(FoiaQuarantine), _quarantine_rows(report.release_id, quarantine)
            )
            insert_rows(conn, table(FoiaLookup), _lookup_rows_of(report.release_id, self.lookups))
            report.seconds["detail"] = time.perf_counter() - self.t2
            if self.after_detail is not None:
                self.after_detail(session, release, report)
            release.status = STATUS_LOADED
            release.loaded_at = datetime.now(UTC)
            report.seconds["total"] = time.perf_counter() - self.t0
            release.report = json.loads(json.dumps(report.as_dict()))
            session.add(release)
            session.commit()


def _refused(con: Any, n: str) -> dict[int, str]:
    """The lines DuckDB's reader refused in the piece just read (its reject tables dropped)."""
    rejected = {
        int(line): f"{etype}: {msg}"
        for line, etype, msg in con.execute(
            f"SELECT line, min(error_type), min(coalesce(error_message, '')) "
            f"FROM rej_{n} GROUP BY line"
        ).fetchall()
    }
    con.execute(f"DROP TABLE rej_{n}; DROP TABLE rej_{n}_scan")
    return rejected


def _watched_proceedings_sql() -> str:
    """``pw``: the watched courts' proceedings, their kept fields converted."""
    pf = {name: _field(PROCEEDING_FIELDS, name) for name in PROCEEDING_FIELDS}
    return f"""CREATE TEMP VIEW pw AS SELECT idnproceeding, idncase, base_city, pending,
          {_nz(pf["HEARING_LOC_CODE"])} AS hearing_loc, {_nz(pf["IJ_CODE"])} AS ij_code,
          {_nz(pf["CASE_TYPE"])} AS case_type, {_day(pf["OSC_DATE"])} AS osc_date,
          {_day(pf["INPUT_DATE"])} AS input_date, {_day(pf["COMP_DATE"])} AS comp_date,
          {_nz(pf["DEC_CODE"])} AS dec_code, {_nz(pf["OTHER_COMP"])} AS other_comp,
          {_nz(pf["ABSENTIA"])} AS absentia, {_day(pf["HEARING_DATE"])} AS first_master,
          {_nz(pf["COMP_DATE"])} IS NOT NULL AND {_day(pf["COMP_DATE"])} IS NULL AS bad_date
        FROM (SELECT *, string_split(w, chr(9)) AS f FROM p WHERE w IS NOT NULL)"""


def _next_hearings_sql(courts_sql: str) -> str:
    """``n``: each watched proceeding's next hearing (the earliest upcoming schedule row)."""
    sf = {name: _clean(_field(SCHEDULE_FIELDS, name)) for name in SCHEDULE_FIELDS}
    return f"""CREATE TEMP TABLE n AS SELECT DISTINCT ON (idnproceeding)
          idnproceeding, d, t, cal, stype, judge, loc
        FROM (SELECT try_cast({sf["IDNPROCEEDING"]} AS BIGINT) AS idnproceeding,
                {_day(_field(SCHEDULE_FIELDS, "ADJ_DATE"))} AS d,
                {sf["ADJ_TIME_START"]} AS t, {sf["CAL_TYPE"]} AS cal,
                {sf["SCHEDULE_TYPE"]} AS stype, {sf["IJ_CODE"]} AS judge,
                {sf["HEARING_LOC_CODE"]} AS loc
              FROM (SELECT string_split(h, chr(9)) AS f FROM raw_tbl_schedule
                    WHERE _ok AND h IS NOT NULL))
        WHERE idnproceeding IN (SELECT idnproceeding FROM p WHERE base_city IN ({courts_sql}))
        ORDER BY idnproceeding, d, t"""


def _court_stats_sql() -> str:
    """Aggregates over every court, in one pass over the joined proceedings."""
    return f"""SELECT base_city, count(*), count(*) FILTER (WHERE pending),
         count(*) FILTER (WHERE pending AND custody = 'D'),
         count(*) FILTER (WHERE pending AND NOT represented),
         count(*) FILTER (WHERE pending AND NOT represented AND custody = 'D')
       FROM (SELECT p.base_city, p.pending, coalesce(c.custody, '') AS custody,
               {REPRESENTED} AS represented
             FROM p LEFT JOIN c USING (idncase) LEFT JOIN r USING (idncase))
       WHERE base_city <> '' GROUP BY base_city ORDER BY base_city"""


def _detail_sql(alert: str) -> str:
    """``pc``: the detail kept: the watched courts' pending proceedings and every proceeding
    of the alert court, with the case's fields, representation and counsel date."""
    cf = {name: _nz(_field(CASE_FIELDS, name, "string_split(c.w, chr(9))")) for name in CASE_FIELDS}
    return f"""CREATE TEMP TABLE pc AS SELECT DISTINCT ON (idnproceeding) pw.*,
         coalesce(c.custody, '') AS custody, {cf["NAT"]} AS nat, {cf["LANG"]} AS lang,
         coalesce(pw.case_type, {cf["CASE_TYPE"]}) AS ctype,
         {REPRESENTED} AS represented,
         least({_day("c.e28")}, r.e28_date) AS counsel_date
       FROM pw LEFT JOIN c USING (idncase) LEFT JOIN r USING (idncase)
       WHERE idnproceeding IS NOT NULL AND (pending OR base_city = '{alert}')
       ORDER BY idnproceeding"""


def _detail_rows_sql(release_id: int, dialect: str) -> str:
    """The detail's rows as the driver takes them: on SQLite, dates as ISO text and booleans
    as 0/1 (what SQLAlchemy's types store there); elsewhere DATE and BOOLEAN, for COPY."""
    sqlite = dialect == "sqlite"

    def day(c: str) -> str:
        return f"strftime({c}, '%Y-%m-%d')" if sqlite else c

    def flag(c: str) -> str:
        return f"CAST({c} AS INTEGER)" if sqlite else c

    return f"""SELECT {int(release_id)}, pc.idnproceeding, pc.idncase, pc.base_city,
         left(coalesce(pc.hearing_loc, ''), 3), left(coalesce(pc.ij_code, ''), 3),
         left(pc.custody, 1), left(coalesce(pc.ctype, ''), 3),
         left(coalesce(pc.nat, ''), 2), left(coalesce(pc.lang, ''), 3),
         {day("pc.osc_date")}, {day("pc.input_date")}, {day("pc.comp_date")},
         {flag("pc.pending")}, {flag("pc.represented")}, {day("n.d")},
         left(coalesce(n.t, ''), 4), left(coalesce(n.cal, ''), 1),
         left(coalesce(n.stype, ''), 2), left(coalesce(n.judge, ''), 3),
         left(coalesce(n.loc, ''), 3), left(coalesce(pc.dec_code, ''), 1),
         left(coalesce(pc.other_comp, ''), 1), left(coalesce(pc.absentia, ''), 1),
         {day("pc.counsel_date")}, {day("pc.first_master")}
       FROM pc LEFT JOIN n USING (idnproceeding)"""


def _stats_rows(release_id: int, stats: list[Any]) -> list[dict[str, Any]]:
    return [
        {
            "release_id": release_id,
            "base_city": s[0][:3],
            "proceedings": s[1],
            "pending": s[2],
            "pending_detained": s[3],
            "unrepresented": s[4],
            "unrepresented_detained": s[5],
        }
        for s in stats
        if len(s[0]) <= 3
    ]


def _quarantine_rows(
    release_id: int, quarantine: list[tuple[str, int, str, str]]
) -> list[dict[str, Any]]:
    return [
        {
            "release_id": release_id,
            "file": f,
            "line": int(line),
            "reason": str(reason)[:300],
            "raw": str(raw)[:1000],
        }
        for f, line, reason, raw in quarantine
    ]


def _lookup_rows_of(release_id: int, lookups: list[tuple[str, str, str]]) -> list[dict[str, Any]]:
    """The release's lookup tables' rows, the first label of a code kept."""
    seen: set[tuple[str, str]] = set()
    rows = []
    for kind, code, label in lookups:
        if (kind, code) not in seen:
            seen.add((kind, code))
            rows.append(
                {"release_id": release_id, "table_name": kind, "code": code, "label": label}
            )
    return rows


def _accepted_lines(ranks: list[int], rejected: list[int], first: int = 2) -> Iterator[int]:
    """Physical line numbers of accepted rows, from their 0-based ranks among accepted rows.

    ``first`` is the line of the first data row (2 below a header); ``rejected`` are the lines
    that hold no accepted row (refused or empty), in order, skipped when counting.
    """
    j = 0  # passed lines before the current candidate
    for rank in ranks:
        line = rank + first + j
        # Every passed line at or before the candidate pushes it one line further down.
        while j < len(rejected) and rejected[j] <= line:
            j += 1
            line += 1
        yield line


def _empty_lines(path: Path) -> list[int]:
    """The 1-based numbers of the empty lines of a piece (rare: read only when rows are missing)."""
    with path.open("rb") as fh:
        return [i for i, line in enumerate(fh, start=1) if not line.rstrip(b"\r\n")]


def _fetch_lines(path: Path, wanted: list[int]) -> dict[int, str]:
    """The text of the given 1-based lines, in one streaming pass (newlines counted in C)."""
    out: dict[int, str] = {}
    want = sorted(set(wanted))
    k = 0
    line = 1  # number of the first line of ``carry``
    carry = b""
    with path.open("rb") as fh:
        while k < len(want):
            chunk = fh.read(1 << 20)  # small: only a chunk holding a wanted line is split
            if not chunk:
                if carry and want[k] == line:
                    out[line] = carry.decode("latin-1").rstrip("\r")
                break
            data = carry + chunk
            cut = data.rfind(b"\n") + 1
            complete, carry = data[:cut], data[cut:]
            n = complete.count(b"\n")
            if k < len(want) and want[k] < line + n:
                parts = complete.split(b"\n")
                while k < len(want) and want[k] < line + n:
                    out[want[k]] = parts[want[k] - line].decode("latin-1").rstrip("\r")
                    k += 1
            line += n
    return out
