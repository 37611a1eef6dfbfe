"""compare/analysis_cache.py: analyses kept by the binary's content, on real Go binaries."""

from __future__ import annotations

import shutil

from sizebot.binary.attribute import analyze_binary
from sizebot.compare import analysis_cache
from sizebot.compare.analysis_cache import analyze_cached
from tests.support.goprograms import HELLO, HTTPJSON, build


def test_a_binary_built_again_is_read_back_equal(tmp_path):
    binary = tmp_path / "hello"
    shutil.copy(build(HELLO), binary)
    cache = tmp_path / "cache"
    first = analyze_cached(binary, cache)
    assert first == analyze_binary(binary, functions=True)
    entries = list((cache / "analyze").glob("*.pickle"))
    assert len(entries) == 1 and entries[0].name.startswith(analysis_cache._key(binary, True)[:64])
    again = tmp_path / "again"
    shutil.copy(binary, again)  # the same bytes under another name: one entry
    assert analyze_cached(again, cache) == first
    assert len(list((cache / "analyze").glob("*.pickle"))) == 1
    other = tmp_path / "httpjson"
    shutil.copy(build(HTTPJSON), other)
    assert analyze_cached(other, cache) == analyze_binary(other, functions=True) != first
    assert len(list((cache / "analyze").glob("*.pickle"))) == 2


def test_a_broken_entry_is_analysed_again_and_replaced(tmp_path):
    binary = tmp_path / "hello"
    shutil.copy(build(HELLO), binary)
    cache = tmp_path / "cache"
    expected = analyze_cached(binary, cache)
    entry = next((cache / "analyze").glob("*.pickle"))
    entry.write_bytes(entry.read_bytes()[:100])  # cut short, as by a killed writer
    assert analyze_cached(binary, cache) == expected
    assert analyze_cached(binary, cache) == expected
    entry.write_bytes(b"\x80\x05K\x01.")  # a valid pickle of something else
    assert analyze_cached(binary, cache) == expected


def test_the_cache_keeps_the_newest_entries(tmp_path, monkeypatch):
    monkeypatch.setattr(analysis_cache, "MAX_ENTRIES", 1)
    cache = tmp_path / "cache"
    for i, program in enumerate((HELLO, HTTPJSON)):
        binary = tmp_path / f"b{i}"
        shutil.copy(build(program), binary)
        analyze_cached(binary, cache)
    assert len(list((cache / "analyze").glob("*.pickle"))) == 1
    assert analyze_cached(tmp_path / "b1", None) == analyze_cached(tmp_path / "b1", cache)
