"""The MkDocs hook that turns the repository's own Markdown into the documentation site.

MkDocs cannot use the repository root as its ``docs_dir`` (the site would swallow ``.venv`` and
``.state``), and copying pages by hand drifts. So ``docs/`` holds only what exists for the site
alone, and this hook (``hooks:`` in ``mkdocs.yml``) adds, at build time and from git's list of
tracked files:

* every module's README and notes (and the other tracked Markdown) under its repository path,
  so the relative links between them work unchanged, with the root ``README.md`` as the home page;
* every committed screenshot, and a generated ``screenshots.md`` page showing them all;
* every tracked file a page links to (a DAG, a benchmark script), copied as-is, so such links
  resolve and ``mkdocs build --strict`` can fail on the links that really are broken.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path, PurePosixPath
from typing import Any

from Module_1_Foundations.common.paths import REPO_ROOT

#: tracked Markdown that is not a page added by the hook: dbt docs blocks (Jinja), folder
#: placeholders, and docs/ itself (MkDocs reads its docs_dir on its own)
NOT_PAGES = re.compile(r"^docs/|(^|/)(dbt_project/|data/|\.github/)|(^|/)logs/README\.md$")
IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".svg", ".gif"}
LINK = re.compile(r"\]\(([^)#\s]+)(?:#[^)]*)?\)")
SCREENSHOTS_PAGE = "screenshots.md"


def tracked_files(root: Path = REPO_ROOT) -> list[str]:
    git = shutil.which("git") or "git"
    out = subprocess.run(
        [git, "ls-files"], cwd=root, capture_output=True, text=True, check=True
    ).stdout
    return [p for p in out.splitlines() if (root / p).is_file()]


def page_sources(tracked: list[str]) -> dict[str, str]:
    """``{src_uri: repo path}`` for every page; the root README becomes ``index.md``."""
    pages = {p: p for p in tracked if p.endswith(".md") and not NOT_PAGES.search(p)}
    if "README.md" in pages:
        pages["index.md"] = pages.pop("README.md")
    return pages


def screenshots(tracked: list[str]) -> list[str]:
    return sorted(
        p
        for p in tracked
        if PurePosixPath(p).suffix.lower() in IMAGE_SUFFIXES and "screenshot" in p.lower()
    )


def screenshots_markdown(images: list[str]) -> str:
    lines = ["# Screenshots", "", "Every screenshot committed in the repository, by module.", ""]
    for image in images:
        module = image.split("/", 1)[0].replace("_", " ")
        lines += [f"## {module}: {PurePosixPath(image).stem.replace('_', ' ')}", ""]
        lines += [f"![{PurePosixPath(image).stem}]({image})", "", f"`{image}`", ""]
    if not images:
        lines.append("No screenshot is committed yet.")
    return "\n".join(lines) + "\n"


def linked_files(pages: dict[str, str], tracked: set[str], root: Path = REPO_ROOT) -> set[str]:
    """Tracked non-Markdown files that the pages link to by a relative path."""
    found = set()
    for repo_path in pages.values():
        folder = PurePosixPath(repo_path).parent
        for target in LINK.findall((root / repo_path).read_text(encoding="utf-8")):
            if "://" in target or target.endswith(".md"):
                continue
            path = str(PurePosixPath(folder, target))
            if path in tracked:
                found.add(path)
    return found


def on_files(files: Any, config: Any) -> Any:
    """MkDocs event: add the repository's pages, screenshots and linked files."""
    from mkdocs.structure.files import File

    tracked = tracked_files()
    pages = page_sources(tracked)
    images = screenshots(tracked)
    for src_uri, repo_path in pages.items():
        files.append(File.generated(config, src_uri, abs_src_path=str(REPO_ROOT / repo_path)))
    for path in sorted(set(images) | linked_files(pages, set(tracked))):
        files.append(File.generated(config, path, abs_src_path=str(REPO_ROOT / path)))
    files.append(File.generated(config, SCREENSHOTS_PAGE, content=screenshots_markdown(images)))
    return files
