"""Benchmark the dashboard in the real browser: first render and widget interaction latency.

For a sample snapshot of ``--loans`` loans (default 1 000 000, the issue's target; built once
into a throwaway folder by ``capstone.dashboard_project.sample_snapshot``), the dashboard runs
as ``make dashboard`` runs it and headless Chromium measures:

* **cold first render**: the first visit after the server starts (empty query cache);
* **first render**: a new browser tab opening the Portfolio page, until every chart is drawn
  (median of ``--repeat``, the cache warm as for every visitor after the first);
* **interaction**: one more grade picked in the Portfolio filter, until the page has rerun and
  the figures changed (each pick is a query never run before: no cache hit).

Targets (issue 11): first render < 2 s, interaction < 300 ms.

    python capstone/benchmarks/bench_dashboard.py [--loans 1000000] [--repeat 5]
"""

from __future__ import annotations

import os
import shutil
import statistics
import tempfile
import time
from pathlib import Path

from Module_1_Foundations.common.cli import ArgumentParser, run_cli

TARGET_FIRST_RENDER = 2.0
TARGET_INTERACTION = 0.3

_METRIC_CHANGED = """([label, before]) => {
    if (document.querySelector('[data-testid="stStatusWidget"]')) return false;
    for (const m of document.querySelectorAll('[data-testid="stMetric"]')) {
        const l = m.querySelector('[data-testid="stMetricLabel"]');
        if (l && l.innerText.trim().startsWith(label)) {
            return m.querySelector('[data-testid="stMetricValue"]').innerText.trim() !== before;
        }
    }
    return false;
}"""


def measure(url: str, repeat: int) -> dict[str, object]:
    from capstone.dashboard_project import browser

    portfolio = browser.PAGES[0]
    out: dict[str, object] = {}
    with browser.chromium() as chrome:
        renders = []
        for i in range(repeat + 1):
            context = chrome.new_context(viewport=browser.VIEWPORT)
            page = context.new_page()
            started = time.perf_counter()
            browser.open_page(page, url, portfolio, timeout_ms=600_000)
            renders.append(time.perf_counter() - started)
            if i < repeat:
                context.close()
        out["cold_first_render"] = renders[0]
        out["first_render"] = renders[1:]
        clicks = []
        grades = page.locator('[data-testid="stMultiSelect"]').first
        for grade in "ABCDEFG"[: repeat + 1]:
            before = browser.metric_value(page, "Live loans")
            grades.click()
            option = page.get_by_role("option", name=grade, exact=True)
            option.wait_for()
            started = time.perf_counter()
            option.click()
            page.wait_for_function(_METRIC_CHANGED, arg=["Live loans", before], polling=10)
            clicks.append(time.perf_counter() - started)
            page.keyboard.press("Escape")
        out["interaction"] = clicks
        context.close()
    return out


def bench(loans: int, repeat: int, keep: Path | None) -> dict[str, object]:
    from capstone.dashboard_project import sample_snapshot, server
    from Module_1_Foundations.common import services
    from Module_1_Foundations.common.settings import load_settings

    root = keep or Path(tempfile.mkdtemp(prefix="bench-dashboard-"))
    settings = load_settings(state_dir=root / "state")
    try:
        if not (Path(settings.serving_dir) / "current").exists():
            started = time.perf_counter()
            sample_snapshot.build_and_publish(loans, settings=settings)
            print(
                f"sample snapshot of {loans:,} loans built in {time.perf_counter() - started:.0f} s"
            )
        spec = server.dashboard_spec(settings, services.free_port())
        info = services.start(spec)
        try:
            print(f"dashboard ready in {info['ready_seconds']} s at {info['url']}")
            result = measure(info["url"], repeat)
        finally:
            services.stop(spec)
    finally:
        if keep is None:
            shutil.rmtree(root, ignore_errors=True)
    return result


def report(loans: int, result: dict[str, object]) -> None:
    first = statistics.median(result["first_render"])
    click = statistics.median(result["interaction"])
    n_first, n_click = len(result["first_render"]), len(result["interaction"])
    rows = [
        ("cold first render (first visitor)", result["cold_first_render"], TARGET_FIRST_RENDER, 1),
        ("first render, median", first, TARGET_FIRST_RENDER, n_first),
        ("interaction (grade filter), median", click, TARGET_INTERACTION, n_click),
    ]
    load = ", ".join(f"{v:.1f}" for v in os.getloadavg())
    print(
        f"\ndashboard on {loans:,} loans (seconds; ratio = measured / target); load average {load}"
    )
    print(f"{'measure':38} {'n':>3} {'seconds':>9} {'target':>7} {'ratio':>6}")
    for name, value, target, n in rows:
        print(f"{name:38} {n:>3} {value:>9.3f} {target:>7.2f} {value / target:>6.2f}")
    print("samples: first render", [round(v, 3) for v in result["first_render"]])
    print("samples: interaction ", [round(v, 3) for v in result["interaction"]])


def main(argv: list[str] | None = None) -> int:
    def _main() -> int:
        parser = ArgumentParser(
            prog="python capstone/benchmarks/bench_dashboard.py",
            description="First render and interaction latency of the dashboard in Chromium.",
        )
        parser.add_argument("--loans", type=int, default=1_000_000, help="loans in the book")
        parser.add_argument("--repeat", type=int, default=5, help="samples per measure (>= 5)")
        parser.add_argument("--keep", type=Path, help="reuse/keep the snapshot in this folder")
        args = parser.parse_args(argv)
        report(args.loans, bench(args.loans, max(args.repeat, 5), args.keep))
        return 0

    return run_cli(_main)


if __name__ == "__main__":
    raise SystemExit(main())
