"""Synthetic client rosters (never real people) for tests, benchmarks and the demo.

A-numbers are drawn from the 9xx-xxx-xxx range, which no one has been issued; names are
combinations of common given and family names. :func:`make_roster` returns the rows and what a
correct import must conclude about them, so a test can compare the importer to the truth.
"""

from __future__ import annotations

import csv
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

GIVEN = (
    "JANE",
    "JOHN",
    "MARIA",
    "JOSE",
    "ANA",
    "LUIS",
    "CARMEN",
    "JUAN",
    "ROSA",
    "CARLOS",
    "LUCIA",
    "PEDRO",
    "ELENA",
    "MIGUEL",
    "SOFIA",
    "JORGE",
    "ISABEL",
    "DIEGO",
    "PAULA",
    "ANDRES",
    "NADIA",
    "OMAR",
    "FATIMA",
    "ARMEN",
    "LIAN",
    "WEI",
    "PRIYA",
    "RAVI",
    "OLGA",
    "IVAN",
)
FAMILY = (
    "DOE",
    "ROE",
    "GARCIA",
    "LOPEZ",
    "HERNANDEZ",
    "MARTINEZ",
    "GONZALEZ",
    "PEREZ",
    "SANCHEZ",
    "RAMIREZ",
    "TORRES",
    "FLORES",
    "RIVERA",
    "GOMEZ",
    "DIAZ",
    "CRUZ",
    "MORALES",
    "REYES",
    "ORTIZ",
    "CASTILLO",
    "CHAVEZ",
    "RUIZ",
    "ALVAREZ",
    "MENDOZA",
    "VARGAS",
    "PETROSYAN",
    "CHEN",
    "SINGH",
    "KOVAL",
    "HASSAN",
)
# EOIR codes, by name and by code, as exports write them.
NATIONALITIES = (
    ("MX", "MEXICO"),
    ("GT", "GUATEMALA"),
    ("HO", "HONDURAS"),
    ("ES", "EL SALVADOR"),
    ("NU", "NICARAGUA"),
    ("CU", "CUBA"),
    ("VE", "VENEZUELA"),
    ("CO", "COLOMBIA"),
    ("EC", "ECUADOR"),
    ("PE", "PERU"),
    ("CH", "CHINA"),
    ("IN", "INDIA"),
    ("RU", "RUSSIA"),
    ("UE", "UKRAINE"),
    ("AM", "ARMENIA"),
    ("HA", "HAITI"),
)
HEADER = (
    "A-Number",
    "Client Name",
    "Nationality",
    "Country of Birth",
    "Date of Birth",
    "Status",
    "Attorney Email",
)
BAD_KINDS = (
    "a_number_letters",
    "a_number_short",
    "a_number_long",
    "a_number_missing",
    "nationality_unknown",
    "nationality_iso_trap",
    "nationality_missing",
    "name_missing",
    "date_invalid",
    "date_future",
    "status_unknown",
    "attorney_unknown",
    "conflicting_duplicate",
)


@dataclass
class Roster:
    header: tuple[str, ...]
    rows: list[list[str]]
    good_a_numbers: set[str] = field(default_factory=set)
    bad_rows: dict[int, str] = field(default_factory=dict)  # index in rows -> kind


def _a_number(rng: random.Random, used: set[str]) -> str:
    while True:
        number = f"9{rng.randrange(0, 10**8):08d}"
        if number not in used:
            used.add(number)
            return number


def _spell(number: str, rng: random.Random) -> str:
    style = rng.randrange(5)
    if style == 0:
        return f"A-{number[:3]}-{number[3:6]}-{number[6:]}"
    if style == 1:
        return f"A{number}"
    if style == 2:
        return f" A {number[:3]} {number[3:6]} {number[6:]} "
    return number


def make_roster(
    n: int,
    *,
    bad: int = 0,
    seed: int = 7,
    attorneys: Sequence[str] = ("attorney1@example.org",),
) -> Roster:
    """``n`` rows of which ``bad`` are bad ones of varied kinds (cycling through BAD_KINDS)."""
    if bad > n:
        raise ValueError("more bad rows than rows")
    rng = random.Random(seed)
    used: set[str] = set()
    roster = Roster(header=HEADER, rows=[])
    good_rows: list[list[str]] = []
    n_good = n - bad
    for _ in range(n_good):
        number = _a_number(rng, used)
        code, name = rng.choice(NATIONALITIES)
        row = [
            _spell(number, rng),
            f"{rng.choice(FAMILY)}, {rng.choice(GIVEN)}",
            code if rng.random() < 0.5 else name.title(),
            code,
            f"{rng.randrange(1960, 2006)}-{rng.randrange(1, 13):02d}-{rng.randrange(1, 29):02d}",
            rng.choice(("represented", "Represented", "prospect", "")),
            rng.choice(list(attorneys)) if attorneys else "",
        ]
        good_rows.append(row)
        roster.good_a_numbers.add(number)
    bad_rows: list[tuple[list[str], str]] = []
    for i in range(bad):
        kind = BAD_KINDS[i % len(BAD_KINDS)]
        template = list(rng.choice(good_rows)) if good_rows else list(HEADER)
        row = list(template)
        if kind != "conflicting_duplicate":
            row[0] = _spell(_a_number(rng, used), rng)
        if kind == "a_number_letters":
            row[0] = f"A-9O{rng.randrange(10**6, 10**7)}"
        elif kind == "a_number_short":
            row[0] = f"{rng.randrange(10**5, 10**6)}"
        elif kind == "a_number_long":
            row[0] = f"A{rng.randrange(10**10, 10**11)}"
        elif kind == "a_number_missing":
            row[0] = ""
        elif kind == "nationality_unknown":
            row[2] = "ATLANTIS"
        elif kind == "nationality_iso_trap":
            row[2] = "HN"  # ISO Honduras; EOIR's is HO, and HN is not an EOIR code
        elif kind == "nationality_missing":
            row[2] = ""
        elif kind == "name_missing":
            row[1] = ""
        elif kind == "date_invalid":
            row[4] = "31/31/1990"
        elif kind == "date_future":
            row[4] = "2199-01-01"
        elif kind == "status_unknown":
            row[5] = "maybe"
        elif kind == "attorney_unknown":
            row[6] = "nobody@example.org"
        elif kind == "conflicting_duplicate":
            row[1] = row[1] + " JR"
        bad_rows.append((row, kind))
    # Bad rows go after the rows they may duplicate, at random later positions.
    all_rows: list[tuple[list[str], str | None]] = [(r, None) for r in good_rows]
    for row, kind in bad_rows:
        if kind == "conflicting_duplicate":
            first = next(i for i, (r, _) in enumerate(all_rows) if r[0] == row[0])
            pos = rng.randrange(first + 1, len(all_rows) + 1)
        else:
            pos = rng.randrange(0, len(all_rows) + 1)
        all_rows.insert(pos, (row, kind))
    for index, (cells, bad_kind) in enumerate(all_rows):
        roster.rows.append(cells)
        if bad_kind is not None:
            roster.bad_rows[index] = bad_kind
    return roster


def write_csv(roster: Roster, path: Path) -> Path:
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(roster.header)
        writer.writerows(roster.rows)
    return path


def write_xlsx(roster: Roster, path: Path, *, title_rows: int = 2) -> Path:
    """An .xlsx export as case-management systems make them: a title and a blank row first."""
    import openpyxl

    book = openpyxl.Workbook(write_only=True)
    sheet = book.create_sheet("Clients")
    if title_rows:
        sheet.append(["Client roster export (synthetic data)"])
        for _ in range(title_rows - 1):
            sheet.append([])
    sheet.append(list(roster.header))
    for row in roster.rows:
        sheet.append(row)
    book.save(path)
    return path
