"""``open_binary(path)``: memory-maps the file once and returns the reader for its format (ELF, Mach-O
or PE), a ``BinaryFile`` (binaryfile.py). Anything else is one ``BinaryFormatError`` naming the file.
"""

from __future__ import annotations

import mmap
import os

from sizebot.binary.binaryfile import BinaryFile
from sizebot.errors import BinaryFormatError
from sizebot.files import open_regular

__all__ = ["BinaryFile", "open_binary"]


def open_binary(path: str | os.PathLike[str]) -> BinaryFile:
    """Open an ELF, Mach-O or PE file; BinaryFormatError (one line naming the file) otherwise."""
    path = os.fspath(path)
    fd, size = open_regular(path, BinaryFormatError)
    try:
        with open(fd, "rb") as f:
            if size == 0:
                raise BinaryFormatError("empty file: not an ELF, Mach-O or PE executable", path=path)
            mm = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
    except OSError as e:
        raise BinaryFormatError(f"cannot read: {e.strerror or e}", path=path) from None
    try:
        return _dispatch(path, mm)
    except BaseException:
        try:
            mm.close()
        except BufferError:
            pass  # the failed reader's views still point at it; they go with the exception
        raise


def _dispatch(path: str, mm: mmap.mmap) -> BinaryFile:
    head = mm[:4]
    if head == b"\x7fELF":
        from sizebot.binary.elf import ElfFile

        return ElfFile(path, mm)
    if head in (b"\xcf\xfa\xed\xfe", b"\xce\xfa\xed\xfe", b"\xca\xfe\xba\xbe", b"\xca\xfe\xba\xbf",
                b"\xfe\xed\xfa\xcf", b"\xfe\xed\xfa\xce"):
        from sizebot.binary.macho import MachOFile, looks_like_macho

        if looks_like_macho(mm):
            return MachOFile(path, mm)
    if head[:2] == b"MZ":
        from sizebot.binary.pe import PEFile

        return PEFile(path, mm)
    raise BinaryFormatError("not an ELF, Mach-O or PE executable", path=path)
