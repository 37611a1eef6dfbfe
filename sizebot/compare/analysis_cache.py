"""Analyses of binaries kept by content: a binary built again byte for byte is not analysed again.

Base and head are built at one fixed path (builds/workpath.py), so their binaries are reproducible: a
base shared by every push of a pull request, a head whose push changed no Go code, or a report run
again gives the same bytes, and analysing them again would give the same figures. An entry's key is
the SHA-256 of the binary and a fingerprint of the analysis code (its sources and the Python version),
so a change to the analyser never reads an old entry.

An entry is JSON: the analyze document (``BinaryReport.to_json``) in an envelope that repeats the key
and carries what the document leaves out (each section's raw format flags). The directory may come
from elsewhere (a CI cache restored on another machine), so an entry is read as any saved document
is: a regular file of bounded size, strict JSON of bounded nesting and values, the envelope's key
equal to the one asked for, the analysis read back by ``BinaryReport.from_json``. An entry that fails
any of that is analysed again and replaced, never an error. What validation cannot catch is an
entry whose figures were forged in a well-formed shape: the cache is the trust of Go's build cache,
whose objects are linked into binaries unverified (``--no-cache`` analyses every binary).

An analysis whose document does not read back equal to it (a value the document cannot carry) is
not kept. The directory keeps the ``MAX_ENTRIES`` most recently written entries.

Beside the entries, the key each build gave last time (``predict``/``predicted_key``, by an id of the
build: its commit, side, path and definition), so that a report can read an entry while the build runs,
and keep it only when the binary turns out to have that key (``compare/run.py``): a build is
reproducible, so the same build gives the same binary; a prediction is never trusted, only checked.

Below the cache directory nothing is reached through a symbolic link (a restored cache may carry
one to anywhere): entries are opened with O_NOFOLLOW, written and pruned relative to a descriptor of
the ``analyze`` directory opened without following it. A linked ``analyze`` directory means no cache.
"""

from __future__ import annotations

import gc
import hashlib
import json
import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from functools import cache
from pathlib import Path
from typing import Any

import sizebot.binary
import sizebot.documents.analyze
from sizebot.documents.analyze import BinaryReport, plain_functions
from sizebot.documents.fields import Fields, size
from sizebot.documents.jsonfile import check_values, parse_json, read_regular_file
from sizebot.files import keep_cache_entry

SCHEMA = "sizebot/analysis-cache@1"
MAX_ENTRIES = 64
MAX_ENTRY_BYTES = 64 * 1024 * 1024  # gopls's analysis with every function is ~10 MB
_CHUNK = 1 << 20
_SUFFIX = ".json"
_OLD_SUFFIX = ".pickle"  # entries of an older sizebot: never read, removed when pruning


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


def content_hash(binary: Path) -> str:
    digest = hashlib.sha256()
    with open(binary, "rb") as f:
        while chunk := f.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def analyze_binary(binary: Path, *, functions: bool = True) -> BinaryReport:
    """``binary.attribute.analyze_binary``, the analyser imported when first needed: a run whose every
    binary is kept here never loads it (and a forked worker loads it for its first analysis)."""
    from sizebot.binary.attribute import analyze_binary as analyse

    return analyse(binary, functions=functions)


def analyze_cached(binary: Path, cache_dir: Path | None, *, functions: bool = True) -> BinaryReport:
    """``analyze_binary``, or the analysis of the same bytes kept in ``cache_dir`` (None: no cache)."""
    if cache_dir is None:
        return analyze_binary(binary, functions=functions)
    key = cache_key(binary, functions)
    kept = kept_analysis(binary, cache_dir, key)
    return kept if kept is not None else analyze_and_keep(binary, cache_dir, key, functions=functions)


def analyze_and_keep(binary: Path, cache_dir: Path, key: str, *, functions: bool = True) -> BinaryReport:
    """``analyze_binary``, kept in ``cache_dir`` under ``key`` (the binary's ``cache_key``)."""
    report = analyze_binary(binary, functions=functions)
    _store(_entry(cache_dir, key), key, report)
    return report


def cache_key(binary: Path, functions: bool = True) -> str:
    """What an analysis of ``binary`` is kept under: its content, the analyser, whether it lists functions."""
    return f"{content_hash(binary)}-{analyser_fingerprint()}-{'f' if functions else 'n'}"


def kept_analysis(binary: Path, cache_dir: Path, key: str) -> BinaryReport | None:
    """The analysis kept under ``key`` (as the analysis of ``binary``), or None: none, or a bad entry."""
    kept = kept_entry(cache_dir, key)
    return replace(kept, path=str(binary)) if kept is not None else None


def kept_entry(cache_dir: Path, key: str) -> BinaryReport | None:
    """The analysis kept under ``key`` as it was kept, or None: none, or a bad entry."""
    try:
        return read_entry(_entry(cache_dir, key), key, below=cache_dir)
    except Exception:  # noqa: BLE001 - missing, partial, stale or forged: analysed again
        return None


_KEY = re.compile(r"[0-9a-f]{64}-[0-9a-f]{16}-[fn]")
_ID = re.compile(r"[0-9a-f]{64}")


def build_id(*parts: str) -> str:
    """An id of one build (what ``predict`` keeps a key under) from what defines it."""
    digest = hashlib.sha256()
    for part in parts:
        digest.update(part.encode("utf-8", "surrogateescape"))
        digest.update(b"\0")
    return digest.hexdigest()


def predicted_key(cache_dir: Path, build: str) -> str | None:
    """The key the build ``build`` (a ``build_id``) gave last time, or None (none kept, or not a key)."""
    if not _ID.fullmatch(build):
        return None
    try:
        text = read_regular_file(Path(cache_dir) / "predict" / build, max_bytes=200, untrusted_below=cache_dir)
    except Exception:  # noqa: BLE001 - missing or forged: nothing predicted
        return None
    key = text.decode("ascii", "replace").strip()
    return key if _KEY.fullmatch(key) else None


def predict(cache_dir: Path, build: str, key: str) -> None:
    """Keep ``key`` as what the build ``build`` gives (nothing kept when the directory cannot be written)."""
    if not _ID.fullmatch(build) or not _KEY.fullmatch(key):
        return
    keep_cache_entry(Path(cache_dir) / "predict", build, lambda f: f.write(key + "\n"), keep=8 * MAX_ENTRIES,
                     suffix="", also=_OLD_SUFFIX, encoding="ascii")


def _entry(cache_dir: Path, key: str) -> Path:
    return Path(cache_dir) / "analyze" / f"{key}{_SUFFIX}"


def entry_json(key: str, report: BinaryReport) -> dict[str, Any]:
    return {"schema": SCHEMA, "key": key, "raw_flags": [s.raw_flags for s in report.sections],
            "analysis": report.to_json()}


def read_entry(entry: Path, key: str, *, below: Path | None = None) -> BinaryReport:
    """The analysis kept in ``entry`` under ``key``; a SizebotError (or another exception for what the
    checks did not foresee) when the file is not such an entry. ``below``: no symbolic link followed
    from that directory down to the entry."""
    with _collector_paused():
        return _read_entry(entry, key, below)


@contextmanager
def _collector_paused() -> Iterator[None]:
    """The cyclic garbage collector paused: an entry is a hundred thousand new objects, all kept and
    none in a cycle, which would set off full collections (a tenth of a second each) that free nothing."""
    paused = gc.isenabled()
    if paused:
        gc.disable()
    try:
        yield
    finally:
        if paused:
            gc.enable()


def _read_entry(entry: Path, key: str, below: Path | None) -> BinaryReport:
    where = str(entry)
    data = parse_json(read_regular_file(entry, max_bytes=MAX_ENTRY_BYTES, untrusted_below=below), where=where)
    # The functions (most of an entry's values) are checked against the bounds as their records are read;
    # check_values walks the rest. A functions array that is not plain goes through both, strictly.
    analysis = data.get("analysis") if type(data) is dict else None
    records = analysis.get("functions") if type(analysis) is dict else None
    functions = plain_functions(records)
    if functions is not None and isinstance(analysis, dict):
        analysis["functions"] = []
    check_values(data, where=where)
    f = Fields(data, where, ("schema", "key", "raw_flags", "analysis"))
    if f.raw("schema") != SCHEMA or f.text("key") != key:
        raise ValueError(f"{where}: not the entry of {key}")
    report = BinaryReport.from_json(f.raw("analysis"), "analysis")
    if functions is not None:
        report = replace(report, functions=functions)
    raw_flags = f.seq("raw_flags", size)
    if len(raw_flags) != len(report.sections):
        raise ValueError(f"{where}: {len(raw_flags)} raw flags for {len(report.sections)} sections")
    return replace(report, sections=tuple(replace(s, raw_flags=r) for s, r in zip(report.sections, raw_flags,
                                                                                    strict=True)))


def _store(entry: Path, key: str, report: BinaryReport) -> None:
    doc = entry_json(key, report)
    try:
        back = BinaryReport.from_json(doc["analysis"], "analysis")
        kept = replace(back, sections=tuple(replace(s, raw_flags=r) for s, r in zip(back.sections, doc["raw_flags"],
                                                                                      strict=True)))
    except Exception:  # noqa: BLE001 - a document that does not read back: nothing to keep
        return
    if kept != report:
        return  # a value the document cannot carry: a hit would not be the same analysis
    # a linked (or unusable) analyze directory: no cache, never written through; readers see a whole entry or none
    keep_cache_entry(entry.parent, entry.name, lambda f: json.dump(doc, f, separators=(",", ":"), allow_nan=False),
                     keep=MAX_ENTRIES, suffix=_SUFFIX, also=_OLD_SUFFIX)
