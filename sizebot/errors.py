"""The one place for sizebot's errors.

Every error a user can cause (bad file, bad config, API refusal) is a ``SizebotError``:
the CLI prints ``str(err)`` as one line and exits with ``err.exit_code`` (2). Anything
else is a bug and shows a traceback only with ``--debug``.
"""

from __future__ import annotations


class SizebotError(Exception):
    """A user-facing error: one clear line, exit status 2."""

    exit_code = 2

    def __init__(self, message: str, *, path: str | None = None):
        self.path = path
        super().__init__(f"{path}: {message}" if path else message)


class BinaryFormatError(SizebotError):
    """The file is not a binary we can read (not ELF/Mach-O/PE, truncated, corrupt)."""


class UnsupportedGoVersion(SizebotError):
    """A Go binary whose pclntab predates Go 1.18."""


class PclntabError(SizebotError):
    """The pclntab is present but corrupt."""


class ImageError(SizebotError):
    """An image archive or layout that cannot be read (broken tar, bad gzip/zstd, missing manifest)."""


class ConfigError(SizebotError):
    """A bad sizebot.toml or .dive-ci: message names file, line and key."""

    def __init__(self, message: str, *, path: str | None = None, line: int | None = None, key: str | None = None):
        self.line = line
        self.key = key
        where = path or ""
        if path and line:
            where = f"{path}:{line}"
        if key:
            message = f"{key}: {message}"
        SizebotError.__init__(self, message, path=where or None)


class BuildError(SizebotError):
    """A build or post-step failed (the message carries the command and the tail of its output)."""


class GitError(SizebotError):
    """A git command failed (unknown ref, not a repository)."""


class DockerError(SizebotError):
    """The Docker engine is missing or refused a command."""


class GitHubError(SizebotError):
    """The GitHub API refused or failed; the message names the permission or the status."""


class MeasurementFileError(SizebotError):
    """A measurement file (fork flow artifact) failed strict validation."""


class DocumentError(SizebotError):
    """A JSON document (report, analysis, diff, image) whose shape or types are not its schema's."""


class WorkerError(SizebotError):
    """A worker process of an analysis failed, was killed or died from a signal: nothing it did is used."""
