"""DWARF of a Go binary split per package (Go emits one compile unit per package).

For every debug section this yields pieces (start, end, owner) in the section's uncompressed bytes,
owner a package path (the unit's DW_AT_name) or, for .debug_frame and location lists, a code
address whose function's package owns it:

- .debug_info: each unit from its header's unit_length
- .debug_line: each unit's line program (DW_AT_stmt_list) from its unit_length
- .debug_frame: each FDE from its length, owned by the function at its initial location
- .debug_ranges / .debug_rnglists: each unit's range lists from its DW_AT_ranges offset (the
  linker writes a unit's lists together, its own list first, in unit order) up to the next unit's
- .debug_addr (DWARF 5): each unit's slots from its DW_AT_addr_base up to the next unit's
- .debug_loc (DWARF 4): each location list, decoded to its end-of-list entry; on ELF and PE Go starts every
  list with a base address selection naming its function; Mach-O's lists have none (their offsets
  are relative to their unit's base): they go to units in unit order, each unit's from the first
  list its DIEs refer to
- .debug_loclists (DWARF 5): each list decoded; its DW_LLE_base_addressx index is resolved in the
  address table of the unit the list belongs to (units' lists follow in unit order, indices
  ascending within one)

Abbreviation tables, section headers and CIEs belong to no unit. Compressed sections (ELF
SHF_COMPRESSED, .zdebug_*/__zdebug_*) are inflated to be read; the caller maps pieces back to file
bytes in proportion. Anything malformed ends that section's split (its bytes stay unattributed) and
adds a note; nothing raises.

Location lists and the DIEs before a unit's first location list are many (gopls: 159,000 lists of
430,000 entries): where they take the shapes Go writes, compiled regular expressions of their grammar
read them, many at a time, every length decoded as the format encodes it; whatever fits no pattern is
read entry by entry, as are malformed lists, which raise the same errors either way.
"""

from __future__ import annotations

import bisect
import functools
import re
import struct
from collections.abc import Callable, Generator, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Literal, cast

from zlib_ng import zlib_ng  # zlib's format and interface, inflating in half zlib's time

from sizebot.binary.container import BinaryFile
from sizebot.documents.analyze import Section

DW_AT_NAME, DW_AT_STMT_LIST, DW_AT_LOW_PC, DW_AT_RANGES, DW_AT_ADDR_BASE = 0x03, 0x10, 0x11, 0x55, 0x73
DW_AT_LOCATION = 0x02
_MAX_INFLATED = 1 << 31
_INFLATE_ERROR = cast("type[Exception]", zlib_ng.error)  # its stub types it as an instance
PackageAt = Callable[[int], str | None]
Pieces = Iterator[tuple[int, int, str]]

# fixed sizes of attribute forms (DWARF 4/5) that a unit's top DIE may use; None: variable
_FORM_SIZE: dict[int, int | None] = {
    0x01: -1, 0x05: 2, 0x06: 4, 0x07: 8, 0x0B: 1, 0x0C: 1, 0x0E: 4, 0x10: 4, 0x11: 1, 0x12: 2, 0x13: 4, 0x14: 8,
    0x17: 4, 0x19: 0, 0x1F: 4, 0x20: 8, 0x21: 0, 0x25: 1, 0x26: 2, 0x27: 3, 0x28: 4, 0x29: 1, 0x2A: 2,
    0x2B: 3, 0x2C: 4, 0x1C: 4, 0x1D: 8, 0x1E: 16,
    0x08: None, 0x0F: None, 0x0D: None, 0x1A: None, 0x1B: None, 0x22: None, 0x23: None, 0x18: None,
    0x0A: None, 0x03: None, 0x04: None, 0x09: None, 0x15: None,
}


@dataclass
class Unit:
    offset: int
    end: int
    name: str = ""
    stmt_list: int | None = None
    ranges: int | None = None
    addr_base: int | None = None
    loc_start: int | None = None  # the first DWARF 4 location list its DIEs refer to (Mach-O)


@dataclass
class DwarfSplit:
    """Pieces per debug section: (start, end, package) in uncompressed bytes, plus the size of each
    section uncompressed."""

    pieces: dict[str, list[tuple[int, int, str]]] = field(default_factory=dict)
    sizes: dict[str, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def debug_sections(binary: BinaryFile) -> dict[str, Section]:
    """The DWARF sections by their DWARF name (".debug_info"), whatever the container calls them."""
    out: dict[str, Section] = {}
    for s in binary.sections:
        name = s.name.split(",")[-1]
        for prefix in ("__zdebug_", ".zdebug_", "__debug_", ".debug_"):
            if name.startswith(prefix) and s.file_size:
                out[".debug_" + name[len(prefix) :]] = s
                break
    return out


def section_bytes(binary: BinaryFile, sec: Section) -> bytes | None:
    """The section's bytes, inflated when compressed (or copied); None when they cannot be read.
    The file's pages of the section are released from memory once read."""
    try:
        return _section_bytes(binary, sec)
    finally:
        binary.release(sec.offset, sec.file_size)


def _section_bytes(binary: BinaryFile, sec: Section) -> bytes | None:
    raw = binary.data[sec.offset : sec.offset + sec.file_size]
    try:
        compressed = _compression(binary, sec, raw)
        if compressed is not None:
            return _inflate(*compressed)
    except (struct.error, _INFLATE_ERROR, ValueError):
        return None
    size = sec.mem_size if 0 < sec.mem_size < sec.file_size else sec.file_size  # PE: file alignment padding
    return bytes(raw[:size])


def _compression(binary: BinaryFile, sec: Section, raw: memoryview) -> tuple[int, memoryview, int] | None:
    """(compression type: 1 zlib, 2 zstd; the compressed stream; the size it claims to inflate to) of
    a compressed section, None for one stored as it is; struct.error for a header cut short."""
    if bytes(raw[:4]) == b"ZLIB" and "zdebug_" in sec.name:  # "ZLIB", big-endian u64 size, zlib stream
        return 1, raw[12:], struct.unpack_from(">Q", raw, 4)[0]
    if binary.format == "elf" and "compressed" in sec.flags.split(","):  # SHF_COMPRESSED: Elf_Chdr first
        bo = "<" if binary.byte_order == "little" else ">"
        if binary.ptr_size == 8:
            ch_type, _res, size, _align = struct.unpack_from(bo + "IIQQ", raw, 0)
            return ch_type, raw[24:], size
        ch_type, size, _align = struct.unpack_from(bo + "III", raw, 0)
        return ch_type, raw[12:], size
    return None


def _zlib_stream(binary: BinaryFile, sec: Section) -> tuple[memoryview, int] | None:
    """(zlib stream, size it claims) of a zlib-compressed section that ``section_bytes`` would
    inflate; None for any other (read whole by ``section_bytes``)."""
    raw = binary.data[sec.offset : sec.offset + sec.file_size]
    try:
        compressed = _compression(binary, sec, raw)
    except struct.error:
        return None
    if compressed is None or compressed[0] != 1 or compressed[2] > _MAX_INFLATED:
        return None
    return compressed[1], compressed[2]


def _inflate(ch_type: int, body: memoryview, size: int) -> bytes | None:
    if size > _MAX_INFLATED:
        return None
    if ch_type == 1:
        return _inflate_zlib(body, size)
    if ch_type == 2:
        import zstandard

        try:
            out = zstandard.ZstdDecompressor().decompress(bytes(body), max_output_size=size)
        except zstandard.ZstdError:
            return None
    else:
        return None
    return out if len(out) == size else None


_STEP = 1 << 18  # bytes of input, and of output, per call to the inflater


def _inflate_zlib(body: memoryview, size: int) -> bytes | None:
    """The zlib stream ``body`` inflated into one buffer of exactly ``size`` bytes, filled a step at a
    time (one call for the whole stream would hold its output twice while joining it); None when
    the stream does not inflate to ``size`` bytes (a larger one is cut off at once)."""
    out = bytearray(size)
    pos = 0
    try:
        for chunk in _inflated_chunks(body, size):
            out[pos : pos + len(chunk)] = chunk
            pos += len(chunk)
    except _BadStream:
        return None
    return cast(bytes, out)  # read like bytes by every reader here (names compared, never hashed)


class _BadStream(Exception):
    """A zlib stream that does not inflate to the size its section header claims."""


def _inflated_chunks(body: memoryview, size: int) -> Iterator[bytes]:
    """The zlib stream ``body`` inflated a step at a time; _BadStream as soon as it passes ``size``
    bytes, or at its end short of them (zlib's error for a corrupt stream)."""
    d = zlib_ng.decompressobj()
    pos = 0
    for i in range(0, len(body), _STEP):
        data: bytes | memoryview = body[i : i + _STEP]
        while data and not d.eof:
            chunk = d.decompress(data, _STEP)
            if pos + len(chunk) > size:
                raise _BadStream
            yield chunk
            pos += len(chunk)
            data = d.unconsumed_tail
        if d.eof:
            break
    rest = d.flush()
    if pos + len(rest) != size:
        raise _BadStream
    yield rest


def _uleb(d: bytes, pos: int) -> tuple[int, int]:
    v, shift = 0, 0
    while True:
        c = d[pos]
        pos += 1
        v |= (c & 0x7F) << shift
        if c < 0x80:
            return v, pos
        shift += 7


# code -> (tag, has children, [(attribute, form, implicit const)])
AbbrevTable = dict[int, tuple[int, bool, list[tuple[int, int, int]]]]


def abbrev_table(d: bytes, off: int) -> AbbrevTable:
    """The abbreviation table at ``off``."""
    out: AbbrevTable = {}
    pos = off
    while pos < len(d):
        code, pos = _uleb(d, pos)
        if code == 0:
            break
        tag, pos = _uleb(d, pos)
        children = d[pos] != 0
        pos += 1
        attrs = []
        while True:
            attr, pos = _uleb(d, pos)
            form, pos = _uleb(d, pos)
            const = 0
            if form == 0x21:  # implicit const: its value is in the table, not the DIE
                const, pos = _uleb(d, pos)
            if attr == 0 and form == 0:
                break
            attrs.append((attr, form, const))
        out[code] = (tag, children, attrs)
    return out


def _abbrevs(d: bytes, off: int) -> dict[int, list[tuple[int, int, int]]]:
    """code -> [(attribute, form, implicit const)] of the abbreviation table at ``off``."""
    return {code: attrs for code, (_tag, _children, attrs) in abbrev_table(d, off).items()}


def read_units(info: bytes, abbrev: bytes, little: bool) -> list[Unit]:
    """Each compile unit of .debug_info with the attributes of its top DIE this split needs."""
    bo = "<" if little else ">"
    units: list[Unit] = []
    tables: dict[int, dict[int, list[tuple[int, int, int]]]] = {}
    pos = 0
    while pos + 11 <= len(info):
        (length,) = struct.unpack_from(bo + "I", info, pos)
        if length >= 0xFFFFFFF0 or pos + 4 + length > len(info):
            raise ValueError(f"unit at {pos:#x} runs past .debug_info")
        end = pos + 4 + length
        (version,) = struct.unpack_from(bo + "H", info, pos + 4)
        if version >= 5:
            _utype, addr_size, abbrev_off = struct.unpack_from(bo + "BBI", info, pos + 6)
            die = pos + 12
        else:
            abbrev_off, addr_size = struct.unpack_from(bo + "IB", info, pos + 6)
            die = pos + 11
        unit = Unit(pos, end)
        if abbrev_off not in tables:
            tables[abbrev_off] = _abbrevs(abbrev, abbrev_off)
        code, p = _uleb(info, die)
        for attr, form, _const in tables[abbrev_off].get(code, ()):
            value, p = _form_value(info, p, form, addr_size, bo)
            if value is None:
                break
            if attr == DW_AT_NAME and isinstance(value, (bytes, bytearray)):
                unit.name = value.decode("utf-8", "replace")
            elif attr == DW_AT_STMT_LIST and isinstance(value, int):
                unit.stmt_list = value
            elif attr == DW_AT_RANGES and isinstance(value, int) and form in (0x17, 0x06):
                unit.ranges = value
            elif attr == DW_AT_ADDR_BASE and isinstance(value, int):
                unit.addr_base = value
        units.append(unit)
        pos = end
    return units


def _form_value(d: bytes, p: int, form: int, addr_size: int, bo: str) -> tuple[int | bytes | None, int]:
    size = _FORM_SIZE.get(form, -2)
    if size == -2:
        return None, p
    if size == -1:
        size = addr_size
    if size is not None:
        if size in (1, 2, 4, 8):
            return int.from_bytes(d[p : p + size], "little" if bo == "<" else "big"), p + size
        return 0, p + size
    if form == 0x08:  # inline string
        nul = d.index(b"\0", p)
        return d[p:nul], nul + 1
    if form in (0x0F, 0x1A, 0x1B, 0x22, 0x23):  # udata, strx, addrx, loclistx, rnglistx
        return _uleb(d, p)
    if form == 0x0D:
        _v, q = _uleb(d, p)
        return 0, q
    if form in (0x18, 0x09):  # exprloc, block
        n, q = _uleb(d, p)
        return 0, q + n
    if form == 0x0A:
        return 0, p + 1 + d[p]
    if form == 0x03:
        return 0, p + 2 + int.from_bytes(d[p : p + 2], "little" if bo == "<" else "big")
    if form == 0x04:
        return 0, p + 4 + int.from_bytes(d[p : p + 4], "little" if bo == "<" else "big")
    return None, p


def split_dwarf(
    binary: BinaryFile,
    package_at: Callable[[int], str | None],
    on_info: Callable[[bytes, bytes, list[Unit]], None] | None = None,
    merge: bool = True,
) -> DwarfSplit:
    """Pieces of each debug section per package. ``package_at(pc)`` names the package of the
    function containing ``pc`` (None outside Go code). ``on_info(info, abbrev, units)`` reads the
    inflated .debug_info while it is held (it is inflated once). ``merge=False`` leaves adjacent
    pieces of one owner apart (for a caller that merges them by package itself)."""
    runs = _runs if merge else list
    out = DwarfSplit()
    secs = debug_sections(binary)
    if ".debug_info" not in secs or ".debug_abbrev" not in secs:
        return out
    little = binary.byte_order == "little"
    info = section_bytes(binary, secs[".debug_info"])
    abbrev = section_bytes(binary, secs[".debug_abbrev"])
    if info is None or abbrev is None:
        out.notes.append("DWARF sections could not be inflated: left unattributed")
        return out
    try:
        units = read_units(info, abbrev, little)
    except (ValueError, IndexError, struct.error) as e:
        out.notes.append(f"DWARF .debug_info: {e}: left unattributed")
        return out
    out.sizes[".debug_info"] = len(info)
    out.pieces[".debug_info"] = [(u.offset, u.end, u.name) for u in units if u.name]
    if on_info is not None:
        on_info(info, abbrev, units)
    if binary.format == "macho" and ".debug_loc" in secs:
        try:
            _first_location_lists(info, abbrev, units, little)
        except (ValueError, IndexError, KeyError, struct.error) as e:
            out.notes.append(f"DWARF .debug_info: {e}: location lists left unattributed")
    del info
    for name, sec in secs.items():
        if name in (".debug_info", ".debug_abbrev"):
            continue
        stream = _zlib_stream(binary, sec) if name == ".debug_loc" else None
        if stream is not None:  # the largest section, read as it is inflated
            _split_loc_stream(out, binary, sec, stream, units, package_at, runs)
            continue
        data = section_bytes(binary, sec)
        if data is None:
            out.notes.append(f"DWARF {name} could not be inflated: left unattributed")
            continue
        out.sizes[name] = len(data)
        try:
            pieces = runs(_split_section(name, data, units, little, binary.ptr_size, package_at, secs, binary))
        except (ValueError, IndexError, struct.error) as e:
            out.notes.append(f"DWARF {name}: {e}: left unattributed")
            continue
        finally:
            data = None  # not held while the next section is inflated
        out.pieces[name] = pieces
    return out


def _split_loc_stream(
    out: DwarfSplit, binary: BinaryFile, sec: Section, stream: tuple[memoryview, int], units: list[Unit],
    package_at: PackageAt, runs: Callable[[Pieces], list[tuple[int, int, str]]] | None = None,
) -> None:
    """.debug_loc, zlib-compressed, split as it is inflated: the same pieces and notes as inflating it
    whole first (a stream that does not inflate to its claimed size fails at its end, before the last
    part is read)."""
    body, size = stream
    bo = "<" if binary.byte_order == "little" else ">"
    try:
        pieces = (runs or _runs)(_loc_stream(_inflated_chunks(body, size), bo, binary.ptr_size, package_at, units))
    except (_INFLATE_ERROR, _BadStream):
        out.notes.append("DWARF .debug_loc could not be inflated: left unattributed")
        return
    except (ValueError, IndexError, struct.error) as e:
        out.sizes[".debug_loc"] = size
        out.notes.append(f"DWARF .debug_loc: {e}: left unattributed")
        return
    finally:
        binary.release(sec.offset, sec.file_size)
    out.sizes[".debug_loc"] = size
    out.pieces[".debug_loc"] = pieces


def _runs(pieces: Pieces) -> list[tuple[int, int, str]]:
    """Adjacent pieces of one package merged (a unit's location lists, a package's FDEs): far
    fewer records to hold and claim."""
    out: list[tuple[int, int, str]] = []
    for start, end, pkg in pieces:
        if out and out[-1][1] == start and out[-1][2] == pkg:
            out[-1] = (out[-1][0], end, pkg)
        else:
            out.append((start, end, pkg))
    return out


def _split_section(
    name: str, data: bytes, units: list[Unit], little: bool, ptr: int,
    package_at: Callable[[int], str | None], secs: dict[str, Section], binary: BinaryFile,
) -> Iterator[tuple[int, int, str]]:
    bo = "<" if little else ">"
    if name == ".debug_line":
        for u in units:
            if u.stmt_list is None or not u.name:
                continue
            (length,) = struct.unpack_from(bo + "I", data, u.stmt_list)
            if length >= 0xFFFFFFF0 or u.stmt_list + 4 + length > len(data):
                raise ValueError(f"line program at {u.stmt_list:#x} runs past the section")
            yield u.stmt_list, u.stmt_list + 4 + length, u.name
    elif name == ".debug_frame":
        yield from _frame_pieces(data, bo, ptr, package_at)
    elif name in (".debug_ranges", ".debug_rnglists"):
        yield from _partition(len(data), [(u.ranges, u.name) for u in units if u.ranges is not None and u.name])
    elif name == ".debug_addr":
        yield from _partition(len(data), [(u.addr_base, u.name) for u in units if u.addr_base is not None and u.name])
    elif name == ".debug_loc":
        yield from _loc_pieces(data, bo, ptr, package_at, units)
    elif name == ".debug_loclists":
        addr = secs.get(".debug_addr")
        table = section_bytes(binary, addr) if addr is not None else None
        if table is not None:
            yield from _loclists_pieces(data, table, units, bo, ptr, package_at)


def _partition(size: int, starts: list[tuple[int, str]]) -> Iterator[tuple[int, int, str]]:
    """Contributions laid out back to back in unit order: each from its start to the next one's."""
    starts = sorted(s for s in starts if 0 <= s[0] < size)
    for (start, pkg), nxt in zip(starts, [*starts[1:], (size, "")], strict=True):
        if nxt[0] > start:
            yield start, nxt[0], pkg


def _frame_pieces(data: bytes, bo: str, ptr: int, package_at: PackageAt) -> Pieces:
    """Each FDE to its function's package, adjacent FDEs of one package yielded as one piece."""
    head = struct.Struct(bo + "II")
    fde = struct.Struct(bo + "II" + ("Q" if ptr == 8 else "I"))
    word = struct.Struct(bo + ("Q" if ptr == 8 else "I"))
    pos, n = 0, len(data)
    run_start, run_end, run_pkg = 0, -1, ""
    while pos + 8 <= n:
        if pos + 8 + ptr <= n:
            length, cie_id, pc = fde.unpack_from(data, pos)
        else:
            (length, cie_id), pc = head.unpack_from(data, pos), None
        end = pos + 4 + length
        if length == 0 or length >= 0xFFFFFFF0 or end > n:
            raise ValueError(f"frame entry at {pos:#x} runs past the section")
        if cie_id != 0xFFFFFFFF:  # an FDE: CIE pointer, then its function's address
            pkg = package_at(pc if pc is not None else word.unpack_from(data, pos + 8)[0])
            if pkg:
                if pos != run_end or pkg != run_pkg:
                    if run_pkg:
                        yield run_start, run_end, run_pkg
                    run_start, run_pkg = pos, pkg
                run_end = end
        pos = end
    if run_pkg:
        yield run_start, run_end, run_pkg


def _first_location_lists(info: bytes, abbrev: bytes, units: list[Unit], little: bool) -> None:
    """Set each unit's ``loc_start``: the first .debug_loc offset one of its DIEs refers to
    (DW_AT_location as a section offset), reading its DIEs in order up to that one: those that
    ``_dies_without_location`` reads by their abbreviations' pattern, any other one attribute by
    attribute."""
    bo = "<" if little else ">"
    tables: dict[int, dict[int, list[tuple[int, int, int]]]] = {}
    skips: dict[tuple[int, int], re.Pattern[bytes]] = {}
    for u in units:
        (version,) = struct.unpack_from(bo + "H", info, u.offset + 4)
        if version >= 5:
            return  # DWARF 5 lists are in .debug_loclists
        abbrev_off, addr_size = struct.unpack_from(bo + "IB", info, u.offset + 6)
        table = tables.get(abbrev_off)
        if table is None:
            table = tables[abbrev_off] = _abbrevs(abbrev, abbrev_off)
        skip = skips.get((abbrev_off, addr_size))
        if skip is None:
            skip = skips[abbrev_off, addr_size] = _dies_without_location(table, addr_size)
        p = u.offset + 11
        while p < u.end and u.loc_start is None:
            m = skip.match(info, p, u.end)
            if m is not None and m.end() > p:
                p = m.end()
                continue
            code, p = _uleb(info, p)
            if code == 0:
                continue
            for attr, form, _const in table[code]:
                value, p = _form_value(info, p, form, addr_size, bo)
                if value is None:
                    raise ValueError(f"DIE at {p:#x}: unsupported form {form:#x}")
                if attr == DW_AT_LOCATION and form in (0x06, 0x17) and isinstance(value, int):
                    u.loc_start = value
                    break


def _dies_without_location(table: dict[int, list[tuple[int, int, int]]], addr_size: int) -> re.Pattern[bytes]:
    """A pattern of a sequence of DIEs, null entries included, of the abbreviations in ``table`` that
    have no DW_AT_location as a section offset, each attribute read by its form: fixed sizes, strings
    to their NUL, ULEB128/SLEB128 values, blocks and expressions of a 1-byte length up to 23 (a DIE
    with another form or a longer block fits no alternative)."""
    uleb = rb"[\x80-\xff]*+[\x00-\x7f]"
    short = b"(?:" + b"|".join(re.escape(bytes([n])) + (b".{%d}" % n if n else b"") for n in range(24)) + b")"
    by_form = {0x08: rb"[^\x00]*+\x00", 0x0F: uleb, 0x1A: uleb, 0x1B: uleb, 0x22: uleb, 0x23: uleb, 0x0D: uleb,
               0x18: short, 0x09: short, 0x0A: short}
    alternatives = [rb"\x00"]
    for code, attrs in table.items():
        parts = []
        for attr, form, _const in attrs:
            size = _FORM_SIZE.get(form, -2)
            if attr == DW_AT_LOCATION and form in (0x06, 0x17) or size == -2:
                break
            if size is None:
                if form not in by_form:
                    break
                parts.append(by_form[form])
            elif size:
                parts.append(b".{%d}" % (addr_size if size == -1 else size))
        else:
            alternatives.append(re.escape(_uleb128(code)) + b"".join(parts))
    return re.compile(b"(?:" + b"|".join(alternatives) + b")*+", re.S)


def _uleb128(v: int) -> bytes:
    out = bytearray()
    while True:
        c, v = v & 0x7F, v >> 7
        out.append(c | 0x80 if v else c)
        if not v:
            return bytes(out)


def _loc_pieces(
    data: bytes, bo: str, ptr: int, package_at: PackageAt, units: list[Unit] | None = None,
    base: int = 0, final: bool = True,
) -> Generator[tuple[int, int, str], None, int]:
    """DWARF 4 location lists: (begin, end) address pairs, each followed by a 2-byte expression
    length and the expression, ended by (0, 0); a begin of all ones selects a base address. A list
    without one (Mach-O: offsets from its unit's base address) is its unit's: units' lists follow in
    unit order, from the first list each unit's DIEs refer to.

    Lists are decoded by compiled patterns of that grammar (``_loc_patterns``) where they fit them: a
    run of lists that all start by selecting the same base address (Go on ELF and PE: one function's
    lists) in one match, a unit's lists without one in another. A list that fits neither (an
    expression of 256 bytes or more, a list cut off, anything malformed) is decoded by ``_loc_list``,
    which also raises what a malformed list raises.

    ``data`` may be a part of the section from offset ``base`` (pieces are in section offsets); unless
    it is the ``final`` part, a list it does not hold whole ends the reading there. Returns the
    length read."""
    firsts = sorted((u.loc_start, u.name) for u in units or () if u.loc_start is not None and u.name)
    first_offs = [o for o, _n in firsts]
    based_run, unbased_lists = _loc_patterns(ptr, bo == "<")
    order: Literal["little", "big"] = "little" if bo == "<" else "big"
    pos, n = 0, len(data)
    run_start, run_pkg = 0, ""
    while pos < n:
        start = pos
        m = based_run.match(data, pos)
        if m is not None:
            pos = m.end()
            pkg = package_at(int.from_bytes(m.group(1), order))
        else:
            k = bisect.bisect_right(first_offs, base + pos) - 1
            limit = first_offs[k + 1] - base if k + 1 < len(first_offs) else n
            m = unbased_lists.match(data, pos, limit) if k >= 0 else None
            if m is not None:  # the lists of unit k up to the next unit's first
                pos = m.end()
                pkg = firsts[k][1]
            else:
                try:
                    pos, pkg = _loc_list(data, pos, bo, ptr, package_at, firsts, first_offs, base)
                except (ValueError, IndexError, struct.error):
                    if final:
                        raise
                    break  # the list goes on in the next part
        if pkg != run_pkg:  # lists follow one another: a run ends where another package's starts
            if run_pkg:
                yield base + run_start, base + start, run_pkg
            run_start, run_pkg = start, pkg or ""
    if run_pkg:
        yield base + run_start, base + pos, run_pkg  # after a break, pos is where the list cut off starts
    return pos


def _loc_stream(parts: Iterable[bytes], bo: str, ptr: int, package_at: PackageAt, units: list[Unit]) -> Pieces:
    """``_loc_pieces`` of a section read in consecutive parts (inflated a step at a time, never held
    whole): each part is read as far as it holds whole lists, the rest carried into the next. A list
    that does not end in the next part either is tried again once what is carried has doubled."""
    carried, base, retry_at = bytearray(), 0, 0  # extended in place: a list that never ends costs no copies
    for part in parts:
        carried += part
        if len(carried) < retry_at:
            continue
        used = yield from _loc_pieces(cast(bytes, carried), bo, ptr, package_at, units, base, final=False)
        base += used
        del carried[:used]
        retry_at = 2 * len(carried)
    yield from _loc_pieces(cast(bytes, carried), bo, ptr, package_at, units, base)


@functools.cache
def _loc_patterns(ptr: int, little: bool) -> tuple[re.Pattern[bytes], re.Pattern[bytes]]:
    """Patterns of DWARF 4 location lists of ``ptr``-byte addresses: (a run of lists that each start
    by selecting the same base address, captured; one or more lists without a base address entry).
    An entry is a pair that is neither (0, 0) nor a base address selection, then the 2-byte length
    of its expression and that many bytes (lengths up to 127, as Go writes them; a longer one fits no
    pattern). Repetitions are possessive: a list is read one way or not at all."""
    end, ones = rb"\x00{%d}" % (2 * ptr), rb"\xff{%d}" % ptr
    lengths = [*range(1, 128), 0]  # the most frequent first: each alternative is tried in turn
    counted = [(re.escape(bytes([n])), b".{%d}" % n if n else b"") for n in lengths]
    if little:
        expr = b"(?:" + b"|".join(low + rb"\x00" + body for low, body in counted) + b")"
    else:
        expr = rb"\x00(?:" + b"|".join(low + body for low, body in counted) + b")"
    pair = b"(?!" + end + b").{%d}" % (2 * ptr) + expr  # tried after a base address selection failed
    base = ones + b".{%d}" % ptr
    based = ones + b"(.{%d})(?:" % ptr + base + b"|" + pair + b")*+" + end
    based_run = based + b"(?:" + ones + rb"\1(?:" + base + b"|" + pair + b")*+" + end + b")*+"
    unbased = b"(?:(?:(?!" + ones + b")" + pair + b")*+" + end + b")++"
    return re.compile(based_run, re.S), re.compile(unbased, re.S)


def _loc_list(
    data: bytes, pos: int, bo: str, ptr: int, package_at: PackageAt,
    firsts: list[tuple[int, str]], first_offs: list[int], base: int = 0,
) -> tuple[int, str | None]:
    """The end of the location list at ``pos`` and its package, decoded entry by entry."""
    pair = struct.Struct(bo + ("QQ" if ptr == 8 else "II"))
    u16 = struct.Struct(bo + "H")
    ones = (1 << (8 * ptr)) - 1
    start, owner, based, n = pos, None, False, len(data)
    while True:
        begin, end = pair.unpack_from(data, pos)
        pos += 2 * ptr
        if begin == 0 and end == 0:
            break
        if begin == ones:
            based = True
            if owner is None:
                owner = end
            continue
        (elen,) = u16.unpack_from(data, pos)
        pos += 2 + elen
        if owner is None:
            owner = begin
    if pos > n:
        raise ValueError("location list runs past the section")
    if not based and first_offs:
        k = bisect.bisect_right(first_offs, base + start) - 1
        return pos, firsts[k][1] if k >= 0 else None
    return pos, package_at(owner) if owner is not None else None


def _loclists_pieces(
    data: bytes, addr: bytes, units: list[Unit], bo: str, ptr: int, package_at: Callable[[int], str | None]
) -> Iterator[tuple[int, int, str]]:
    """DWARF 5 location lists after the section header; each list's first entry (Go writes
    DW_LLE_base_addressx) names its function by an index into its unit's .debug_addr slots.

    Lists as Go writes them (DW_LLE_base_addressx, DW_LLE_offset_pairs, DW_LLE_end_of_list) are
    decoded by a compiled pattern of that grammar, a run of lists naming the same index in one
    match; any other list entry by entry (``_loclist``), which also raises what a malformed list
    raises."""
    word = struct.Struct(bo + ("Q" if ptr == 8 else "I"))
    bases = sorted(u.addr_base for u in units if u.addr_base is not None)
    tables = [(b, nxt) for b, nxt in zip(bases, [*bases[1:], len(addr)], strict=True)]
    if not tables:
        return
    t, last_i = 0, -1

    def slot(t: int, i: int) -> int | None:
        b, e = tables[t]
        o = b + i * ptr
        return word.unpack_from(addr, o)[0] if o + ptr <= e else None

    def function(i: int) -> int | None:
        """The address in slot ``i``: a unit's lists name its functions in slot order, so a smaller
        index, or one past the unit's slots, starts the next unit (that has the slot)."""
        nonlocal t, last_i
        cand = slot(t, i) if i >= last_i else None
        if cand is None:
            for t2 in range(t + 1, len(tables)):
                cand = slot(t2, i)
                if cand is not None:
                    t = t2
                    break
        if cand is not None:
            last_i = i
        return cand

    (length,) = struct.unpack_from(bo + "I", data, 0)
    pos, n = 12, min(len(data), 4 + length)
    same_index_run = _loclists_pattern()
    while pos < n:
        start = pos
        m = same_index_run.match(data, pos, n)
        if m is not None:
            pos = m.end()
            index = m.group(1)
            owner = function(index[0] if len(index) == 1 else _uleb(index, 0)[0])
        else:
            pos, owner = _loclist(data, pos, word, ptr, function)
        pkg = package_at(owner) if owner is not None else None
        if pkg:
            yield start, pos, pkg


@functools.cache
def _loclists_pattern() -> re.Pattern[bytes]:
    """A run of DWARF 5 location lists that each select the same base address by index (captured):
    DW_LLE_base_addressx, DW_LLE_offset_pairs (two ULEB128 offsets and an expression of a 1-byte
    length, up to 127, as Go writes them), DW_LLE_end_of_list."""
    uleb = rb"[\x80-\xff]*+[\x00-\x7f]"
    expr = b"(?:" + b"|".join(re.escape(bytes([n])) + (b".{%d}" % n if n else b"") for n in [*range(1, 128), 0]) + b")"
    pairs = rb"(?:\x04" + uleb + uleb + expr + rb")*+\x00"
    return re.compile(rb"\x01(" + uleb + b")" + pairs + rb"(?:\x01\1" + pairs + b")*+", re.S)


def _loclist(
    data: bytes, pos: int, word: struct.Struct, ptr: int, function: Callable[[int], int | None]
) -> tuple[int, int | None]:
    """The end of the DWARF 5 location list at ``pos`` and its function's address (from its first
    base address entry), decoded entry by entry."""
    owner = None
    while True:
        op = data[pos]
        pos += 1
        if op == 0:  # end_of_list
            break
        if op == 1:  # base_addressx
            i, pos = _uleb(data, pos)
            if owner is None:
                owner = function(i)
        elif op in (2, 3, 4):  # startx_endx, startx_length, offset_pair: two ulebs, a counted expression
            for _ in (0, 1):
                while data[pos] & 0x80:
                    pos += 1
                pos += 1
            elen = data[pos]
            if elen < 0x80:
                pos += 1 + elen
            else:
                elen, pos = _uleb(data, pos)
                pos += elen
        elif op == 5:  # default_location
            elen, pos = _uleb(data, pos)
            pos += elen
        elif op == 6:  # base_address
            if owner is None:
                owner = word.unpack_from(data, pos)[0]
            pos += ptr
        elif op in (7, 8):  # start_end, start_length
            pos += ptr
            if op == 7:
                pos += ptr
            else:
                _b, pos = _uleb(data, pos)
            elen, pos = _uleb(data, pos)
            pos += elen
        else:
            raise ValueError(f"unknown location list entry {op:#x} at {pos - 1:#x}")
    return pos, owner


def file_spans(sec: Section, usize: int, pieces: list[tuple[int, int, str]]) -> Iterator[tuple[int, int, str]]:
    """File spans of pieces of a section whose contents are ``usize`` bytes read (inflated, or not):
    identical offsets when uncompressed, else in proportion, so that the spans never overlap and
    the sum of all shares is the section's file size."""
    fsize = sec.file_size
    if usize <= 0:
        return
    if usize <= fsize and "compressed" not in sec.flags.split(",") and "zdebug_" not in sec.name:
        for start, end, pkg in pieces:
            yield sec.offset + start, sec.offset + min(end, usize), pkg
        return
    for start, end, pkg in pieces:
        a = sec.offset + start * fsize // usize
        b = sec.offset + min(end, usize) * fsize // usize
        if b > a:
            yield a, b, pkg



