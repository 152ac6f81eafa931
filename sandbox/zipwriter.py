"""A zip writer for what Python's ``zipfile`` cannot write: Deflate64 members (method 9), the way
EOIR's "EOIR Case Data.zip" stores its big tables, next to Deflate and stored ones, with zip64
records where a member, an offset or the archive passes 4 GiB.

Each member is streamed from its file through its compressor in pieces (bounded memory, any
size); the local header is written first with room for zip64 sizes and patched once the sizes
and the CRC-32 are known, so no data descriptor is needed.
"""

from __future__ import annotations

import struct
import time
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Protocol

STORED, DEFLATED, DEFLATE64 = 0, 8, 9
_LIMIT = 0xFFFFFFFF
_PIECE = 1 << 20


class _Compressor(Protocol):
    def compress(self, data: bytes) -> bytes: ...

    def flush(self) -> bytes: ...


class _Stored:
    def compress(self, data: bytes) -> bytes:
        return data

    def flush(self) -> bytes:
        return b""


class _Deflate64:
    """A Deflate64 stream: inflate64's compressor (matches over its 64 KiB window)."""

    def __init__(self) -> None:
        import inflate64

        self._deflater = inflate64.Deflater()

    def compress(self, data: bytes) -> bytes:
        out: bytes = self._deflater.deflate(data)
        return out

    def flush(self) -> bytes:
        out: bytes = self._deflater.flush()
        return out


def _literal_deflate64() -> _Compressor:
    """A Deflate64 stream of Huffman-coded literals only, in bounded memory.

    inflate64's compressor keeps every piece of its input until it is flushed (seen 2026-11: 200
    MB in, 218 MB resident), which a national release's multi-gigabyte members cannot afford.
    Deflate64 differs from Deflate only in its longer window, its distance codes 30-31 and its
    length code 285; a stream with no matches at all (zlib's Huffman-only strategy) uses none of
    them, so it is valid Deflate64 as it is, still compressed by its Huffman codes, and read by
    every Deflate64 decoder (Info-ZIP's unzip checks it in the tests)."""
    return zlib.compressobj(1, zlib.DEFLATED, -15, 9, zlib.Z_HUFFMAN_ONLY)


#: members larger than this are written as literal-only Deflate64 (see _literal_deflate64)
LITERAL_DEFLATE64_ABOVE = 64 << 20


def _compressor(method: int, level: int, size: int = 0) -> _Compressor:
    if method == STORED:
        return _Stored()
    if method == DEFLATED:
        return zlib.compressobj(level, zlib.DEFLATED, -15)
    if method == DEFLATE64:
        return _literal_deflate64() if size > LITERAL_DEFLATE64_ABOVE else _Deflate64()
    raise ValueError(f"compression method {method} is not written here")


def _dos_stamp(moment: float) -> tuple[int, int]:
    t = time.localtime(moment)
    return (t.tm_hour << 11) | (t.tm_min << 5) | (t.tm_sec // 2), (
        ((t.tm_year - 1980) << 9) | (t.tm_mon << 5) | t.tm_mday
    )


@dataclass
class _Entry:
    name: bytes
    method: int
    crc: int
    compressed: int
    size: int
    offset: int
    stamp: tuple[int, int]


class ZipWriter:
    """Members added one at a time, each with its own method; ``close`` writes the directory.
    The same members, methods and ``stamp`` make the same bytes.

    ``force_zip64`` writes zip64 records for every member and the archive even when small (for
    tests of the readers: the same structures a member over 4 GiB gets)."""

    def __init__(
        self, path: Path, *, level: int = 6, force_zip64: bool = False, stamp: float | None = None
    ) -> None:
        self._fh: IO[bytes] = path.open("wb")
        self._entries: list[_Entry] = []
        self._level = level
        self._force = force_zip64
        self._stamp = stamp  # members' modification time (None: now); fixed, the zip repeats

    def __enter__(self) -> ZipWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def write_bytes(self, name: str, data: bytes, method: int = DEFLATED) -> None:
        self._write(name, [data], method, len(data))

    def write_pieces(
        self, name: str, pieces: Iterable[bytes], size: int, method: int = DEFLATED
    ) -> None:
        """A member streamed from ``pieces`` (``size`` bytes in all), never whole in memory."""
        self._write(name, pieces, method, size)

    def write_file(self, name: str, source: Path, method: int = DEFLATED) -> None:
        with source.open("rb") as fh:
            self._write(name, iter(lambda: fh.read(_PIECE), b""), method, source.stat().st_size)

    def _write(self, name: str, pieces: Iterable[bytes], method: int, expected: int) -> None:
        fh = self._fh
        encoded = name.encode("utf-8")
        offset = fh.tell()
        stamp = _dos_stamp(time.time() if self._stamp is None else self._stamp)
        # Room for the zip64 sizes in every local header: patched below when they are known.
        fh.write(b"\0" * (30 + len(encoded) + 20))
        crc = size = compressed = 0
        packer = _compressor(method, self._level, expected)
        for piece in pieces:
            crc = zlib.crc32(piece, crc)
            size += len(piece)
            out = packer.compress(piece)
            compressed += len(out)
            fh.write(out)
        tail = packer.flush()
        compressed += len(tail)
        fh.write(tail)
        end = fh.tell()
        big = self._force or max(size, compressed) >= _LIMIT
        fh.seek(offset)
        fh.write(
            struct.pack(
                "<IHHHHHIIIHH",
                0x04034B50,
                45,  # version needed: zip64 (4.5) covers Deflate64 (2.1)
                0x0800,  # names in UTF-8
                method,
                *stamp,
                crc,
                _LIMIT if big else compressed,  # over 4 GiB: the sizes are in the zip64 field
                _LIMIT if big else size,
                len(encoded),
                20,
            )
        )
        fh.write(encoded)
        fh.write(struct.pack("<HHQQ", 0x0001, 16, size, compressed))
        fh.seek(end)
        self._entries.append(_Entry(encoded, method, crc, compressed, size, offset, stamp))

    def close(self) -> None:
        if self._fh.closed:
            return
        fh = self._fh
        start = fh.tell()
        for e in self._entries:
            big = self._force or max(e.size, e.compressed, e.offset) >= _LIMIT
            extra = (
                struct.pack("<HHQQQ", 0x0001, 24, e.size, e.compressed, e.offset) if big else b""
            )
            fh.write(
                struct.pack(
                    "<IHHHHHHIIIHHHHHII",
                    0x02014B50,
                    45 | (3 << 8),  # made by: zip 4.5 on Unix
                    45,
                    0x0800,
                    e.method,
                    *e.stamp,
                    e.crc,
                    _LIMIT if big else e.compressed,
                    _LIMIT if big else e.size,
                    len(e.name),
                    len(extra),
                    0,
                    0,
                    0,
                    0o100644 << 16,  # a regular file, rw-r--r--
                    _LIMIT if big else e.offset,
                )
            )
            fh.write(e.name)
            fh.write(extra)
        directory = fh.tell() - start
        count = len(self._entries)
        if self._force or start >= _LIMIT or count >= 0xFFFF or directory >= _LIMIT:
            record = fh.tell()
            fh.write(
                struct.pack(
                    "<IQHHIIQQQQ", 0x06064B50, 44, 45, 45, 0, 0, count, count, directory, start
                )
            )
            fh.write(struct.pack("<IIQI", 0x07064B50, 0, record, 1))
            fh.write(struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, 0xFFFF, 0xFFFF, _LIMIT, _LIMIT, 0))
        else:
            fh.write(struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, count, count, directory, start, 0))
        fh.close()
