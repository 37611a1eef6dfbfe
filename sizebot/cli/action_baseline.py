"""The action's baselines (docs/action.md, *Baselines*): mode ``baseline`` measures a push to the default
branch and writes its baseline; the ``baseline`` input hands a restored one to modes ``measure`` and
``report`` (the base is then not built) or, in mode ``baseline``, the previous one whose history is carried.

A baseline comes from the Actions cache, which pull requests can write to as well: a file that is missing
(a cache miss), corrupt or hostile never stops a run. It is ignored with a note, and the base is built
(or, in mode ``baseline``, the history starts again).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from pathlib import Path

from sizebot.documents.baseline import Baseline
from sizebot.errors import SizebotError

_SHA = re.compile(r"[0-9a-f]{40}(?:[0-9a-f]{24})?")


def read_baseline_input(path_text: str, workspace: Path) -> tuple[Baseline | None, str | None]:
    """(the baseline, None), or (None, why it is not used: a note) for input ``baseline``."""
    from sizebot.documents.saved import load_baseline

    if not path_text:
        return None, None
    path = Path(path_text) if Path(path_text).is_absolute() else workspace / path_text
    if not path.exists() and not path.is_symlink():
        return None, f"no baseline at {path_text} (no cache entry for this base): the base was built"
    below = path.parent if Path(path_text).is_absolute() else workspace
    try:  # restored from a cache (a tar of what some job wrote): no symbolic link followed to it
        return load_baseline(path, untrusted_below=below), None
    except SizebotError as exc:
        return None, f"the baseline {path_text} was ignored ({_one_line(str(exc))}): the base was built"


def _one_line(text: str, limit: int = 300) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def baseline_mode(env: Mapping[str, str], payload: Mapping[str, object], *, workdir: Path, key: str,
                  input_: Callable[[str], str], output_file: Callable[[str], tuple[Path, str]],
                  write_outputs: Callable[[Mapping[str, str]], None]) -> int:
    """Measure the pushed commit (input head-ref, else the push's ``after``, else GITHUB_SHA) and write
    ``sizebot-output/sizebot-baseline-KEY.json`` (output ``baseline-json``) for actions/cache/save."""
    from sizebot.compare.measure import measure_commit
    from sizebot.render import render

    sha = input_("head-ref") or str(payload.get("after") or "") or env.get("GITHUB_SHA", "")
    if not _SHA.fullmatch(sha) and not input_("head-ref"):
        raise SizebotError(f"mode baseline: the pushed commit {sha[:80]!r} is not a commit id (set input head-ref)")
    history_text = input_("history") or "30"
    if not history_text.isdigit() or not 1 <= int(history_text) <= 1000:
        raise SizebotError(f"input history: {history_text[:40]!r} is not a number of commits from 1 to 1000")
    previous, problem = read_baseline_input(input_("baseline"), Path(env.get("GITHUB_WORKSPACE", ".")))
    if problem:
        print(f"::notice::{problem.replace(': the base was built', ': the history starts again')}", flush=True)
    baseline = measure_commit(repo=workdir, ref=sha, config=input_("config") or None,
                              go_version=input_("go-version") or None, previous=previous,
                              history=int(history_text), progress=lambda line: print(f"sizebot: {line}", flush=True))
    out, rel = output_file(f"sizebot-baseline-{key}.json")
    out.write_text(json.dumps(baseline.to_json(), indent=1) + "\n", encoding="utf-8")
    summary = env.get("GITHUB_STEP_SUMMARY")
    if summary:
        with open(summary, "a", encoding="utf-8") as fh:
            fh.write(render(baseline, "markdown") + "\n")
    write_outputs({"baseline-json": rel, "verdict": "neutral", "total-delta": "0", "report-json": "",
                   "report-html": "", "comment-url": ""})
    print(f"sizebot: baseline of {baseline.sha[:12]} written to {rel} ({len(baseline.history)} commits of history)")
    return 0
