"""Analyses of binaries kept by content: a binary built again byte for byte is not analysed again.

Base and head are built at one fixed path (builds/workpath.py), so their binaries are reproducible: a
base shared by every push of a pull request, a head whose push changed no Go code, or a report run
again gives the same bytes, and analysing them again would give the same figures. An entry's key is
the SHA-256 of the binary and a fingerprint of the analysis code (its sources and the Python version),
so a change to the analyser never reads an old entry.

Entries are pickles, read back only from the user's own cache directory (the trust of Go's build
cache, whose objects are linked into binaries unverified); an entry that does not load is analysed
again and replaced. The directory keeps the ``MAX_ENTRIES`` most recently written entries.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import sys
import tempfile
from functools import cache
from pathlib import Path

import sizebot.binary
import sizebot.documents.analyze
from sizebot.binary.attribute import analyze_binary
from sizebot.documents.analyze import BinaryReport

MAX_ENTRIES = 64
_CHUNK = 1 << 20


@cache
def analyser_fingerprint() -> str:
    """What decides an analysis besides the binary: the analyser's sources and the Python version."""
    digest = hashlib.sha256(sys.version.encode())
    sources = sorted(Path(sizebot.binary.__file__).parent.glob("*.py"))
    sources.append(Path(sizebot.documents.analyze.__file__))
    for path in sources:
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def _key(binary: Path, functions: bool) -> str:
    digest = hashlib.sha256()
    with open(binary, "rb") as f:
        while chunk := f.read(_CHUNK):
            digest.update(chunk)
    return f"{digest.hexdigest()}-{analyser_fingerprint()}-{'f' if functions else 'n'}"


def analyze_cached(binary: Path, cache_dir: Path | None, *, functions: bool = True) -> BinaryReport:
    """``analyze_binary``, or the analysis of the same bytes kept in ``cache_dir`` (None: no cache)."""
    if cache_dir is None:
        return analyze_binary(binary, functions=functions)
    entry = Path(cache_dir) / "analyze" / f"{_key(binary, functions)}.pickle"
    try:
        with open(entry, "rb") as f:
            report = pickle.load(f)
        if isinstance(report, BinaryReport):
            return report
    except Exception:  # noqa: BLE001, S110 - missing, partial or stale: analyse again
        pass
    report = analyze_binary(binary, functions=functions)
    _store(entry, report)
    return report


def _store(entry: Path, report: BinaryReport) -> None:
    try:
        entry.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=entry.parent, prefix=".tmp-")
        with os.fdopen(fd, "wb") as f:
            pickle.dump(report, f, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, entry)  # readers see a whole entry or none
        _prune(entry.parent)
    except OSError:
        pass  # a cache that cannot be written only costs time


def _prune(directory: Path) -> None:
    entries = sorted(directory.glob("*.pickle"), key=lambda p: p.stat().st_mtime, reverse=True)
    for old in entries[MAX_ENTRIES:]:
        old.unlink(missing_ok=True)
