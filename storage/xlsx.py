"""Opening .xlsx files from outside (rosters, ICE's detention statistics) without trusting them.

An .xlsx is a zip of XML. Before openpyxl reads one, :func:`open_workbook` checks the zip itself:
readable, no member inflating past what such a file can hold (a 3 MB shared-strings bomb took
6 GB), and, once open, the sheet's declared ``<dimension>`` is ignored (a 1.7 KB file declaring
a million by sixteen thousand cells made openpyxl pad every empty one, for half an hour): rows
are read as they are in the file. Any damage is one clear error naming the file.
"""

from __future__ import annotations

import zipfile
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from xml.etree.ElementTree import ParseError

from storage.errors import DocketwatchError

#: what one member of a workbook may inflate to; ICE's editions are about 1 MB in all, a
#: 5,000-client roster a few MB
MEMBER_LIMIT = 64 << 20
#: the whole workbook, inflated
TOTAL_LIMIT = 256 << 20
#: the shared strings: openpyxl holds every one in memory (3.7 million short ones in a 150 KB
#: file took 482 MB and 54 s); a 50,000-row roster's distinct texts are a few MB
SHARED_STRINGS_LIMIT = 16 << 20

#: what openpyxl or the zip reader raise on a damaged file
DAMAGE = (zipfile.BadZipFile, zlib.error, EOFError, KeyError, ValueError, ParseError, OSError)


def check_zip(path: Path, error: type[DocketwatchError]) -> None:
    """Refuse a workbook that is not a zip, or whose members would inflate past the limits."""
    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
    except (zipfile.BadZipFile, OSError) as exc:
        raise error(f"{path}: not a readable .xlsx workbook ({exc})") from None
    for info in infos:
        limit = (
            SHARED_STRINGS_LIMIT if info.filename.endswith("sharedStrings.xml") else MEMBER_LIMIT
        )
        if info.file_size > limit:
            raise error(
                f"{path}: {info.filename} inflates to {info.file_size:,} bytes; refused (no real "
                "workbook of this kind is that big: a damaged or hostile file)"
            )
    if sum(i.file_size for i in infos) > TOTAL_LIMIT:
        raise error(f"{path}: inflates past {TOTAL_LIMIT:,} bytes in all; refused")


def open_workbook(path: Path, error: type[DocketwatchError]) -> Any:
    """openpyxl's read-only workbook of ``path``, after :func:`check_zip`."""
    import openpyxl
    from openpyxl.utils.exceptions import InvalidFileException

    check_zip(path, error)
    try:
        return openpyxl.load_workbook(path, read_only=True, data_only=True)
    except (InvalidFileException, *DAMAGE) as exc:
        raise error(f"{path}: cannot be opened as a workbook ({exc})") from None


def rows(sheet: Any, path: Path, error: type[DocketwatchError]) -> Iterator[tuple[Any, ...]]:
    """A sheet's rows as stored, whatever its ``<dimension>`` claims; damage is an error."""
    sheet.reset_dimensions()
    try:
        yield from sheet.iter_rows(values_only=True)
    except DAMAGE as exc:
        raise error(f"{path}: the sheet is damaged ({type(exc).__name__}: {exc})") from None
