"""Shared fixtures for Module 1's tests."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from Module_1_Foundations.common.paths import REPO_ROOT


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """No HDP_* variable from the developer's shell leaks into a settings test."""
    for name in list(os.environ):
        if name.startswith("HDP_"):
            monkeypatch.delenv(name)
    return monkeypatch


def run_module(module: str, *args: str, env: dict[str, str] | None = None, cwd: Path | None = None):
    """Run ``python -m module args`` in a fresh interpreter; return the CompletedProcess."""
    base = {k: v for k, v in os.environ.items() if not k.startswith("HDP_")}
    return subprocess.run(
        [sys.executable, "-m", module, *args],
        capture_output=True,
        text=True,
        env={**base, **(env or {})},
        cwd=cwd or REPO_ROOT,
        timeout=300,
        check=False,
    )


# --- object stores for Module 1's upload tests (moto: fast; SeaweedFS: the real local server) ---


@pytest.fixture(scope="session")
def moto_endpoint():
    """An in-process moto S3 server on a free loopback port, for the whole session."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture(scope="session")
def seaweedfs_server(tmp_path_factory: pytest.TempPathFactory):
    """A throwaway SeaweedFS (the embedded store) on free ports, for the whole session."""
    from Module_1_Foundations.project.local_s3_server import running_local_s3

    with running_local_s3(tmp_path_factory.mktemp("seaweedfs")) as server:
        yield server
