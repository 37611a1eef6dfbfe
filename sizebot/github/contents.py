"""What the comment stage reads of the repository itself, through the API rather than from the files
a pull request's job uploaded: the sizebot.toml whose budgets judge (at the pull request's base
commit, which GitHub names), and the head commit's message (for an override trailer)."""

from __future__ import annotations

import base64
import binascii
import posixpath
from collections.abc import Sequence
from urllib.parse import quote

from github import UnknownObjectException

from sizebot.config import Config, default_config
from sizebot.config.loading import CONFIG_NAMES, MAX_CONFIG_BYTES, parse_config
from sizebot.errors import ConfigError, SizebotError
from sizebot.github.client import GitHubClient


def config_names(working_directory: str, config: str | None) -> tuple[str, ...]:
    """Where sizebot.toml is looked for in the repository: the ``config`` input, else the usual names,
    below ``working_directory``."""
    names = (config,) if config else CONFIG_NAMES
    out = []
    for name in names:
        path = posixpath.normpath(posixpath.join(working_directory or ".", name))
        if path.startswith(("../", "/")) or path == "..":
            raise SizebotError(f"input config: {name!r} is outside the repository")
        out.append(path)
    return tuple(out)


def file_at(client: GitHubClient, repo: str, path: str, ref: str) -> str | None:
    """The text of ``path`` at commit ``ref``; None when that commit has no such regular file."""
    api = f"/repos/{repo}/contents/{quote(path)}"
    with client.errors("GET", api):
        try:
            _, data = client.github.requester.requestJsonAndCheck("GET", api, parameters={"ref": ref})
        except UnknownObjectException:
            return None
    if not isinstance(data, dict) or data.get("type") != "file":
        return None  # a directory, a symbolic link, a submodule: not a sizebot.toml
    content = data.get("content")
    if data.get("encoding") != "base64" or not isinstance(content, str):
        raise SizebotError(f"GET {api}: the file's content is not given (over GitHub's 1 MB inline limit?)")
    try:
        raw = base64.b64decode(content, validate=False)
    except (binascii.Error, ValueError):
        raise SizebotError(f"GET {api}: the file's content is not base64") from None
    if len(raw) > MAX_CONFIG_BYTES:
        raise SizebotError(f"{path} at {ref[:12]}: larger than {MAX_CONFIG_BYTES} bytes")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise SizebotError(f"{path} at {ref[:12]}: not UTF-8 text") from None


def _config_at(client: GitHubClient, repo: str, sha: str, names: Sequence[str]) -> tuple[str, str] | None:
    for name in names:
        text = file_at(client, repo, name, sha)
        if text is not None:
            return name, text
    return None


def judging_config(client: GitHubClient, repo: str, base_sha: str, head_sha: str, names: Sequence[str]) -> Config:
    """The sizebot.toml whose budgets and override policy judge the pull request, chosen as a report
    chooses it: the base's, unless it has none, does not validate or says ``budgets_from = "head"``;
    then the head's (the defaults, no budgets, when it has none; one that does not validate is an error)."""
    found = _config_at(client, repo, base_sha, names)
    if found is not None:
        try:
            base = parse_config(found[1], found[0])
        except ConfigError:
            base = None
        if base is not None and base.budgets_from != "head":
            return base
    found = _config_at(client, repo, head_sha, names)
    return parse_config(found[1], found[0]) if found is not None else default_config()


def commit_message(client: GitHubClient, repo: str, sha: str) -> str:
    data = client.get_json(f"/repos/{repo}/commits/{sha}")
    commit = data.get("commit") if isinstance(data, dict) else None
    message = commit.get("message") if isinstance(commit, dict) else None
    return message if isinstance(message, str) else ""
