"""Main packages listed before, kept by what decides them, so that a report can start building before
``go list`` runs.

``go list -find ./...`` at a commit depends on the commit's files and on the go command's setup. The
key is the SHA-256 of the commit's whole tree as ``git ls-tree -r`` lists it (every path, mode and blob),
the checkout's path (a ``go.work`` above it would count), the go command found on PATH (its path, size
and time), every variable of the environment the go command reads for its setup (``GO*``, ``CGO_*``,
the C compilers, PATH and the home and config directories) and the go env file. A key cannot prove
that nothing else changed what go list finds, so a kept listing is only ever a head start: the report
lists the head again beside its builds and starts over when the two differ (``compare/run.py``).

An entry is JSON (``{"schema", "key", "targets": [[name, package], ...]}``) in the analysis cache's
directory, which may come from elsewhere (a CI cache): it is read as any saved document, with every
name and package checked to be one that discovery could have made (a package is "." or "./dir", never
an option or a path out of the checkout); anything else is no entry. Below that directory nothing is
reached through a symbolic link.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import sys
from collections.abc import Mapping
from pathlib import Path, PurePosixPath

from sizebot.builds.git import checked_sha, run_git
from sizebot.documents.jsonfile import parse_json, read_regular_file
from sizebot.files import keep_cache_entry, open_cache_directory

SCHEMA = "sizebot/discovery@1"
MAX_ENTRIES = 64
MAX_ENTRY_BYTES = 4 * 1024 * 1024
MAX_TARGETS = 10_000
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,254}")  # what discovery names a target (_clean, numbered)
_SETUP_VARS = ("CC", "CXX", "PATH", "HOME", "XDG_CONFIG_HOME", "AppData")
_GOENV_BYTES = 1024 * 1024
# config.loading.CONFIG_NAMES (a test keeps them equal): that package's import is not what a report's first
# tenth of a second is for
CONFIG_NAMES = ("sizebot.toml", ".github/sizebot.toml")
Listing = tuple[tuple[str, str], ...]  # (target name, package) of each main package, as discover_targets finds them


def listing_key(repo: Path, sha: str, path: Path, go: str, env: Mapping[str, str] | None) -> str | None:
    """The key of ``go list -find ./...`` at commit ``sha`` checked out at ``path``; None when the commit
    has a sizebot.toml, which may name its targets (or a name git and the file system could read
    differently), or git cannot list it."""
    proc = run_git(repo, "ls-tree", "-r", "-z", "--full-tree", "--end-of-options", checked_sha(sha))
    if proc.returncode != 0:
        return None
    configs = tuple(name.lower() for name in CONFIG_NAMES)
    for entry in proc.stdout.split("\0"):
        name = entry.partition("\t")[2].lower()
        if name.startswith(configs) or name == ".github":  # .github itself a link or a file
            return None
        if name.startswith(".github/") and not entry.partition("\t")[2].startswith(".github/"):
            return None  # another case of .github, one file system away from being it
    environ = os.environ if env is None else env
    digest = hashlib.sha256(SCHEMA.encode())
    for part in (proc.stdout, str(Path(path).resolve()), _go_command(go, environ), _goenv_file(environ),
                 *(f"{k}={v}" for k, v in sorted(environ.items()) if k.startswith(("GO", "CGO_")) or k in _SETUP_VARS)):
        digest.update(part.encode("utf-8", "surrogateescape"))
        digest.update(b"\0")
    return digest.hexdigest()


def _go_command(go: str, environ: Mapping[str, str]) -> str:
    found = shutil.which(go, path=environ.get("PATH"))
    if found is None:
        return go
    try:
        real = os.path.realpath(found)
        st = os.stat(real)
    except OSError:
        return found
    return f"{real} {st.st_size} {st.st_mtime_ns}"


def _goenv_file(environ: Mapping[str, str]) -> str:
    """The go env file (``go env -w``'s settings): where GOENV names, else in the user's config directory."""
    where = environ.get("GOENV")
    if not where:
        if sys.platform == "win32":
            base = environ.get("AppData", "")
        elif sys.platform == "darwin":
            base = os.path.join(environ.get("HOME", ""), "Library", "Application Support")
        else:
            base = environ.get("XDG_CONFIG_HOME") or os.path.join(environ.get("HOME", ""), ".config")
        where = os.path.join(base, "go", "env")
    if where == "off":
        return "off"
    try:
        with open(where, "rb") as f:
            return f.read(_GOENV_BYTES).decode("utf-8", "replace")
    except OSError:
        return ""


def kept_listing(cache_dir: Path, key: str) -> Listing | None:
    """The main packages kept under ``key``, or None: none, or not an entry discovery could have written."""
    entry = _entry(cache_dir, key)
    try:
        data = parse_json(read_regular_file(entry, max_bytes=MAX_ENTRY_BYTES, untrusted_below=cache_dir),
                          where=str(entry))
    except Exception:  # noqa: BLE001 - missing, partial or forged: listed again
        return None
    if type(data) is not dict or data.get("schema") != SCHEMA or data.get("key") != key:
        return None
    targets = data.get("targets")
    if type(targets) is not list or len(targets) > MAX_TARGETS:
        return None
    out = []
    for pair in targets:
        if type(pair) is not list or len(pair) != 2 or not all(type(x) is str for x in pair):
            return None
        name, package = pair
        if not _NAME.fullmatch(name) or not _package(package):
            return None
        out.append((name, package))
    if len({name for name, _ in out}) != len(out) or len({package for _, package in out}) != len(out):
        return None
    return tuple(out)


def _package(package: str) -> bool:
    """"." or "./dir/...": a directory below the checkout, as discovery writes it."""
    if package == ".":
        return True
    if not package.startswith("./") or any(c in package for c in "\0\n\r\\"):
        return False
    parts = PurePosixPath(package[2:]).parts
    return bool(parts) and package[2:] == "/".join(parts) and all(p not in (".", "..") for p in parts)


def keep_listing(cache_dir: Path, key: str, listing: Listing) -> None:
    """Keep the main packages listed under ``key`` (nothing kept when the directory cannot be written)."""
    doc = {"schema": SCHEMA, "key": key, "targets": [list(pair) for pair in listing]}
    keep_cache_entry(Path(cache_dir) / "discover", f"{key}.json", lambda f: json.dump(doc, f, separators=(",", ":")),
                     keep=MAX_ENTRIES, suffix=".json")


def forget(cache_dir: Path, key: str) -> None:
    """Remove the entry kept under ``key`` (one that go list contradicted)."""
    directory = open_cache_directory(Path(cache_dir) / "discover")
    if directory is None:
        return
    try:
        os.unlink(f"{key}.json", dir_fd=directory)
    except OSError:
        pass
    finally:
        os.close(directory)


def _entry(cache_dir: Path, key: str) -> Path:
    return Path(cache_dir) / "discover" / f"{key}.json"
