"""References from machine code into data: which instructions name which data addresses.

One scanner module per GOARCH (refs_amd64.py: RIP-relative operands; refs_arm64.py: ADRP+ADD/LDR
pairs; refs_386.py: absolute addresses), each exposing

    references(code, code_addr, lo, hi, done=None) -> tuple[array.array, array.array]

which returns two ``array('Q')`` of equal length: the addresses of the referencing instructions
(ascending) and the absolute addresses they name, only those in [lo, hi). ``code`` is the bytes of
the code at virtual address ``code_addr``; ``done(n)``, if given, is called as the scan moves on:
it reads nothing more of code[:n] (the caller may drop those pages of a mapped file). A scanner
reads untrusted bytes: it never raises on them, it just finds nothing there. Architectures without
a scanner give no references.
"""

from __future__ import annotations

import importlib
from array import array
from collections.abc import Callable
from typing import Any, Protocol, cast

import numpy as np


class Scanner(Protocol):
    def __call__(self, code: memoryview, code_addr: int, lo: int, hi: int,
                 done: Callable[[int], None] | None = None) -> tuple[array, array]: ...


# GOARCH -> the module of its scanner
SCANNERS = {
    "amd64": "sizebot.binary.refs_amd64",
    "arm64": "sizebot.binary.refs_arm64",
    "386": "sizebot.binary.refs_386",
}


def _scanner_function(goarch: str, function: str) -> Any:
    """``function`` of ``goarch``'s scanner module, None where there is no such module or function."""
    name = SCANNERS.get(goarch)
    if name is None:
        return None
    try:
        module = importlib.import_module(name)
    except ModuleNotFoundError:
        return None
    return getattr(module, function, None)


def scanner(goarch: str) -> Scanner | None:
    """The scanner of ``goarch``, or None when there is none."""
    return cast("Scanner | None", _scanner_function(goarch, "references"))


FirstArgumentCall = Callable[[memoryview, int, int, Callable[[int], bool]], "int | None"]


def first_argument_call(goarch: str) -> FirstArgumentCall | None:
    """The architecture's optional ``first_argument_call(code, code_addr, pc, is_entry)``: when the
    instruction at ``pc`` puts its address into an argument register, the entry of the function
    called next (for which ``is_entry`` holds); None where the scanner has none."""
    return cast("FirstArgumentCall | None", _scanner_function(goarch, "first_argument_call"))


ArgumentCalls = Callable[[memoryview, int, np.ndarray], "tuple[np.ndarray, np.ndarray]"]


def argument_calls(goarch: str) -> ArgumentCalls | None:
    """The architecture's optional ``argument_calls(code, code_addr, pcs)``, ``first_argument_call``
    for many pcs at once: (index in ``pcs``, callee) of each candidate call, by pc, then in the order
    ``first_argument_call`` tries them (the first that is an entry is the one); None where the
    scanner has none."""
    return cast("ArgumentCalls | None", _scanner_function(goarch, "argument_calls"))


def references(goarch: str, code: memoryview, code_addr: int, lo: int, hi: int) -> tuple[array, array]:
    """(instruction addresses ascending, target addresses in [lo, hi)) of ``code`` at ``code_addr``;
    two empty arrays for an architecture without a scanner or when ``lo >= hi``."""
    scan = scanner(goarch)
    if scan is None or lo >= hi or not len(code):
        return array("Q"), array("Q")
    pcs, targets = scan(code, code_addr, lo, hi)
    if len(pcs) != len(targets):  # a scanner's bug must not become a wrong attribution
        return array("Q"), array("Q")
    return pcs, targets
