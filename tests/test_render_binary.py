"""Renderers of BinaryReport and BinaryDiff: JSON (exact documents, validated against the JSON
Schemas, compatible with the report document's embedded objects), text and markdown (exact text;
untrusted names inert)."""

from __future__ import annotations

import json
from typing import Any

import jsonschema
import pytest

from sizebot.binary.diff import diff_reports
from sizebot.documents.analyze import BinaryReport, Function, Module, Section, Unattributed
from sizebot.documents.diff import BinaryDiff
from sizebot.errors import DocumentError
from sizebot.render import render
from sizebot.render.common import ZWSP, dump_json
from tests.support.binary_reports import make_report, new_report, old_report, pkg
from tests.support.paths import ROOT
from tests.support.schemas import validate_document

validate = validate_document


def tiny_old() -> BinaryReport:
    return make_report(
        "build/old app",
        [pkg("runtime", "std", 3000, 1000, 500), pkg("main", "example.com/app", 200, 50, 10)],
        [Unattributed("(headers)", 64), Unattributed(".rodata", 100)],
        sections=[Section(".text", 3200, 3200, 0x40, 0x401000, "r,x,alloc"),
                  Section(".rodata", 1724, 1724, 0xCC0, 0x402000, "r,alloc"),
                  Section(".bss", 0, 512, 0, 0x403000, "r,w,alloc")],
        functions=[Function("runtime.main", "runtime", 900, 100), Function("main.main", "main", 200, 50)],
        deps=(Module("github.com/acme/log", "v1.3.2"),), go_version="go1.24.11")


def tiny_new() -> BinaryReport:
    """Hostile names: a package with table/HTML syntax, a function with rich markup and a script tag."""
    return make_report(
        "build/new app",
        [pkg("runtime", "std", 3000, 1000, 500), pkg("main", "example.com/app", 260, 60, 10),
         pkg("example.com/app/evil|<b>x</b>", "example.com/app", 1200, 300, 0)],
        [Unattributed("(headers)", 64), Unattributed(".rodata", 90)],
        sections=[Section(".text", 4700, 4700, 0x40, 0x401000, "r,x,alloc"),
                  Section(".rodata", 1714, 1714, 0x12A0, 0x403000, "r,alloc"),
                  Section(".bss", 0, 512, 0, 0x404000, "r,w,alloc")],
        functions=[Function("runtime.main", "runtime", 900, 100), Function("main.main", "main", 260, 60),
                   Function("main.<script>alert(1)</script>", "main", 10, 0),
                   Function("example.com/app/evil|<b>x</b>.[bold]Run[/bold]", "example.com/app/evil|<b>x</b>", 1200, 300)],
        deps=(Module("github.com/acme/log", "v1.4.0"), Module("github.com/@attacker/x", "v0.0.1")), go_version="go1.26.8",
        notes=("unsupported Go version (pclntab magic 0xfffffffb): Go 1.18 or later is needed for the per-package breakdown",))


def non_go() -> BinaryReport:
    return BinaryReport(
        path="/usr/bin/true", file_size=5000, format="elf", goos="linux", goarch="amd64", go_version="", coverage=0.0,
        sections=(Section(".text", 4000, 4000, 0x1000, 0x1000, "r,x,alloc"),), packages=(), modules=(), functions=(),
        unattributed=(Unattributed("(headers)", 1000), Unattributed(".text", 4000)), build_info=None, stripped=True,
        notes=("not a Go binary: sections only",))


# ----------------------------------------------------------------------------------------- JSON


def test_report_json_exact_and_valid() -> None:
    doc = tiny_new().to_json()
    validate(doc)
    assert doc == {
        "schema": "sizebot/analyze@1", "path": "build/new app", "file_size": 6484, "format": "elf",
        "goos": "linux", "goarch": "amd64", "go_version": "go1.26.8", "coverage": 6330 / 6484,
        "stripped": True, "packed": "",
        "notes": ["unsupported Go version (pclntab magic 0xfffffffb): Go 1.18 or later is needed for the per-package breakdown"],
        "sections": [
            {"name": ".text", "file_size": 4700, "mem_size": 4700, "offset": 0x40, "addr": 0x401000, "flags": "r,x,alloc"},
            {"name": ".rodata", "file_size": 1714, "mem_size": 1714, "offset": 0x12A0, "addr": 0x403000, "flags": "r,alloc"},
            {"name": ".bss", "file_size": 0, "mem_size": 512, "offset": 0, "addr": 0x404000, "flags": "r,w,alloc"},
        ],
        "packages": [
            {"name": "runtime", "module": "std", "size": 4500, "code": 3000, "meta": 1000, "data": 500},
            {"name": "example.com/app/evil|<b>x</b>", "module": "example.com/app", "size": 1500, "code": 1200, "meta": 300, "data": 0},
            {"name": "main", "module": "example.com/app", "size": 330, "code": 260, "meta": 60, "data": 10},
        ],
        "modules": [
            {"path": "std", "version": "", "size": 4500, "replace": ""},
            {"path": "example.com/app", "version": "", "size": 1830, "replace": ""},
        ],
        "unattributed": [{"section": "(headers)", "size": 64}, {"section": ".rodata", "size": 90}],
        "functions": [
            {"name": "example.com/app/evil|<b>x</b>.[bold]Run[/bold]", "package": "example.com/app/evil|<b>x</b>", "code": 1200, "meta": 300},
            {"name": "runtime.main", "package": "runtime", "code": 900, "meta": 100},
            {"name": "main.main", "package": "main", "code": 260, "meta": 60},
            {"name": "main.<script>alert(1)</script>", "package": "main", "code": 10, "meta": 0},
        ],
        "build_info": {
            "go_version": "go1.26.8", "path": "example.com/app",
            "main": {"path": "example.com/app", "version": "(devel)", "sum": "", "replace": None},
            "deps": [{"path": "github.com/acme/log", "version": "v1.4.0", "sum": "", "replace": None},
                     {"path": "github.com/@attacker/x", "version": "v0.0.1", "sum": "", "replace": None}],
            "settings": {"-ldflags": "-s -w", "CGO_ENABLED": "0", "GOOS": "linux", "GOARCH": "amd64"},
        },
    }
    assert sum(p["size"] for p in doc["packages"]) + sum(u["size"] for u in doc["unattributed"]) == doc["file_size"]
    top = tiny_new().to_json(top=1)
    validate(top)
    assert [f["name"] for f in top["functions"]] == ["example.com/app/evil|<b>x</b>.[bold]Run[/bold]"]
    assert top["packages"] == doc["packages"]  # only functions are cut: the buckets still sum to file_size
    assert tiny_new().to_json(top=0)["functions"] == []
    assert render(tiny_new(), "json") == dump_json(doc)
    assert json.loads(render(tiny_new(), "json", top=1)) == top


def test_replacements_in_json() -> None:
    r = old_report()  # example.com/greet => ../greet
    doc = r.to_json()
    validate(doc)
    assert doc["build_info"]["deps"][1] == {
        "path": "example.com/greet", "version": "v1.2.3", "sum": "",
        "replace": {"path": "../greet", "version": "", "sum": "", "replace": None}}


def test_diff_json_exact_and_valid() -> None:
    d = diff_reports(tiny_old(), tiny_new())
    doc = d.to_json(include_reports=False)
    validate(doc)
    assert doc == {
        "schema": "sizebot/diff@1", "old_size": 4924, "new_size": 6484, "delta": 1560,
        "go_version": {"old": "go1.24.11", "new": "go1.26.8"},
        "sections": [
            {"name": ".text", "old_size": 3200, "new_size": 4700, "delta": 1500},
            {"name": ".rodata", "old_size": 1724, "new_size": 1714, "delta": -10},
            {"name": ".bss", "old_size": 0, "new_size": 0, "delta": 0},
        ],
        "packages": [
            {"name": "example.com/app/evil|<b>x</b>", "old_size": 0, "new_size": 1500, "delta": 1500},
            {"name": "main", "old_size": 260, "new_size": 330, "delta": 70},
            {"name": "runtime", "old_size": 4500, "new_size": 4500, "delta": 0},
        ],
        "modules": [
            {"name": "example.com/app", "old_size": 260, "new_size": 1830, "delta": 1570},
            {"name": "std", "old_size": 4500, "new_size": 4500, "delta": 0},
        ],
        "functions": [
            {"name": "example.com/app/evil|<b>x</b>.[bold]Run[/bold]", "old_size": 0, "new_size": 1500, "delta": 1500,
             "package": "example.com/app/evil|<b>x</b>", "old_code": 0, "new_code": 1200},
            {"name": "main.main", "old_size": 250, "new_size": 320, "delta": 70, "package": "main", "old_code": 200,
             "new_code": 260},
            {"name": "main.<script>alert(1)</script>", "old_size": 0, "new_size": 10, "delta": 10, "package": "main",
             "old_code": 0, "new_code": 10},
        ],
        "unattributed": [
            {"name": ".rodata", "old_size": 100, "new_size": 90, "delta": -10},
            {"name": "(headers)", "old_size": 64, "new_size": 64, "delta": 0},
        ],
        "module_changes": [
            {"path": "github.com/@attacker/x", "old_version": "", "new_version": "v0.0.1"},
            {"path": "github.com/acme/log", "old_version": "v1.3.2", "new_version": "v1.4.0"},
        ],
        "added_packages": ["example.com/app/evil|<b>x</b>"], "removed_packages": [],
        "added_modules": [], "removed_modules": [],
        "functions_changed": 3, "functions_delta": 1580,
    }
    assert sum(p["delta"] for p in doc["packages"]) + sum(u["delta"] for u in doc["unattributed"]) == doc["delta"]
    full = d.to_json(top=1)
    validate(full)
    assert full["old"] == tiny_old().to_json(top=1) and full["new"] == tiny_new().to_json(top=1)
    assert [f["name"] for f in full["functions"]] == ["example.com/app/evil|<b>x</b>.[bold]Run[/bold]"]
    # the list is cut, the count and the sum are of every changed function
    assert (full["functions_changed"], full["functions_delta"]) == (3, 1580)
    assert json.loads(render(d, "json")) == d.to_json()
    assert json.loads(render(d, "json", include_reports=False, top=1)) == d.to_json(top=1, include_reports=False)


def test_function_totals_that_cannot_be_are_refused() -> None:
    """A saved diff (or a measurement file) may not say fewer functions changed than it lists, nor give
    a sum other than the rows' when it lists them all: the comment would print it."""
    doc = diff_reports(tiny_old(), tiny_new()).to_json()
    assert (BinaryDiff.from_json(doc).functions_changed, BinaryDiff.from_json(doc).functions_delta) == (3, 1580)
    for changed, delta, message in ((2, 1580, "2, fewer than the 3 functions listed"),
                                    (3, 99, "functions_delta: is not the sum of the functions' deltas")):
        with pytest.raises(DocumentError, match=message):
            BinaryDiff.from_json(dict(doc, functions_changed=changed, functions_delta=delta))
    with pytest.raises(DocumentError, match="missing functions_delta"):
        BinaryDiff.from_json({k: v for k, v in doc.items() if k != "functions_delta"})
    older = {k: v for k, v in doc.items() if k not in ("functions_changed", "functions_delta")}
    assert BinaryDiff.from_json(older).functions_changed is None  # written before the totals were kept


def test_larger_and_non_go_documents_valid() -> None:
    for report in (old_report(), new_report(), non_go()):
        validate(report.to_json())
    for a, b in ((old_report(), new_report()), (non_go(), new_report()), (new_report(), non_go())):
        validate(diff_reports(a, b).to_json())
    doc = non_go().to_json()
    assert (doc["go_version"], doc["packages"], doc["build_info"], doc["notes"]) == (
        "", [], None, ["not a Go binary: sections only"])


def test_schemas_reject_wrong_documents() -> None:
    doc = tiny_new().to_json()
    for broken in ({**doc, "file_size": -1}, {**doc, "extra": 1}, {k: v for k, v in doc.items() if k != "sections"},
                   {**doc, "schema": "sizebot/diff@1"}, {**doc, "format": "coff"}):
        with pytest.raises(jsonschema.ValidationError):
            validate_document(broken, "analyze")
    diff = diff_reports(tiny_old(), tiny_new()).to_json()
    with pytest.raises(jsonschema.ValidationError):  # an embedded report is checked against the analyze schema
        validate({**diff, "new": {**diff["new"], "coverage": 2}})
    with pytest.raises(jsonschema.ValidationError):
        validate({**diff, "functions": [{"name": "f", "old_size": 0, "new_size": 1, "delta": 1}]})  # no package


def _shape(sample: Any, ours: Any, where: str) -> None:
    """Every key of the sample exists in ours with the same JSON type (recursively, first list item)."""
    if isinstance(sample, dict):
        assert isinstance(ours, dict), where
        for key, value in sample.items():
            assert key in ours, f"{where}.{key} missing from our document"
            _shape(value, ours[key], f"{where}.{key}")
    elif isinstance(sample, list):
        assert isinstance(ours, list), where
        if sample and ours:
            _shape(sample[0], ours[0], where + "[0]")
    elif isinstance(sample, bool) or sample is None:
        assert type(ours) is type(sample), where
    elif isinstance(sample, (int, float)):
        assert isinstance(ours, (int, float)) and not isinstance(ours, bool), where
    else:
        assert isinstance(ours, type(sample)), where


def test_compatible_with_report_document_sample() -> None:
    """tests/data/report-render-sample.json embeds (abridged) analyze and diff objects: ours carry every
    key it uses, with the same types, so the report renderers read real documents as they read the sample."""
    sample = json.loads((ROOT / "tests/data/report-render-sample.json").read_text())
    build = sample["builds"][0]
    _shape(build["base"]["binary"], new_report().to_json(top=10), "binary")
    _shape(build["head"]["binary"], new_report().to_json(top=10), "binary")
    _shape(build["diff"], diff_reports(old_report(), new_report()).to_json(top=10, include_reports=False), "diff")
    assert build["base"]["binary"]["schema"] == "sizebot/analyze@1" and build["diff"]["schema"] == "sizebot/diff@1"


# ------------------------------------------------------------------------------ text and markdown


REPORT_TEXT = """\
Binary: build/new app
elf linux/amd64, go1.26.8, 6.48 KB (6484 bytes), coverage 97.62%, stripped
note: unsupported Go version (pclntab magic 0xfffffffb): Go 1.18 or later is needed for the
per-package breakdown
Sections
┏━━━━━━━━━┳━━━━━━━━━━━┳━━━━━━━━━┳━━━━━━━━━━━┓
┃ section ┃ file size ┃  memory ┃ flags     ┃
┡━━━━━━━━━╇━━━━━━━━━━━╇━━━━━━━━━╇━━━━━━━━━━━┩
│ .text   │   4.70 KB │ 4.70 KB │ r,x,alloc │
│ .rodata │   1.71 KB │ 1.71 KB │ r,alloc   │
│ .bss    │       0 B │   512 B │ r,w,alloc │
└─────────┴───────────┴─────────┴───────────┘
Modules
┏━━━━━━━━━━━━━━━━━┳━━━━━━━━━┳━━━━━━━━━┳━━━━━━━━┓
┃ module          ┃ version ┃    size ┃  share ┃
┡━━━━━━━━━━━━━━━━━╇━━━━━━━━━╇━━━━━━━━━╇━━━━━━━━┩
│ std             │         │ 4.50 KB │ 69.40% │
│ example.com/app │         │ 1.83 KB │ 28.22% │
└─────────────────┴─────────┴─────────┴────────┘
Packages
┏━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━┳━━━━━━━━━┳━━━━━━━━━┳━━━━━━━┳━━━━━━━━┓
┃ package                       ┃    size ┃    code ┃    meta ┃  data ┃  share ┃
┡━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━╇━━━━━━━━━╇━━━━━━━━━╇━━━━━━━╇━━━━━━━━┩
│ runtime                       │ 4.50 KB │ 3.00 KB │ 1.00 KB │ 500 B │ 69.40% │
│ example.com/app/evil|<b>x</b> │ 1.50 KB │ 1.20 KB │   300 B │   0 B │ 23.13% │
│ ... 1 more                    │   330 B │         │         │       │  5.09% │
└───────────────────────────────┴─────────┴─────────┴─────────┴───────┴────────┘
Unattributed
┏━━━━━━━━━━━┳━━━━━━━┳━━━━━━━┓
┃ section   ┃  size ┃ share ┃
┡━━━━━━━━━━━╇━━━━━━━╇━━━━━━━┩
│ (headers) │  64 B │ 0.99% │
│ .rodata   │  90 B │ 1.39% │
│ total     │ 154 B │ 2.38% │
└───────────┴───────┴───────┘
Largest functions
┏━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━┳━━━━━━━┓
┃ function                                       ┃    code ┃  meta ┃
┡━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━╇━━━━━━━┩
│ example.com/app/evil|<b>x</b>.[bold]Run[/bold] │ 1.20 KB │ 300 B │
│ runtime.main                                   │   900 B │ 100 B │
│ ... 2 more                                     │         │       │
└────────────────────────────────────────────────┴─────────┴───────┘
"""


DIFF_TEXT = """\
Diff: build/old app -> build/new app
size: 4.92 KB -> 6.48 KB: +1.56 KB (+1560 bytes, +31.68%)
Go: go1.24.11 -> go1.26.8
Modules
┏━━━━━━━━━━━━━━━━━┳━━━━━━━┳━━━━━━━━━┳━━━━━━━━━━┳━━━━━━━━━━┓
┃ module          ┃   old ┃     new ┃    delta ┃   change ┃
┡━━━━━━━━━━━━━━━━━╇━━━━━━━╇━━━━━━━━━╇━━━━━━━━━━╇━━━━━━━━━━┩
│ example.com/app │ 260 B │ 1.83 KB │ +1.57 KB │ +603.85% │
└─────────────────┴───────┴─────────┴──────────┴──────────┘
Packages
┏━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━┳━━━━━━━━━┳━━━━━━━━━━┳━━━━━━━━━┓
┃ package                       ┃   old ┃     new ┃    delta ┃  change ┃
┡━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━╇━━━━━━━━━╇━━━━━━━━━━╇━━━━━━━━━┩
│ example.com/app/evil|<b>x</b> │   0 B │ 1.50 KB │ +1.50 KB │     new │
│ main                          │ 260 B │   330 B │    +70 B │ +26.92% │
└───────────────────────────────┴───────┴─────────┴──────────┴─────────┘
Sections (file bytes)
┏━━━━━━━━━┳━━━━━━━━━┳━━━━━━━━━┳━━━━━━━━━━┳━━━━━━━━━┓
┃ section ┃     old ┃     new ┃    delta ┃  change ┃
┡━━━━━━━━━╇━━━━━━━━━╇━━━━━━━━━╇━━━━━━━━━━╇━━━━━━━━━┩
│ .text   │ 3.20 KB │ 4.70 KB │ +1.50 KB │ +46.88% │
│ .rodata │ 1.72 KB │ 1.71 KB │    -10 B │  -0.58% │
└─────────┴─────────┴─────────┴──────────┴─────────┘
Unattributed
┏━━━━━━━━━┳━━━━━━━┳━━━━━━┳━━━━━━━┳━━━━━━━━━┓
┃ section ┃   old ┃  new ┃ delta ┃  change ┃
┡━━━━━━━━━╇━━━━━━━╇━━━━━━╇━━━━━━━╇━━━━━━━━━┩
│ .rodata │ 100 B │ 90 B │ -10 B │ -10.00% │
└─────────┴───────┴──────┴───────┴─────────┘
Functions
┏━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━┳━━━━━━━━━┳━━━━━━━━━━┳━━━━━━━━━┓
┃ function                                       ┃   old ┃     new ┃    delta ┃  change ┃
┡━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━╇━━━━━━━━━╇━━━━━━━━━━╇━━━━━━━━━┩
│ example.com/app/evil|<b>x</b>.[bold]Run[/bold] │   0 B │ 1.50 KB │ +1.50 KB │     new │
│ main.main                                      │ 250 B │   320 B │    +70 B │ +28.00% │
│ ... 1 more                                     │       │         │    +10 B │         │
└────────────────────────────────────────────────┴───────┴─────────┴──────────┴─────────┘
Module versions
┏━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━┳━━━━━━━━┓
┃ module                 ┃ old    ┃ new    ┃
┡━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━╇━━━━━━━━┩
│ github.com/@attacker/x │ (none) │ v0.0.1 │
│ github.com/acme/log    │ v1.3.2 │ v1.4.0 │
└────────────────────────┴────────┴────────┘
Added packages (1):
  example.com/app/evil|<b>x</b>
"""


REPORT_MD = """\
### Binary <code>build/new app</code>

| | |
|---|---|
| format | elf linux/amd64 |
| Go | go1.26.8 |
| file size | 6.48 KB (6484 bytes) |
| attributed to packages | 97.62% |
| symbol table | stripped |

> **Note:** unsupported Go version \\(pclntab magic 0xfffffffb\\): Go 1.18 or later is needed for the per-package breakdown

<details><summary>Modules (2)</summary>

| module | version | size | share |
|---|---|---:|---:|
| <code>std</code> |  | 4.50 KB | 69.40% |
| <code>example.com/app</code> |  | 1.83 KB | 28.22% |

</details>

<details><summary>Packages (3)</summary>

| package | module | size | code | meta | data | share |
|---|---|---:|---:|---:|---:|---:|
| <code>runtime</code> | std | 4.50 KB | 3.00 KB | 1.00 KB | 500 B | 69.40% |
| <code>example.com/app/evil\\|&lt;b&gt;x&lt;/b&gt;</code> | example.com/app | 1.50 KB | 1.20 KB | 300 B | 0 B | 23.13% |
| … 1 more | | 330 B | | | | 5.09% |

</details>

<details><summary>Sections (3)</summary>

| section | file size | memory | flags |
|---|---:|---:|---|
| <code>.text</code> | 4.70 KB | 4.70 KB | r,x,alloc |
| <code>.rodata</code> | 1.71 KB | 1.71 KB | r,alloc |
| <code>.bss</code> | 0 B | 512 B | r,w,alloc |

</details>

<details><summary>Unattributed: 154 B (2.38%)</summary>

| section | size | share |
|---|---:|---:|
| <code>\\(headers\\)</code> | 64 B | 0.99% |
| <code>.rodata</code> | 90 B | 1.39% |

</details>

<details><summary>Largest functions</summary>

| function | code | meta |
|---|---:|---:|
| <code>example.com/app/evil\\|&lt;b&gt;x&lt;/b&gt;.\\[bold\\]Run\\[/bold\\]</code> | 1.20 KB | 300 B |
| <code>runtime.main</code> | 900 B | 100 B |

</details>
"""


DIFF_MD = """\
### Binary diff <code>build/old app</code> → <code>build/new app</code>

**+1.56 KB** (+31.68%): 4.92 KB → 6.48 KB (+1560 bytes)

Go version: go1.24.11 → go1.26.8

#### Modules

| module | old | new | delta | change |
|---|---:|---:|---:|---:|
| <code>example.com/app</code> | 260 B | 1.83 KB | +1.57 KB | +603.85% |

#### Packages

| package | old | new | delta | change |
|---|---:|---:|---:|---:|
| <code>example.com/app/evil\\|&lt;b&gt;x&lt;/b&gt;</code> | 0 B | 1.50 KB | +1.50 KB | new |
| <code>main</code> | 260 B | 330 B | +70 B | +26.92% |

#### Sections (file bytes)

| section | old | new | delta | change |
|---|---:|---:|---:|---:|
| <code>.text</code> | 3.20 KB | 4.70 KB | +1.50 KB | +46.88% |
| <code>.rodata</code> | 1.72 KB | 1.71 KB | -10 B | -0.58% |

#### Unattributed

| section | old | new | delta | change |
|---|---:|---:|---:|---:|
| <code>.rodata</code> | 100 B | 90 B | -10 B | -10.00% |

#### Functions

| function | old | new | delta | change |
|---|---:|---:|---:|---:|
| <code>example.com/app/evil\\|&lt;b&gt;x&lt;/b&gt;.\\[bold\\]Run\\[/bold\\]</code> | 0 B | 1.50 KB | +1.50 KB | new |
| <code>main.main</code> | 250 B | 320 B | +70 B | +28.00% |
| … 1 more | | | +10 B | |

#### Module versions

| module | old | new |
|---|---|---|
| <code>github.com/@\u200battacker/x</code> | \\(none\\) | v0.0.1 |
| <code>github.com/acme/log</code> | v1.3.2 | v1.4.0 |

**Added packages (1):** <code>example.com/app/evil\\|&lt;b&gt;x&lt;/b&gt;</code>
"""


SAME_TEXT = """\
Diff: build/old app -> build/old app
size: 4.92 KB -> 4.92 KB: 0 B (+0 bytes, +0.00%)
Go: go1.24.11
No change.
"""


SAME_MD = """\
### Binary diff <code>build/old app</code> → <code>build/old app</code>

**0 B** (+0.00%): 4.92 KB → 4.92 KB (+0 bytes)

No change.
"""


def test_text_exact() -> None:
    d = diff_reports(tiny_old(), tiny_new())
    assert render(tiny_new(), "text", top=2) == REPORT_TEXT
    assert render(d, "text", top=2) == DIFF_TEXT
    assert render(diff_reports(tiny_old(), tiny_old()), "text") == SAME_TEXT


def test_markdown_exact() -> None:
    d = diff_reports(tiny_old(), tiny_new())
    assert render(tiny_new(), "markdown", top=2) == REPORT_MD
    assert render(d, "markdown", top=2) == DIFF_MD
    assert render(diff_reports(tiny_old(), tiny_old()), "markdown") == SAME_MD


def test_markdown_untrusted_names_are_inert() -> None:
    d = diff_reports(tiny_old(), tiny_new())
    for text in (render(tiny_new(), "markdown", top=None), render(d, "markdown", top=None)):
        assert "<b>" not in text and "<script>" not in text and "evil|" not in text
        assert "@attacker" not in text or "@" + ZWSP + "attacker" in text
        columns = None  # every row of a table has its header's column count: no pipe escapes a cell
        for line in text.splitlines():
            if not line.startswith("|"):
                columns = None
            elif columns is None:
                columns = line.count("|")
            else:
                assert line.replace("\\|", "").count("|") == columns, line
        assert "main.&lt;script&gt;alert\\(1\\)&lt;/script&gt;" in text


def test_text_keeps_markup_literal_and_lines_single() -> None:
    r = make_report("a\nb", [pkg("x\ny[red]z[/red]", "std", 10, 0, 0)], [Unattributed("(headers)", 1)],
                    sections=[Section(".text", 10, 10, 0, 0, "r")])
    text = render(r, "text")
    assert "Binary: a b\n" in text
    assert "x y[red]z[/red]" in text


def test_non_go_renders_sections_only() -> None:
    r = non_go()
    text = render(r, "text")
    assert "elf linux/amd64, not Go, 5.00 KB (5000 bytes), coverage 0.00%, stripped\n" in text
    assert "note: not a Go binary: sections only\n" in text
    assert "Packages" not in text and "Sections" in text
    md = render(r, "markdown")
    assert "| Go | not a Go binary |" in md and "> **Note:** not a Go binary: sections only" in md
    assert "Packages (" not in md


# ------------------------------------------------------------------------------ JSON read back


def test_documents_read_back_their_json() -> None:
    for report in (tiny_new(), tiny_old(), non_go()):
        assert BinaryReport.from_json(report.to_json()) == report
    d = diff_reports(tiny_old(), tiny_new())
    assert BinaryDiff.from_json(d.to_json()) == d
    assert BinaryDiff.from_json(json.loads(render(d, "json"))).to_json() == d.to_json()


@pytest.mark.parametrize("path, value, message", [
    (("file_size",), -1, "analyze.file_size: expected an integer >= 0, got -1"),
    (("file_size",), True, "analyze.file_size: expected an integer, got a boolean"),
    (("packages", 0, "size"), "12", "analyze.packages[0].size: expected an integer, got a string"),
    (("packages", 0, "evil"), 1, "analyze.packages[0]: unknown key 'evil'"),
    (("sections",), {}, "analyze.sections: expected an array, got an object"),
    (("build_info", "settings", "GOOS"), ["linux"], "analyze.build_info.settings.GOOS: expected a string, got an array"),
    (("schema",), "sizebot/analyze@2", "analyze.schema: expected 'sizebot/analyze@1'"),
    (("coverage",), float("nan"), "analyze.coverage: expected a finite number, got nan"),
])
def test_analyze_from_json_names_the_bad_value(path: tuple, value: object, message: str) -> None:
    doc = tiny_new().to_json()
    where = doc
    for key in path[:-1]:
        where = where[key]
    where[path[-1]] = value
    with pytest.raises(DocumentError) as err:
        BinaryReport.from_json(doc)
    assert str(err.value) == message


def test_diff_from_json_refuses_inconsistent_deltas() -> None:
    doc = diff_reports(tiny_old(), tiny_new()).to_json()
    doc["packages"][0]["delta"] += 1
    with pytest.raises(DocumentError, match=r"diff.packages\[0\].delta: is not new_size - old_size"):
        BinaryDiff.from_json(doc)
    doc = diff_reports(tiny_old(), tiny_new()).to_json()
    del doc["old"]
    with pytest.raises(DocumentError, match="diff: missing old"):
        BinaryDiff.from_json(doc)


ESTIMATED_TEXT = """\
Packages
┏━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━┳━━━━━━━━━┳━━━━━━━━━┳━━━━━━━━┳━━━━━━━━┓
┃ package                       ┃    size ┃    code ┃    meta ┃   data ┃  share ┃
┡━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━╇━━━━━━━━━╇━━━━━━━━━╇━━━━━━━━╇━━━━━━━━┩
│ runtime                       │ 4.50 KB │ 3.00 KB │ 1.00 KB │ 500 B† │ 69.40% │
│ example.com/app/evil|<b>x</b> │ 1.50 KB │ 1.20 KB │   300 B │    0 B │ 23.13% │
│ ... 1 more                    │   330 B │         │         │        │  5.09% │
└───────────────────────────────┴─────────┴─────────┴─────────┴────────┴────────┘
† data partly estimated: 300 B found through the references of code and data to
it, without symbols (each object runs to the next referenced address)
"""

ESTIMATED_MD = """\
<details><summary>Packages (3)</summary>

| package | module | size | code | meta | data | share |
|---|---|---:|---:|---:|---:|---:|
| <code>runtime</code> | std | 4.50 KB | 3.00 KB | 1.00 KB | 500 B† | 69.40% |
| <code>example.com/app/evil\\|&lt;b&gt;x&lt;/b&gt;</code> | example.com/app | 1.50 KB | 1.20 KB | 300 B | 0 B | 23.13% |
| … 1 more | | 330 B | | | | 5.09% |

† data partly estimated: 300 B found through the references of code and data to it, without symbols (each object runs to the next referenced address)

</details>
"""


def _with_estimated_data():
    from dataclasses import replace

    report = tiny_new()
    packages = list(report.packages)
    packages[0] = replace(packages[0], data_estimated=300)
    return replace(report, packages=tuple(packages))


def test_estimated_data_is_marked_exactly() -> None:
    report = _with_estimated_data()
    text = render(report, "text", top=2)
    assert text[text.index("Packages") : text.index("Unattributed")] == ESTIMATED_TEXT
    md = render(report, "markdown", top=2)
    assert md[md.index("<details><summary>Packages") : md.index("\n<details><summary>Sections")] == ESTIMATED_MD
    # without estimated bytes, no mark and no footnote (the exact texts above)
    assert "†" not in render(tiny_new(), "text", top=2) + render(tiny_new(), "markdown", top=2)


def test_estimated_data_in_the_document() -> None:
    report = _with_estimated_data()
    doc = report.to_json()
    assert [p.get("data_estimated") for p in doc["packages"]] == [300, None, None]
    validate(doc)
    assert BinaryReport.from_json(doc) == report
    doc["packages"][0]["data_estimated"] = doc["packages"][0]["data"] + 1
    with pytest.raises(DocumentError, match=r"data_estimated 501 is more than data 500"):
        BinaryReport.from_json(doc)


ESTIMATED_DIFF_TEXT = """\
Modules
┏━━━━━━━━━━━━━━━━━┳━━━━━━━━┳━━━━━━━━━┳━━━━━━━━━━━┳━━━━━━━━━━┓
┃ module          ┃    old ┃     new ┃     delta ┃   change ┃
┡━━━━━━━━━━━━━━━━━╇━━━━━━━━╇━━━━━━━━━╇━━━━━━━━━━━╇━━━━━━━━━━┩
│ example.com/app │ 260 B† │ 1.83 KB │ +1.57 KB† │ +603.85% │
└─────────────────┴────────┴─────────┴───────────┴──────────┘
† data partly estimated: 10 B (old) found through the
references of code and data to it, without symbols (each
object runs to the next referenced address)
Packages
┏━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━┳━━━━━━━━━┳━━━━━━━━━━┳━━━━━━━━━┓
┃ package                       ┃    old ┃     new ┃    delta ┃  change ┃
┡━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━╇━━━━━━━━━╇━━━━━━━━━━╇━━━━━━━━━┩
│ example.com/app/evil|<b>x</b> │    0 B │ 1.50 KB │ +1.50 KB │     new │
│ main                          │ 260 B† │   330 B │   +70 B† │ +26.92% │
└───────────────────────────────┴────────┴─────────┴──────────┴─────────┘
† data partly estimated: 10 B (old) found through the references of code
and data to it, without symbols (each object runs to the next referenced
address)
"""

ESTIMATED_DIFF_MD = """\
#### Modules

| module | old | new | delta | change |
|---|---:|---:|---:|---:|
| <code>example.com/app</code> | 260 B† | 1.83 KB | +1.57 KB† | +603.85% |

† data partly estimated: 10 B (old) found through the references of code and data to it, without symbols (each object runs to the next referenced address)

#### Packages

| package | old | new | delta | change |
|---|---:|---:|---:|---:|
| <code>example.com/app/evil\\|&lt;b&gt;x&lt;/b&gt;</code> | 0 B | 1.50 KB | +1.50 KB | new |
| <code>main</code> | 260 B† | 330 B | +70 B† | +26.92% |

† data partly estimated: 10 B (old) found through the references of code and data to it, without symbols (each object runs to the next referenced address)

"""


def _estimated(report: BinaryReport, by_package: dict[str, int]) -> BinaryReport:
    from dataclasses import replace

    return replace(report, packages=tuple(replace(p, data_estimated=by_package.get(p.name, 0))
                                          for p in report.packages))


def test_estimated_data_is_carried_into_the_diff_and_marked_exactly() -> None:
    """runtime's 200 estimated bytes on both sides: an unchanged row, not shown, not in the legend;
    main's 10 bytes at the old side only mark its old figure and its delta (and its module's)."""
    d = diff_reports(_estimated(tiny_old(), {"runtime": 200, "main": 10}), _estimated(tiny_new(), {"runtime": 200}))
    assert [(r.name, r.old_estimated, r.new_estimated) for r in d.packages] == [
        ("example.com/app/evil|<b>x</b>", 0, 0), ("main", 10, 0), ("runtime", 200, 200)]
    assert [(r.name, r.old_estimated, r.new_estimated) for r in d.modules] == [("example.com/app", 10, 0),
                                                                               ("std", 200, 200)]
    text = render(d, "text")
    assert text[text.index("Modules") : text.index("Sections")] == ESTIMATED_DIFF_TEXT
    md = render(d, "markdown")
    assert md[md.index("#### Modules") : md.index("#### Sections")] == ESTIMATED_DIFF_MD
    # without estimated bytes, no mark and no legend
    assert "†" not in render(diff_reports(tiny_old(), tiny_new()), "text") + \
        render(diff_reports(tiny_old(), tiny_new()), "markdown")


def test_estimated_data_in_the_diff_document() -> None:
    d = diff_reports(_estimated(tiny_old(), {"main": 10}), _estimated(tiny_new(), {"runtime": 200}))
    doc = d.to_json()
    validate(doc)
    assert [{k: r[k] for k in r if k.endswith("_estimated")} for r in doc["packages"]] == [
        {}, {"old_estimated": 10}, {"new_estimated": 200}]
    assert BinaryDiff.from_json(doc) == d
    doc["packages"][1]["old_estimated"] = doc["packages"][1]["old_size"] + 1
    with pytest.raises(DocumentError, match=r"diff\.packages\[1\]: estimated bytes more than the size"):
        BinaryDiff.from_json(doc)
