"""embed.FS file tables (//go:embed into an embed.FS), found without symbols.

The compiler writes an embed.FS variable's files as one read-only object "<pkg>.<Var>.files": a
slice header pointing just past itself, then the slice's elements, embed's ``file`` records::

    name string, data string, hash [16]byte       (48 bytes with 8-byte pointers, 32 with 4)

sorted by directory then name; directories end in "/" and have no data. That shape (a slice
header whose pointer is its own address + 3 words, len == cap, then well-formed records) is what
is searched for in the read-only data. The embedding package is the one the symbol table names
for the object, else the package of the code that loads the variable holding its address (amd64
RIP-relative LEA/MOV, arm64 ADRP + ADD/LDR), else unknown.
"""

from __future__ import annotations

import re
import struct
import sys
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sizebot.binary.container import BinaryFile
from sizebot.documents.analyze import Section

MAX_FILES = 1 << 20  # far more than any module embeds; past it the table is taken as damaged


@dataclass(frozen=True)
class FsTable:
    addr: int
    offset: int  # file offset of the slice header
    size: int  # header + records
    files: tuple[tuple[str, int, int, int], ...]  # (name, data file offset, data size, name file offset)
    name_sizes: tuple[int, ...]


def find_fs_tables(binary: BinaryFile, notes: list[str]) -> list[FsTable]:
    ptr = binary.ptr_size
    out: list[FsTable] = []
    for sec in binary.rodata_sections():
        n = sec.file_size // ptr
        if n < 4 or not sec.addr:
            continue
        first = (-sec.addr) % ptr
        n = (sec.file_size - first) // ptr
        words = word_view(binary, sec.offset + first, n)
        base = sec.addr + first + 3 * ptr
        hits = [i for i in range(n) if words[i] == base + i * ptr]
        for i in hits:
            if i + 2 >= n or words[i + 1] != words[i + 2] or words[i + 1] == 0:
                continue
            table = _read_table(binary, sec, first, words, i, ptr, notes)
            if table is not None:
                out.append(table)
    return out


def word_view(binary: BinaryFile, offset: int, count: int) -> Sequence[int]:
    """``count`` pointer-sized words at ``offset``, read in place (no list of them all)."""
    raw = binary.data[offset : offset + count * binary.ptr_size]
    if (binary.byte_order == "little") == (sys.byteorder == "little"):
        return raw.cast("Q" if binary.ptr_size == 8 else "I")
    bo = "<" if binary.byte_order == "little" else ">"
    return struct.unpack_from(f"{bo}{count}{'Q' if binary.ptr_size == 8 else 'I'}", raw)


def _read_table(
    binary: BinaryFile, sec: Section, first: int, words: Sequence[int], i: int, ptr: int, notes: list[str]
) -> FsTable | None:
    count = words[i + 1]
    rec_words = 4 + 16 // ptr
    addr = sec.addr + first + i * ptr
    if count > MAX_FILES or i + 3 + count * rec_words > len(words):
        notes.append(f"embed.FS table at {addr:#x} lists {count} files, past its section: left unattributed")
        return None
    files = []
    name_sizes = []
    for k in range(count):
        at = i + 3 + k * rec_words
        name_ptr, name_len, data_ptr, data_len = words[at], words[at + 1], words[at + 2], words[at + 3]
        name_off = binary.vaddr_to_offset(name_ptr) if name_len else None
        if name_off is None or name_len > 4096 or name_off + name_len > binary.file_size:
            return None
        raw = bytes(binary.data[name_off : name_off + name_len])
        if b"\0" in raw or raw.startswith(b"/"):
            return None
        try:
            name = raw.decode("utf-8")
        except UnicodeDecodeError:
            return None
        data_off = binary.vaddr_to_offset(data_ptr) if data_len else 0
        if data_len and (data_off is None or data_off + data_len > binary.file_size):
            notes.append(f"embed.FS table at {addr:#x}: file {name!r} runs past the file: left unattributed")
            return None
        if name.endswith("/") and data_len:
            return None
        files.append((name, data_off or 0, data_len, name_off))
        name_sizes.append(name_len)
    offset = sec.offset + first + i * ptr
    return FsTable(addr, offset, (3 + count * rec_words) * ptr, tuple(files), tuple(name_sizes))


def fs_package(
    binary: BinaryFile, table: FsTable, symbol_package: Callable[[int], str | None],
    code_package: Callable[[int], str | None],
) -> str | None:
    """The package embedding ``table``: from the symbol table, else from the code loading the
    variable that holds its address (or the table itself)."""
    pkg = symbol_package(table.addr)
    if pkg:
        return pkg
    ptr = binary.ptr_size
    needle = table.addr.to_bytes(ptr, binary.byte_order)
    targets = {table.addr}
    for sec in binary.data_sections():
        pos = binary.find_bytes(needle, sec.offset, sec.offset + sec.file_size)
        while pos >= 0:
            if (pos - sec.offset) % ptr == 0:
                targets.add(sec.addr + pos - sec.offset)
            pos = binary.find_bytes(needle, pos + 1, sec.offset + sec.file_size)
    votes: Counter[str] = Counter()
    for pc in code_references(binary, targets):
        p = code_package(pc)
        if p:
            votes[p] += 1
    return votes.most_common(1)[0][0] if votes else None


_AMD64_RIP = re.compile(rb"[\x48\x4c][\x8b\x8d][\x05\x0d\x15\x1d\x25\x2d\x35\x3d]")


def code_references(binary: BinaryFile, targets: set[int]) -> list[int]:
    """Addresses of instructions that load one of ``targets`` (amd64 RIP-relative LEA/MOV; arm64
    ADRP followed by ADD/LDR on the same register)."""
    text = binary.text_section()
    if text is None or not targets:
        return []
    data = bytes(binary.data[text.offset : text.offset + text.file_size])
    out = []
    if binary.goarch == "amd64":
        for m in _AMD64_RIP.finditer(data):
            p = m.start()
            if p + 7 > len(data):
                break
            disp = int.from_bytes(data[p + 3 : p + 7], "little", signed=True)
            if text.addr + p + 7 + disp in targets:
                out.append(text.addr + p)
    elif binary.goarch == "arm64":
        pages = {t & ~0xFFF for t in targets}
        words = struct.unpack_from(f"<{len(data) // 4}I", data)
        for j, w in enumerate(words[:-1]):
            if w & 0x9F000000 != 0x90000000:  # ADRP
                continue
            pc = text.addr + 4 * j
            imm = ((w >> 29) & 3) | (((w >> 5) & 0x7FFFF) << 2)
            if imm & (1 << 20):
                imm -= 1 << 21
            page = (pc & ~0xFFF) + (imm << 12)
            if page not in pages:
                continue
            nxt, rd = words[j + 1], w & 0x1F
            if (nxt >> 5) & 0x1F != rd:
                continue
            if nxt & 0xFFC00000 == 0x91000000:  # ADD Xd, Xn, #imm12
                low = (nxt >> 10) & 0xFFF
            elif nxt & 0xFFC00000 == 0xF9400000:  # LDR Xt, [Xn, #imm12*8]
                low = ((nxt >> 10) & 0xFFF) * 8
            else:
                continue
            if page + low in targets:
                out.append(pc)
    return out
