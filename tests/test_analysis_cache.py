"""compare/analysis_cache.py: analyses kept by the binary's content, on real Go binaries; entries are
JSON read back as any saved document, and whatever is in the cache directory, a bad entry only costs
an analysis."""

from __future__ import annotations

import json
import os
import shutil

import pytest

from sizebot.binary.attribute import analyze_binary
from sizebot.compare import analysis_cache
from sizebot.compare.analysis_cache import analyze_cached
from tests.support.goprograms import HELLO, HTTPJSON, build


def entries(cache):
    return sorted((cache / "analyze").iterdir())


def _kept_hello(tmp_path):
    """(binary, cache directory, its analysis, the one cache entry) after a first analysis of a copy of HELLO."""
    binary = tmp_path / "hello"
    shutil.copy(build(HELLO), binary)
    cache = tmp_path / "cache"
    expected = analyze_cached(binary, cache)
    [entry] = entries(cache)
    return binary, cache, expected, entry


def test_a_binary_built_again_is_read_back_equal(tmp_path):
    binary = tmp_path / "hello"
    shutil.copy(build(HELLO), binary)
    cache = tmp_path / "cache"
    first = analyze_cached(binary, cache)
    assert first == analyze_binary(binary, functions=True)
    [entry] = entries(cache)
    assert entry.name == f"{analysis_cache.cache_key(binary, True)}.json"
    doc = json.loads(entry.read_text())
    assert (doc["schema"], doc["key"]) == ("sizebot/analysis-cache@1", entry.name.removesuffix(".json"))
    assert doc["analysis"] == first.to_json()
    assert doc["raw_flags"] == [s.raw_flags for s in first.sections] and any(doc["raw_flags"])
    assert analyze_cached(binary, cache) == first  # read back: raw flags included
    again = tmp_path / "again"
    shutil.copy(binary, again)  # the same bytes under another name: one entry, the path of the one asked
    assert analyze_cached(again, cache) == analyze_binary(again, functions=True)
    assert len(entries(cache)) == 1
    other = tmp_path / "httpjson"
    shutil.copy(build(HTTPJSON), other)
    assert analyze_cached(other, cache) == analyze_binary(other, functions=True) != first
    assert len(entries(cache)) == 2


def test_a_read_entry_is_not_analysed_again(tmp_path, monkeypatch):
    binary = tmp_path / "hello"
    shutil.copy(build(HELLO), binary)
    cache = tmp_path / "cache"
    expected = analyze_cached(binary, cache)

    def refuse(*_args, **_kwargs):
        raise AssertionError("analysed again")

    monkeypatch.setattr(analysis_cache, "analyze_binary", refuse)
    assert analyze_cached(binary, cache) == expected


def _corruptions(entry, doc):
    """Ways an entry can be broken or forged: each must be analysed again and replaced."""
    def document(change):
        bad = json.loads(json.dumps(doc))
        change(bad)
        return json.dumps(bad).encode()

    yield "cut short", entry.read_bytes()[:100]
    yield "empty", b""
    yield "a pickle", b"\x80\x05K\x01."
    yield "not UTF-8", b"\xff\xfe{}"
    yield "NaN", entry.read_bytes().replace(b'"coverage":', b'"coverage":NaN,"x":', 1)
    yield "nested deep", b"[" * 100_000 + b"]" * 100_000
    yield "another key", document(lambda d: d.update(key="0" * 64))
    yield "another schema", document(lambda d: d.update(schema="sizebot/analysis-cache@0"))
    yield "a negative size", document(lambda d: d["analysis"]["functions"][0].update(code=-1))
    yield "a string size", document(lambda d: d["analysis"]["packages"][0].update(size="12"))
    yield "a huge integer", document(lambda d: d["analysis"]["functions"][3].update(meta=10**400))
    yield "a size past 2**53", document(lambda d: d["analysis"]["functions"][1].update(code=2**53 + 1))
    yield "a function name too long", document(lambda d: d["analysis"]["functions"][2].update(name="x" * 65_537))
    yield "a package name too long", document(lambda d: d["analysis"]["packages"][0].update(name="p" * 65_537))
    yield "a function without a name", document(lambda d: d["analysis"]["functions"][5].pop("name"))
    yield "raw flags short", document(lambda d: d["raw_flags"].pop())
    yield "raw flags negative", document(lambda d: d["raw_flags"].__setitem__(0, -1))
    yield "unknown key", document(lambda d: d["analysis"].update(evil=1))
    yield "a list", b"[]"


def test_a_bad_entry_is_analysed_again_and_replaced(tmp_path):
    binary, cache, expected, entry = _kept_hello(tmp_path)
    good = entry.read_bytes()
    doc = json.loads(good)
    for name, content in _corruptions(entry, doc):
        entry.write_bytes(content)
        assert analyze_cached(binary, cache) == expected, name
        assert entry.read_bytes() == good, name  # replaced by the analysis
        assert analyze_cached(binary, cache) == expected, name


def test_what_is_not_a_regular_file_is_not_read(tmp_path):
    binary, cache, expected, entry = _kept_hello(tmp_path)
    entry.unlink()
    os.mkfifo(entry)  # a reader that opened it blocking would wait forever
    assert analyze_cached(binary, cache) == expected
    entry.unlink()
    entry.mkdir()  # cannot be replaced either: analysed every time, no error
    assert analyze_cached(binary, cache) == expected
    assert analyze_cached(binary, cache) == expected


def test_a_huge_entry_is_not_read(tmp_path, monkeypatch):
    binary, cache, expected, entry = _kept_hello(tmp_path)
    monkeypatch.setattr(analysis_cache, "MAX_ENTRY_BYTES", entry.stat().st_size - 1)
    analysed = []
    monkeypatch.setattr(analysis_cache, "analyze_binary",
                        lambda *a, **k: analysed.append(1) or analyze_binary(*a, **k))
    assert analyze_cached(binary, cache) == expected and analysed == [1]


def test_the_cache_keeps_the_newest_entries(tmp_path, monkeypatch):
    monkeypatch.setattr(analysis_cache, "MAX_ENTRIES", 1)
    cache = tmp_path / "cache"
    (cache / "analyze").mkdir(parents=True)
    (cache / "analyze" / "old.pickle").write_bytes(b"\x80\x05K\x01.")  # an older sizebot's: removed, never read
    for i, program in enumerate((HELLO, HTTPJSON)):
        binary = tmp_path / f"b{i}"
        shutil.copy(build(program), binary)
        analyze_cached(binary, cache)
    assert [p.suffix for p in entries(cache)] == [".json"]
    assert analyze_cached(tmp_path / "b1", None) == analyze_cached(tmp_path / "b1", cache)


def test_the_functions_of_a_document_are_read_strictly(tmp_path):
    """The functions array is read in one tight loop; a bad row is still named by its place."""
    from sizebot.documents.analyze import BinaryReport
    from sizebot.errors import DocumentError

    doc = analyze_binary(build(HELLO), functions=True).to_json()
    assert BinaryReport.from_json(json.loads(json.dumps(doc))).functions == \
        analyze_binary(build(HELLO), functions=True).functions
    for i, change, message in ((7, {"code": True}, "analyze.functions[7].code: expected an integer, got a boolean"),
                               (0, {"meta": -3}, "analyze.functions[0].meta: expected an integer >= 0, got -3"),
                               (2, {"name": None}, "analyze.functions[2].name: expected a string, got null"),
                               (4, {"extra": 1}, "analyze.functions[4]: unknown key 'extra'")):
        bad = json.loads(json.dumps(doc))
        bad["functions"][i].update(change)
        with pytest.raises(DocumentError) as err:
            BinaryReport.from_json(bad)
        assert str(err.value) == message


def test_a_linked_analyze_directory_is_no_cache_and_nothing_there_is_touched(tmp_path, monkeypatch):
    """A restored cache whose ``analyze`` is a symbolic link to another directory: nothing is read,
    written or deleted there (the cache is not used), and no error."""
    binary = tmp_path / "hello"
    shutil.copy(build(HELLO), binary)
    expected = analyze_binary(binary, functions=True)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    key = analysis_cache.cache_key(binary, True)
    forged = analysis_cache.entry_json(key, expected)
    forged["analysis"]["packages"][0]["module"] = "forged"
    (elsewhere / f"{key}.json").write_text(json.dumps(forged))  # a well-formed entry, never read
    for i in range(70):
        (elsewhere / f"{i:02}.json").write_text(f"{i}")
    before = {p.name: p.read_bytes() for p in elsewhere.iterdir()}
    cache = tmp_path / "cache"
    cache.mkdir()
    (cache / "analyze").symlink_to(elsewhere)
    monkeypatch.setattr(analysis_cache, "MAX_ENTRIES", 1)
    analysed = []
    monkeypatch.setattr(analysis_cache, "analyze_binary",
                        lambda *a, **k: analysed.append(1) or analyze_binary(*a, **k))
    assert analyze_cached(binary, cache) == expected
    assert analyze_cached(binary, cache) == expected
    assert analysed == [1, 1]  # no cache: analysed each time
    assert {p.name: p.read_bytes() for p in elsewhere.iterdir()} == before


def test_a_linked_entry_is_not_read_and_its_target_is_not_touched(tmp_path, monkeypatch):
    binary = tmp_path / "hello"
    shutil.copy(build(HELLO), binary)
    expected = analyze_binary(binary, functions=True)
    key = analysis_cache.cache_key(binary, True)
    forged = analysis_cache.entry_json(key, expected)
    forged["analysis"]["packages"][0]["module"] = "forged"
    outside = tmp_path / "outside.json"
    outside.write_text(json.dumps(forged))
    other = tmp_path / "other.json"
    other.write_text("kept")
    cache = tmp_path / "cache"
    (cache / "analyze").mkdir(parents=True)
    (cache / "analyze" / f"{key}.json").symlink_to(outside)
    (cache / "analyze" / "aaaa.json").symlink_to(other)  # older than any entry: the prune's first candidate
    os.utime(cache / "analyze" / "aaaa.json", (0, 0), follow_symlinks=False)
    monkeypatch.setattr(analysis_cache, "MAX_ENTRIES", 1)
    assert analyze_cached(binary, cache) == expected  # analysed: the link is not followed
    entry = cache / "analyze" / f"{key}.json"
    assert not entry.is_symlink() and json.loads(entry.read_text())["analysis"] == expected.to_json()
    assert json.loads(outside.read_text()) == forged and other.read_text() == "kept"
    assert analyze_cached(binary, cache) == expected


def test_a_prediction_is_a_key_kept_under_a_build_id(tmp_path):
    cache = tmp_path / "cache"
    build = analysis_cache.build_id("sha", "head", "/src", "job")
    assert build != analysis_cache.build_id("sha", "head", "/src", "other job")
    assert analysis_cache.predicted_key(cache, build) is None
    key = "a" * 64 + "-" + "b" * 16 + "-f"
    analysis_cache.predict(cache, build, key)
    assert analysis_cache.predicted_key(cache, build) == key
    analysis_cache.predict(cache, build, "not a key")  # nothing kept that is not a key
    analysis_cache.predict(cache, "../escape", key)
    assert analysis_cache.predicted_key(cache, build) == key
    assert sorted(p.name for p in (cache / "predict").iterdir()) == [build]


@pytest.mark.parametrize("text", ["", "x" * 199, "a" * 64 + "-" + "b" * 16 + "-f" + "x" * 300, "../../etc/passwd",
                                  "A" * 64 + "-" + "b" * 16 + "-f", "a" * 64 + "-" + "b" * 16 + "-f/../x"])
def test_a_prediction_that_is_not_a_key_is_none(tmp_path, text):
    cache = tmp_path / "cache"
    build = analysis_cache.build_id("x")
    (cache / "predict").mkdir(parents=True)
    (cache / "predict" / build).write_text(text)
    assert analysis_cache.predicted_key(cache, build) is None
    assert analysis_cache.predicted_key(cache, "../predict/" + build) is None  # an id is hex, nothing else


def test_a_linked_or_special_prediction_is_not_read(tmp_path):
    cache = tmp_path / "cache"
    key = "a" * 64 + "-" + "b" * 16 + "-f"
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "k").write_text(key)
    (cache / "predict").mkdir(parents=True)
    linked = analysis_cache.build_id("linked")
    os.symlink(elsewhere / "k", cache / "predict" / linked)
    assert analysis_cache.predicted_key(cache, linked) is None
    fifo = analysis_cache.build_id("fifo")
    os.mkfifo(cache / "predict" / fifo)
    assert analysis_cache.predicted_key(cache, fifo) is None  # and never blocks
    other = tmp_path / "other"
    other.mkdir()
    os.symlink(elsewhere, other / "predict")
    assert analysis_cache.predicted_key(other, analysis_cache.build_id("x")) is None
    analysis_cache.predict(other, analysis_cache.build_id("x"), key)
    assert sorted(p.name for p in elsewhere.iterdir()) == ["k"]  # never written through a link
