"""What the report says about the Go toolchains that built base and head (pure)."""

from __future__ import annotations

from collections.abc import Sequence

from sizebot.compare.model import OK, Comparison, Side


def side_go_versions(sides: Sequence[Side]) -> list[str]:
    """The Go versions in the build info of one side's binaries, in build order, each once."""
    seen: dict[str, None] = {}
    for side in sides:
        if side.status == OK and side.report is not None and side.report.go_version:
            seen.setdefault(side.report.go_version, None)
    return list(seen)


def toolchain_notes(comparisons: Sequence[Comparison], installed: str, go_version: str | None) -> list[str]:
    """A note when a side was built by another Go than the installed one (go.mod's ``toolchain`` or
    ``go`` line asked for it, or ``go-version``), and when base and head were built by different Gos:
    sizes then change with the toolchain, not only with the code."""
    base = side_go_versions([c.base for c in comparisons])
    head = side_go_versions([c.head for c in comparisons])
    if not base and not head:
        return []

    def why(versions: list[str]) -> str:
        shown = ", ".join(versions)
        if go_version is not None:
            return f"{shown} (go-version {go_version})"
        if versions == [installed]:
            return f"{shown} (the installed Go)"
        return f"{shown} (asked for by go.mod; the installed Go is {installed})"

    if base and head and base != head:
        return [f"the Go toolchain changed: base built with {why(base)}, head with {why(head)}; "
                "sizes change with the toolchain too"]
    versions = head or base
    if versions != [installed] or go_version is not None:
        where = "base and head" if base and head else "the head" if head else "the base"
        return [f"built with {why(versions)} at {where}"]
    return []
