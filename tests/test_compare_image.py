"""The report's image section: the Dockerfile built at base and head by a real engine (classic
builder), analysed, diffed and judged by dive's CI rules (sizebot.compare.image.measure_images).

Images are FROM scratch (their figures are the files' sizes) or the busybox image the engine
helper imports; expected figures come from the files and from analyze_image on an archive
the test builds and saves itself from the same context.
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import jsonschema
import pytest

from sizebot.budgets import ImageMeasurement
from sizebot.cli import main
from sizebot.compare.image import ImageSection, image_rule, image_rules, measure_images
from sizebot.config import ImageConfig
from sizebot.documents.report import Report
from sizebot.errors import ConfigError
from sizebot.image.analysis import analyze_image
from sizebot.image.ci_rules import RuleResult, default_rules, rules_from_mapping
from sizebot.image.docker import build_image, save_image
from sizebot.render.report_markdown import render_report_markdown
from sizebot.units import format_size
from tests.support.git import commit_all, git
from tests.support.goprograms import write_tree
from tests.support.images import blob
from tests.support.schemas import load_schema

DATA = Path(__file__).parent / "data"

DOCKERFILE = """\
FROM scratch AS app
ARG VARIANT=small
COPY ${VARIANT}.bin /app.bin
COPY data /data/
%s
FROM app AS debug
COPY data /debug/
"""
# The head adds a config file written twice: dive counts both copies as wasted.
HEAD_EXTRA = "COPY cfg-old /etc/cfg\nCOPY cfg-new /etc/cfg"




CONFIG = ImageConfig(target="app", build_args=(("VARIANT", "big"),), platform="linux/amd64")


@pytest.fixture(scope="module")
def checkouts(tmp_path_factory) -> tuple[Path, Path]:
    tmp = tmp_path_factory.mktemp("image-checkouts")
    base = write_tree(tmp / "base", {
        "Dockerfile": DOCKERFILE % "", "small.bin": blob(4000, 1), "big.bin": blob(8000, 2),
        "data/x": blob(500, 3),
    })
    head = write_tree(tmp / "head", {
        "Dockerfile": DOCKERFILE % HEAD_EXTRA, "small.bin": blob(4000, 1), "big.bin": blob(9000, 2),
        "data/y": blob(700, 4), "cfg-old": blob(100, 5), "cfg-new": blob(300, 6),
        ".dive-ci": "rules:\n  highestWastedBytes: 350B\n  lowestEfficiency: disabled\n",
    })
    return base, head


def _images(engine) -> list[str]:
    out = engine.docker("images", "--format", "{{.Repository}}:{{.Tag}}").stdout.decode()
    return [line for line in out.splitlines() if line.startswith("sizebot-measure")]


@pytest.fixture(scope="module")
def measured(docker_engine, checkouts, tmp_path_factory) -> tuple[ImageSection, Path]:
    base, head = checkouts
    work = tmp_path_factory.mktemp("image-work")
    return measure_images(base, head, CONFIG, work, docker_host=docker_engine.host), work


def _reference(engine, checkout: Path, tmp: Path, name: str):
    """The same build, saved and analysed by the test: what the section must report."""
    tag = f"sizebot-test/reference-{name}:1"
    build_image(checkout, checkout / "Dockerfile", tag, target="app", build_args={"VARIANT": "big"},
                docker_host=engine.host, buildkit=False)
    archive = save_image(tag, tmp, docker_host=engine.host)
    engine.docker("rmi", tag)
    return analyze_image(str(archive), "linux/amd64")


def _without_identity(doc: dict) -> dict:
    # The config (and so its digest) holds the build time, a directory a COPY creates its time
    # (so the layer digests differ between two builds); the source names the side.
    layers = [{k: v for k, v in layer.items() if k not in ("digest", "diff_id")} for layer in doc["layers"]]
    return {**{k: v for k, v in doc.items() if k not in ("source", "config_digest")}, "layers": layers}


@pytest.mark.docker
def test_sides_have_the_figures_of_their_saved_archives(measured, checkouts, docker_engine, tmp_path):
    section, _ = measured
    doc = section.doc.to_json()
    assert doc["error"] is None
    assert doc["base"]["source"] == "Dockerfile --target app (base)"
    assert doc["head"]["source"] == "Dockerfile --target app (head)"
    # FROM scratch: each COPY layer is its files; VARIANT=big chose big.bin; the target left out /debug.
    assert [layer["size"] for layer in doc["base"]["layers"]] == [8000, 500]
    assert [layer["size"] for layer in doc["head"]["layers"]] == [9000, 700, 100, 300]
    assert (doc["base"]["size"], doc["head"]["size"]) == (8500, 10100)
    assert doc["head"]["platform"] == "linux/amd64"
    for side, checkout in zip(("base", "head"), checkouts, strict=True):
        ref = _reference(docker_engine, checkout, tmp_path, side)
        assert _without_identity(doc[side]) == _without_identity(ref.to_json())
    assert doc["head"]["wasted_bytes"] == 400
    assert doc["head"]["inefficiencies"] == [{"path": "/etc/cfg", "count": 2, "size": 400}]


@pytest.mark.docker
def test_measurement_feeds_the_image_budgets(measured):
    section, _ = measured
    base, head = section.doc.to_json()["base"], section.doc.to_json()["head"]
    assert section.measurement == ImageMeasurement(
        base_size=8500, head_size=10100,
        base_compressed_size=base["compressed_size"], head_compressed_size=head["compressed_size"])
    # docker save writes uncompressed layer tars: each blob is its files plus tar headers.
    assert base["compressed_size"] > 8500 and head["compressed_size"] > 10100


@pytest.mark.docker
def test_diff_of_base_and_head(measured):
    diff = measured[0].doc.to_json()["diff"]
    assert diff["schema"] == "sizebot/image-diff@1"
    assert diff["size"] == {"old": 8500, "new": 10100, "delta": 1600}
    files = diff["files"]
    assert [(f["path"], f["delta"]) for f in files["added"]["top"]] == [("/data/y", 700), ("/etc/cfg", 300)]
    assert [(f["path"], f["delta"]) for f in files["removed"]["top"]] == [("/data/x", -500)]
    assert [(f["path"], f["old_size"], f["new_size"]) for f in files["grown"]["top"]] == [("/app.bin", 8000, 9000)]
    assert files["shrunk"]["count"] == 0
    # Classic-builder COPY commands name their content's hash: changed copies pair as added/removed.
    assert [(c["old_index"], c["new_index"], c["match"]) for c in diff["layers"]] == [
        (None, 0, "added"), (None, 1, "added"), (None, 2, "added"), (None, 3, "added"),
        (0, None, "removed"), (1, None, "removed")]


@pytest.mark.docker
def test_rules_of_the_heads_dive_ci(measured):
    # .dive-ci at the head's root: highestWastedBytes 350 B, lowestEfficiency disabled, the third
    # rule at dive's default 0.1. /etc/cfg's two copies waste 400 B of 1100 user bytes.
    rules = measured[0].doc.to_json()["rules"]
    assert rules == [
        {"name": "highestUserWastedPercent", "status": "FAIL", "value": 400 / 1100, "threshold": 0.1,
         "message": "too many bytes wasted, relative to the user bytes added "
                    "(%-user-wasted-bytes=0.36363636363636365 > threshold=0.1)"},
        {"name": "highestWastedBytes", "status": "FAIL", "value": 400, "threshold": 350,
         "message": "too many bytes wasted (wasted-bytes=400 > threshold=350)"},
        {"name": "lowestEfficiency", "status": "SKIP", "value": None, "threshold": None, "message": "rule disabled"},
    ]


@pytest.mark.docker
def test_section_validates_against_the_schemas(measured):
    doc = json.loads(json.dumps(measured[0].doc.to_json()))
    report = load_schema("report")
    jsonschema.validate(doc, {"$schema": report["$schema"], "$defs": report["$defs"], "$ref": "#/$defs/image"})
    for side in ("base", "head"):
        jsonschema.validate(doc[side], load_schema("image"))
    jsonschema.validate(doc["diff"], load_schema("image-diff"))


@pytest.mark.docker
def test_engine_and_work_dir_are_left_clean(measured, docker_engine):
    _, work = measured
    assert list(work.iterdir()) == []
    assert _images(docker_engine) == []


@pytest.mark.docker
def test_the_section_renders_in_the_report(measured):
    doc = json.loads((DATA / "report-render-sample.json").read_text())
    doc["image"] = json.loads(json.dumps(measured[0].doc.to_json()))  # as a measurement file carries it
    md = render_report_markdown(Report.from_json(doc))
    assert "<summary>🐳 Image: +1.60 KB, dive rules: 2 FAIL</summary>" in md
    assert "| image size | 8.50 KB | 10.1 KB | +1.60 KB |" in md
    # docker save stores plain tars: their bytes (files plus tar headers) are not called compressed
    sides = measured[0].doc.to_json()
    assert (f"| layer tars as saved | {format_size(sides['base']['compressed_size'])} | "
            f"{format_size(sides['head']['compressed_size'])} |") in md
    assert "compressed" not in md.split("🐳 Image", 1)[1].split("</details>", 1)[0]
    assert ("| highestWastedBytes | ❌ FAIL | 400 B | 350 B | too many bytes wasted \\(wasted-bytes=400 &gt; "
            "threshold=350\\) |") in md
    assert "| lowestEfficiency | ⏭️ SKIP | — | — | rule disabled |" in md
    # The image diff's files, largest change first.
    assert ("| changed file | base | head | change |\n|---|---:|---:|---:|\n"
            "| <code>/app.bin</code> | 8.00 KB | 9.00 KB | +1.00 KB |\n"
            "| <code>/data/y</code> | 0 B | 700 B | +700 B |\n"
            "| <code>/data/x</code> | 500 B | 0 B | -500 B |\n"
            "| <code>/etc/cfg</code> | 0 B | 300 B | +300 B |\n") in md


@pytest.mark.docker
def test_files_beyond_the_rows_shown_are_counted(docker_engine, tmp_path):
    """25 files grow: the comment lists the 20 largest changes and one row for the 5 others with their
    sum, so that the rows add up to the image's change (before, the table just stopped at 20)."""
    dockerfile = "FROM scratch\nCOPY data /data/\n"
    base = write_tree(tmp_path / "base", {"Dockerfile": dockerfile, **{f"data/f{i:02d}": blob(1000, i) for i in range(25)}})
    head = write_tree(tmp_path / "head", {"Dockerfile": dockerfile,
                                          **{f"data/f{i:02d}": blob(1000 + 10 * (i + 1), i) for i in range(25)}})
    section = measure_images(base, head, ImageConfig(), tmp_path / "work", docker_host=docker_engine.host)
    doc = json.loads((DATA / "report-render-sample.json").read_text())
    doc["image"] = json.loads(json.dumps(section.doc.to_json()))
    md = render_report_markdown(Report.from_json(doc))
    rows = re.findall(r"^\| <code>/data/f(\d\d)</code> \| [^|]+ \| [^|]+ \| \+(\d+) B \|$", md, re.MULTILINE)
    assert [int(i) for i, _ in rows] == list(range(24, 4, -1))  # the largest growth first
    assert "| … 5 more | | | +150 B |" in md  # f00..f04 grew 10+20+30+40+50 bytes
    assert sum(int(d) for _, d in rows) + 150 == 10 * sum(range(1, 26))  # the image's change, every byte


@pytest.mark.docker
def test_base_without_the_dockerfile_measures_the_head_alone(docker_engine, checkouts, tmp_path):
    _, head = checkouts
    base = write_tree(tmp_path / "base", {"README": "no image yet\n"})
    section = measure_images(base, head, ImageConfig(), tmp_path / "work", docker_host=docker_engine.host)
    doc = section.doc.to_json()
    assert doc["base"] is None and doc["diff"] is None
    assert doc["error"] == "the base commit has no Dockerfile: the image is measured at head only"
    # Without build args VARIANT=small; without a target the debug stage is built too.
    assert [layer["size"] for layer in doc["head"]["layers"]] == [4000, 700, 100, 300, 700]
    assert section.measurement == ImageMeasurement(None, 5800, None, doc["head"]["compressed_size"])
    assert [r["status"] for r in doc["rules"]] == ["FAIL", "FAIL", "SKIP"]
    assert _images(docker_engine) == []


@pytest.mark.docker
def test_failed_head_build_is_one_line_and_no_measurement(docker_engine, checkouts, tmp_path):
    base, _ = checkouts
    busybox = docker_engine.busybox_image()
    head = write_tree(tmp_path / "head", {"Dockerfile": f"FROM {busybox}\nRUN echo sizebot-boom && false\n"})
    (tmp_path / "work").mkdir()
    section = measure_images(base, head, ImageConfig(), tmp_path / "work", docker_host=docker_engine.host)
    err = section.doc.to_json()["error"]
    assert err.startswith("head image: docker build of Dockerfile failed (exit 1): ")
    assert "sizebot-boom" in err and "\n" not in err and str(tmp_path) not in err
    # no figures; the head's fault said, so that the image budgets fail rather than pass
    assert section.measurement == ImageMeasurement(None, None, None, None, head_problem=err)
    # The base is not built once the head failed.
    assert {k: section.doc.to_json()[k] for k in ("base", "head", "diff", "rules")} == {
        "base": None, "head": None, "diff": None, "rules": []}
    assert list((tmp_path / "work").iterdir()) == []
    assert _images(docker_engine) == []
    # --force-rm: the failed step's container is gone too.
    containers = docker_engine.docker("ps", "-a", "--format", "{{.Command}}").stdout.decode()
    assert "sizebot-boom" not in containers


@pytest.mark.docker
def test_failed_base_build_keeps_the_head(docker_engine, checkouts, tmp_path):
    _, head = checkouts
    base = write_tree(tmp_path / "base", {"Dockerfile": "FROM scratch AS app\nCOPY missing.txt /\n"})
    section = measure_images(base, head, ImageConfig(target="app"), tmp_path / "work", docker_host=docker_engine.host)
    assert section.doc.to_json()["error"].startswith("base image: docker build of Dockerfile failed (exit 1): ")
    assert "missing.txt" in section.doc.to_json()["error"]
    assert section.measurement is None
    assert section.doc.to_json()["base"] is None and section.doc.to_json()["diff"] is None
    assert section.doc.to_json()["head"]["size"] == 4000 + 700 + 100 + 300
    assert _images(docker_engine) == []


def test_no_engine_is_an_error_not_an_exception(checkouts, tmp_path):
    base, head = checkouts
    host = f"unix://{tmp_path}/nothing.sock"
    section = measure_images(base, head, ImageConfig(), tmp_path, docker_host=host)
    assert section.doc.to_json()["error"] == (f"image not measured: no Docker engine answers at {host} "
                                    "(start dockerd or set DOCKER_HOST)")
    assert section.measurement is None and section.doc.to_json()["head"] is None


def test_head_without_the_dockerfile_or_outside_paths(checkouts, tmp_path):
    base, head = checkouts
    empty = write_tree(tmp_path / "head", {"README": "x\n"})
    section = measure_images(base, empty, ImageConfig(dockerfile="build/Dockerfile"), tmp_path)
    assert section.doc.to_json()["error"] == "head image: no build/Dockerfile in the head commit"
    # no figures; the head's fault said, so that the image budgets fail rather than pass
    assert section.measurement == ImageMeasurement(None, None, None, None,
                                                   head_problem="head image: no build/Dockerfile in the head commit")
    section = measure_images(base, head, ImageConfig(context=".."), tmp_path)
    assert section.doc.to_json()["error"] == "head image: [image] context '..' is outside the repository"


def test_rules_come_from_the_config_then_dive_ci_then_defaults(checkouts, tmp_path):
    _, head = checkouts
    configured = rules_from_mapping({"highestWastedBytes": "1KB"}, "sizebot.toml")
    assert image_rules(ImageConfig(rules=configured), head) is configured
    from_file = image_rules(ImageConfig(), head)
    assert (from_file.highest_wasted_bytes, from_file.lowest_efficiency, from_file.highest_user_wasted_percent) == (
        350, None, 0.1)
    assert image_rules(ImageConfig(), tmp_path) == default_rules()


def test_bad_dive_ci_is_a_config_error_naming_the_file(checkouts, tmp_path):
    base, _ = checkouts
    head = write_tree(tmp_path / "head", {"Dockerfile": "FROM scratch\n", ".dive-ci": "rules:\n  lowestEfficiency: 2\n"})
    with pytest.raises(ConfigError) as info:
        measure_images(base, head, ImageConfig(), tmp_path / "work", docker_host=f"unix://{tmp_path}/none.sock")
    assert str(info.value) == ".dive-ci: lowestEfficiency: outside the allowed range 0-1, given '2'"


def test_nan_rule_values_are_null_in_json():
    r = RuleResult("highestUserWastedPercent", "FAIL", math.inf, 0.1, "x")
    assert image_rule(r).to_json() == {"name": "highestUserWastedPercent", "status": "FAIL", "value": None,
                               "threshold": 0.1, "message": "x"}


REPO_CONFIG = """[[target]]
name = "app"
package = "."
platforms = ["linux/amd64"]

[image]
target = "app"
build_args = { VARIANT = "big" }
platform = "linux/amd64"
"""


def _image_identity_free(report: dict) -> dict:
    """The report with its image's build identities left out: two builds of one Dockerfile differ
    in the config digest and layer digests (build times), not in any figure."""
    image = report["image"]
    return {**report, "image": {**image, **{side: _without_identity(image[side]) for side in ("base", "head")}}}


@pytest.mark.docker
def test_a_baseline_carries_the_base_image(docker_engine, tmp_path, capsys, monkeypatch):
    """``sizebot measure`` builds and analyses the base's image; a report with that baseline builds the
    head's image only and is the same document as one that builds both."""
    for key, value in {"DOCKER_HOST": docker_engine.host, "DOCKER_BUILDKIT": "0", "GOTOOLCHAIN": "local",
                       "GOFLAGS": "-mod=mod"}.items():
        monkeypatch.setenv(key, value)
    repo = tmp_path / "repo"
    write_tree(repo, {"go.mod": "module example.com/app\n\ngo 1.21\n", "main.go": "package main\n\nfunc main() {}\n",
                      "sizebot.toml": REPO_CONFIG, "Dockerfile": DOCKERFILE % "", "small.bin": blob(4000, 1),
                      "big.bin": blob(8000, 2), "data/x": blob(500, 3)})
    git(repo, "init", "-q", "-b", "main")
    base = commit_all(repo, "An image")
    (repo / "data" / "x").unlink()
    write_tree(repo, {"Dockerfile": DOCKERFILE % HEAD_EXTRA, "big.bin": blob(9000, 2), "data/y": blob(700, 4),
                      "cfg-old": blob(100, 5), "cfg-new": blob(300, 6)})
    head = commit_all(repo, "A larger image")
    baseline = tmp_path / "base.json"
    assert main(["measure", "--repo", str(repo), "--ref", base, "-q", "-o", str(baseline)]) == 0
    measured = json.loads(baseline.read_text())
    assert (measured["image"]["status"], measured["image"]["error"]) == ("ok", None)
    assert measured["image"]["spec"]["build_args"] == {"VARIANT": "big"}
    assert measured["image"]["image"]["source"] == "Dockerfile --target app (base)"
    assert sorted(f["path"] for f in measured["image"]["image"]["files"] if f["kind"] == "file") == \
        ["/app.bin", "/data/x"]

    def report(*extra: str) -> tuple[dict, str]:
        capsys.readouterr()
        assert main(["report", "--repo", str(repo), "--base", base, "--head", head, "--format", "json",
                     *extra]) in (0, 1)
        out, err = capsys.readouterr()
        return json.loads(out), err

    built, progress = report()
    assert "building and measuring the image at base and head" in progress
    used, progress = report("--baseline", str(baseline))
    assert "building and measuring the image at head (the base's: measured by the baseline)" in progress
    assert "at base and head" not in progress
    used.pop("trend")
    assert _image_identity_free(used) == _image_identity_free(built)
    assert (built["image"]["base"]["size"], built["image"]["head"]["size"]) == (8500, 10100)
    assert built["image"]["diff"]["size"] == {"old": 8500, "new": 10100, "delta": 1600}
    # another [image] setting: the base image is built, and a note says why
    (tmp_path / "other.toml").write_text(REPO_CONFIG.replace('"big"', '"small"'))
    other, _ = report("--baseline", str(baseline), "--config", str(tmp_path / "other.toml"))
    assert (f"the baseline's image of {base[:12]} was measured with other image settings (build_args): "
            "the base image was built") in other["notes"]
    assert other["image"]["base"]["size"] == 4500
    assert _images(docker_engine) == []

