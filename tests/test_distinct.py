"""The distinct values, first occurrences, inverse and membership of integer arrays (binary/distinct.py)
against numpy's own np.unique and np.isin, and the analysis's modules: up to its report it loads neither
numpy.ma nor OpenSSL (each over 1 MiB of the process's memory for nothing it needs)."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np

from sizebot.binary.distinct import distinct, distinct_first, distinct_first_inverse, members
from tests.support.goprograms import HELLO, build


def _arrays() -> list[np.ndarray]:
    rng = np.random.default_rng(12)
    out = [np.zeros(0, np.int64), np.array([7], np.int64), np.array([3, 3, 3], np.int64),
           np.array([2**64 - 1, 0, 2**63, 2**64 - 1], np.uint64)]
    for n, high in ((50, 10), (1000, 1 << 20), (5000, 300)):
        out.append(rng.integers(0, high, n).astype(np.int64))
        out.append(rng.integers(0, high, n).astype(np.uint64) << np.uint64(40))
    return out


def test_distinct_values_first_occurrences_and_inverse_as_np_unique():
    for values in _arrays():
        want, want_first, want_inverse = np.unique(values, return_index=True, return_inverse=True)
        assert np.array_equal(distinct(values), want)
        got, first = distinct_first(values)
        assert np.array_equal(got, want) and np.array_equal(first, want_first)
        got, first, inverse = distinct_first_inverse(values)
        assert np.array_equal(got, want) and np.array_equal(first, want_first)
        assert np.array_equal(inverse, want_inverse.reshape(-1))


def test_members_as_np_isin():
    arrays = _arrays()
    for values in arrays:
        for ordered in arrays:
            if values.dtype != ordered.dtype:
                continue
            for sorted_set in (np.sort(ordered), distinct(ordered)):
                assert np.array_equal(members(values, sorted_set), np.isin(values, ordered))


def test_the_analysis_loads_neither_numpy_ma_nor_openssl():
    exe = build(HELLO)
    # the CLI's path up to the report (its renderers come after the peak)
    script = ("import json, sys\n"
              "from sizebot.cli.analyze import measure\n"
              f"measure({str(exe)!r}, None)\n"
              "print(json.dumps(sorted(m for m in ('numpy.ma', 'hashlib', '_hashlib', 'secrets') if m in sys.modules)))\n")
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True).stdout
    assert json.loads(out) == []
