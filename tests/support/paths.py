"""Paths of the data the tests read: everything lives inside the repository."""

from __future__ import annotations

from pathlib import Path

TESTS = Path(__file__).resolve().parents[1]
ROOT = TESTS.parent
SCHEMAS = ROOT / "sizebot" / "schemas"
DATA = TESTS / "data"
DIVE_FIXTURES = DATA / "dive"  # dive's own test images (MIT), see tests/data/dive/README.md
