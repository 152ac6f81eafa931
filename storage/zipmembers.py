"""Reading the members of a zip the way EOIR's releases need: streamed, in bounded pieces.

Stored, Deflate (isal) and Deflate64 (zipfile-deflate64) members are inflated in pieces of a few
MB, their size and CRC-32 checked at the end; any other method is a one-line error. A table
member is cut into files of whole lines (:func:`split_member`), counted as the bytes go by.

This module imports nothing of the database: :func:`extract_worker` runs in a child process
(started by a fork server that preloads only this module), so that inflating, which holds the
interpreter while it works, runs beside the reader instead of taking turns with it.
"""

from __future__ import annotations

import os
import queue
import struct
import zipfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from storage.errors import ReleaseError


@dataclass
class Part:
    """A piece of one extracted table: whole lines, the header only in the first piece."""

    name: str
    index: int
    path: Path
    lines: int  # physical lines in this piece
    nuls: int
    ascii: bool  # plain ASCII: read as UTF-8, which skips transcoding from latin-1


@dataclass
class Done:
    name: str
    data_lines: int  # data lines in the whole table (the header not counted)


def split_member(
    zf_path: Path,
    info: zipfile.ZipInfo,
    name: str,
    folder: Path,
    part_bytes: int,
    tick: Callable[[int], None],
) -> Iterator[Part | Done]:
    """Stream one member into files of about ``part_bytes``, cut at line ends.

    Lines and NUL bytes are counted as the bytes go by. Pieces keep the disk bounded (each is
    deleted once read) and let the reader start on a table before it is all inflated. A line
    running past :data:`MAX_LINE_BYTES` across chunks is not EOIR's (its longest lines are a
    few hundred bytes): the table is refused there, before it fills a piece or memory.
    """
    run = 0  # bytes since the last line end
    total = 0
    index = size = lines = nuls = 0
    plain = True
    last = b"\n"
    path = folder / f"{name}.{index}.csv"
    out = path.open("wb")
    try:
        for chunk in member_chunks(zf_path, info):
            tick(len(chunk))
            last = chunk[-1:]
            end = chunk.rfind(b"\n")
            run = run + len(chunk) if end < 0 else len(chunk) - end - 1
            if run > MAX_LINE_BYTES:
                line = total + lines + chunk.count(b"\n") + 1
                raise ReleaseError(
                    f"{name}.csv, line {line:,}: longer than "
                    f"{MAX_LINE_BYTES:,} bytes with no line end; not EOIR's file, nothing was "
                    "loaded"
                )
            # Cut at the first line end past the piece's size, as often as the chunk allows.
            while size + len(chunk) >= part_bytes and (
                cut := chunk.find(b"\n", max(part_bytes - size - 1, 0)) + 1
            ):
                head, chunk = chunk[:cut], chunk[cut:]
                out.write(head)
                out.close()
                n = head.count(b"\n")
                z = head.count(b"\x00") if b"\x00" in head else 0
                yield Part(name, index, path, lines + n, nuls + z, plain and head.isascii())
                total += lines + n
                index += 1
                size = lines = nuls = 0
                plain = True
                path = folder / f"{name}.{index}.csv"
                out = path.open("wb")
            out.write(chunk)
            size += len(chunk)
            lines += chunk.count(b"\n")
            if b"\x00" in chunk:
                nuls += chunk.count(b"\x00")
            plain = plain and chunk.isascii()
    finally:
        out.close()
    if last != b"\n":  # a last line without its newline
        lines += 1
    if size or not index:
        yield Part(name, index, path, lines, nuls, plain)
    else:  # the table ended exactly at a cut
        path.unlink()
    yield Done(name, max(total + lines - 1, 0))


#: zip compression methods by number (APPNOTE 4.4.5); EOIR's releases use 8 and 9
ZIP_METHODS = {
    0: "stored",
    8: "Deflate",
    9: "Deflate64",
    12: "bzip2",
    14: "LZMA",
    93: "Zstandard",
    95: "XZ",
    98: "PPMd",
}
DEFLATE64 = 9


class Inflate64:
    """A Deflate64 decompressor with the interface of a zlib one.

    zipfile-deflate64's decompressor (zlib's infback9, in C) keeps its memory bounded whatever
    the member's size; inflate64's Inflater, as fast, keeps every piece of its input until the
    end (seen 2026-11: 147 MB of input held 150 MB; a national release's members, 9.5 GB)."""

    def __init__(self) -> None:
        from zipfile_deflate64.deflate64 import Deflate64

        self._inflater = Deflate64()

    def decompress(self, data: bytes) -> bytes:
        out: bytes = self._inflater.decompress(data)
        return out

    def flush(self) -> bytes:
        return b""


def unpacker(info: zipfile.ZipInfo) -> Any:
    """What inflates one member, by its compression method; a clear error for any other."""
    method = info.compress_type
    if info.flag_bits & 0x1:
        raise ReleaseError(f"{info.filename}: the member is encrypted; EOIR's releases are not")
    if method == zipfile.ZIP_STORED:
        return None
    if method == zipfile.ZIP_DEFLATED:
        from isal import isal_zlib

        return isal_zlib.decompressobj(-15)
    if method == DEFLATE64:
        return Inflate64()
    name = ZIP_METHODS.get(method, "unknown")
    raise ReleaseError(
        f"{info.filename}: compression method {method} ({name}) is not supported; EOIR's "
        "releases use Deflate and Deflate64"
    )


def member_chunks(
    zf_path: Path, info: zipfile.ZipInfo, limit: int | None = None
) -> Iterator[bytes]:
    """A member's bytes, inflated in pieces of a few MB whatever its method (stored, Deflate,
    Deflate64), its size checked and its CRC-32 verified at the end; past ``limit`` inflated
    bytes the member is refused (a table is streamed, but a small member that swells is a bomb).
    """
    from isal import isal_zlib

    unpack = unpacker(info)
    with zf_path.open("rb") as fh:
        fh.seek(info.header_offset)
        head = fh.read(30)
        if len(head) < 30 or head[:4] != b"PK\x03\x04":
            raise zipfile.BadZipFile(f"{info.filename}: bad local header")
        name_len, extra_len = struct.unpack("<HH", head[26:30])
        fh.seek(info.header_offset + 30 + name_len + extra_len)
        left, crc, size = info.compress_size, 0, 0
        # Small input pieces keep each inflated chunk to a few MB: the allocator then reuses its
        # memory, where chunks of tens of MB would each be fresh pages from the kernel (this
        # made extraction three times slower). No piece of input, however hostile, inflates to
        # more than OUT_MAX at once (a bomb is refused before it fills memory).
        while left > 0:
            raw = fh.read(min(1 << 18, left))
            if not raw:
                raise zipfile.BadZipFile(f"{info.filename}: the archive ends inside this member")
            left -= len(raw)
            for chunk in _inflated(unpack, raw):
                crc = isal_zlib.crc32(chunk, crc)
                size += len(chunk)
                if size > info.file_size or (limit is not None and size > limit):
                    most = info.file_size if limit is None else min(limit, info.file_size)
                    raise ReleaseError(
                        f"{info.filename}: inflates past {most:,} bytes; refused (a zip bomb, "
                        "or not EOIR's file)"
                    )
                yield chunk
        if unpack is not None and (tail := unpack.flush()):
            crc = isal_zlib.crc32(tail, crc)
            size += len(tail)
            yield tail
    if size != info.file_size or crc != info.CRC:
        raise zipfile.BadZipFile(f"{info.filename}: CRC or size mismatch (damaged download?)")


#: the longest line a table may have (DuckDB's reader is given the same limit)
MAX_LINE_BYTES = 1 << 20

#: the most one step of inflation may produce (a Deflate64 step: its input slice times the
#: format's highest ratio, about 1,032)
OUT_MAX = 4 << 20
_DEFLATE64_SLICE = 4 << 10


def _inflated(unpack: Any, raw: bytes) -> Iterator[bytes]:
    """``raw`` inflated, in chunks of at most about :data:`OUT_MAX` bytes."""
    if unpack is None:
        yield raw
    elif isinstance(unpack, Inflate64):  # no output cap in its interface: small input slices
        for start in range(0, len(raw), _DEFLATE64_SLICE):
            if chunk := unpack.decompress(raw[start : start + _DEFLATE64_SLICE]):
                yield chunk
    else:
        chunk = unpack.decompress(raw, OUT_MAX)
        while True:
            if chunk:
                yield chunk
            if not unpack.unconsumed_tail:
                break
            chunk = unpack.decompress(unpack.unconsumed_tail, OUT_MAX)


def read_member(zf_path: Path, info: zipfile.ZipInfo, limit: int) -> bytes:
    """A small member (a lookup table, Count.txt) whole, at most ``limit`` bytes inflated."""
    return b"".join(member_chunks(zf_path, info, limit))


def extract_worker(
    zip_path: Path,
    members: list[tuple[str, zipfile.ZipInfo]],
    work: Path,
    part_bytes: int,
    out: Any,
    stop: Any,
    reader_pid: int,
) -> None:
    """In a child process: split ``members`` (name, info) into pieces in ``work``, handing the
    reader, through ``out``, each :class:`Part` and :class:`Done` with the bytes inflated since
    the previous one, as ``(bytes, item)``, then ``None``; or a :class:`ReleaseError` that says
    what went wrong. Stops when ``stop`` is set or the reader is gone."""

    def reader_alive() -> bool:
        try:
            os.kill(reader_pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:  # alive, under another user (never here, but not dead)
            pass
        return True

    def put(item: Any) -> bool:
        while not stop.is_set() and reader_alive():
            try:
                out.put(item, timeout=0.2)
                return True
            except queue.Full:
                continue
        return False

    inflated = [0]

    def tick(k: int) -> None:
        inflated[0] += k

    n = ""
    try:
        for n, info in members:
            for item in split_member(zip_path, info, n, work, part_bytes, tick):
                if not put((inflated[0], item)):
                    return
                inflated[0] = 0
        put(None)
    except ReleaseError as exc:
        put(ReleaseError(str(exc)))
    except (zipfile.BadZipFile, OSError, EOFError, zlib.error) as exc:
        put(ReleaseError(f"{n}.csv: cannot be read from the zip ({exc})"))
    except BaseException as exc:  # handed to the reader, which raises it
        put(ReleaseError(f"{n}.csv: {type(exc).__name__}: {exc}"))
