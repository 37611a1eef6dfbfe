"""A git runner for tests: a fixed identity, no system config, HOME beside the repository."""

from __future__ import annotations

import hashlib
import os
import struct
import subprocess
from pathlib import Path


def git(repo: Path, *args: str, env: dict[str, str] | None = None) -> str:
    base = {
        "GIT_AUTHOR_NAME": "Test", "GIT_AUTHOR_EMAIL": "test@example.invalid",
        "GIT_COMMITTER_NAME": "Test", "GIT_COMMITTER_EMAIL": "test@example.invalid",
        "GIT_CONFIG_NOSYSTEM": "1", "HOME": str(repo.parent),
    }
    full = {**os.environ, **base, **(env or {})}
    return subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True, text=True,
                          env=full).stdout.strip()


def commit_all(repo: Path, message: str) -> str:
    """Stage everything in ``repo``, commit it, and return the new commit's SHA."""
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", message)
    return git(repo, "rev-parse", "HEAD")


def forge_index_stat(index: Path, name: bytes, st: os.stat_result) -> None:
    """Give the entry ``name`` of a version 2 index the stat data ``st``, as a build could."""
    data = bytearray(index.read_bytes())
    assert data[:4] == b"DIRC" and struct.unpack(">I", data[4:8])[0] == 2
    offset = 12
    for _ in range(struct.unpack(">I", data[8:12])[0]):
        length = struct.unpack(">H", data[offset + 60:offset + 62])[0] & 0xFFF
        if data[offset + 62:offset + 62 + length] == name:
            struct.pack_into(">10I", data, offset, int(st.st_ctime), st.st_ctime_ns % 10**9, int(st.st_mtime),
                             st.st_mtime_ns % 10**9, st.st_dev & 0xFFFFFFFF, st.st_ino & 0xFFFFFFFF, 0o100644,
                             st.st_uid, st.st_gid, st.st_size)
            break
        offset += (62 + length + 8) & ~7
    else:
        raise AssertionError(f"no entry {name!r} in {index}")
    data[-20:] = hashlib.sha1(bytes(data[:-20])).digest()
    index.write_bytes(bytes(data))
    os.utime(index, ns=(st.st_mtime_ns + 2 * 10**9,) * 2)  # not racy: its entries are taken as they are
