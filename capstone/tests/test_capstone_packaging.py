"""The capstone's packages resolve the same way from any working directory."""

from __future__ import annotations

import os
import subprocess
import sys


def test_capstone_packages_import_from_outside_the_repo(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    code = (
        "import capstone.risk_model_pipeline, capstone.dashboard_project, "
        "Module_1_Foundations.common.settings as s; print(s.REPO_ROOT.name)"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip()
