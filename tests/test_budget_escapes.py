"""A pull request cannot get past the base's budgets by changing what is built (real git, real Go).

The base's budget judges `app` (./cmd/app) on linux/amd64 built with the `release` strategy, at most
1% of growth. Every head below grows cmd/app from a hello world to an HTTP server (about 4x) and also
edits its sizebot.toml the way an attacker would: drop the strategy, move the platform, point the
target at another package, redefine the strategy's command, delete the package. Each time the budgeted
build is built at base and head from the base's definition, and the verdict is fail.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from sizebot.cli import main
from tests.support.git import commit_all, git
from tests.support.goprograms import write_tree

GO_MOD = "module example.com/escape\n\ngo 1.21\n"
SMALL = 'package main\n\nimport "fmt"\n\nfunc main() { fmt.Println("hello") }\n'
LARGE = ('package main\n\nimport (\n\t"fmt"\n\t"net/http"\n)\n\n'
         'func main() {\n\tfmt.Println("serving")\n\t_ = http.ListenAndServe(":8080", nil)\n}\n')
CONFIG = """[[target]]
name = "app"
package = "./cmd/app"
platforms = ["linux/amd64"]
env = { CGO_ENABLED = "0" }

[strategy.release]
flags = ["-trimpath", "-ldflags=-s -w"]

[[budget]]
level = "fail"
max_increase = "1%"
targets = ["app"]
platforms = ["linux/amd64"]
strategies = ["release"]
"""
NOTE_TAIL = ("built at base and head as the base's sizebot.toml defines it, since the base's budgets judge it "
             "(the head's definition applies once merged)")

HEADS = {
    # the target builds only the default strategy: the budgeted release build is gone
    "drop-strategy": {"sizebot.toml": CONFIG.replace('env = { CGO_ENABLED = "0" }',
                                                     'env = { CGO_ENABLED = "0" }\nstrategies = ["default"]')},
    # the target and its budget move to another platform
    "move-platform": {"sizebot.toml": CONFIG.replace('"linux/amd64"', '"linux/arm64"')},
    # the target builds another (small) package under the same name
    "other-package": {"sizebot.toml": CONFIG.replace('package = "./cmd/app"', 'package = "./cmd/hello"')},
    # the strategy is the project's own command, which builds the small package instead
    "own-command": {"sizebot.toml": CONFIG.replace(
        'flags = ["-trimpath", "-ldflags=-s -w"]',
        'command = "go build -trimpath -ldflags=-s\\\\ -w -o {output} ./cmd/hello"\noutput = "out/app"')},
}


@pytest.fixture(scope="module")
def repo(tmp_path_factory) -> dict[str, object]:
    root = tmp_path_factory.mktemp("escape")
    repo = root / "escape"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    write_tree(repo, {"go.mod": GO_MOD, "cmd/app/main.go": SMALL, "cmd/hello/main.go": SMALL, "sizebot.toml": CONFIG})
    shas = {"base": commit_all(repo, "Say hello")}
    git(repo, "checkout", "-q", "-b", "pr")
    write_tree(repo, {"cmd/app/main.go": LARGE})
    shas["grow"] = commit_all(repo, "Serve HTTP")  # code only: the same builds as the base
    for name, files in HEADS.items():
        git(repo, "checkout", "-q", shas["grow"])
        write_tree(repo, files)
        shas[name] = commit_all(repo, f"Serve HTTP ({name})")
    git(repo, "checkout", "-q", shas["base"])
    write_tree(repo, {"cmd/hello/main.go": SMALL.replace("hello", "hello, world")})
    shas["small"] = commit_all(repo, "Say more")  # code only, within the budget
    git(repo, "checkout", "-q", shas["base"])
    git(repo, "rm", "-q", "-r", "cmd/app")
    write_tree(repo, {"sizebot.toml": CONFIG.replace('name = "app"\npackage = "./cmd/app"',
                                                     'name = "hello"\npackage = "./cmd/hello"')
                      .replace('targets = ["app"]', 'targets = ["hello"]')})
    shas["deleted"] = commit_all(repo, "Remove the app")
    git(repo, "checkout", "-q", "main")
    return {"path": repo, "cache": root / "analyses", **shas}


@pytest.fixture(autouse=True)
def local_toolchain(monkeypatch):
    monkeypatch.setenv("GOTOOLCHAIN", "local")


def report(capsys, repo: dict, head: str, *args: str) -> tuple[int, dict]:
    capsys.readouterr()
    status = main(["report", "--repo", str(repo["path"]), "--quiet", "--cache-dir", str(repo["cache"]),
                   "--base", str(repo["base"]), "--head", str(repo[head]), "--format", "json", *args])
    out, err = capsys.readouterr()
    assert out, err
    return status, json.loads(out)


def builds(doc: dict) -> list[tuple[str, str, str, str, str, str]]:
    return [(b["target"], b["package"], b["platform"], b["strategy"], b["base"]["status"], b["head"]["status"])
            for b in doc["builds"]]


def rows(doc: dict) -> list[tuple[str, str, str]]:
    return [(r["rule"], r["status"], r["subject"]) for r in doc["budgets"]]


def test_code_only_pull_requests_keep_their_report(repo, capsys):
    status, doc = report(capsys, repo, "grow")
    assert (status, doc["verdict"]) == (1, "fail")
    assert builds(doc) == [("app", "./cmd/app", "linux/amd64", "default", "ok", "ok"),
                           ("app", "./cmd/app", "linux/amd64", "release", "ok", "ok")]
    assert rows(doc) == [("max_increase 1%", "fail", "app linux/amd64 release")]
    assert doc["notes"] == []
    status, doc = report(capsys, repo, "small")
    assert (status, doc["verdict"], rows(doc)) == (0, "pass", [("max_increase 1%", "pass", "app linux/amd64 release")])
    assert doc["notes"] == []


def test_dropping_the_budgeted_strategy_does_not_escape(repo, capsys):
    status, doc = report(capsys, repo, "drop-strategy")
    assert (status, doc["verdict"]) == (1, "fail")
    assert builds(doc) == [("app", "./cmd/app", "linux/amd64", "default", "ok", "ok"),
                           ("app", "./cmd/app", "linux/amd64", "release", "ok", "ok")]
    assert rows(doc) == [("max_increase 1%", "fail", "app linux/amd64 release")]
    assert doc["notes"] == [f"the head no longer builds app linux/amd64 release: {NOTE_TAIL}"]


def test_moving_the_platform_and_its_budget_does_not_escape(repo, capsys):
    status, doc = report(capsys, repo, "move-platform")
    assert (status, doc["verdict"]) == (1, "fail")
    assert builds(doc) == [("app", "./cmd/app", "linux/arm64", "default", "ok", "ok"),
                           ("app", "./cmd/app", "linux/arm64", "release", "ok", "ok"),
                           ("app", "./cmd/app", "linux/amd64", "release", "ok", "ok")]
    assert rows(doc) == [("max_increase 1%", "fail", "app linux/amd64 release")]
    assert doc["notes"] == [
        "the head changes the budgets (budget[0].platforms: [linux/amd64] -> [linux/arm64]): the base's budgets were "
        "applied (they judge once merged; budgets_from = \"head\" in the base's sizebot.toml applies a head's own)",
        f"the head no longer builds app linux/amd64 release: {NOTE_TAIL}"]


def test_pointing_the_target_at_another_package_does_not_escape(repo, capsys):
    status, doc = report(capsys, repo, "other-package")
    assert (status, doc["verdict"]) == (1, "fail")
    assert builds(doc) == [("app", "./cmd/hello", "linux/amd64", "default", "ok", "ok"),
                           ("app", "./cmd/app", "linux/amd64", "release", "ok", "ok")]
    assert rows(doc) == [("max_increase 1%", "fail", "app linux/amd64 release")]
    assert doc["notes"] == [f"the head redefines app linux/amd64 release (package): {NOTE_TAIL}"]


def test_redefining_the_budgeted_strategy_does_not_escape(repo, capsys):
    status, doc = report(capsys, repo, "own-command")
    assert (status, doc["verdict"]) == (1, "fail")
    assert builds(doc) == [("app", "./cmd/app", "linux/amd64", "default", "ok", "ok"),
                           ("app", "./cmd/app", "linux/amd64", "release", "ok", "ok")]
    assert rows(doc) == [("max_increase 1%", "fail", "app linux/amd64 release")]
    assert doc["notes"] == [
        f"the head redefines app linux/amd64 release (strategy.release.flags, strategy.release.command, "
        f"strategy.release.output): {NOTE_TAIL}"]
    assert not (Path(repo["path"]) / "out").exists()  # the head's command never ran


def test_deleting_the_budgeted_package_fails_until_overridden(repo, capsys):
    status, doc = report(capsys, repo, "deleted")
    assert (status, doc["verdict"]) == (1, "fail")
    assert builds(doc) == [("hello", "./cmd/hello", "linux/amd64", "default", "ok", "ok"),
                           ("hello", "./cmd/hello", "linux/amd64", "release", "ok", "ok"),
                           ("app", "./cmd/app", "linux/amd64", "release", "ok", "missing")]
    assert [(r["rule"], r["status"], r["subject"], r["message"]) for r in doc["budgets"]] == [
        ("budget[0]", "fail", "app linux/amd64 release",
         "the head no longer builds app (linux/amd64, release): its package is not at the head")]
    status, doc = report(capsys, repo, "deleted", "--label", "size-budget-override")
    assert (status, doc["verdict"]) == (0, "warn")
    assert [r["status"] for r in doc["budgets"]] == ["overridden"]


def test_the_same_config_at_both_commits_is_unchanged(repo, capsys, tmp_path):
    """`--config FILE` judges with one file at both commits: nothing of the base's is added."""
    path = tmp_path / "sizebot.toml"
    path.write_text(CONFIG)
    status, doc = report(capsys, repo, "grow", "--config", str(path))
    assert (status, doc["verdict"], rows(doc)) == (1, "fail", [("max_increase 1%", "fail", "app linux/amd64 release")])
    assert len(doc["builds"]) == 2
    assert os.path.isdir(repo["path"])


# ---- the image: built as the base's [image] defines it --------------------------------------------

IMAGE_CONFIG = CONFIG + """
[image]
dockerfile = "Dockerfile"

[[image.budget]]
level = "fail"
max_increase = "1%"
measure = "uncompressed"
"""
DIVE_CI = "rules:\n  lowestEfficiency: 0.95\n  highestWastedBytes: 1KB\n  highestUserWastedPercent: 0.05\n"


def imaged_repo(root: Path) -> tuple[Path, str]:
    repo = root / "imaged"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    write_tree(repo, {"go.mod": GO_MOD, "cmd/app/main.go": SMALL, "cmd/hello/main.go": SMALL,
                      "sizebot.toml": IMAGE_CONFIG, ".dive-ci": DIVE_CI,
                      "Dockerfile": "FROM scratch\nCOPY blob.bin /blob.bin\n"})
    (repo / "blob.bin").write_bytes(b"a" * 10_000)
    return repo, commit_all(repo, "An image")


def image_report(repo: Path, base: str, head: str, **kw) -> dict:
    from sizebot.compare.run import run_report_doc

    return run_report_doc(repo=repo, base=base, head=head, env={**os.environ, "GOTOOLCHAIN": "local"},
                          **kw).to_json()


def test_deleting_the_budgeted_dockerfile_fails_the_image_budget(tmp_path):
    """The head removes its Dockerfile and [image]: the base's image budget cannot judge it, and fails
    (the head's side is refused before any engine is asked)."""
    repo, base = imaged_repo(tmp_path)
    git(repo, "rm", "-q", "Dockerfile")
    write_tree(repo, {"sizebot.toml": CONFIG})
    head = commit_all(repo, "No image")
    doc = image_report(repo, base, head, docker_host="unix:///nonexistent/docker.sock")
    assert doc["image"]["error"] == "head image: no Dockerfile in the head commit"
    assert [(r["rule"], r["status"], r["subject"], r["message"]) for r in doc["budgets"]
            if r["subject"].startswith("image")] == [
        ("image.budget[0]", "fail", "image (uncompressed)", "head image: no Dockerfile in the head commit")]
    assert doc["verdict"] == "fail"


@pytest.mark.docker
def test_moving_the_dockerfile_and_the_dive_ci_does_not_escape(tmp_path, docker_engine):
    """The head grows the image and points [image] at a tiny Dockerfile, and loosens .dive-ci: the image
    is built from the base's Dockerfile at both commits, its rules read from the base's .dive-ci."""
    repo, base = imaged_repo(tmp_path)
    (repo / "blob.bin").write_bytes(b"b" * 30_000)
    write_tree(repo, {"Dockerfile.small": "FROM scratch\nCOPY go.mod /go.mod\n",
                      "sizebot.toml": IMAGE_CONFIG.replace('dockerfile = "Dockerfile"', 'dockerfile = "Dockerfile.small"'),
                      ".dive-ci": "rules:\n  lowestEfficiency: 0\n  highestWastedBytes: disabled\n"
                                  "  highestUserWastedPercent: disabled\n"})
    head = commit_all(repo, "A bigger image, measured elsewhere")
    doc = image_report(repo, base, head, docker_host=docker_engine.host)
    image = doc["image"]
    assert image["error"] is None
    assert (image["base"]["size"], image["head"]["size"]) == (10_000, 30_000)
    assert [(r["rule"], r["status"], r["actual"]) for r in doc["budgets"] if r["subject"].startswith("image")] == [
        ("max_increase 1%", "fail", 200.0)]
    assert sorted((r["name"], r["threshold"]) for r in image["rules"]) == [
        ("highestUserWastedPercent", 0.05), ("highestWastedBytes", 1000), ("lowestEfficiency", 0.95)]
    assert ("the head changes [image]: the image is built at base and head as the base's sizebot.toml defines it, "
            "since the base's budgets judge it (the head's applies once merged)") in doc["notes"]
    assert doc["verdict"] == "fail"


def test_naming_targets_does_not_drop_the_base_s_discovered_ones(tmp_path, capsys):
    """The base's sizebot.toml has a budget and no [[target]] (main packages found by go list); the head
    names only cmd/hello as a target: cmd/app, which the budget judges, is still built and judged."""
    repo = tmp_path / "discovered"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    write_tree(repo, {"go.mod": GO_MOD, "cmd/app/main.go": SMALL, "cmd/hello/main.go": SMALL,
                      "sizebot.toml": '[[budget]]\nlevel = "fail"\nmax_increase = "1%"\n'})
    base = commit_all(repo, "Say hello")
    write_tree(repo, {"cmd/app/main.go": LARGE,
                      "sizebot.toml": '[[target]]\nname = "hello"\npackage = "./cmd/hello"\n\n'
                                      '[[budget]]\nlevel = "fail"\nmax_increase = "1%"\n'})
    head = commit_all(repo, "Serve HTTP, build only hello")
    capsys.readouterr()
    status = main(["report", "--repo", str(repo), "--quiet", "--base", base, "--head", head, "--format", "json"])
    doc = json.loads(capsys.readouterr().out)
    host = doc["builds"][0]["platform"]
    assert (status, doc["verdict"]) == (1, "fail")
    assert builds(doc) == [("hello", "./cmd/hello", host, "default", "ok", "ok"),
                           ("hello", "./cmd/hello", host, "release", "ok", "ok"),
                           ("app", "./cmd/app", host, "default", "ok", "ok"),
                           ("app", "./cmd/app", host, "release", "ok", "ok")]
    assert rows(doc) == [("max_increase 1%", "pass", f"hello {host} default"),
                         ("max_increase 1%", "pass", f"hello {host} release"),
                         ("max_increase 1%", "fail", f"app {host} default"),
                         ("max_increase 1%", "fail", f"app {host} release")]
    assert doc["notes"] == [f"the head no longer builds app {host} default; app {host} release: {NOTE_TAIL}"]
