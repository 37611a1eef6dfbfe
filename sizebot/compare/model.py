"""What the comparison measured, before it becomes the report document (frozen, pure data)."""

from __future__ import annotations

from dataclasses import dataclass

from sizebot.builds.discover import ImportGraph
from sizebot.documents.analyze import BinaryReport
from sizebot.documents.diff import BinaryDiff
from sizebot.documents.report import FAILED, MISSING, OK, Commit

__all__ = ["FAILED", "MISSING", "OK", "Commit", "Comparison", "Side"]


@dataclass(frozen=True)
class Side:
    """One build of one commit: built and analysed ("ok"), "failed" (build or analysis), or "missing"."""

    status: str
    error: str | None = None  # one line, for "failed" and "missing"
    report: BinaryReport | None = None  # set when "ok"
    name: str = ""  # the binary's file name, shown instead of the temporary path

    @property
    def size(self) -> int | None:
        return self.report.file_size if self.status == OK and self.report is not None else None


@dataclass(frozen=True)
class Comparison:
    """One target x platform x strategy at base and head."""

    target: str
    package: str
    platform: str
    strategy: str
    base: Side
    head: Side
    diff: BinaryDiff | None = None  # when both sides are "ok"
    # import chains at the head, package -> (package, importer, ..., main package): for new dependencies
    chains: tuple[tuple[str, tuple[str, ...]], ...] = ()
    # the import graphs at the head and the base (go list -deps): what each dependency alone brings in
    head_graph: ImportGraph | None = None
    base_graph: ImportGraph | None = None

    @property
    def label(self) -> str:
        return f"{self.target} {self.platform} {self.strategy}"

    @property
    def delta(self) -> int | None:
        if self.base.size is None or self.head.size is None:
            return None
        return self.head.size - self.base.size
