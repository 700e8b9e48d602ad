"""Variables set for a block are restored exactly: changed ones back, new ones removed."""

from __future__ import annotations

import os

import pytest

from Module_1_Foundations.common.environment import patched_environ


def test_a_block_sees_its_variables_and_the_process_gets_its_own_back(monkeypatch):
    monkeypatch.setenv("HDP_KEPT", "before")
    monkeypatch.delenv("HDP_NEW", raising=False)
    with patched_environ({"HDP_KEPT": "inside", "HDP_NEW": "inside"}):
        assert os.environ["HDP_KEPT"] == "inside"
        assert os.environ["HDP_NEW"] == "inside"
    assert os.environ["HDP_KEPT"] == "before"
    assert "HDP_NEW" not in os.environ


def test_the_environment_is_restored_when_the_block_fails(monkeypatch):
    monkeypatch.delenv("HDP_NEW", raising=False)

    def fail_inside() -> None:
        with patched_environ({"HDP_NEW": "inside"}):
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        fail_inside()
    assert "HDP_NEW" not in os.environ
