"""Files docketwatch writes that hold client data: private, never through a link, and safe to
open in a spreadsheet.

- :func:`private_file` creates (or truncates) a file readable by its owner only (0600) and
  refuses a symbolic link where the file should be (another user's link would make us write
  client data wherever it points).
- :func:`spreadsheet_cell` escapes a value that a spreadsheet would run as a formula (a cell
  starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return gets a leading ``'``), for
  every CSV meant for people: rejects files and ``--csv`` exports.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import IO, Any

from storage.errors import ImportFileError

PRIVATE = 0o600
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def private_file(path: Path, mode: str = "w", **kwargs: Any) -> IO[Any]:
    """``path`` opened for writing (created or emptied), owner-only, never through a link."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(path, flags, PRIVATE)
    except OSError as exc:
        if path.is_symlink():
            raise ImportFileError(
                f"{path}: is a symbolic link; not written (remove it, or write elsewhere)"
            ) from None
        raise ImportFileError(f"{path}: cannot be written ({exc.strerror})") from None
    if stat.S_IMODE(os.fstat(fd).st_mode) != PRIVATE:  # an older file, made more open
        os.fchmod(fd, PRIVATE)
    return os.fdopen(fd, mode, **kwargs)


def sha256_of(path: Path) -> str:
    """The SHA-256 of a file, read in 1 MB blocks."""
    import hashlib

    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def create_private(path: Path) -> None:
    """Create ``path`` empty and owner-only if it does not exist (a database file before its
    first connection); an existing file is left as it is (``doctor`` reports its mode)."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, PRIVATE)
    except FileExistsError:
        return
    os.close(fd)


def spreadsheet_cell(value: object) -> object:
    """``value``, with a text that a spreadsheet would run as a formula made plain text."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value
