"""The dbt manifest the risk DAG's cosmos task group is rendered from (LoadMode.DBT_MANIFEST).

``dbt parse`` writes it to ``<state_dir>/risk_model/dbt_target/manifest.json``. The DAG's
``start`` task parses again whenever a project file is newer than the manifest, so the next
DAG parse sees the project as the run built it; this module makes the first one on a fresh
clone.

    python -m capstone.risk_model_pipeline.dbt_manifest
"""

from __future__ import annotations

import argparse
from pathlib import Path

from Module_1_Foundations.common.cli import ArgumentParser, run_cli
from Module_1_Foundations.common.errors import UserError
from Module_1_Foundations.common.settings import Settings, get_settings


def manifest_path(settings: Settings | None = None) -> Path:
    settings = settings or get_settings()
    return settings.state_dir / "risk_model" / "dbt_target" / "manifest.json"


def build_manifest(settings: Settings | None = None) -> Path:
    """``dbt parse`` into the manifest's folder; return the manifest's path."""
    from Module_3_Analytics_Eng.dbt_runner import dbt_env, run_dbt

    settings = settings or get_settings()
    path = manifest_path(settings)
    result = run_dbt(
        ["parse"], dbt_env(settings), target_path=path.parent, log_path=path.parent / "logs"
    )
    if not result.success or not path.is_file():
        raise UserError(f"dbt parse failed, no manifest in {path}: {result.exception}")
    return path


def is_current(path: Path) -> bool:
    """The manifest exists and no project file changed after it was written."""
    from Module_3_Analytics_Eng.dbt_runner import DBT_PROJECT_DIR

    if not path.is_file():
        return False
    sources = [
        p
        for folder in ("models", "macros", "tests")
        for p in (DBT_PROJECT_DIR / folder).rglob("*")
        if p.is_file()
    ]
    sources += [DBT_PROJECT_DIR / "dbt_project.yml", DBT_PROJECT_DIR / "profiles.yml"]
    return path.stat().st_mtime >= max(p.stat().st_mtime for p in sources)


def ensure_manifest(settings: Settings | None = None) -> Path:
    """The current manifest: parse again only when a project file is newer than it."""
    path = manifest_path(settings)
    return path if is_current(path) else build_manifest(settings)


def build_parser() -> argparse.ArgumentParser:
    return ArgumentParser(
        prog="python -m capstone.risk_model_pipeline.dbt_manifest",
        description="Write the dbt manifest the loanbook_risk_model DAG is rendered from.",
    )


def main(argv: list[str] | None = None) -> int:
    def _main() -> int:
        build_parser().parse_args(argv)
        print(build_manifest())
        return 0

    return run_cli(_main)


if __name__ == "__main__":
    raise SystemExit(main())
