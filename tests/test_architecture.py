"""docs/architecture.md says what the tree is: its packages, its modules, and the layers the import
contracts in pyproject.toml check."""

from __future__ import annotations

import re
import tomllib

from tests.support.paths import ROOT

DOC = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
TREE = DOC.split("## The tree", 1)[1].split("```", 2)[1]


def _listed() -> dict[str, set[str]]:
    """package -> the modules the tree block names under it ("" = sizebot/ itself)."""
    listed: dict[str, set[str]] = {"": set()}
    package: str | None = ""
    for line in TREE.splitlines():
        if line.startswith("sizebot/") or not line.startswith("  "):
            package = "" if line.startswith("sizebot/") else None  # None: past sizebot/ (templates/, tests/...)
            continue
        m = re.match(r"  (\w+)/", line)
        if m and package is not None:
            package = m.group(1)
            listed.setdefault(package, set())
            continue
        m = re.match(r"  (\w+\.py)\b", line)
        if m and package is not None:
            listed[""].add(m.group(1))
            continue
        if package:
            words = re.match(r"\s{4}((?:\w+\.py\s*)+)", line)
            if words:
                listed[package].update(words.group(1).split())
    return listed


def test_every_package_and_module_is_described_and_nothing_else():
    listed = _listed()
    packages = {p.name for p in (ROOT / "sizebot").iterdir() if p.is_dir() and p.name != "__pycache__"}
    assert packages == set(listed) - {""}
    for package, modules in listed.items():
        here = ROOT / "sizebot" / package
        actual = {m.name for m in here.glob("*.py") if m.name not in ("__init__.py", "__main__.py")}
        assert sorted(actual - modules) == [], f"not in docs/architecture.md's tree under {package or 'sizebot'}/"
        assert sorted(modules - actual) == [], f"docs/architecture.md names modules {package or 'sizebot'}/ lacks"


def test_the_layers_are_the_import_contracts():
    contracts = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]["contracts"]
    layers = next(c for c in contracts if c["type"] == "layers")["layers"]
    rows = re.findall(r"^\| \d+ \| (.+?) \| ", DOC, re.MULTILINE)
    documented = [" | ".join(name.removeprefix("sizebot.") for name in re.findall(r"`(sizebot\.\w+)`", row))
                  for row in rows]
    assert documented == layers


def test_test_helpers_live_in_tests_support():
    """No test module imports another (helpers are in tests/support/), and schemas load through it."""
    for path in sorted((ROOT / "tests").glob("test_*.py")):
        text = path.read_text(encoding="utf-8")
        assert not re.search(r"^\s*(from tests\.test_\w+ import|import tests\.test_)", text, re.MULTILINE), path.name
        assert not re.search(r"schemas[\"/' ]+.*\.schema\.json\"\)\.read_text", text), path.name
