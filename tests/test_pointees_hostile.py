"""binary/pointees.py against forged DWARF: a global array whose DW_AT_count is forged from 200 to
16,383 elements, at two nesting levels (16,383 x 16,383 objects to walk) in a real binary. Every object
put on the walk counts against the limit: the analysis finishes with a note, what was not walked stays
unattributed, and the figures still sum to the file's size."""

from __future__ import annotations

from elftools.elf.elffile import ELFFile

from sizebot.binary.attribute import analyze_binary
from sizebot.binary.pointees import _MAX_OBJECTS
from tests.support.goprograms import build

NESTED = {
    "go.mod": "module example.com/nested\n\ngo 1.21\n",
    "main.go": "package main\n\nimport (\n\t\"fmt\"\n\t\"os\"\n)\n\nvar x = 1\n\n"
               "type Inner struct{ ps [200]*int }\n\n"
               "var table = [200]Inner{{ps: [200]*int{&x}}}\n\n"
               "func main() { fmt.Println(table[len(os.Args)%200].ps[0] != nil) }\n",
}


def _count_offsets(binary) -> list[int]:
    """File offsets of the DW_AT_count values of main's two [200] arrays (ULEB128: c8 01)."""
    with open(binary, "rb") as fh:
        elf = ELFFile(fh)
        info = elf.get_section_by_name(".debug_info")
        found = []
        for cu in elf.get_dwarf_info().iter_CUs():
            for die in cu.iter_DIEs():
                count = die.attributes.get("DW_AT_count")
                if die.tag == "DW_TAG_subrange_type" and count is not None and count.value == 200:
                    found.append(info["sh_offset"] + count.offset)
    return found


def test_a_forged_array_count_is_bounded_with_a_note(tmp_path):
    binary = build(NESTED, flags=("-ldflags=-compressdwarf=false",))
    real = analyze_binary(binary)
    assert not any("more than" in n and "objects" in n for n in real.notes), real.notes
    data = bytearray(binary.read_bytes())
    offsets = _count_offsets(binary)
    assert len(offsets) >= 2
    for at in offsets:
        assert data[at:at + 2] == b"\xc8\x01"
        data[at:at + 2] = b"\xff\x7f"  # 16,383
    forged = tmp_path / "forged"
    forged.write_bytes(bytes(data))
    r = analyze_binary(forged)
    assert f"DWARF global variables point at more than {_MAX_OBJECTS} objects: the walk stopped there, " \
           "the rest of what they point at is left unattributed" in r.notes
    assert sum(p.size for p in r.packages) + sum(u.size for u in r.unattributed) == r.file_size
    assert r.file_size == real.file_size
