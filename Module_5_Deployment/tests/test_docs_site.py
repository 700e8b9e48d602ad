"""The documentation site: built strictly from the repository's own pages."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from Module_1_Foundations.common.paths import REPO_ROOT
from Module_5_Deployment import docs_site

MKDOCS = Path(sys.executable).with_name("mkdocs")


def test_the_root_readme_is_the_home_page_and_every_module_has_its_pages():
    pages = docs_site.page_sources(docs_site.tracked_files())
    assert pages["index.md"] == "README.md" and "README.md" not in pages
    for module in ("Module_1_Foundations", "Module_2_Pipelines", "Module_3_Analytics_Eng",
                   "Module_5_Deployment", "capstone"):  # fmt: skip
        assert f"{module}/README.md" in pages and f"{module}/notes.md" in pages
    assert "Module_4_DataScience_ML/core_concepts_notes.md" in pages


def test_dbt_docs_blocks_are_not_pages():
    pages = docs_site.page_sources(["README.md", "M/dbt_project/models/docs.md", "M/notes.md"])
    assert pages == {"index.md": "README.md", "M/notes.md": "M/notes.md"}


def test_every_committed_screenshot_is_on_the_screenshots_page():
    images = docs_site.screenshots(docs_site.tracked_files())
    assert images, "the path commits screenshots (Module 3's dbt docs at least)"
    page = docs_site.screenshots_markdown(images)
    assert all(f"]({image})" in page for image in images)


def test_files_a_page_links_to_are_carried_along(tmp_path):
    (tmp_path / "M").mkdir()
    (tmp_path / "M" / "README.md").write_text("See [the DAG](dag.py) and [notes](notes.md).\n")
    linked = docs_site.linked_files({"M/README.md": "M/README.md"}, {"M/dag.py"}, root=tmp_path)
    assert linked == {"M/dag.py"}


@pytest.mark.slow
def test_mkdocs_build_strict_passes(tmp_path):
    done = subprocess.run(
        [str(MKDOCS), "build", "--strict", "--site-dir", str(tmp_path / "site")],
        cwd=REPO_ROOT, capture_output=True, text=True, check=False,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    site = tmp_path / "site"
    assert (site / "index.html").is_file()
    assert (site / "Module_3_Analytics_Eng" / "notes" / "index.html").is_file()
    assert (site / "screenshots" / "index.html").is_file()


@pytest.mark.slow
def test_strict_build_fails_on_a_broken_link(tmp_path):
    config = tmp_path / "mkdocs.yml"
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "index.md").write_text("# Home\n\n[gone](missing.md)\n")
    config.write_text(f"site_name: t\ndocs_dir: {docs}\nsite_dir: {tmp_path / 'site'}\n")
    done = subprocess.run(
        [str(MKDOCS), "build", "--strict", "-f", str(config)],
        capture_output=True, text=True, check=False,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
    )  # fmt: skip
    assert done.returncode != 0
    assert "missing.md" in done.stderr
