"""``sizebot action``: the GitHub Action's entry point (docs/action.md).

Reads INPUT_* and GITHUB_* from the environment, the event payload at GITHUB_EVENT_PATH, writes
GITHUB_OUTPUT (verdict, total-delta, report-json, report-html, comment-url) and GITHUB_STEP_SUMMARY.
Modes: ``measure`` (a pull request's job, read-only token: write a measurement file),
``comment`` (workflow_run with a write token: validate measurement files, merge, comment; never
runs PR code), ``report`` (measure, then comment when the event is a pull request; for pushes),
``baseline`` (a push to the default branch: measure it and write its baseline; cli/action_baseline.py).
The modes that build set GOCACHE and GOMODCACHE below input ``go-cache`` (in the workspace, which the
workflow can save and restore with actions/cache) for the run.

Exit status: by ``fail-on`` and the verdict (fail: 1 on fail; warn: 1 on warn or fail; never: 0),
except in mode ``measure``, which exits 0 for any verdict (its file must be uploaded, and the comment
stage's commit status is the failing check); errors exit 2 in every mode.
A failed API call (comment, status) is a ``::warning::`` line, not a lost report: the summary and
outputs are written first, and the exit status still follows the verdict.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from sizebot.builds.git import checked_sha, run_git
from sizebot.builds.toolchain import go_version_option
from sizebot.cli.action_baseline import baseline_mode, read_baseline_input
from sizebot.documents.baseline import Baseline
from sizebot.documents.report import Report
from sizebot.documents.verdict import FAIL_ON, Verdict
from sizebot.errors import GitHubError, SizebotError
from sizebot.github.client import GitHubClient, GitHubValidationError, RetryPolicy
from sizebot.github.comment import build_comment, comment_marker, upsert_comment
from sizebot.github.event import PullRequestEvent, load_event, parse_event, parse_workflow_run
from sizebot.github.measurement import (
    check_against_pull,
    load_measurement_record,
    make_measurement,
    write_measurement,
)
from sizebot.github.pulls import get_pull, pulls_of_run
from sizebot.github.status import create_check_run, set_status

MODES = ("report", "measure", "comment", "baseline")
# Tests inject a retry policy that never sleeps; None: the real one.
RETRY_POLICY: RetryPolicy | None = None


def register(sub: Any) -> argparse.ArgumentParser:
    p = sub.add_parser("action", help="the GitHub Action entry point (reads INPUT_* and GITHUB_* env)")
    p.add_argument("--mode", choices=MODES, help="overrides INPUT_MODE")
    return p


def _input(env: Mapping[str, str], name: str, default: str = "") -> str:
    # GitHub passes input "comment-key" as INPUT_COMMENT-KEY (hyphen kept), docker actions too.
    for key in (f"INPUT_{name.upper()}", f"INPUT_{name.upper().replace('-', '_')}"):
        if env.get(key, "").strip():
            return env[key].strip()
    return default


def write_outputs(path: str | None, outputs: Mapping[str, str]) -> None:
    """GITHUB_OUTPUT with the delimiter syntax, safe for any value (multiline, ``=``)."""
    if not path:
        return
    with open(path, "a", encoding="utf-8") as fh:
        for name, value in outputs.items():
            delim = f"sizebot_{uuid.uuid4().hex}"
            while delim in value:  # pragma: no cover - 128 random bits
                delim = f"sizebot_{uuid.uuid4().hex}"
            fh.write(f"{name}<<{delim}\n{value}\n{delim}\n")


REPOSITORY = re.compile(r"[A-Za-z0-9_.-]{1,100}/[A-Za-z0-9_.-]{1,100}")


def check_api_url(url: str) -> None:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise SizebotError(f"GITHUB_API_URL: {url[:80]!r} is not an http(s) URL")


def check_writable(env: Mapping[str, str]) -> None:
    """Every file the run will write is checked before anything is measured or posted: a report
    posted and then lost to a missing directory is worse than a clear line first."""
    workspace = env.get("GITHUB_WORKSPACE", ".")
    if not os.path.isdir(workspace):
        raise SizebotError(f"GITHUB_WORKSPACE: {workspace}: not a directory")
    for name in ("GITHUB_OUTPUT", "GITHUB_STEP_SUMMARY"):
        path = env.get(name)
        if not path:
            continue
        parent = os.path.dirname(os.path.abspath(path))
        if os.path.lexists(path):
            ok = os.path.isfile(path) and os.access(path, os.W_OK)
        else:
            ok = os.path.isdir(parent) and os.access(parent, os.W_OK)
        if not ok:
            why = "not a writable file" if os.path.lexists(path) else "its directory does not exist or is not writable"
            raise SizebotError(f"{name}: {path}: {why}")


def total_delta(report: Report) -> int:
    return sum(b.delta or 0 for b in report.builds)


def _warn(message: str) -> None:
    print(f"::warning::{' '.join(message.split())}", flush=True)


def measure_report(*, repo: Path, base: str, head: str, config: str | None,
                   labels: tuple[str, ...], go_version: str | None = None, baseline: Baseline | None = None,
                   baseline_problem: str | None = None) -> Report:
    """The report document of base vs head: the same library call as ``sizebot report``."""
    try:
        from sizebot.compare.run import run_report_doc  # heavy: only in the modes that build
    except ImportError as exc:
        raise SizebotError(f"mode report/measure needs sizebot.compare.run ({exc})") from None
    # One log line per step: a measuring job is otherwise silent for minutes.
    return run_report_doc(repo=repo, base=base, head=head, config=config, labels=labels, go_version=go_version,
                          baseline=baseline, baseline_problem=baseline_problem,
                          progress=lambda line: print(f"sizebot: {line}", flush=True))


# Replaceable in tests (a fixed document instead of two Go builds).
MEASURE: Callable[..., Report] = measure_report


OUTPUT_DIR = "sizebot-output"


def _output_file(env: Mapping[str, str], name: str) -> tuple[Path, str]:
    """Where a file for the job's later steps goes, and the path to put in output ``report-json``.

    Under the workspace, named relative to it: a Docker action shares only the workspace with the
    host's steps (RUNNER_TEMP is not mounted into its container, and the container's absolute
    paths mean nothing to ``actions/upload-artifact``), and later steps resolve relative paths
    against the workspace. Not a hidden directory: upload-artifact skips those by default."""
    rel = f"{OUTPUT_DIR}/{name}"
    path = Path(env.get("GITHUB_WORKSPACE", ".")) / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    return path, rel


GO_CACHE_DIRS = (("GOCACHE", "go-build"), ("GOMODCACHE", "go-mod"))


def go_cache_dirs(env: Mapping[str, str]) -> dict[str, str]:
    """GOCACHE and GOMODCACHE below input ``go-cache`` (relative to the workspace), or {} when it is empty.

    The action's container starts with empty Go caches: under the workspace, the workflow can save the
    default branch's with actions/cache/save and restore it in a pull request's job, whose head then
    compiles only what it changed. The workflow names the directory (trusted); a path outside the
    workspace is refused, for the workflow's steps could not carry it."""
    text = _input(env, "go-cache")
    if not text:
        return {}
    if os.path.isabs(text) or ".." in Path(text).parts:
        raise SizebotError(f"input go-cache: {text[:80]!r} is not a directory inside the workspace (a relative "
                           "path without '..')")
    root = Path(env.get("GITHUB_WORKSPACE", ".")).resolve() / text
    return {name: str(root / sub) for name, sub in GO_CACHE_DIRS}


@contextmanager
def go_caches(dirs: Mapping[str, str]) -> Iterator[None]:
    """The Go caches of ``dirs`` in this process's environment (every go command inherits it) for the
    duration, the caller's values put back after."""
    saved = {name: os.environ.get(name) for name in dirs}
    try:
        for name, path in dirs.items():
            Path(path).mkdir(parents=True, exist_ok=True)
            os.environ[name] = path
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def _ensure_commit(repo: Path, sha: str) -> None:
    """The checkout of actions/checkout is shallow (one commit, on a pull_request GitHub's merge
    commit): fetch a commit that is missing, the base and the PR head alike. ``sha`` comes from the
    event: checked hex, and after ``--`` (a forged ``--upload-pack=...`` must never be an option)."""
    sha = checked_sha(sha, what="the event's commit")
    if run_git(repo, "cat-file", "-e", "--end-of-options", f"{sha}^{{commit}}").returncode != 0:
        run_git(repo, "fetch", "--no-tags", "--depth=1", "--", "origin", sha)


def run(args: argparse.Namespace) -> int:
    return run_action(os.environ, mode=getattr(args, "mode", None))


def run_action(env: Mapping[str, str], *, mode: str | None = None) -> int:
    mode = mode or _input(env, "mode", "report")
    if mode not in MODES:
        raise SizebotError(f"input mode: {mode!r} is not one of {', '.join(MODES)}")
    fail_on = _input(env, "fail-on", "fail")
    if fail_on not in FAIL_ON:
        raise SizebotError(f"input fail-on: {fail_on!r} is not one of {', '.join(FAIL_ON)}")
    key = _input(env, "comment-key", "default")
    try:  # checked before measuring: the key names the comment, the status and the output files
        comment_marker(key)
    except ValueError:
        raise SizebotError(f"input comment-key: {key!r} is not 1-100 letters, digits, '.', '_' or '-'") from None
    html_artifact = _input(env, "html-artifact")
    if html_artifact and not re.fullmatch(r"[A-Za-z0-9._-]{1,100}", html_artifact):
        raise SizebotError(f"input html-artifact: {html_artifact!r} is not 1-100 letters, digits, '.', '_' or '-'")
    repo_name = env.get("GITHUB_REPOSITORY", "")
    if mode != "measure" and not REPOSITORY.fullmatch(repo_name):
        raise SizebotError(f"GITHUB_REPOSITORY: {repo_name[:80]!r} is not owner/name")
    api = env.get("GITHUB_API_URL", "https://api.github.com")
    check_api_url(api)
    check_writable(env)
    token = _input(env, "github-token") or env.get("GITHUB_TOKEN", "")
    workdir = Path(env.get("GITHUB_WORKSPACE", ".")) / _input(env, "working-directory", ".")
    event_path = env.get("GITHUB_EVENT_PATH")
    payload = load_event(event_path) if event_path else {}
    pr = parse_event(payload, source=event_path or "event")
    client = GitHubClient(api, token, retry=RETRY_POLICY)

    if mode == "comment":
        return _comment_mode(env, client, repo_name, payload, key, fail_on, event_path or "event")

    with go_caches(go_cache_dirs(env)):
        if mode == "baseline":
            return baseline_mode(env, payload, workdir=workdir, key=key, input_=lambda name: _input(env, name),
                                 output_file=lambda name: _output_file(env, name),
                                 write_outputs=lambda outputs: write_outputs(env.get("GITHUB_OUTPUT"), outputs))
        return _measure_mode(env, client, mode, repo_name, pr, workdir, key, fail_on)


def _measure_mode(env: Mapping[str, str], client: GitHubClient, mode: str, repo_name: str, pr: PullRequestEvent | None,
                  workdir: Path, key: str, fail_on: str) -> int:
    """Modes measure and report: build base (unless a baseline stands in) and head, write, and in mode
    report comment when the event is a pull request."""
    if pr is None and not (_input(env, "base-ref") and _input(env, "head-ref")):
        raise SizebotError("no pull_request in the event payload: set inputs base-ref and head-ref")
    base = _input(env, "base-ref") or (pr.base_sha if pr else "")
    head = _input(env, "head-ref") or (pr.head_sha if pr else "")
    if pr and not _input(env, "base-ref"):
        _ensure_commit(workdir, base)
    if pr and not _input(env, "head-ref"):
        _ensure_commit(workdir, head)
    go_version = _input(env, "go-version") or None
    if go_version is not None:
        go_version_option(go_version)  # a bad input fails before anything is fetched
    baseline, baseline_problem = read_baseline_input(_input(env, "baseline"), Path(env.get("GITHUB_WORKSPACE", ".")))
    if baseline_problem:
        print(f"::notice::{baseline_problem}", flush=True)
    report = MEASURE(repo=workdir, base=base, head=head, config=_input(env, "config") or None,
                     labels=pr.labels if pr else (), go_version=go_version, baseline=baseline,
                     baseline_problem=baseline_problem)
    outputs = {"verdict": report.verdict, "total-delta": str(total_delta(report))}
    if mode == "measure":
        if pr is None:
            raise SizebotError("mode measure runs on a pull_request event")
        measurement = make_measurement(report.to_json(), number=pr.number, base_sha=pr.base_sha, head_sha=pr.head_sha,
                                       comment_key=key)
        out, outputs["report-json"] = _output_file(env, f"sizebot-measurement-{key}.json")
        write_measurement(out, measurement)
        outputs["report-html"] = _write_page(env, key, report)
        outputs["comment-url"] = ""
        _write_summary(env, report)
        write_outputs(env.get("GITHUB_OUTPUT"), outputs)
        print(f"sizebot: measurement written to {outputs['report-json']} (verdict {outputs['verdict']})")
        # 0 whatever the verdict: a failing step would skip the upload, and a PR that fails its budget
        # would get no comment at all. The failing check is the comment stage's status sizebot/KEY.
        return 0

    out, outputs["report-json"] = _output_file(env, f"sizebot-report-{key}.json")
    out.write_text(json.dumps(report.to_json(), indent=1) + "\n", encoding="utf-8")
    outputs["report-html"] = _write_page(env, key, report)
    _write_summary(env, report)
    url = ""
    if pr is not None:
        url = _publish(client, repo_name, pr.number, pr.head_sha, key, report, run_url(env), artifacts_url(env))
    outputs["comment-url"] = url
    write_outputs(env.get("GITHUB_OUTPUT"), outputs)
    return Verdict(outputs["verdict"]).exit_code_for(fail_on)


def _write_summary(env: Mapping[str, str], report: Report) -> None:
    from sizebot.render.comment import build_job_summary
    path = env.get("GITHUB_STEP_SUMMARY")
    if path:
        with open(path, "a", encoding="utf-8") as fh:
            fh.write(build_job_summary(report) + "\n")


def run_url(env: Mapping[str, str]) -> str | None:
    """The workflow run's page (its job summary has the full report), linked from the comment."""
    server, repo, run_id = env.get("GITHUB_SERVER_URL"), env.get("GITHUB_REPOSITORY"), env.get("GITHUB_RUN_ID")
    return f"{server}/{repo}/actions/runs/{run_id}" if server and repo and run_id else None


def artifacts_url(env: Mapping[str, str]) -> tuple[str, str] | None:
    """(the run's artifacts, the name the workflow uploads the page under: input html-artifact)."""
    url, name = run_url(env), _input(env, "html-artifact")
    return (f"{url}#artifacts", name) if url and name else None


def _write_page(env: Mapping[str, str], key: str, report: Report) -> str:
    """The treemap page beside the JSON (output report-html, for actions/upload-artifact)."""
    from sizebot.render import render
    out, rel = _output_file(env, f"sizebot-report-{key}.html")
    out.write_text(render(report, "html"), encoding="utf-8")
    return rel


def _publish(client: GitHubClient, repo: str, number: int, head_sha: str, key: str, report: Report,
             summary_url: str | None = None, artifacts: tuple[str, str] | None = None, *,
             body: str | None = None) -> str:
    """Comment, status and check run; every API failure becomes one warning line (the report is
    already in the summary and the outputs). Returns the comment URL or ''. ``body``: the comment
    when it was rendered before anything was written."""
    from sizebot.render.comment import COMMENT_LIMIT
    url = ""
    try:
        page_url, page_name = artifacts or (None, None)
        result = upsert_comment(client, repo, number, key,
                                body if body is not None else
                                build_comment(report, key, summary_url=summary_url, artifacts_url=page_url,
                                              html_artifact=page_name),
                                shorter=lambda: build_comment(report, key, limit=COMMENT_LIMIT // 4,
                                                              summary_url=summary_url, artifacts_url=page_url,
                                                              html_artifact=page_name))
        url = result.url
        print(f"sizebot: comment {'created' if result.created else 'updated'}: {url}")
    except GitHubValidationError as exc:
        _warn(f"sizebot: the comment was refused even shortened: {exc}")
    except GitHubError as exc:
        _warn(f"sizebot: cannot post the comment: {exc}")
    from sizebot.render.common import escape_md
    from sizebot.render.report_view import headline_parts
    verdict = report.verdict
    # the comment's own headline, so that the line beside the check says what the comment says (a sum of
    # every build's change adds strategies of one program together: a figure the comment never shows)
    description = f"{verdict}: " + " · ".join(headline_parts(report))
    summary = f"{verdict}: " + " · ".join(headline_parts(report, escape_md))
    try:
        set_status(client, repo, head_sha, key, verdict, description, target_url=url or summary_url)
    except GitHubError as exc:
        _warn(f"sizebot: cannot set the commit status: {exc}")
    try:
        check = create_check_run(client, repo, head_sha, key, verdict, description, summary)
        if check.note:
            print(f"sizebot: {check.note}")
    except GitHubError as exc:
        _warn(f"sizebot: cannot create the check run: {exc}")
    return url


MAX_MEASUREMENT_FILES = 256  # a matrix has at most 256 jobs, each uploading one file


def measurement_files(pattern: str, shown: str) -> tuple[list[str], str]:
    """(the files ``pattern`` matches, sorted; the directory it names before its first wildcard); ``shown``:
    the pattern as the workflow wrote it, for a message.

    That directory is the workflow's (trusted); what lies below it was downloaded from the pull
    request's job. The match never follows a symbolic link to a directory for ``**`` (a link back up
    would make glob.glob's walk endless), and stops past MAX_MEASUREMENT_FILES matches."""
    parts = Path(pattern).parts
    literal = next((i for i, part in enumerate(parts) if any(c in part for c in "*?[")), None)
    if literal is None:  # one file, named
        root = str(Path(pattern).parent)
        return ([pattern] if os.path.lexists(pattern) else []), root
    root = str(Path(*parts[:literal])) if literal else "."
    found: list[str] = []
    for path in Path(root).glob(str(Path(*parts[literal:]))):
        if len(found) == MAX_MEASUREMENT_FILES:
            raise SizebotError(f"input measurement-files: {shown!r} matches more than {MAX_MEASUREMENT_FILES} "
                               "files (one per job of a matrix)")
        found.append(str(path))  # a directory or a FIFO matched: refused by name when it is read
    return sorted(found), root


def _judged(env: Mapping[str, str], client: GitHubClient, repo: str, pull: dict[str, Any], head_sha: str,
            report: Report, files: list[str]) -> Report:
    """The measured report judged again on this trusted side: its budget rows and verdict recomputed
    from its figures against the budgets of the sizebot.toml at the pull request's base (read through the
    API, never from the files), with the override label as the pull request has it now and a trailer
    only when that file opts in. What the files claimed is replaced; a disagreement is said."""
    from sizebot.budgets.overrides import find_overrides
    from sizebot.budgets.rejudge import disagreement, rejudge
    from sizebot.github.contents import commit_message, config_names, judging_config

    base_sha = str((pull.get("base") or {}).get("sha") or report.base.sha)
    names = config_names(_input(env, "working-directory") or ".", _input(env, "config") or None)
    config = judging_config(client, repo, base_sha, head_sha, names)
    labels = tuple(str(label["name"]) for label in pull.get("labels") or ()
                   if isinstance(label, dict) and isinstance(label.get("name"), str))
    message = commit_message(client, repo, head_sha) if config.override.trailer else ""
    judged = rejudge(report, config, find_overrides(labels, message, config.override))
    fault = disagreement(report, judged)
    if fault is not None:
        _warn(f"{', '.join(files)}: {fault}: the rows and verdict recomputed from its figures and the base's "
              "budgets are posted, not the file's")
    return judged


def _trusted_commits(client: GitHubClient, repo: str, pull: dict[str, Any], report: Report) -> Report:
    """Base and head as the pull request names them (its branches) with their subjects, both from the
    API: the file's refs and subjects are the measuring job's words, only its SHAs had to match. A
    subject the API does not give is left out."""
    from dataclasses import replace

    from sizebot.documents.report import Commit
    from sizebot.github.contents import commit_message

    def trusted(side: str, claimed: Commit) -> Commit:
        info = pull.get(side)
        ref = info.get("label" if side == "head" else "ref") if isinstance(info, dict) else None
        try:
            subject = commit_message(client, repo, claimed.sha).split("\n", 1)[0].strip()
        except GitHubError:
            subject = ""
        return Commit(ref=ref if isinstance(ref, str) and ref else claimed.sha, sha=claimed.sha, subject=subject)

    return replace(report, base=trusted("base", report.base), head=trusted("head", report.head))


def _comment_mode(env: Mapping[str, str], client: GitHubClient, repo: str, payload: dict[str, Any],
                  key: str, fail_on: str, source: str) -> int:
    """Post what the measuring run measured, where the trusted side says.

    The measurement file was written by the pull request's own job: it is data, never an address.
    The pull request, the commit and the status context come from the workflow_run payload (GitHub
    wrote it), GitHub's API and this job's inputs; the file must agree with them or nothing is posted."""
    from sizebot.github.merge import merge_reports
    run = parse_workflow_run(payload, repo=repo, source=source)
    if run is None:
        raise SizebotError("mode comment runs on a workflow_run event: the payload has no workflow_run",
                           path=source)
    pattern = _input(env, "measurement-files")
    if not pattern:
        raise SizebotError("mode comment needs input measurement-files (a glob of downloaded artifacts)")
    base_dir = Path(env.get("GITHUB_WORKSPACE", "."))
    files, below = measurement_files(pattern if os.path.isabs(pattern) else str(base_dir / pattern), pattern)
    if not files:
        raise SizebotError(f"input measurement-files: {pattern!r} matches no file")
    # Below the glob's literal directory, everything came from the pull request's job: any invalid
    # file, or a symbolic link on the way to it, is one line and exit 2
    records = [load_measurement_record(f, untrusted_below=below) for f in files]
    docs = [r.to_json() for r in records]
    reports = {f: r.report for f, r in zip(files, records, strict=True)}
    for f, d in zip(files, docs, strict=True):
        if d["comment_key"] != key:
            raise SizebotError(f"comment_key {d['comment_key']!r} is not this job's comment-key {key!r}: "
                               "nothing posted", path=f)
        if d["pull_request"]["head_sha"] != run.head_sha:
            raise SizebotError(f"measured head {d['pull_request']['head_sha']}, the workflow run's head is "
                               f"{run.head_sha}: nothing posted", path=f)
    trusted = pulls_of_run(client, repo, run)
    if not trusted:
        raise SizebotError(f"no open pull request of {repo} has head {run.head_sha}: nothing posted",
                           path=source)
    for f, d in zip(files, docs, strict=True):
        claimed = d["pull_request"]["number"]
        if claimed not in trusted:
            shown = ", ".join(f"#{n}" for n in trusted)
            raise SizebotError(f"names pull request #{claimed}, the workflow run measured {shown}: nothing posted",
                               path=f)
    numbers = {d["pull_request"]["number"] for d in docs}
    if len(numbers) != 1:
        raise SizebotError(f"measurement files name several pull requests: {sorted(numbers)}")
    number = numbers.pop()
    pull = get_pull(client, repo, number)
    fresh = []
    for f, d in zip(files, docs, strict=True):
        reason = check_against_pull(d, pull, path=f)
        if reason:
            print(f"sizebot: {reason}")
        else:
            fresh.append((f, d))
    outputs = {"verdict": "neutral", "total-delta": "0", "report-json": "", "report-html": "", "comment-url": ""}
    if not fresh:
        print("sizebot: no measurement matches the pull request's current head: nothing posted")
        write_outputs(env.get("GITHUB_OUTPUT"), outputs)
        return 0
    report = _judged(env, client, repo, pull, run.head_sha, merge_reports([reports[f] for f, _d in fresh]),
                     [f for f, _d in fresh])
    report = _trusted_commits(client, repo, pull, report)
    # Everything rendered before anything is written or posted: what cannot be rendered reaches nobody.
    from sizebot.render import render
    from sizebot.render.comment import build_job_summary
    artifacts = artifacts_url(env)
    page_url, page_name = artifacts or (None, None)
    body = build_comment(report, key, summary_url=run_url(env), artifacts_url=page_url, html_artifact=page_name)
    build_job_summary(report)
    render(report, "html")
    out, rel = _output_file(env, f"sizebot-report-{key}.json")
    out.write_text(json.dumps(report.to_json(), indent=1) + "\n", encoding="utf-8")
    outputs.update({"verdict": report.verdict, "total-delta": str(total_delta(report)),
                    "report-json": rel, "report-html": _write_page(env, key, report)})
    _write_summary(env, report)
    outputs["comment-url"] = _publish(client, repo, number, run.head_sha, key, report, run_url(env),
                                      artifacts, body=body)
    write_outputs(env.get("GITHUB_OUTPUT"), outputs)
    return Verdict(outputs["verdict"]).exit_code_for(fail_on)
