"""Coverage (bytes attributed to a package / file size) of a real program built at test time: fzf v0.56.0
from the Go module proxy (tests/support/realprograms.py), linux/amd64 and linux/arm64, Go 1.21, 1.24,
1.26 (the machine's) and 1.27. The figures are printed (pytest -s) and recorded in docs/benchmarks.md.
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable

import pytest

from sizebot.binary.attribute import analyze_binary
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
