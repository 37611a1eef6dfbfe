"""``sizebot render FILE.json``: every saved document renders again as the command that wrote it
rendered it; a file that is not one of sizebot's documents is one line and exit 2."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from sizebot.cli import main
from tests.support.goprograms import HELLO, HTTPJSON, build
from tests.support.paths import DATA, DIVE_FIXTURES


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(scope="module")
def binaries() -> tuple[Path, Path]:
    return build(HELLO), build(HTTPJSON)


def saved(tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str, *argv: str) -> Path:
    path = tmp_path / name
    code, _, err = run(capsys, *argv, "--format", "json", "-o", str(path))
    assert code == 0, err
    return path


@pytest.mark.parametrize("fmt", ["text", "markdown", "html"])
def test_analyze_renders_again_as_analyze_rendered_it(tmp_path, capsys, binaries, fmt):
    # every function kept in the JSON, so that the text can say how many it leaves out
    doc = saved(tmp_path, capsys, "a.json", "analyze", str(binaries[0]), "--top", "all")
    code, again, err = run(capsys, "render", str(doc), "--format", fmt)
    assert (code, err) == (0, "")
    _, direct, _ = run(capsys, "analyze", str(binaries[0]), "--format", fmt)
    assert again == direct


@pytest.mark.parametrize("fmt", ["text", "markdown"])
def test_diff_renders_again_as_diff_rendered_it(tmp_path, capsys, binaries, fmt):
    old, new = (str(b) for b in binaries)
    doc = saved(tmp_path, capsys, "d.json", "diff", old, new)
    code, again, err = run(capsys, "render", str(doc), "--format", fmt)
    assert (code, err) == (0, "")
    _, direct, _ = run(capsys, "diff", old, new, "--format", fmt)
    assert again == direct


@pytest.mark.parametrize("fmt", ["text", "markdown"])
def test_image_and_image_diff_render_again(tmp_path, capsys, fmt):
    a, b = str(DIVE_FIXTURES / "test-docker-image.tar"), str(DIVE_FIXTURES / "test-oci-gzip-image.tar")
    for name, argv in (("i.json", ("image", a)), ("id.json", ("image", a, b))):
        doc = saved(tmp_path, capsys, name, *argv)
        code, again, err = run(capsys, "render", str(doc), "--format", fmt)
        assert (code, err) == (0, "")
        _, direct, _ = run(capsys, *argv, "--format", fmt)
        assert again == direct


def test_json_renders_again_as_the_same_document(tmp_path, capsys, binaries):
    old, new = (str(b) for b in binaries)
    image = str(DIVE_FIXTURES / "test-docker-image.tar")
    for name, argv in (("a.json", ("analyze", old)), ("d.json", ("diff", old, new)), ("i.json", ("image", image)),
                       ("id.json", ("image", image, str(DIVE_FIXTURES / "test-oci-gzip-image.tar")))):
        doc = saved(tmp_path, capsys, name, *argv)
        code, again, err = run(capsys, "render", str(doc), "--format", "json", "--top", "all")
        assert (code, err) == (0, "")
        assert json.loads(again) == json.loads(doc.read_text()), name


@pytest.mark.parametrize("fmt", ["text", "markdown", "json", "html"])
def test_report_and_measurement_render_again(tmp_path, capsys, fmt):
    from sizebot.cli.report import render_doc
    from sizebot.documents.report import Report

    sample = json.loads((DATA / "report-render-sample.json").read_text())
    expected = render_doc(Report.from_json(sample), fmt)
    measurement = dict(sample, pull_request={"number": 7, "base_sha": sample["base"]["sha"],
                                             "head_sha": sample["head"]["sha"]}, comment_key="default")
    for name, doc in (("r.json", sample), ("m.json", measurement)):
        path = tmp_path / name
        path.write_text(json.dumps(doc))
        code, out, err = run(capsys, "render", str(path), "--format", fmt)
        assert (code, err) == (0, "")
        assert out == expected


def test_report_json_round_trip_is_exact(tmp_path, capsys):
    path = tmp_path / "r.json"
    path.write_text((DATA / "report-render-sample.json").read_text())
    code, out, _ = run(capsys, "render", str(path), "--format", "json")
    assert code == 0 and json.loads(out) == json.loads(path.read_text())


def _bad_files(tmp_path: Path) -> dict[str, tuple[str | bytes | None, str]]:
    sample = json.loads((DATA / "report-render-sample.json").read_text())
    hostile = json.loads(json.dumps(sample))
    hostile["builds"][0]["delta"] = "12"
    return {
        "not-json.json": (b"{\"schema\": ", "not valid JSON"),
        "array.json": ("[1, 2]", "not a sizebot document"),
        "no-schema.json": ('{"a": 1}', "schema missing"),
        "other.json": ('{"schema": "acme/thing@9"}', "is not one of sizebot's documents"),
        "deep.json": ("[" * 100_000 + "]" * 100_000, "JSON nested more than 32 deep"),
        "nan.json": ('{"schema": "sizebot/analyze@1", "file_size": NaN}', "NaN is not a JSON number"),
        "latin1.json": (b'{"schema": "\xe9"}', "not UTF-8"),
        "hostile-report.json": (json.dumps(hostile), "builds[0].delta"),
        "bad-analyze.json": ('{"schema": "sizebot/analyze@1", "file_size": "12"}', "analyze"),
        "missing.json": (None, "cannot read"),
    }


def test_bad_files_are_one_line_and_exit_2(tmp_path, capsys):
    for name, (content, fault) in _bad_files(tmp_path).items():
        path = tmp_path / name
        if isinstance(content, bytes):
            path.write_bytes(content)
        elif content is not None:
            path.write_text(content)
        code, out, err = run(capsys, "render", str(path))
        assert code == 2, name
        assert out == ""
        assert err.count("\n") == 1 and err.startswith(f"sizebot: error: {path}: "), err
        assert fault in err, (name, err)


def test_values_outside_the_analyze_schemas_bounds_are_refused(tmp_path, capsys, binaries):
    """A saved analysis of a real binary, edited past its schema's bounds: one line naming the field, exit 2."""
    doc = json.loads(saved(tmp_path, capsys, "hello.json", "analyze", str(binaries[0])).read_text())
    for field, value, fault in (("coverage", 1.5, "analyze.coverage: expected a number from 0 to 1, got 1.5"),
                                ("coverage", -0.25, "analyze.coverage: expected a number from 0 to 1, got -0.25"),
                                ("format", "wasm", "analyze.format: expected one of elf, macho, pe, got 'wasm'")):
        path = tmp_path / f"{field}.json"
        path.write_text(json.dumps({**doc, field: value}))
        code, out, err = run(capsys, "render", str(path))
        assert (code, out) == (2, ""), err
        assert err == f"sizebot: error: {path}: {fault}\n"


def test_a_fifo_is_refused_without_blocking(tmp_path, capsys):
    fifo = tmp_path / "doc.json"
    os.mkfifo(fifo)
    code, _, err = run(capsys, "render", str(fifo))
    assert code == 2 and "not a regular file" in err
