"""Shared fixtures: the real Go toolchain, real git repositories, the real Docker engine."""

from __future__ import annotations

import os
import shutil

import pytest

from tests.support.docker_engine import DockerEngine, start_engine


@pytest.fixture(scope="session")
def docker_engine() -> DockerEngine:
    """A private dockerd for the whole session; fails (not skips) when it cannot start."""
    engine = start_engine()
    try:
        yield engine
    finally:
        engine.stop()


@pytest.fixture(scope="session")
def go() -> str:
    path = shutil.which("go")
    assert path, "the Go toolchain is required (go version)"
    return path


@pytest.fixture(scope="session")
def go_env(tmp_path_factory) -> dict[str, str]:
    """Environment for test builds: shared caches, no network surprises, no VCS stamping noise."""
    env = dict(os.environ)
    env.setdefault("GOFLAGS", "-mod=mod")
    env["GOTOOLCHAIN"] = "local"
    return env


def pytest_collection_modifyitems(config, items) -> None:
    """Every test that starts the Docker engine carries the ``docker`` marker (``-m "not docker"`` then
    means what it says): a test that uses the engine without it stops the collection."""
    unmarked = [item.nodeid for item in items
                if "docker_engine" in getattr(item, "fixturenames", ()) and item.get_closest_marker("docker") is None]
    if unmarked:
        raise pytest.UsageError("tests that start the Docker engine need @pytest.mark.docker: " + ", ".join(unmarked))
