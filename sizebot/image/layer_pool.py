"""Reading all the layers of one image: in worker processes when that pays, in this one otherwise.

Layers are independent until they are stacked, and reading one (decompressing, walking its tar
headers, hashing file contents) is most of the work on a large image, so big images are read by
a pool of forked workers, one layer per task, each opening the archive itself at the blob's
offset. Results come back in layer order as packed columns (a list per field, cheaper to pickle
than records), and errors are raised in layer order too, so the outcome (figures or the first
failing layer's message) is the one a sequential read gives.

The entry and name budgets of ``ImageLimits`` cover the whole image: each worker is held to the
whole budget, and the layers' counts are added up here in order, naming the layer where the
total goes past it, as a sequential read would.
"""

from __future__ import annotations

import multiprocessing
import os
import sys
import threading
from collections.abc import Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from typing import Any

from sizebot.errors import ImageError
from sizebot.image.layers import EntryBudget, LayerContents, TarEntry, printable, read_layer
from sizebot.image.limits import ImageLimits, names_too_long, too_many_entries
from sizebot.image.sources import ImageSource, LayerBlob, SourceInfo

# Below this many stored bytes, starting workers costs more than it saves.
PARALLEL_MIN_BYTES = 64 << 20
MAX_WORKERS = 4


@dataclass(frozen=True)
class _Task:
    path: str  # the file holding the blob, read from ``offset`` for ``size`` bytes
    offset: int
    size: int
    where: str
    max_entry_size: int
    blob_digest: bool
    entries: int  # the image's whole budget
    name_bytes: int
    special_header: int
    max_inflated: int
    inflate_why: str


class _Slice:
    """``size`` bytes of a file from ``offset``: a blob, as a readable stream."""

    def __init__(self, f: Any, offset: int, size: int):
        self._f = f
        self._f.seek(offset)
        self._left = size

    def read(self, n: int = -1) -> bytes:
        n = self._left if n is None or n < 0 else min(n, self._left)
        data = self._f.read(n)
        self._left -= len(data)
        return data

    def readinto(self, b) -> int:
        n = min(len(b), self._left)
        if n <= 0:
            return 0
        got = self._f.readinto(memoryview(b)[:n]) or 0
        self._left -= got
        return got


# TarEntry's fields as columns, then compression, blob digest, blob size, and the budget used (entries, name bytes)
_Columns = tuple[list[str], list[bytes], list[int], list[int], list[int], list[int], list[str], list[str],
                 str, str, int, int, int]


def _read_task(task: _Task) -> _Columns:
    with open(task.path, "rb", buffering=0) as f:
        budget = EntryBudget(task.entries, task.name_bytes, task.special_header, task.entries, task.name_bytes)
        c = read_layer(_Slice(f, task.offset, task.size), where=task.where, max_entry_size=task.max_entry_size,  # type: ignore[arg-type]
                       blob_digest=task.blob_digest, budget=budget, max_inflated=task.max_inflated,
                       inflate_why=task.inflate_why)
    cols: tuple[list, ...] = tuple(map(list, zip(*c.entries, strict=True))) if c.entries else ([],) * 8
    used = (task.entries - budget.entries, task.name_bytes - budget.name_bytes)
    return (*cols, c.compression, c.blob_digest, c.blob_size, *used)  # type: ignore[return-value]


def _from_columns(cols: _Columns) -> tuple[LayerContents, int, int]:
    *fields, compression, blob_digest, blob_size, used_entries, used_names = cols
    entries = tuple(map(TarEntry, *fields))  # type: ignore[call-overload]
    return LayerContents(entries, compression, blob_digest, blob_size), used_entries, used_names


def _where(info: SourceInfo, blob: LayerBlob) -> str:
    return f"{printable(info.path)}: layer {blob.index} ({printable(blob.name)})"


def _verify(blob: LayerBlob) -> bool:
    # Blobs named by their digest (OCI layouts, Docker 25+ archives) are verified while they
    # stream; other blobs are hashed only when no digest is known for them.
    return blob.name.startswith("blobs/") and blob.digest.startswith("sha256:")


def _check(info: SourceInfo, blob: LayerBlob, contents: LayerContents) -> LayerContents:
    if _verify(blob) and contents.blob_digest != blob.digest:
        raise ImageError(f"{_where(info, blob)}: content does not match its digest (got {contents.blob_digest})")
    return contents


def _workers(src: ImageSource) -> int:
    layers = src.info.layers
    if sys.platform != "linux" or threading.active_count() > 1 or len(layers) < 2:
        return 0  # fork is only safe without other threads; a single layer has nothing to share
    if sum(blob.size for blob in layers) < PARALLEL_MIN_BYTES:
        return 0
    if any(src.locate(blob) is None for blob in layers):
        return 0
    return min(len(os.sched_getaffinity(0)), MAX_WORKERS, len(layers))


def iter_layers(src: ImageSource, limits: ImageLimits) -> Iterator[LayerContents]:
    """Every layer's contents, in order, each as soon as it is read. Raises the first failing layer's ImageError."""
    info = src.info
    stored = sum(blob.size for blob in info.layers)
    max_inflated = limits.inflate_cap(stored)
    why = f"the larger of {limits.inflate_ratio}x the image's {stored} stored bytes and {limits.inflate_floor}"
    workers = _workers(src)
    if workers < 2:
        budget = EntryBudget.of(limits)
        for blob in info.layers:
            yield _read_here(src, blob, budget, max_inflated, why)
    else:
        yield from _read_in_workers(src, limits, workers, max_inflated, why)


def _read_here(src: ImageSource, blob: LayerBlob, budget: EntryBudget, max_inflated: int, why: str) -> LayerContents:
    f = src.open_layer(blob)
    try:
        contents = read_layer(f, where=_where(src.info, blob), max_entry_size=blob.size,
                              blob_digest=_verify(blob) or not blob.digest, budget=budget,
                              max_inflated=max_inflated, inflate_why=why)
    finally:
        f.close()
    return _check(src.info, blob, contents)


def _read_in_workers(
    src: ImageSource, limits: ImageLimits, workers: int, max_inflated: int, why: str
) -> Iterator[LayerContents]:
    info = src.info
    entries, name_bytes = limits.max_entries, limits.max_name_bytes
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork")) as pool:
        futures: list[Future[_Columns]] = []
        for blob in info.layers:
            located = src.locate(blob)
            assert located is not None
            path, offset, size = located
            futures.append(pool.submit(_read_task, _Task(
                path, offset, size, _where(info, blob), blob.size, _verify(blob) or not blob.digest,
                limits.max_entries, limits.max_name_bytes, limits.max_special_header, max_inflated, why,
            )))
        try:
            for blob, future in zip(info.layers, futures, strict=True):
                contents, used_entries, used_names = _from_columns(future.result())
                entries -= used_entries
                name_bytes -= used_names
                if entries < 0:
                    raise ImageError(f"{_where(info, blob)}: {too_many_entries(limits.max_entries)}")
                if name_bytes < 0:
                    raise ImageError(f"{_where(info, blob)}: {names_too_long(limits.max_name_bytes)}")
                yield _check(info, blob, contents)
        finally:
            for future in futures:
                future.cancel()
