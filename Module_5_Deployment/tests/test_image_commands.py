"""The build and run commands `make image` and the image tests share (no engine needed)."""

from __future__ import annotations

import pytest

from Module_1_Foundations.common.cli import run_cli
from Module_1_Foundations.common.errors import UserError
from Module_5_Deployment import images
from Module_5_Deployment.images import LOCAL_BASE, OFFICIAL_BASE, ROLES, Engine


def test_docker_builds_on_the_official_base_with_no_extra_flags():
    command = Engine("docker").build_command(ROLES["pipeline"])
    assert command == ["docker", "build", "-f", "Dockerfile", "-t", "localhost/hdp-pipeline:latest",
                       "--target", "pipeline", "."]  # fmt: skip
    assert Engine("docker").base_image == OFFICIAL_BASE


def test_podman_builds_on_the_local_base_with_the_flags_these_machines_need():
    command = Engine("podman").build_command(ROLES["converter"])
    for flag in ("--isolation=chroot", "--pull=never", "--network=host",
                 f"BASE_IMAGE={LOCAL_BASE}", "UV_SYSTEM_CERTS=1"):  # fmt: skip
        assert flag in command
    assert "--target" not in command and command[-1] == "."


def test_podman_runs_with_runc_and_ulimits_no_higher_than_the_machines(monkeypatch):
    monkeypatch.setattr(images.resource, "getrlimit", lambda kind: (1024, 1024))
    command = Engine("podman").run_command("img", "echo", "hi", options=("-v", "a:/b"))
    assert command[:3] == ["podman", "--runtime", "runc"]
    assert "nofile=1024:1024" in command and "nproc=1024:1024" in command
    assert command[-5:] == ["-v", "a:/b", "img", "echo", "hi"]


def test_the_debian_mirror_comes_from_apts_own_sources(tmp_path):
    (tmp_path / "sources.list.d").mkdir()
    (tmp_path / "sources.list.d" / "debian.sources").write_text(
        "Types: deb\nURIs: http://mirror.invalid/debian\nSuites: bookworm\n\n"
        "Types: deb\nURIs: http://mirror.invalid/debian-security\n"
    )
    assert images.debian_mirror(tmp_path) == "http://mirror.invalid/debian"


def test_no_mirror_is_a_clear_error(tmp_path):
    with pytest.raises(UserError, match="no Debian mirror"):
        images.debian_mirror(tmp_path)


def test_an_unknown_role_is_a_one_line_error(capsys):
    assert run_cli(lambda: images.main(["build", "nope"])) == 2
    assert "unknown role 'nope'" in capsys.readouterr().err
