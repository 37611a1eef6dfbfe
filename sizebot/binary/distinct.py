"""The distinct values of an integer array by one sort, with each one's first occurrence and the
inverse: what ``np.unique`` returns, without its hash-based path, which NumPy 2.x takes for integer
arrays and which is some 60 times slower than a sort on a few hundred thousand 64-bit addresses; and
membership by binary search. Neither imports ``numpy.ma``, which ``np.unique`` without its return_*
options and ``np.isin`` load on first use (over 1 MiB of the process's memory for a masked-array
check)."""

from __future__ import annotations

import numpy as np


def distinct(values: np.ndarray) -> np.ndarray:
    """The distinct values, ascending (``np.unique(values)``)."""
    ordered = np.sort(values)
    return ordered[_firsts(ordered)]


def distinct_first(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The distinct values ascending, and the index of the first occurrence of each
    (``np.unique(values, return_index=True)``)."""
    order = np.argsort(values, kind="stable")
    ordered = values[order]
    first = _firsts(ordered)
    return ordered[first], order[first]


def distinct_first_inverse(values: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``distinct_first``, and the index in the distinct values of each value
    (``np.unique(values, return_index=True, return_inverse=True)``)."""
    order = np.argsort(values, kind="stable")
    ordered = values[order]
    first = _firsts(ordered)
    inverse = np.empty(len(values), np.intp)
    inverse[order] = np.cumsum(first) - 1
    return ordered[first], order[first], inverse


def members(values: np.ndarray, ordered: np.ndarray) -> np.ndarray:
    """Which of ``values`` are in ``ordered`` (ascending), as a bool mask (``np.isin(values, ordered)``)."""
    if not len(ordered):
        return np.zeros(len(values), bool)
    at = np.searchsorted(ordered, values).clip(0, len(ordered) - 1)
    return np.asarray(ordered[at] == values)


def _firsts(ordered: np.ndarray) -> np.ndarray:
    """Where each run of equal values of ``ordered`` starts (a bool mask)."""
    first = np.ones(len(ordered), bool)
    first[1:] = ordered[1:] != ordered[:-1]
    return first
