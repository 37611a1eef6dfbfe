"""The one verdict vocabulary: its words, its order (the worst wins) and its exit codes."""

from __future__ import annotations

import json

import pytest

from sizebot.documents.verdict import FAIL_ON, VERDICTS, Verdict
from tests.support.schemas import load_schema


def test_words_are_the_json_strings():
    assert VERDICTS == ("neutral", "pass", "warn", "fail", "error")
    assert json.dumps({"verdict": Verdict.FAIL}) == '{"verdict": "fail"}'
    assert Verdict("warn") is Verdict.WARN and Verdict.PASS == "pass" and f"{Verdict.NEUTRAL}" == "neutral"
    for name in ("report", "measurement"):
        assert set(load_schema(name)["properties"]["verdict"]["enum"]) == set(VERDICTS)


def test_the_worst_wins():
    assert Verdict.worst([]) is Verdict.NEUTRAL
    assert Verdict.worst(["pass", "neutral"]) is Verdict.PASS
    assert Verdict.worst(["pass", "warn", "neutral"]) is Verdict.WARN
    assert Verdict.worst([Verdict.WARN, "fail", "pass"]) is Verdict.FAIL
    assert Verdict.worst(["fail", "error"]) is Verdict.ERROR
    assert sorted(Verdict, key=lambda v: v.rank) == list(Verdict)
    with pytest.raises(ValueError):
        Verdict.worst(["passed"])


@pytest.mark.parametrize("fail_on, codes", [
    ("fail", {"neutral": 0, "pass": 0, "warn": 0, "fail": 1, "error": 2}),
    ("warn", {"neutral": 0, "pass": 0, "warn": 1, "fail": 1, "error": 2}),
    ("never", {"neutral": 0, "pass": 0, "warn": 0, "fail": 0, "error": 2}),
])
def test_exit_codes(fail_on, codes):
    assert fail_on in FAIL_ON
    assert {v.value: v.exit_code_for(fail_on) for v in Verdict} == codes
    if fail_on == "fail":
        assert {v.value: v.exit_code for v in Verdict} == codes
