"""The docs screenshot script serves the real docs and captures them with Debian Chromium."""

from __future__ import annotations

from pathlib import Path

import pytest

from Module_3_Analytics_Eng import dbt_runner, docs_screenshots
from Module_3_Analytics_Eng.tests.conftest import Warehouse

pytestmark = [pytest.mark.slow, pytest.mark.browser]


def test_screenshots_of_the_lineage_and_a_model_page(built: Warehouse, tmp_path: Path) -> None:
    env = dbt_runner.dbt_env(duckdb_path=built.path, root=built.lake_root, target="dev")
    saved = docs_screenshots.screenshots(tmp_path / "shots", env)
    assert [p.name for p in saved] == ["lineage.png", "fct_loans.png", "fct_loans_lineage.png"]
    for path in saved:
        data = path.read_bytes()
        assert data.startswith(b"\x89PNG")
        # a blank page compresses to a few kB; the docs pages are far larger
        assert len(data) > 30_000, (path.name, len(data))


def test_cli_help() -> None:
    with pytest.raises(SystemExit) as exit_info:
        docs_screenshots.main(["--help"])
    assert exit_info.value.code == 0
