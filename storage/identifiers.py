"""A-numbers and nationalities, parsed in one place.

An A-number is 9 ASCII digits (sources.md §0.1). People and exports write it many ways:
``A-012-345-678``, ``A012345678``, ``012345678``, `` A 012 345 678 `` and the older 8-digit form,
which EOIR says to pad with a leading zero. Anything else is refused with the reason.

Nationalities are EOIR codes (not ISO 3166: Honduras is ``HO``, China ``CH``), from the ACIS list
bundled in ``storage/reference/nationalities.json``.
"""

from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from storage.errors import ANumberError, NationalityError

_SEPARATORS = re.compile(r"[\s\-\u2010-\u2015.]+")


def parse_a_number(text: object) -> str:
    """Return the canonical 9-digit A-number or raise :class:`ANumberError` saying why."""
    if isinstance(text, str) and len(text) == 9 and text.isdigit() and text.isascii():
        if text == "000000000":  # the common case, already canonical, checked first
            raise ANumberError("A-number cannot be all zeros")
        return text
    if text is None:
        raise ANumberError("A-number is missing")
    if isinstance(text, int) and not isinstance(text, bool):
        raw = str(text)
    elif isinstance(text, str):
        raw = text
    else:
        raise ANumberError(f"A-number must be text, not {type(text).__name__}")
    compact = _SEPARATORS.sub("", raw.strip())
    if not compact:
        raise ANumberError("A-number is empty")
    if compact[0] in "Aa":
        compact = compact[1:]
    if not compact:
        raise ANumberError("A-number has no digits after the 'A'")
    if not compact.isascii() or not compact.isdigit():
        bad = next(ch for ch in compact if not (ch.isascii() and ch.isdigit()))
        raise ANumberError(f"A-number may contain only digits, found {bad!r}")
    if len(compact) == 8:
        compact = "0" + compact
    elif len(compact) != 9:
        raise ANumberError(f"A-number must have 8 or 9 digits, found {len(compact)}")
    if compact == "000000000":
        raise ANumberError("A-number cannot be all zeros")
    return compact


def format_a_number(a_number: str) -> str:
    """``012345678`` -> ``A-012-345-678`` (the form EOIR prints)."""
    return f"A-{a_number[0:3]}-{a_number[3:6]}-{a_number[6:9]}"


def redact_a_number(a_number: str) -> str:
    """Keep only the last four digits: ``***5678``."""
    return "***" + a_number[-4:]


@dataclass(frozen=True, slots=True)
class Nationality:
    code: str
    name: str
    active: bool


@cache
def nationalities() -> dict[str, Nationality]:
    """The bundled ACIS nationality list, by EOIR code (inactive entries included)."""
    raw = json.loads(
        (Path(__file__).parent / "reference" / "nationalities.json").read_text("utf-8")
    )
    return {
        item["Code"]: Nationality(item["Code"], item["Name"].strip(), bool(item["IsActive"]))
        for item in raw
        if item["Code"] != "??"
    }


@cache
def _by_name() -> dict[str, str]:
    table: dict[str, str] = {}
    ambiguous: set[str] = set()
    for nat in nationalities().values():
        key = _name_key(nat.name)
        if key in table and table[key] != nat.code:
            ambiguous.add(key)
        # An active entry wins over an inactive one with the same name.
        if key not in table or nat.active:
            table[key] = nat.code
    for key in ambiguous:
        active = [n.code for n in nationalities().values() if _name_key(n.name) == key and n.active]
        if len(active) == 1:
            table[key] = active[0]
        else:
            table.pop(key, None)
    return table


def _name_key(text: str) -> str:
    return " ".join(text.replace("-", " ").upper().split())


#: ISO 3166 codes people type by habit that are not EOIR codes, and what EOIR uses instead.
#: (Some ISO codes *are* EOIR codes for another country: SV is Slovenia, CN the Comoro Islands.)
ISO_TRAPS = {"HN": "HO", "HT": "HA", "PH": "RP"}


def parse_nationality(text: object) -> str:
    """Return the EOIR nationality code for a code or a name (any case); see
    :func:`_parse_nationality`. Results are cached: rosters repeat a few dozen values."""
    if not isinstance(text, str):
        raise NationalityError("nationality is missing")
    return _parse_nationality(text)


@functools.lru_cache(maxsize=4096)
def _parse_nationality(text: str) -> str:
    """Return the EOIR nationality code for a code or a name (any case).

    Raises :class:`NationalityError` for blank, unknown, inactive or ambiguous values.
    A value of the form ``NAME (CODE)``, as ACIS's select shows it, is accepted too.
    """
    if not isinstance(text, str) or not text.strip():
        raise NationalityError("nationality is missing")
    value = text.strip()
    match = re.fullmatch(r"(.+?)\s*\(([A-Za-z0-9]{2})\)", value)
    if match:
        value = match.group(2)
    table = nationalities()
    if len(value) == 2 and value.upper() in table:
        nat = table[value.upper()]
        if not nat.active:
            raise NationalityError(
                f"nationality code {nat.code} ({nat.name}) is not active in EOIR's list"
            )
        return nat.code
    key = _name_key(value)
    code = _by_name().get(key)
    if code is None:
        if value.upper() in ISO_TRAPS and ISO_TRAPS[value.upper()] in table:
            eoir = table[ISO_TRAPS[value.upper()]]
            raise NationalityError(
                f"unknown nationality {value!r}: that is an ISO code; EOIR's code for "
                f"{eoir.name} is {eoir.code}"
            )
        if key in {_name_key(n.name) for n in table.values()}:
            raise NationalityError(f"nationality name {value!r} is ambiguous: give the EOIR code")
        raise NationalityError(
            f"unknown nationality {value!r}: not an EOIR code or name (EOIR codes are not ISO; "
            "see `docketwatch nationalities`)"
        )
    if not table[code].active:
        raise NationalityError(f"nationality {value!r} ({code}) is not active in EOIR's list")
    return code
