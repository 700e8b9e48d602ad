"""The secret scan: detect-secrets over every tracked file, against the committed baseline.

    python -m Module_5_Deployment.secret_scan            # exit 1 on a finding the baseline lacks
    python -m Module_5_Deployment.secret_scan --update   # rewrite the baseline, keeping audits

The baseline (``.secrets.baseline``) lists every known finding with ``is_secret: false``: a
human looked at it and judged it a false positive (test credentials for throwaway local servers,
base64 plot images in the notebooks). A finding is matched by file, type and the hash of the
secret, not by line, so edits that move a known false positive do not fail the check; a new
finding fails it, and so does a baseline entry nobody audited.

``detect-secrets-hook`` does something close, but rewrites the baseline whenever line numbers
move, which would make the check dirty the tree of everyone who rebases.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from dataclasses import dataclass
from pathlib import Path

from detect_secrets.core import baseline as ds_baseline
from detect_secrets.core.scan import get_files_to_scan
from detect_secrets.core.secrets_collection import SecretsCollection

from Module_1_Foundations.common.cli import ArgumentParser, run_cli
from Module_1_Foundations.common.errors import UserError
from Module_1_Foundations.common.paths import REPO_ROOT

BASELINE = REPO_ROOT / ".secrets.baseline"
#: lock and export files hold only package hashes and versions: slow to scan, nothing to find
EXCLUDE_FILES = r"^(uv\.lock|requirements\.txt|\.secrets\.baseline)$"
#: a notebook's plot outputs are base64 images: every `make notebooks` would add "findings"
EXCLUDE_LINES = r'^\s*"image/(png|jpeg|svg\+xml)": "'


@dataclass(frozen=True)
class ScanResult:
    """What a scan found beyond the baseline, and which baseline entries lack an audit."""

    new: list[tuple[str, str, int]]  # (file, type, line)
    unaudited: list[tuple[str, str, int]]

    @property
    def clean(self) -> bool:
        return not self.new and not self.unaudited


def _scan(root: Path) -> SecretsCollection:
    """Scan the git-tracked files under ``root`` with the settings the baseline loaded."""
    # detect-secrets names findings relative to the working directory (a `root` argument would
    # make them absolute and never match the committed, relative baseline)
    found = SecretsCollection()
    here = Path.cwd()
    os.chdir(root)
    try:
        files = list(get_files_to_scan("."))
        if threading.active_count() == 1:
            found.scan_files(*files)
        else:
            # scan_files forks a process pool; forking while other threads hold locks (a test
            # server, an event loop) can deadlock the children, so scan in this process instead
            for name in files:
                found.scan_file(name)
    finally:
        os.chdir(here)
    return found


def _load_baseline(path: Path) -> SecretsCollection:
    if not path.is_file():
        raise UserError(f"{path}: no secrets baseline; create it with --update, then audit it")
    try:
        return ds_baseline.load(ds_baseline.load_from_file(str(path)), str(path))
    except (ValueError, KeyError) as exc:
        raise UserError(
            f"{path}: not a detect-secrets baseline ({exc}); recreate with --update"
        ) from exc


def check(root: Path = REPO_ROOT, baseline_path: Path = BASELINE) -> ScanResult:
    """Compare a fresh scan of ``root`` with the baseline."""
    known = _load_baseline(baseline_path)
    found = _scan(root)
    new = sorted((f, s.type, s.line_number) for f, s in found - known)
    unaudited = sorted((f, s.type, s.line_number) for f, s in known if s.is_secret is not False)
    return ScanResult(new=new, unaudited=unaudited)


def update(baseline_path: Path = BASELINE) -> None:
    """Rescan into the baseline with detect-secrets' own updater, which keeps audit verdicts."""
    args = ["scan", "--exclude-files", EXCLUDE_FILES, "--exclude-lines", EXCLUDE_LINES]
    if baseline_path.is_file():
        args += ["--baseline", str(baseline_path)]
    done = subprocess.run(
        [str(Path(sys.executable).with_name("detect-secrets")), *args],
        cwd=REPO_ROOT, capture_output=True, text=True, check=False,
    )  # fmt: skip
    if done.returncode != 0:
        raise UserError(f"detect-secrets scan failed: {done.stderr.strip().splitlines()[-1:]}")
    if not baseline_path.is_file():
        baseline_path.write_text(done.stdout)


def main(argv: list[str] | None = None) -> int:
    """Check (default) or update the baseline; exit 1 when the check finds something."""
    parser = ArgumentParser(
        prog="python -m Module_5_Deployment.secret_scan",
        description="Scan the tracked files for secrets against the committed baseline.",
    )
    parser.add_argument(
        "--update", action="store_true", help="rewrite the baseline, keeping audit verdicts"
    )
    args = parser.parse_args(argv)
    if args.update:
        update()
        print(f"{BASELINE.name} rescanned: audit new findings before committing")
        return 0
    result = check()
    for filename, kind, line in result.new:
        print(f"{filename}:{line}: {kind}: not in {BASELINE.name} (remove it, or audit it in)")
    for filename, kind, line in result.unaudited:
        print(f"{filename}:{line}: {kind}: in {BASELINE.name} but not audited as a false positive")
    if result.clean:
        print(f"secret scan: clean against {BASELINE.name}")
    return 0 if result.clean else 1


if __name__ == "__main__":
    raise SystemExit(run_cli(main))
