"""The Docker engine side, end to end: images built by a real engine (classic builder), saved with
``docker save``, read by sizebot and by dive v0.13.1 on the same archive; figures must be equal.

Images are tiny on purpose (vfs storage copies every layer; the machine has 2 cores).
A missing engine or a missing dive FAILS these tests, never skips them.
"""

from __future__ import annotations

import json
import math
import os
import re
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest

from sizebot.errors import ConfigError, DockerError
from sizebot.image.analysis import analyze_image
from sizebot.image.ci_rules import evaluate_rules, load_dive_ci
from sizebot.image.diff import diff_images
from sizebot.image.docker import build_image, docker_available, save_image
from sizebot.render import render
from tests.support.goprograms import write_tree
from tests.support.images import blob
from tests.support.schemas import load_schema

# dive v0.13.1 where `go install` puts it (scripts/install-deps does), not a machine's path
DIVE = Path(subprocess.run(["go", "env", "GOPATH"], capture_output=True, text=True, check=True).stdout.strip(),
            "bin", "dive")
REPO = Path(__file__).resolve().parents[1]
DIFF_SCHEMA = load_schema("image-diff")


def _dive() -> str:
    assert DIVE.is_file(), f"dive not found at {DIVE}: run `go install github.com/wagoodman/dive@v0.13.1` (scripts/install-deps does)"
    return str(DIVE)




def _build_and_save(engine, tmp: Path, name: str, files: dict[str, bytes | str]) -> Path:
    ctx = tmp / name
    ctx.mkdir()
    write_tree(ctx, files)
    tag = f"sizebot-test/{name}:1"
    image_id = build_image(ctx, ctx / "Dockerfile", tag, docker_host=engine.host, buildkit=False)
    assert image_id.startswith("sha256:")
    archive = save_image(tag, tmp / "archives", docker_host=engine.host)
    engine.docker("rmi", tag)  # keep the engine's storage small
    return archive


@pytest.fixture(scope="module")
def images(docker_engine, tmp_path_factory) -> dict[str, Path]:
    tmp = tmp_path_factory.mktemp("engine-images")
    base = docker_engine.busybox_image()
    out: dict[str, Path] = {}
    out["scratch"] = _build_and_save(docker_engine, tmp, "scratch", {
        "Dockerfile": "FROM scratch\nCOPY a.txt /a.txt\nCOPY dir /data/\nCOPY b.bin /a.txt\n",
        "a.txt": blob(1000, 1), "b.bin": blob(3000, 2), "dir/c": blob(500, 3), "dir/sub/d": blob(70, 4),
    })
    out["runs"] = _build_and_save(docker_engine, tmp, "runs", {
        "Dockerfile": (
            f"FROM {base}\n"
            "RUN dd if=/dev/zero of=/big bs=1000 count=50 && echo hello > /etc/motd && mkdir /d && echo x > /d/f\n"
            "RUN dd if=/dev/zero of=/big bs=1000 count=60 && chmod 600 /etc/motd\n"
            "RUN rm /big && rm -r /d\n"
        ),
    })
    out["multistage"] = _build_and_save(docker_engine, tmp, "multistage", {
        "Dockerfile": (
            f"FROM {base} AS build\n"
            "RUN mkdir /out && dd if=/dev/zero of=/out/blob bs=1000 count=20\n"
            "FROM scratch\n"
            "COPY --from=build /out/blob /blob\n"
            "COPY a.txt /a.txt\n"
        ),
        "a.txt": blob(123, 5),
    })
    diff_dockerfile = f"FROM {base}\nCOPY app /app/\nRUN rm -f /app/gone && cat /app/main.bin > /copy\n"
    out["v1"] = _build_and_save(docker_engine, tmp, "v1", {
        "Dockerfile": diff_dockerfile,
        "app/main.bin": blob(4000, 6), "app/gone": blob(100, 7), "app/keep": blob(300, 8),
        "app/old": blob(200, 9), "app/shrink": blob(1000, 10),
    })
    out["v2"] = _build_and_save(docker_engine, tmp, "v2", {
        "Dockerfile": diff_dockerfile,
        "app/main.bin": blob(6000, 6), "app/gone": blob(100, 7), "app/keep": blob(300, 8),
        "app/new": blob(700, 11), "app/shrink": blob(500, 10),
    })
    return out


def _dive_figures(archive: Path, tmp: Path) -> tuple[dict, str]:
    out = tmp / f"{archive.stem}.dive.json"
    subprocess.run([_dive(), "--source", "docker-archive", str(archive), "--json", str(out)],
                   check=True, capture_output=True, timeout=300)
    # userWastedPercent is only printed in CI mode (4 decimals); rules disabled so the exit is 0.
    rules = tmp / "no-rules.yaml"
    rules.write_text("rules:\n  lowestEfficiency: disabled\n  highestUserWastedPercent: disabled\n")
    ci = subprocess.run([_dive(), "--source", "docker-archive", str(archive), "--ci-config", str(rules)],
                        capture_output=True, text=True, check=False, timeout=300, env=dict(os.environ, CI="true"))
    assert ci.returncode == 0, ci.stdout + ci.stderr
    m = re.search(r"userWastedPercent: (\S+) %", re.sub(r"\x1b\[[0-9;]*m", "", ci.stdout))
    assert m, ci.stdout
    return json.loads(out.read_text()), m.group(1)


def _pct4(x: float) -> str:
    if math.isnan(x):
        return "NaN"
    if x == float("inf"):
        return "+Inf"
    return f"{100 * x:.4f}"


@pytest.mark.docker
@pytest.mark.parametrize("name", ["scratch", "runs", "multistage", "v1", "v2"])
def test_figures_equal_dives(name: str, images: dict[str, Path], tmp_path: Path):
    archive = images[name]
    report = analyze_image(str(archive))
    dive, dive_uwp = _dive_figures(archive, tmp_path)
    assert [layer.size for layer in report.layers] == [layer["sizeBytes"] for layer in dive["layer"]]
    assert report.size == dive["image"]["sizeBytes"]
    assert report.efficiency == dive["image"]["efficiencyScore"]
    assert report.wasted_bytes == dive["image"]["inefficientBytes"]
    assert [(i.path, i.count, i.size) for i in report.inefficiencies] == [
        (r["file"], r["count"], r["sizeBytes"]) for r in dive["image"]["fileReference"]]
    assert _pct4(report.user_wasted_percent) == dive_uwp


@pytest.mark.docker
def test_known_figures_of_the_run_image(images: dict[str, Path]):
    # /big written twice (50 kB then 60 kB) then removed; /etc/motd written then chmod-ed; /d removed.
    report = analyze_image(str(images["runs"]))
    assert [layer.size for layer in report.layers][1:] == [50000 + 6 + 2, 60000 + 6, 0]
    by_path = {i.path: (i.count, i.size) for i in report.inefficiencies}
    assert by_path["/big"] == (3, 110000)
    assert by_path["/etc/motd"] == (2, 12)
    paths = {f.path for f in report.files}
    assert "/big" not in paths and "/d" not in paths and "/d/f" not in paths
    assert next(f for f in report.files if f.path == "/etc/motd").mode & 0o777 == 0o600


@pytest.mark.docker
def test_scratch_and_multistage_have_only_their_copies(images: dict[str, Path]):
    scratch = analyze_image(str(images["scratch"]))
    assert [layer.size for layer in scratch.layers] == [1000, 570, 3000]
    assert {f.path: f.size for f in scratch.files if f.kind == "file"} == {"/a.txt": 3000, "/data/c": 500, "/data/sub/d": 70}
    multi = analyze_image(str(images["multistage"]))
    assert [layer.size for layer in multi.layers] == [20000, 123]
    assert {f.path: f.size for f in multi.files if f.kind == "file"} == {"/blob": 20000, "/a.txt": 123}


@pytest.mark.docker
def test_diff_of_two_builds(images: dict[str, Path]):
    old, new = analyze_image(str(images["v1"])), analyze_image(str(images["v2"]))
    diff = diff_images(old, new, top=20)
    # base layer: same content -> diff ID; COPY: its command names the context hash -> added/removed;
    # RUN: same command, different content -> matched by command.
    assert [(c.old_index, c.new_index, c.match) for c in diff.layers] == [
        (0, 0, "diff_id"), (None, 1, "added"), (2, 2, "command"), (1, None, "removed")]
    run = diff.layers[2]
    assert (run.old_size, run.new_size, run.size_delta) == (4000, 6000, 2000)
    assert (diff.layers[1].new_size, diff.layers[3].old_size) == (6000 + 100 + 300 + 700 + 500, 4000 + 100 + 300 + 200 + 1000)
    assert diff.size.delta == 2000 + 2000
    assert diff.compressed_size.delta == new.compressed_size - old.compressed_size
    assert [(c.path, c.delta) for c in diff.added.top] == [("/app/new", 700)]
    assert [(c.path, c.delta) for c in diff.removed.top] == [("/app/old", -200)]
    assert [(c.path, c.old_size, c.new_size) for c in diff.grown.top] == [("/app/main.bin", 4000, 6000), ("/copy", 4000, 6000)]
    assert [(c.path, c.delta) for c in diff.shrunk.top] == [("/app/shrink", -500)]
    assert (diff.added.count, diff.removed.count, diff.grown.count, diff.shrunk.count) == (1, 1, 2, 1)
    assert diff.modified_same_size == 0
    assert diff.efficiency.old == old.efficiency and diff.efficiency.new == new.efficiency
    assert diff.wasted_bytes.delta == new.wasted_bytes - old.wasted_bytes
    doc = diff.to_json()
    jsonschema.validate(doc, DIFF_SCHEMA)
    assert doc["size"] == {"old": old.size, "new": new.size, "delta": 4000}


@pytest.mark.docker
def test_cli_diff_json_and_markdown(images: dict[str, Path]):
    cmd = [sys.executable, "-m", "sizebot", "image", str(images["v1"]), str(images["v2"])]
    js = subprocess.run([*cmd, "--format", "json"], capture_output=True, text=True, check=False, cwd=REPO, timeout=300)
    assert js.returncode == 0, js.stderr
    doc = json.loads(js.stdout)
    jsonschema.validate(doc, DIFF_SCHEMA)
    assert doc["files"]["added"]["top"][0]["path"] == "/app/new"
    md = subprocess.run([*cmd, "--format", "markdown"], capture_output=True, text=True, check=False, cwd=REPO, timeout=300)
    assert md.returncode == 0, md.stderr
    assert "<code>/app/new</code>" in md.stdout and "+700 B" in md.stdout
    text = subprocess.run(cmd, capture_output=True, text=True, check=False, cwd=REPO, timeout=300)
    assert text.returncode == 0, text.stderr
    assert "/app/main.bin" in text.stdout and "Files added: 1" in text.stdout


RULE_SETS = [
    "rules:\n  lowestEfficiency: 0.5\n  highestWastedBytes: 110006\n  highestUserWastedPercent: 1.0\n",  # all at the edge: pass
    "rules:\n  lowestEfficiency: disabled\n  highestWastedBytes: 110005\n  highestUserWastedPercent: disabled\n",  # 1 byte over
    "rules:\n  lowestEfficiency: 0.99\n",  # efficiency too low (and the default 0.1 user ratio)
    "rules:\n  highestWastedBytes: 110KB\n  lowestEfficiency: 0\n  highestUserWastedPercent: disabled\n",  # 110000 < 110006
    "rules:\n  highestWastedBytes: 0.11MB\n  lowestEfficiency: ~\n  highestUserWastedPercent: 1\n",  # 110000: fails
    "rules:\n  highestWastedBytes: 1Mi\n  lowestEfficiency: 0.9\n  highestUserWastedPercent: 1\n",  # pass
]


@pytest.mark.docker
@pytest.mark.parametrize("rules_text", RULE_SETS)
def test_ci_exit_status_equals_dives(rules_text: str, images: dict[str, Path], tmp_path: Path):
    archive = images["runs"]
    rules = tmp_path / ".dive-ci"
    rules.write_text(rules_text)
    dive = subprocess.run([_dive(), "--source", "docker-archive", str(archive), "--ci-config", str(rules)],
                          capture_output=True, text=True, check=False, timeout=300, env=dict(os.environ, CI="true"))
    ours = subprocess.run([sys.executable, "-m", "sizebot", "image", str(archive), "--ci", "--ci-config", str(rules)],
                          capture_output=True, text=True, check=False, cwd=REPO, timeout=300)
    assert ours.returncode == dive.returncode, (ours.stdout, ours.stderr, dive.stdout)
    dive_lines = re.findall(r"(PASS|FAIL|SKIP): (\w+)", re.sub(r"\x1b\[[0-9;]*m", "", dive.stdout))
    results = evaluate_rules(analyze_image(str(archive)), load_dive_ci(rules))
    assert [(r.status, r.name) for r in results] == dive_lines
    # .dive-ci in the current directory is the default
    cwd = subprocess.run([sys.executable, "-m", "sizebot", "image", str(archive), "--ci"],
                         capture_output=True, text=True, check=False, cwd=tmp_path, timeout=300,
                         env=dict(os.environ, PYTHONPATH=str(REPO)))
    assert cwd.returncode == dive.returncode, cwd.stderr


MISCONFIGURED = ["''", "off", "Disabled", "1.5", "-0.1", "yes"]


@pytest.mark.docker
@pytest.mark.parametrize("value", MISCONFIGURED)
def test_values_dive_calls_misconfigured_are_config_errors(value: str, images: dict[str, Path], tmp_path: Path):
    rules = tmp_path / ".dive-ci"
    rules.write_text(f"rules:\n  lowestEfficiency: {value}\n")
    dive = subprocess.run([_dive(), "--source", "docker-archive", str(images["runs"]), "--ci-config", str(rules)],
                          capture_output=True, text=True, check=False, timeout=300, env=dict(os.environ, CI="true"))
    assert dive.returncode == 1 and "MISCONFIGURED" in re.sub(r"\x1b\[[0-9;]*m", "", dive.stdout)
    with pytest.raises(ConfigError, match=rf"{re.escape(str(rules))}: lowestEfficiency: "):
        load_dive_ci(rules)
    ours = subprocess.run([sys.executable, "-m", "sizebot", "image", str(images["runs"]), "--ci", "--ci-config", str(rules)],
                          capture_output=True, text=True, check=False, cwd=REPO, timeout=300)
    assert ours.returncode == 2 and "lowestEfficiency" in ours.stderr


def test_missing_engine_is_a_clear_error(tmp_path: Path):
    host = f"unix://{tmp_path}/no-such.sock"
    assert docker_available(host) is False
    with pytest.raises(DockerError, match="DOCKER_HOST"):
        save_image("busybox:latest", tmp_path, docker_host=host)


@pytest.mark.docker
def test_failed_build_reports_the_tail(docker_engine, tmp_path: Path):
    (tmp_path / "Dockerfile").write_text(f"FROM {docker_engine.busybox_image()}\nRUN echo boom-marker && false\n")
    with pytest.raises(DockerError, match="boom-marker") as err:
        build_image(tmp_path, tmp_path / "Dockerfile", "sizebot-test/broken:1", docker_host=docker_engine.host, buildkit=False)
    assert "\n" not in str(err.value)


@pytest.mark.docker
def test_text_render_names_layers(images: dict[str, Path]):
    diff = diff_images(analyze_image(str(images["v1"])), analyze_image(str(images["v2"])))
    text = render(diff, "text")
    assert "rm -f /app/gone" in text and "command" in text and "/app/main.bin" in text
