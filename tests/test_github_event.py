"""Event payload parsing and measurement files (strict validation)."""

from __future__ import annotations

import copy
import json
import os
import re
from pathlib import Path

import pytest

from sizebot.errors import MeasurementFileError, SizebotError
from sizebot.github.event import parse_event
from sizebot.github.measurement import (
    check_against_pull,
    load_measurement,
    load_measurement_record,
    make_measurement,
    measurement_validator,
    write_measurement,
)

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
    measurement_validator().validate(m)
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
    with pytest.raises(MeasurementFileError, match="not valid JSON"):
        load_measurement(bad)


# ---- hostile values in valid shapes: each refused with one line naming the file and the value ----

def _set(doc: dict, path: str, value) -> None:
    *parents, last = path.split("/")
    obj = doc
    for p in parents:
        obj = obj[int(p)] if isinstance(obj, list) else obj[p]
    obj[int(last) if isinstance(obj, list) else last] = value


def hostile_file(tmp_path: Path, path: str, value, *, raw: str | None = None) -> Path:
    doc = make_measurement(dict(sample(), base=dict(sample()["base"], sha=BASE), head=dict(sample()["head"], sha=HEAD)),
                           number=12, base_sha=BASE, head_sha=HEAD, comment_key="default")
    _set(doc, path, value)
    out = tmp_path / "m.json"
    out.write_text(raw if raw is not None else json.dumps(doc))
    return out


@pytest.mark.parametrize("path, value, message", [
    ("builds/0/delta", "12", "builds/0/delta: '12' is not of type 'integer', 'null'"),
    ("builds/0/base_size", "x", "builds/0/base_size"),
    ("builds/0/diff/packages/0/delta", 1.5, "builds/0/diff/packages/0/delta"),
    ("budgets/0/status", {"evil": 1}, "budgets/0/status"),
    ("budgets/0/actual", "100", "budgets/0/actual"),
    ("head/ref", "r" * 70_000, "head/ref: a string of 70000 characters, more than 65536"),
    ("head/ref", "r" * 300, "head/ref: 'rrrrrrrrrrrrrrrr"),
    ("builds/0/delta", 10**400, "builds/0/delta: an integer of 401 digits is out of range"),
    ("builds/0/target", "t" * 70_000, "builds/0/target: a string of 70000 characters"),
    ("verdict", ["fail"], "verdict"),
    ("builds", {"0": {}}, "builds: {'0': {}} is not of type 'array'"),
])
def test_hostile_values_refused(tmp_path, path, value, message):
    with pytest.raises(MeasurementFileError) as err:
        load_measurement(hostile_file(tmp_path, path, value))
    text = str(err.value)
    assert "\n" not in text and text.startswith(str(tmp_path / "m.json") + ": ") and len(text) < 400
    assert message in text


@pytest.mark.parametrize("token, message", [("NaN", "NaN is not a JSON number"),
                                            ("Infinity", "Infinity is not a JSON number"),
                                            ("-Infinity", "-Infinity is not a JSON number")])
def test_nan_and_infinity_refused(tmp_path, token, message):
    text = json.dumps(make_measurement(dict(sample(), base=dict(sample()["base"], sha=BASE),
                                            head=dict(sample()["head"], sha=HEAD)),
                                       number=12, base_sha=BASE, head_sha=HEAD, comment_key="default"))
    text = text.replace('"delta": ', f'"delta": {token}, "x": ', 1)
    path = tmp_path / "m.json"
    path.write_text(text)
    with pytest.raises(MeasurementFileError, match=re.escape(message)):
        load_measurement(path)


@pytest.mark.parametrize("depth", [33, 5_000, 200_000])
def test_deep_nesting_refused_without_recursion(tmp_path, depth):
    path = tmp_path / "m.json"
    path.write_text('{"schema": "sizebot/report@1", "notes": ' + "[" * depth + "]" * depth + "}")
    with pytest.raises(MeasurementFileError, match="JSON nested more than 32 deep"):
        load_measurement(path)


def test_fifo_and_directory_refused_without_blocking(tmp_path):
    fifo = tmp_path / "m.json"
    os.mkfifo(fifo)
    with pytest.raises(MeasurementFileError, match="m.json: a FIFO, not a regular file"):
        load_measurement(fifo)
    with pytest.raises(MeasurementFileError, match="not a regular file"):
        load_measurement(tmp_path)


def test_every_leaf_hostile_refused_or_rendered(tmp_path):
    """A leaf of each shape of a real measurement (builds/N/diff/packages/N/delta ...) replaced by a
    hostile value of another type: the loader refuses it with one line, or what it accepts renders
    (comment and summary) without a crash. (All leaves x all values also pass; too slow to keep.)"""
    from sizebot.github.comment import build_comment
    from sizebot.render.comment import build_job_summary
    good = json.loads(hostile_file(tmp_path, "comment_key", "default").read_text())
    shapes: dict[str, str] = {}

    def walk(x, at):
        if isinstance(x, dict):
            for k, v in x.items():
                walk(v, f"{at}/{k}" if at else k)
        elif isinstance(x, list):
            for i, v in enumerate(x):
                walk(v, f"{at}/{i}")
        else:
            shapes.setdefault(re.sub(r"/\d+", "/N", at), at)

    walk(good, "")
    hostile = ["12", -1, 2**60, 1e308, None, True, {"a": 1}, [], "x" * 3000, "<!-- sizebot:x -->\u202e"]
    refused = rendered = 0
    for i, leaf in enumerate(shapes.values()):
        value = hostile[i % len(hostile)]
        try:
            record = load_measurement_record(hostile_file(tmp_path, leaf, value))
        except MeasurementFileError as err:
            assert "\n" not in str(err)
            refused += 1
            continue
        build_comment(record.report, "default")
        build_job_summary(record.report)
        rendered += 1
    assert refused > 50 and rendered > 10 and refused + rendered == len(shapes) > 100
