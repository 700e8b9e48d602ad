"""Capture screenshots of the dbt docs site with Playwright and Debian's Chromium.

Generates the docs for the configured warehouse (``dbt docs generate``; the warehouse must be
built: ``make dbt-build``), starts ``dbt docs serve`` on 127.0.0.1 on a free port, and saves:

* ``lineage.png``: the project's lineage graph (sources -> staging -> marts -> exposures);
* ``fct_loans.png``: the model page of ``fct_loans`` (description, columns, contract);
* ``fct_loans_lineage.png``: the lineage around ``fct_loans``.

Uses ``/usr/bin/chromium`` (``apt-get install chromium``; ``make system-deps``), never
``playwright install``.

    python -m Module_3_Analytics_Eng.docs_screenshots --out Module_3_Analytics_Eng/docs_screenshots
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import tempfile
from collections.abc import Iterator, Mapping
from pathlib import Path

from Module_1_Foundations.common import services
from Module_1_Foundations.common.cli import ArgumentParser, run_cli
from Module_1_Foundations.common.errors import UserError
from Module_1_Foundations.common.services import ServiceSpec, free_port
from Module_3_Analytics_Eng.dbt_runner import DBT_PROJECT_DIR, MODULE_DIR, dbt_env, run_dbt

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"]
DEFAULT_OUT = MODULE_DIR / "docs_screenshots"
#: (file name, URL fragment of the docs single-page app, what to wait for)
PAGES = (
    ("lineage.png", "#!/overview?g_v=1", "canvas"),
    ("fct_loans.png", "#!/model/model.loanbook.fct_loans", "text=fct_loans"),
    ("fct_loans_lineage.png", "#!/model/model.loanbook.fct_loans?g_v=1", "canvas"),
)


@contextlib.contextmanager
def docs_server(target: Path, env: Mapping[str, str], port: int) -> Iterator[str]:
    """Run ``dbt docs serve`` for ``target`` on 127.0.0.1:port until the block ends.

    A background service of ``common/services.py``: its own process group, healthy once it
    serves ``manifest.json``, stopped with the whole group; pid file and log beside ``target``.
    """
    url = f"http://127.0.0.1:{port}/"
    dbt = str(Path(sys.executable).with_name("dbt"))
    spec = ServiceSpec(
        name="dbt-docs",
        argv=(dbt, "docs", "serve", "--host", "127.0.0.1", "--port", str(port), "--no-browser"),
        run_dir=target.parent,
        env={**os.environ, **env, "DBT_TARGET_PATH": str(target)},
        cwd=DBT_PROJECT_DIR,
        health=url + "manifest.json",
        ports={"http": port},
    )
    services.start(spec)
    try:
        yield url
    finally:
        services.stop(spec)


def capture(url: str, out_dir: Path, *, width: int = 1600, height: int = 1400) -> list[Path]:
    """Open each docs page in headless Chromium and save a PNG of it."""
    from playwright.sync_api import sync_playwright  # imported only when capturing

    if not CHROMIUM.exists():
        raise UserError(f"{CHROMIUM} is missing: run 'make system-deps' (apt-get install chromium)")
    out_dir.mkdir(parents=True, exist_ok=True)
    saved = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            for name, fragment, ready in PAGES:
                # a fresh page each time: the docs app keeps the graph open across navigations
                page = browser.new_page(viewport={"width": width, "height": height})
                page.goto(url + fragment, wait_until="networkidle")
                page.wait_for_selector(ready, state="attached", timeout=30_000)
                page.wait_for_timeout(2_500)  # the graph lays itself out after loading
                path = out_dir / name
                page.screenshot(path=str(path))
                page.close()
                saved.append(path)
        finally:
            browser.close()
    return saved


def screenshots(out_dir: Path, env: Mapping[str, str] | None = None) -> list[Path]:
    """Generate the docs into a temp target, serve them, capture every page."""
    env = dict(env if env is not None else dbt_env())
    with tempfile.TemporaryDirectory(prefix="dbt-docs-") as tmp:
        target = Path(tmp) / "target"
        result = run_dbt(["docs", "generate"], env, target_path=target, log_path=Path(tmp))
        if not result.success:
            raise UserError(f"dbt docs generate failed: {result.exception or 'see the log'}")
        with docs_server(target, env, free_port()) as url:
            return capture(url, out_dir)


def build_parser() -> argparse.ArgumentParser:
    parser = ArgumentParser(
        prog="python -m Module_3_Analytics_Eng.docs_screenshots",
        description="Screenshot the dbt docs (lineage graph, a model page) with Playwright.",
    )
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="folder for the PNGs")
    parser.add_argument("--duckdb-path", type=Path, help="warehouse file (default: settings)")
    return parser


def main(argv: list[str] | None = None) -> int:
    def _main() -> int:
        args = build_parser().parse_args(argv)
        for path in screenshots(args.out, dbt_env(duckdb_path=args.duckdb_path)):
            print(path)
        return 0

    return run_cli(_main)


if __name__ == "__main__":
    raise SystemExit(main())
