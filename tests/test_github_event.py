"""Event payload parsing and measurement files (strict validation)."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path

import jsonschema
import pytest

from sizebot.errors import MeasurementFileError, SizebotError
from sizebot.github.event import parse_event
from sizebot.github.measurement import (
    check_against_pull,
    load_measurement,
    make_measurement,
    write_measurement,
)
from tests.support.schemas import load_schema

DATA = Path(__file__).parent / "data"
BASE, HEAD, MERGE = "a" * 40, "b" * 40, "c" * 40


def pr_payload(*, fork: bool = False) -> dict:
    head_repo = {"full_name": "mallory/app" if fork else "octo/app", "fork": fork}
    return {"action": "synchronize", "number": 12,
            "repository": {"full_name": "octo/app"},
            "pull_request": {"number": 12, "merge_commit_sha": MERGE,
                             "labels": [{"name": "size-ok"}, {"name": "bug"}],
                             "base": {"sha": BASE, "ref": "main", "repo": {"full_name": "octo/app"}},
                             "head": {"sha": HEAD, "ref": "feat", "repo": head_repo}}}


def test_parse_pull_request():
    ev = parse_event(pr_payload())
    assert (ev.number, ev.base_sha, ev.base_ref, ev.head_sha, ev.head_ref) == (12, BASE, "main", HEAD, "feat")
    assert ev.labels == ("size-ok", "bug") and ev.fork is False and ev.repo == "octo/app"
    assert parse_event(pr_payload(fork=True)).fork is True
    p = pr_payload()
    p["pull_request"]["head"]["repo"] = None  # deleted fork
    assert parse_event(p).fork is True
    assert parse_event({"workflow_run": {}}) is None
    p = pr_payload()
    del p["pull_request"]["base"]["sha"]
    with pytest.raises(SizebotError, match="pull_request.base.sha is None, not a 40-digit commit SHA"):
        parse_event(p, source="event.json")


@pytest.mark.parametrize("change, message", [
    (lambda p: p["pull_request"].update(labels=["a"]), "pull_request.labels[0] is 'a', not a label object"),
    (lambda p: p["pull_request"].update(labels="size-ok"), "pull_request.labels is 'size-ok', not a list"),
    (lambda p: p["pull_request"].update(base="main"), "pull_request.base is 'main', not an object"),
    (lambda p: p["pull_request"]["base"].update(sha="--upload-pack=touch /tmp/pwned"),
     "pull_request.base.sha is '--upload-pack=touch /tmp/pwned', not a 40-digit commit SHA"),
    (lambda p: p["pull_request"]["head"].update(sha="B" * 40), "pull_request.head.sha is 'BBB"),
    (lambda p: p["pull_request"]["head"].update(ref=["feat"]), "pull_request.head.ref is ['feat'], not a string"),
    (lambda p: p["pull_request"]["head"].update(repo="mallory/app"), "pull_request.head.repo is 'mallory/app'"),
    (lambda p: p["pull_request"].update(number=True), "pull_request.number is True"),
    (lambda p: p["pull_request"].update(number="12"), "pull_request.number is '12'"),
    (lambda p: p.update(pull_request=[]), "pull_request is not an object"),
])
def test_wrong_types_one_line(change, message):
    p = pr_payload()
    change(p)
    with pytest.raises(SizebotError, match=re.escape(message)) as err:
        parse_event(p, source="event.json")
    assert "\n" not in str(err.value) and str(err.value).startswith("event.json: ")


def sample() -> dict:
    return json.loads((DATA / "report-render-sample.json").read_text())


def measurement_file(tmp_path: Path, **changes) -> Path:
    doc = sample()
    doc["base"]["sha"], doc["head"]["sha"] = BASE, HEAD
    m = make_measurement(doc, number=12, base_sha=BASE, head_sha=HEAD, comment_key="default")
    m.update(changes)
    return write_measurement(tmp_path / "m.json", m)


def test_roundtrip_and_schema(tmp_path):
    path = measurement_file(tmp_path)
    m = load_measurement(path)
    assert m["pull_request"] == {"number": 12, "base_sha": BASE, "head_sha": HEAD}
    schema = load_schema("measurement")
    jsonschema.Draft202012Validator(schema).validate(m)
    pull = {"number": 12, "base": {"sha": BASE}, "head": {"sha": HEAD}}
    assert check_against_pull(m, pull, path="m.json") is None
    stale = copy.deepcopy(pull)
    stale["head"]["sha"] = "d" * 40
    assert "stale, skipped" in check_against_pull(m, stale, path="m.json")


@pytest.mark.parametrize("changes, message", [
    ({"schema": "sizebot/report@2"}, "schema is 'sizebot/report@2'"),
    ({"evil": 1}, "Additional properties are not allowed"),
    ({"pull_request": {"number": 12, "base_sha": BASE, "head_sha": "zz"}}, "pull_request/head_sha"),
    ({"comment_key": "x -->"}, "comment_key"),
    ({"verdict": "great"}, "verdict"),
    ({"head": {"ref": "x", "sha": "d" * 40, "subject": "s"}}, "head.sha differs from pull_request.head_sha"),
])
def test_tampered_refused_one_line(tmp_path, changes, message):
    with pytest.raises(MeasurementFileError, match=message) as err:
        load_measurement(measurement_file(tmp_path, **changes))
    assert "\n" not in str(err.value) and str(err.value).startswith(str(tmp_path / "m.json"))


def test_oversized_and_garbage(tmp_path):
    path = measurement_file(tmp_path, notes=["x" * 1000] * 100)
    with pytest.raises(MeasurementFileError, match="exceeds the 50000-byte limit"):
        load_measurement(path, max_bytes=50000)
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(MeasurementFileError, match="not a readable JSON file"):
        load_measurement(bad)
