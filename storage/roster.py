"""Client roster import: CSV and XLSX exports from case-management systems.

The contract, for the coordinator who runs it:

* common export headers are recognized out of the box (``A#``, ``A-Number``,
  ``Alien Number``, ``Client Name``, ``Nationality``, ``Country of Birth``, ``Date of Birth``,
  ``Attorney Email`` ...);
  anything else is named with an explicit mapping (``--map a_number="Client ID"``);
* the header row is found by scanning, so a title row above it does no harm;
* a bad row never blocks the good ones and never vanishes: each rejected row is reported with its
  line number, column and reason, and written to ``<input>.rejects.csv`` beside the input;
* the good rows are upserted by A-number in one transaction, so a second import of the same file
  changes nothing; a later row repeating an A-number with different data is rejected (the first
  is kept), an identical repeat is skipped;
* a row may record the client's consent to hearing reminders (``Reminder Phone``, ``Reminder
  Language``, ``Reminder Consent By``, ``Reminder Consent Date``, ``Reminder Consent How``, and
  ``Reminder Via``): all of them or none; a blank never withdraws a consent, and a consent dated
  before the client withdrew (a STOP reply) is not stored again.
"""

from __future__ import annotations

import codecs
import csv
import gc
import io
import logging
import re
import uuid
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session

from storage.bulk import insert_rows, table
from storage.errors import ANumberError, ImportFileError, ValidationError
from storage.federal_dockets import cases_text, parse_cases
from storage.files import private_file, spreadsheet_cell
from storage.identifiers import parse_a_number, parse_nationality, redact_a_number
from storage.models import (
    Client,
    ClientStatus,
    Staff,
    StaffRole,
)
from storage.reminders import Consent, ConsentError, check_consent, store_consent

log = logging.getLogger(__name__)

#: Roster fields and the export headers each one is recognized by (compared after
#: :func:`header_key`: lower case, ``#`` read as "number", all but letters and digits dropped).
FIELD_HEADERS: dict[str, tuple[str, ...]] = {
    "a_number": (
        "A#",
        "A-Number",
        "A Number",
        "ANumber",
        "A No",
        "A-No.",
        "Alien Number",
        "Alien #",
        "Alien No",
        "Alien Registration Number",
        "Client A#",
        "Client A-Number",
        "A-Num",
        "Numero A",
        "Número de A",
    ),
    "name": (
        "Client Name",
        "Name",
        "Full Name",
        "Client Full Name",
        "Respondent Name",
        "Respondent",
        "Nombre Completo",
    ),
    "family_name": (
        "Last Name",
        "Family Name",
        "Surname",
        "Client Last Name",
        "Apellido",
        "Apellidos",
    ),
    "given_name": ("First Name", "Given Name", "Given Names", "Client First Name", "Nombre"),
    "nationality": (
        "Nationality",
        "Nationality Code",
        "Nat Code",
        "Citizenship",
        "Country of Citizenship",
        "Nacionalidad",
    ),
    "country_of_birth": (
        "Country of Birth",
        "COB",
        "Birth Country",
        "Country Born",
        "País de Nacimiento",
        "Pais de Nacimiento",
    ),
    "born_on": ("Date of Birth", "DOB", "Birth Date", "Birthdate", "Fecha de Nacimiento"),
    "status": ("Status", "Client Status", "Representation Status"),
    "attorney_email": (
        "Attorney Email",
        "Attorney",
        "Attorney E-mail",
        "Assigned Attorney Email",
        "Primary Attorney Email",
        "Attorney Email Address",
    ),
    "backup_attorney_email": (
        "Backup Attorney Email",
        "Backup Attorney",
        "Secondary Attorney Email",
    ),
    "notes": ("Notes", "Comments", "Notas"),
    "case_uuid": (
        "Matter UUID",
        "Case UUID",
        "Globally Unique ID",
        "LegalServer UUID",
        "matter_uuid",
        "unique_id",
    ),
    "federal_cases": ("Federal Case", "Federal Cases", "Federal Docket", "Federal Dockets"),
    # consent to hearing reminders: all of phone, language, by, date and how, or none
    "reminder_phone": ("Reminder Phone", "Reminder Mobile", "Teléfono para Recordatorios"),
    "reminder_via": ("Reminder Via", "Reminder Channel"),
    "reminder_language": ("Reminder Language", "Idioma de Recordatorios"),
    "reminder_consent_by": ("Reminder Consent By", "Consent Recorded By"),
    "reminder_consent_on": ("Reminder Consent Date", "Reminder Consent On", "Consent Date"),
    "reminder_consent_how": ("Reminder Consent How", "Consent How", "Consent Given"),
}

FIELD_HELP: dict[str, str] = {
    "a_number": "A-number, 8 or 9 digits, any common spelling (required)",
    "name": "full name as one column (or give family_name and given_name)",
    "family_name": "last name, when names are split",
    "given_name": "first name(s), when names are split",
    "nationality": "EOIR nationality code or name (required; ACIS needs it)",
    "country_of_birth": "EOIR code or name of the country of birth (defaults to nationality)",
    "born_on": "date of birth: YYYY-MM-DD or MM/DD/YYYY",
    "status": "prospect (intake), represented or closed (default: --status)",
    "attorney_email": "email of the primary attorney, who must already be staff",
    "backup_attorney_email": "email of the backup attorney, who must already be staff",
    "notes": "free text kept with the client",
    "case_uuid": "the client's matter in LegalServer (its Globally Unique ID): for case notes",
    "federal_cases": (
        "the client's federal cases, `cacd 5:25-cv-01234; ca9 25-1234` (court id, docket number)"
    ),
    "reminder_phone": "mobile number for hearing reminders (with the consent columns below)",
    "reminder_via": "sms (default) or whatsapp",
    "reminder_language": "reminder language code, switched on (es, en, pt, ht, ru, pa ...)",
    "reminder_consent_by": "who recorded the client's consent to reminders",
    "reminder_consent_on": "when the client consented: YYYY-MM-DD or MM/DD/YYYY",
    "reminder_consent_how": "how the client consented: in person or phone",
}
_REMINDER_FIELDS = (
    "reminder_phone",
    "reminder_via",
    "reminder_language",
    "reminder_consent_by",
    "reminder_consent_on",
    "reminder_consent_how",
)
#: the roster column of each field a consent may be refused for
_CONSENT_COLUMN = {
    "phone": "reminder_phone",
    "via": "reminder_via",
    "how": "reminder_consent_how",
    "by": "reminder_consent_by",
    "language": "reminder_language",
    "at": "reminder_consent_on",
}
_HOW_ALIASES = {
    "in person": "in_person",
    "in_person": "in_person",
    "inperson": "in_person",
    "phone": "phone",
    "by phone": "phone",
    "telephone": "phone",
    "en persona": "in_person",
    "por teléfono": "phone",
    "por telefono": "phone",
}

HEADER_SCAN_ROWS = 25
_STATUS_ALIASES = {
    "prospect": ClientStatus.prospect,
    "intake": ClientStatus.prospect,
    "pending intake": ClientStatus.prospect,
    "represented": ClientStatus.represented,
    "active": ClientStatus.represented,
    "open": ClientStatus.represented,
    "closed": ClientStatus.closed,
    "inactive": ClientStatus.closed,
}
_CLIENT_FIELDS = (
    "name",
    "nationality_code",
    "country_of_birth_code",
    "born_on",
    "status",
    "notes",
    "primary_attorney_id",
    "backup_attorney_id",
    "case_uuid",
    "federal_cases",
)


def header_key(text: object) -> str:
    return re.sub(r"[^0-9a-z]", "", str(text or "").lower().replace("#", "number"))


_ALIAS_INDEX = {header_key(h): name for name, heads in FIELD_HEADERS.items() for h in heads}


@dataclass(frozen=True)
class Reject:
    line: int
    column: str
    reason: str
    values: tuple[str, ...]


@dataclass
class ImportReport:
    path: Path
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    duplicates_skipped: int = 0
    rejects: list[Reject] = field(default_factory=list)
    header: tuple[str, ...] = ()
    header_line: int = 0
    rejects_path: Path | None = None
    dry_run: bool = False
    consents: dict[str, int] = field(default_factory=dict)  # reminder consents, by outcome
    # a sync (:func:`sync_roster`) only
    deactivated: int = 0
    reactivated: int = 0
    listed_before: int = 0  # active clients the source listed last time
    omitted: int = 0  # of those, how many this one omits
    refused: str = ""  # why nothing was stored (too many omitted)
    unknown_emails: list[str] = field(default_factory=list)

    @property
    def accepted(self) -> int:
        return self.created + self.updated + self.unchanged


@dataclass(frozen=True, slots=True)
class _Good:
    line: int
    a_number: str
    values: dict[str, Any]  # client columns the file sets
    consent: Consent | None = None  # consent to hearing reminders the row records


def parse_mapping(pairs: Iterable[str]) -> dict[str, str]:
    """``["a_number=Client ID"]`` -> ``{"a_number": "Client ID"}``, checked."""
    mapping: dict[str, str] = {}
    for pair in pairs:
        if "=" not in pair:
            raise ImportFileError(f"column mapping {pair!r} must look like FIELD=HEADER")
        name, header = (part.strip() for part in pair.split("=", 1))
        if name not in FIELD_HEADERS:
            raise ImportFileError(
                f"unknown roster field {name!r} in mapping; fields are: {', '.join(FIELD_HEADERS)}"
            )
        mapping[name] = header
    return mapping


# ---------------------------------------------------------------------------------------- reading


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return str(value).strip()


def _read_rows(path: Path) -> Iterator[tuple[int, list[Any]]]:
    """(line number, cells) for every row of a .csv or .xlsx file."""
    suffix = path.suffix.lower()
    if suffix == ".xlsx":
        yield from _read_xlsx(path)
    elif suffix in (".csv", ".tsv", ".txt"):
        yield from _read_csv(path)
    else:
        raise ImportFileError(f"{path}: unsupported roster format {suffix!r} (use .csv or .xlsx)")


#: the longest cell a roster row may have (notes are kept to 2,000 characters)
MAX_CELL = 10_000
#: a line break inside a cell followed by what looks like the next roster row (an A-number)
_SWALLOWED_ROW = re.compile(r"\n\s*\"?(?:[Aa][-\s]?)?\d{3}[-\s]?\d{3}[-\s]?\d{3}\b")


def _read_xlsx(path: Path) -> Iterator[tuple[int, list[Any]]]:
    from storage.xlsx import open_workbook, rows

    book = open_workbook(path, ImportFileError)
    try:
        if not book.worksheets:
            raise ImportFileError(f"{path}: the workbook has no sheet")
        sheet = book.worksheets[0]
        for number, row in enumerate(rows(sheet, path, ImportFileError), start=1):
            yield number, list(row)
    finally:
        book.close()


def _read_csv(path: Path) -> Iterator[tuple[int, list[Any]]]:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ImportFileError(f"{path}: cannot read ({exc.strerror})") from exc
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        text = raw.decode("utf-16")  # Excel's "Unicode text" export
    elif len(raw) >= 4 and raw[1:4:2] == b"\0\0" and raw[0] and raw[2]:
        text = raw.decode("utf-16-le", errors="replace")  # the same, without its BOM
    else:
        text = ""
    try:
        text = text or raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        log.warning("%s is not UTF-8; reading it as Windows-1252", path.name)
        text = raw.decode("cp1252", errors="replace")
    sample = text[:8192]
    try:
        dialect: Any = csv.Sniffer().sniff(sample, delimiters=",;\t|")
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(io.StringIO(text, newline=""), dialect)
    line = 1
    limit = csv.field_size_limit()
    csv.field_size_limit(max(limit, len(text) + 1))  # a long cell: its row's problem
    try:
        for row in reader:
            for cell in row:
                if "\n" in cell and _SWALLOWED_ROW.search(cell):
                    raise ImportFileError(
                        f"{path}: line {line}: a quote opened here is never closed, so the rows "
                        f"after it (to line {reader.line_num}) were read as one cell; close the "
                        "quote and import again (nothing was stored)"
                    )
            yield line, list(row)
            line = reader.line_num + 1
    except csv.Error as exc:
        raise ImportFileError(f"{path}: line {reader.line_num}: {exc}") from None
    finally:
        csv.field_size_limit(limit)


def _find_header(
    rows: Iterator[tuple[int, list[Any]]], mapping: dict[str, str], path: Path
) -> tuple[int, list[str], dict[str, int]]:
    explicit = {header_key(h): name for name, h in mapping.items()}
    for _ in range(HEADER_SCAN_ROWS):
        try:
            line, cells = next(rows)
        except StopIteration:
            break
        header = [_cell_text(c) for c in cells]
        columns: dict[str, int] = {}
        twice: list[tuple[str, int, int]] = []
        for index, text in enumerate(header):
            key = header_key(text)
            name = explicit.get(key) or (
                _ALIAS_INDEX.get(key) if key and _ALIAS_INDEX.get(key) not in mapping else None
            )
            if name and name in columns:
                twice.append((name, columns[name], index))
            elif name:
                columns[name] = index
        if "a_number" in columns and len(columns) >= 2:
            if twice:  # which of two "Status" columns is the real one is not ours to guess
                name, first, second = twice[0]
                raise ImportFileError(
                    f"{path}: header row at line {line}: columns {first + 1} "
                    f"({header[first]!r}) and {second + 1} ({header[second]!r}) both mean "
                    f"{name}; rename one, or choose with --map {name}=HEADER"
                )
            missing = [f"{n}={h!r}" for n, h in mapping.items() if n not in columns]
            if missing:
                raise ImportFileError(
                    f"{path}: header row at line {line} has no column for the mapping "
                    f"{', '.join(missing)}"
                )
            return line, header, columns
    raise ImportFileError(
        f"{path}: no header row with an A-number column and another known column in the first "
        f"{HEADER_SCAN_ROWS} rows; name your columns with --map FIELD=HEADER "
        f"(fields: {', '.join(FIELD_HEADERS)})"
    )


# ------------------------------------------------------------------------------------- validating


_US_DATE = re.compile(r"(\d{1,2})[/-](\d{1,2})[/-](\d{4})")
_ISO_SLASH_DATE = re.compile(r"(\d{4})/(\d{1,2})/(\d{1,2})")


def parse_date(text: str) -> date:
    """YYYY-MM-DD, YYYY/MM/DD, MM/DD/YYYY or MM-DD-YYYY (US exports); anything else is refused."""
    try:
        if len(text) == 10 and text[4] == "-":
            return date.fromisoformat(text)
        match = _US_DATE.fullmatch(text)
        if match:
            month, day, year = (int(g) for g in match.groups())
            return date(year, month, day)
        match = _ISO_SLASH_DATE.fullmatch(text)
        if match:
            year, month, day = (int(g) for g in match.groups())
            return date(year, month, day)
    except ValueError:
        pass
    raise ValidationError(f"date {text!r} is not YYYY-MM-DD or MM/DD/YYYY")


def parse_status(text: str) -> str:
    status = _STATUS_ALIASES.get(" ".join(text.lower().split()))
    if status is None:
        raise ValidationError(f"status {text!r} is not prospect, represented or closed")
    return status.value


class _RowError(Exception):
    def __init__(self, field_name: str, reason: str) -> None:
        super().__init__(reason)
        self.field_name = field_name
        self.reason = reason


def _consent(row: dict[str, str], languages: frozenset[str], today: date) -> Consent | None:
    """The row's consent to reminders: every column of it, or none (a blank never withdraws)."""
    given = {f: row.get(f, "") for f in _REMINDER_FIELDS}
    if not any(given.values()):
        return None
    for name in (
        "reminder_phone",
        "reminder_language",
        "reminder_consent_by",
        "reminder_consent_on",
        "reminder_consent_how",
    ):
        if not given[name]:
            raise _RowError(
                name,
                f"{FIELD_HELP[name].split(' (')[0]} is missing: consent to "
                "reminders needs the phone, language, who, when and how",
            )
    try:
        on = parse_date(given["reminder_consent_on"])
    except ValidationError as exc:
        raise _RowError("reminder_consent_on", str(exc)) from None
    if on > today:
        raise _RowError("reminder_consent_on", f"consent date {on:%Y-%m-%d} is in the future")
    how = _HOW_ALIASES.get(" ".join(given["reminder_consent_how"].lower().split()))
    if how is None:
        raise _RowError("reminder_consent_how", "how the client consented: in person or phone")
    via = given["reminder_via"].lower() or "sms"
    raw = Consent(
        phone=given["reminder_phone"],
        via=via,
        language=given["reminder_language"].lower(),
        how=how,
        by=given["reminder_consent_by"],
        at=datetime(on.year, on.month, on.day, 12, tzinfo=UTC),
    )
    try:
        return check_consent(raw, languages)
    except ConsentError as exc:
        raise _RowError(_CONSENT_COLUMN.get(exc.field, "reminder_phone"), str(exc)) from None


@dataclass
class SyncMode:
    """How a sync reads rows unlike an import: for a client already stored, a blank cell (even
    a required one) keeps the stored value; an attorney email that matches no staff member is
    reported, not a reason to refuse the row. Filled in as rows are read."""

    known: frozenset[str]  # A-numbers of the program's stored clients
    unknown_emails: set[str] = field(default_factory=set)
    rejected_a_numbers: set[str] = field(default_factory=set)  # rejected rows' valid A-numbers


def _validate(
    cells: list[str],
    columns: dict[str, int],
    attorney_ids: dict[str, int],
    today: date,
    languages: frozenset[str] | None = None,
    sync: SyncMode | None = None,
) -> tuple[str, dict[str, Any], Consent | None]:
    """Check one row; return its A-number, the client columns it sets and its consent to
    reminders (``languages`` None: the file has no reminder column)."""
    width = len(cells)
    row = {name: cells[i] for name, i in columns.items() if i < width}
    get = row.get

    raw_a = get("a_number", "")
    if not raw_a:
        raise _RowError("a_number", "A-number is missing")
    try:
        a_number = parse_a_number(raw_a)
    except ANumberError as exc:
        hint = ""
        if raw_a.isdigit() and len(raw_a) < 8:
            hint = " (a spreadsheet may have dropped leading zeros: format the column as text)"
        raise _RowError("a_number", f"{exc}{hint}") from None

    if sync is not None:
        sync.rejected_a_numbers.add(a_number)  # until the row is accepted (below)
    known = sync is not None and a_number in sync.known
    values: dict[str, Any] = {}
    name = get("name", "")
    if not name and ("family_name" in columns or "given_name" in columns):
        family, given = get("family_name", ""), get("given_name", "")
        name = f"{family}, {given}" if family and given else family or given
    if not name and not known:
        raise _RowError("name" if "name" in columns else "family_name", "client name is missing")
    if len(name) > 160:
        raise _RowError("name", "client name is longer than 160 characters")
    if name:  # blank for a stored client in a sync: the stored name stays
        values["name"] = " ".join(name.split())

    raw_nat = get("nationality", "")
    if not raw_nat and not known:
        raise _RowError("nationality", "nationality is missing (ACIS lookups need it)")
    try:
        if raw_nat:
            values["nationality_code"] = parse_nationality(raw_nat)
    except ValidationError as exc:
        raise _RowError("nationality", str(exc)) from None

    raw_cob = get("country_of_birth", "")
    if raw_cob:
        try:
            values["country_of_birth_code"] = parse_nationality(raw_cob)
        except ValidationError as exc:
            raise _RowError("country_of_birth", f"country of birth: {exc}") from None

    raw_dob = get("born_on", "")
    if raw_dob:
        try:
            born = parse_date(raw_dob)
        except ValidationError as exc:
            raise _RowError("born_on", str(exc)) from None
        if born > today or born.year < 1900:
            raise _RowError("born_on", f"date of birth {raw_dob!r} is not plausible")
        values["born_on"] = born

    raw_status = get("status", "")
    try:
        # A blank (or absent) Status is the default for a new client only: it never erases a
        # stored one (a closed case stays closed, a prospect stays a prospect).
        if raw_status:
            values["status"] = parse_status(raw_status)
    except ValidationError as exc:
        raise _RowError("status", str(exc)) from None

    notes = get("notes", "")
    if notes:
        values["notes"] = notes[:2000]

    raw_case = get("case_uuid", "")
    if raw_case:
        try:
            values["case_uuid"] = str(uuid.UUID(raw_case))
        except ValueError:
            raise _RowError("case_uuid", f"{raw_case[:40]!r} is not a matter's UUID") from None

    raw_federal = get("federal_cases", "")
    if raw_federal:
        try:
            values["federal_cases"] = cases_text(parse_cases(raw_federal))
        except ValidationError as exc:
            raise _RowError("federal_cases", str(exc)) from None

    for field_name, column in _ATTORNEY_COLUMNS:
        email = get(field_name, "").lower()
        if email:
            staff_id = attorney_ids.get(email)
            if staff_id is None and sync is not None:
                sync.unknown_emails.add(email)  # the client is watched; its attorney stays
                continue
            if staff_id is None:
                raise _RowError(
                    field_name,
                    f"no attorney with email {email!r} among staff; add them first with "
                    "`docketwatch staff add`",
                )
            values[column] = staff_id
    primary = values.get("primary_attorney_id")
    if primary is not None and primary == values.get("backup_attorney_id"):
        raise _RowError("backup_attorney_email", "backup attorney is the same as the primary")
    consent = _consent(row, languages, today) if languages is not None else None
    if sync is not None:
        sync.rejected_a_numbers.discard(a_number)
    return a_number, values, consent


_ATTORNEY_COLUMNS = (
    ("attorney_email", "primary_attorney_id"),
    ("backup_attorney_email", "backup_attorney_id"),
)
#: client column -> roster field, to name the column of a conflicting duplicate
_FIELD_OF_COLUMN = {
    "nationality_code": "nationality",
    "country_of_birth_code": "country_of_birth",
    "primary_attorney_id": "attorney_email",
    "backup_attorney_id": "backup_attorney_email",
}
_COLUMN_WORDS = {
    "nationality_code": "nationality",
    "country_of_birth_code": "country of birth",
    "born_on": "date of birth",
    "primary_attorney_id": "attorney",
    "backup_attorney_id": "backup attorney",
    "reminder_phone": "consent to reminders",
}


def _conflict(first: _Good, values: dict[str, Any]) -> str | None:
    for key in sorted(set(first.values) | set(values)):
        if first.values.get(key) != values.get(key):
            return key
    return None


# -------------------------------------------------------------------------------------- importing


def import_roster(
    engine: sa.Engine,
    path: Path,
    *,
    mapping: dict[str, str] | None = None,
    default_status: str = ClientStatus.represented.value,
    dry_run: bool = False,
    now: datetime | None = None,
    progress: Callable[[int], None] | None = None,
    write_rejects: bool = True,
    reminder_languages: frozenset[str] = frozenset(),
    organization_id: int | None = None,
    max_rows: int = 50_000,
) -> ImportReport:
    """Import a roster file into one program's clients (``organization_id``: by default the
    process's program, or the only one); see the module docstring for the contract. Rows that
    record a consent to hearing reminders may name only ``reminder_languages`` (those switched
    on)."""
    from storage.tenancy import owner

    now = now or datetime.now(UTC)
    if not path.exists():
        raise ImportFileError(f"{path}: no such file")
    with Session(engine) as session:
        org = owner(session, organization_id)
    # A roster is hundreds of thousands of small lists and dicts that all live until the end:
    # the cyclic garbage collector would walk them again and again for nothing.
    with _gc_paused():
        return _import(
            engine,
            path,
            mapping,
            default_status,
            dry_run,
            now,
            progress,
            write_rejects,
            reminder_languages,
            org,
            max_rows,
        )


@contextmanager
def _gc_paused() -> Iterator[None]:
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _import(
    engine: sa.Engine,
    path: Path,
    mapping: dict[str, str] | None,
    default_status: str,
    dry_run: bool,
    now: datetime,
    progress: Callable[[int], None] | None,
    write_rejects: bool,
    reminder_languages: frozenset[str],
    org: int,
    max_rows: int = 50_000,
    sync: _Sync | None = None,
) -> ImportReport:
    report = ImportReport(path=path, dry_run=dry_run)
    rows = _read_rows(path)
    report.header_line, header, columns = _find_header(rows, mapping or {}, path)
    report.header = tuple(header)
    width = len(header)
    index_to_header = dict(enumerate(header))

    with engine.connect() as conn:
        attorney_ids = {
            email.lower(): sid
            for sid, email in conn.execute(
                sa.select(Staff.id, Staff.email).where(  # type: ignore[call-overload]
                    Staff.role == StaffRole.attorney.value, Staff.organization_id == org
                )
            )
        }

    good: dict[str, _Good] = {}
    today = now.date()
    languages = reminder_languages if any(f in columns for f in _REMINDER_FIELDS) else None
    for line, raw_cells in rows:
        cells = [c.strip() if c.__class__ is str else _cell_text(c) for c in raw_cells]
        long = next((i for i, c in enumerate(cells) if len(c) > MAX_CELL), None)
        if long is not None:  # no roster field is this long: the row is refused, not the file
            report.rows += 1
            why = f"a cell of {len(cells[long]):,} characters (at most {MAX_CELL:,})"
            column = index_to_header.get(long, f"column {long + 1}")
            report.rejects.append(Reject(line, column, why, tuple(c[:200] for c in cells)))
            continue
        if not any(cells):
            continue  # blank line: nothing to import, nothing lost
        report.rows += 1
        if report.rows > max_rows:  # the work is bounded, not only the bytes
            raise ImportFileError(
                f"{path.name}: more than {max_rows:,} rows; a program's roster is a few "
                "thousand: nothing was imported (split the file, or raise roster_max_rows)"
            )
        if progress is not None and report.rows % 1000 == 0:
            progress(1000)
        try:
            a_number, values, consent = _validate(
                cells, columns, attorney_ids, today, languages, sync.mode if sync else None
            )
        except _RowError as err:
            column = index_to_header.get(columns.get(err.field_name, -1), err.field_name)
            report.rejects.append(Reject(line, column, err.reason, tuple(cells)))
            continue
        first = good.get(a_number)
        if first is not None:
            differing = _conflict(first, values) or (
                "reminder_phone" if first.consent != consent else None
            )
            if differing is None:
                report.duplicates_skipped += 1
                continue
            field_name = _FIELD_OF_COLUMN.get(differing, differing)
            column = index_to_header.get(columns.get(field_name, -1), field_name)
            report.rejects.append(
                Reject(
                    line,
                    column,
                    f"A-number {redact_a_number(a_number)} repeats line {first.line} with a "
                    f"different {_COLUMN_WORDS.get(differing, differing)}; "
                    "the first row was kept",
                    tuple(cells),
                )
            )
            continue
        good[a_number] = _Good(line, a_number, values, consent)
    if progress is not None:
        progress(report.rows % 1000)

    _store(engine, report, good, now, dry_run, default_status, org, sync)
    if write_rejects:
        report.rejects_path = _write_rejects(path, header, width, report.rejects)
    return report


def _store(
    engine: sa.Engine,
    report: ImportReport,
    good: dict[str, _Good],
    now: datetime,
    dry_run: bool,
    default_status: str,
    org: int,
    sync: _Sync | None = None,
) -> None:
    """Upsert the good rows in one transaction (rolled back for a dry run). A new client
    without a status gets ``default_status``; a stored one keeps its own. A sync also marks
    each listed client as its source's, and deactivates those it omitted twice in a row, or
    stores nothing when it omits too many (:func:`sync_roster`)."""
    client = table(Client)
    conn = engine.connect()
    trans = conn.begin()
    fields = _CLIENT_FIELDS + (_SYNC_FIELDS if sync else ())
    try:
        existing = _existing_clients(conn, client, org)
        if sync is not None and _refuse(report, good, existing, sync):
            trans.rollback()
            return
        listed = {"roster_source": sync.key, "roster_missed": 0, "active": True} if sync else {}
        inserts: list[dict[str, Any]] = []
        updates: list[dict[str, Any]] = []
        for item in good.values():
            row = existing.get(item.a_number)
            if row is None:
                values = {f: item.values.get(f) for f in _CLIENT_FIELDS}
                values["notes"] = values["notes"] or ""
                values["federal_cases"] = values["federal_cases"] or ""
                values["status"] = values["status"] or default_status
                values.update(
                    {
                        "a_number": item.a_number,
                        "active": True,
                        "created_at": now,
                        "updated_at": now,
                        "organization_id": org,
                        **listed,
                    }
                )
                inserts.append(values)
                continue
            merged = {**row, **item.values, **listed}
            if sync is not None and not row["active"]:
                report.reactivated += 1
            if (
                "backup_attorney_id" not in item.values
                and merged["backup_attorney_id"] is not None
                and merged["backup_attorney_id"] == merged["primary_attorney_id"]
            ):
                # The backup attorney became the primary one: they are no longer the backup.
                merged["backup_attorney_id"] = None
            if merged != row:
                update = {f: merged[f] for f in fields}
                update.update(_id=row["id"], updated_at=now)
                updates.append(update)
            else:
                report.unchanged += 1
        report.created = len(inserts)
        report.updated = len(updates)
        if sync is not None:
            updates += _omitted(report, good, existing, sync, now)
        if inserts:
            insert_rows(conn, client, inserts)
        if updates:
            stmt = (
                sa.update(client)
                .where(client.c.id == sa.bindparam("_id"))
                .values({f: sa.bindparam(f) for f in (*fields, "updated_at")})
            )
            conn.execute(stmt, updates)
        consents = [g for g in good.values() if g.consent is not None]
        if consents:
            report.consents = _store_consents(conn, client, consents, now, org)
        if dry_run:
            trans.rollback()
        else:
            trans.commit()
    except BaseException:
        trans.rollback()
        raise
    finally:
        conn.close()
    log.info(
        "roster %s: %d rows, %d created, %d updated, %d unchanged, %d rejected%s",
        report.path.name,
        report.rows,
        report.created,
        report.updated,
        report.unchanged,
        len(report.rejects),
        " (dry run, nothing stored)" if dry_run else "",
    )


#: the client columns a sync keeps besides the roster's own
_SYNC_FIELDS = ("roster_source", "roster_missed", "active")


@dataclass
class _Sync:
    key: str  # the source's key (client.roster_source)
    mode: SyncMode
    max_omitted_share: float
    force: bool


def _mine(existing: dict[str, dict[str, Any]], sync: _Sync) -> dict[str, dict[str, Any]]:
    return {a: row for a, row in existing.items() if row["roster_source"] == sync.key}


def _refuse(
    report: ImportReport,
    good: dict[str, _Good],
    existing: dict[str, dict[str, Any]],
    sync: _Sync,
) -> bool:
    """True (and why, in the report) when the source omits more than its share of the active
    clients it listed last time: a truncated export must never stop watching everyone."""
    seen = set(good) | sync.mode.rejected_a_numbers
    before = [a for a, row in _mine(existing, sync).items() if row["active"]]
    before = [a for a in before if existing[a]["roster_missed"] == 0]
    omitted = [a for a in before if a not in seen]
    report.listed_before, report.omitted = len(before), len(omitted)
    if not before or len(omitted) <= sync.max_omitted_share * len(before) or sync.force:
        return False
    report.refused = (
        f"the source omits {len(omitted)} of the {len(before)} active clients it listed last "
        f"time (more than {sync.max_omitted_share:.0%}): nothing was stored. A truncated "
        "export or a wrong report? Fix the source; if the clients really left, "
        "`docketwatch clients sync --force` applies it"
    )
    return True


def _omitted(
    report: ImportReport,
    good: dict[str, _Good],
    existing: dict[str, dict[str, Any]],
    sync: _Sync,
    now: datetime,
) -> list[dict[str, Any]]:
    """Updates for the source's clients this sync omits: one more miss; deactivated (kept,
    with their history) at the second sync in a row. A rejected row is not an omission."""
    seen = set(good) | sync.mode.rejected_a_numbers
    updates = []
    for a_number, row in _mine(existing, sync).items():
        if a_number in seen or not row["active"]:
            continue
        missed = row["roster_missed"] + 1
        update = {f: row[f] for f in (*_CLIENT_FIELDS, *_SYNC_FIELDS)}
        update.update(_id=row["id"], updated_at=now, roster_missed=missed)
        if missed >= 2:
            update["active"] = False
            report.deactivated += 1
        updates.append(update)
    return updates


def sync_roster(
    engine: sa.Engine,
    path: Path,
    *,
    key: str,
    organization_id: int,
    mapping: dict[str, str] | None = None,
    max_omitted_share: float = 0.1,
    force: bool = False,
    dry_run: bool = False,
    now: datetime | None = None,
    reminder_languages: frozenset[str] = frozenset(),
    max_rows: int = 50_000,
) -> ImportReport:
    """Apply a program's complete list of active clients, read from ``path`` with the roster
    import's rules, as the source ``key`` (see :mod:`storage.roster_sync` for the contract).
    Nothing is written beside ``path``: rejects are in the report."""
    now = now or datetime.now(UTC)
    if not path.exists():
        raise ImportFileError(f"{path}: no such file")
    with engine.connect() as conn:
        known = frozenset(
            conn.execute(
                sa.select(Client.a_number).where(  # type: ignore[call-overload]
                    Client.organization_id == organization_id
                )
            ).scalars()
        )
    sync = _Sync(key, SyncMode(known), max_omitted_share, force)
    with _gc_paused():
        report = _import(
            engine,
            path,
            mapping,
            ClientStatus.represented.value,
            dry_run,
            now,
            None,
            False,
            reminder_languages,
            organization_id,
            max_rows,
            sync,
        )
    report.unknown_emails = sorted(sync.mode.unknown_emails)
    return report


def _store_consents(
    conn: sa.Connection, client: sa.Table, rows: list[_Good], now: datetime, org: int
) -> dict[str, int]:
    """Each row's consent to reminders, in the import's transaction: counts by outcome. A consent
    older than the client's withdrawal (a STOP reply) is not stored again."""
    ids = dict(
        conn.execute(
            sa.select(client.c.a_number, client.c.id).where(
                client.c.a_number.in_([g.a_number for g in rows]), client.c.organization_id == org
            )
        ).all()
    )
    counts: dict[str, int] = {}
    with Session(bind=conn) as session:
        for item in rows:
            assert item.consent is not None
            outcome = store_consent(
                session, ids[item.a_number], item.consent, now, after_withdrawal=False
            )
            counts[outcome] = counts.get(outcome, 0) + 1
        session.flush()
    return counts


def _existing_clients(conn: sa.Connection, client: sa.Table, org: int) -> dict[str, dict[str, Any]]:
    """Every stored client of the program: importable columns, by A-number."""
    columns = (*_CLIENT_FIELDS, *_SYNC_FIELDS)
    result = conn.execute(
        sa.select(client.c.id, client.c.a_number, *(client.c[f] for f in columns)).where(
            client.c.organization_id == org
        )
    )
    return {row["a_number"]: row for row in (dict(r) for r in result.mappings())}


def rejects_path_for(path: Path) -> Path:
    return path.with_name(f"{path.stem}.rejects.csv")


def _write_rejects(path: Path, header: list[str], width: int, rejects: list[Reject]) -> Path | None:
    target = rejects_path_for(path)
    if not rejects:
        target.unlink(missing_ok=True)  # a stale file from an earlier run would mislead
        return None
    with private_file(target, newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(["line", "column", "reason", *map(spreadsheet_cell, header)])
        for r in rejects:
            cells = list(r.values) + [""] * (width - len(r.values))
            writer.writerow([r.line, r.column, r.reason, *map(spreadsheet_cell, cells)])
    return target
