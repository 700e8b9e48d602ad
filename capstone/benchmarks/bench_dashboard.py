"""Benchmark the dashboard in the real browser: first render and widget interaction latency.

For a sample snapshot of ``--loans`` loans (default 1 000 000, the issue's target; built once
by ``capstone.dashboard_project.sample_snapshot``, kept with ``--keep DIR``), the dashboard runs
as ``make dashboard`` runs it and headless Chromium measures, per page:

* **cold**: the first visit of the page after the server started (its queries not cached yet).
  Reported, not the target: the server start and ``import streamlit`` are not part of it, the
  snapshot's one-off loading is.
* **first render**: navigation to the page in a fresh browser session (a new browser context:
  no cookies, no HTTP cache, a new Streamlit session) until the page's numbers are visible: its
  title, its metrics or tables, every chart drawn, and Streamlit no longer running. The server
  is warm (every page visited once), as for every visitor after the first. Median of
  ``--repeat``.
* **interaction**: a filter widget changed until the updated numbers are visible (the watched
  text changed, no element stale, no run in progress). Portfolio: one more grade picked in the
  grade filter, each pick a selection never queried before (no cache hit). Segments: the
  drill-down dimension switched (first round uncached, later rounds cached).

* **floor**: the same first render of a bare Streamlit page (a title and one metric,
  ``streamlit_floor_app.py``, served the same way, measured in the same browser in the same
  run): what Streamlit itself costs on this machine before any page of ours. Each page's
  "above floor" is its median less the floor's. The **interaction floor** is one pick in the
  multiselect the same page shows at ``?pick=1``, until its metric changes (one rerun of a
  three-element script); each interaction's "above" is its median less that.

Targets (issue 11): first render < 2 s, interaction < 300 ms.

    python capstone/benchmarks/bench_dashboard.py [--loans 1000000] [--repeat 5] [--keep DIR]
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from Module_1_Foundations.common.cli import ArgumentParser, run_cli

TARGET_FIRST_RENDER = 2.0
TARGET_INTERACTION = 0.3
TIMEOUT_MS = 600_000

#: true once ``read()`` of the watched element differs from ``before`` and the rerun is over
_CHANGED = """([selector, label, before]) => {
    if (document.querySelector('[data-testid="stStatusWidget"]')) return false;
    if (document.querySelector('[data-stale="true"]')) return false;
    for (const el of document.querySelectorAll(selector)) {
        const text = el.innerText.trim();
        if (label && !text.startsWith(label)) continue;
        return text !== before;
    }
    return false;
}"""
_METRIC = '[data-testid="stMetric"]'
_CAPTION = '[data-testid="stCaptionContainer"]'


def _text(page: Any, selector: str, label: str) -> str:
    for text in page.locator(selector).all_inner_texts():
        if text.strip().startswith(label):
            return text.strip()
    raise AssertionError(f"no {selector} starting with {label!r} on the page")


def _timed_change(page: Any, selector: str, label: str, act: Callable[[], None]) -> float:
    """Seconds from ``act()`` to the watched element showing new text after a finished rerun."""
    before = _text(page, selector, label)
    started = time.perf_counter()
    act()
    page.wait_for_function(
        _CHANGED, arg=[selector, label, before], polling="raf", timeout=TIMEOUT_MS
    )
    return time.perf_counter() - started


_TITLE = """(title) => {
    const h1 = document.querySelector('[data-testid="stMain"] h1');
    return h1 && h1.innerText.trim() === title;
}"""


def first_renders(
    chrome: Any, url: str, spec: Any, repeat: int, same_browser: bool = False
) -> tuple[list[float], list[float]]:
    """Seconds until the page's title shows, and until its numbers and charts are all there.

    Each sample a fresh browser session (a new context); with ``same_browser`` a new tab of one
    context instead (a returning visitor: the HTTP cache holds Streamlit's scripts).
    """
    from capstone.dashboard_project import browser

    titles, samples = [], []
    shared = chrome.new_context(viewport=browser.VIEWPORT) if same_browser else None
    if shared is not None:  # fill the HTTP cache once
        warm = shared.new_page()
        browser.open_page(warm, url, spec, timeout_ms=TIMEOUT_MS)
        warm.close()
    for _ in range(repeat):
        context = shared or chrome.new_context(viewport=browser.VIEWPORT)
        page = context.new_page()
        started = time.perf_counter()
        page.goto(url.rstrip("/") + "/" + spec.path)
        page.wait_for_function(_TITLE, arg=spec.title, polling="raf", timeout=TIMEOUT_MS)
        titles.append(time.perf_counter() - started)
        browser.wait_rendered(page, spec.title, spec.charts, spec.ready, TIMEOUT_MS)
        samples.append(time.perf_counter() - started)
        (page if shared else context).close()
    if shared is not None:
        shared.close()
    return titles, samples


def grade_picks(chrome: Any, url: str, spec: Any, metric: str, repeat: int) -> list[float]:
    """Add one grade after another to the page's first multiselect, timing each until the
    ``metric`` shows its new value (on the Portfolio, each pick a query never run before)."""
    from capstone.dashboard_project import browser

    context = chrome.new_context(viewport=browser.VIEWPORT)
    page = context.new_page()
    browser.open_page(page, url, spec, timeout_ms=TIMEOUT_MS)
    grades = page.locator('[data-testid="stMultiSelect"]').first
    samples = []
    for grade in "ABCDEFG"[:repeat]:
        grades.click()
        option = page.get_by_role("option", name=grade, exact=True)
        option.wait_for()
        samples.append(_timed_change(page, _METRIC, metric, option.click))
        page.keyboard.press("Escape")
    context.close()
    return samples


def portfolio_grade_picks(chrome: Any, url: str, repeat: int) -> list[float]:
    """Add one grade after another to the Portfolio's grade filter (each a new query)."""
    from capstone.dashboard_project import browser

    return grade_picks(chrome, url, browser.PAGES[0], "Live loans", repeat)


def segment_switches(chrome: Any, url: str, repeat: int) -> list[float]:
    """Switch the Segments drill-down dimension round robin (a round of 4, then cached)."""
    from capstone.dashboard_project import browser, queries

    spec = next(p for p in browser.PAGES if p.path == "segments")
    context = chrome.new_context(viewport=browser.VIEWPORT)
    page = context.new_page()
    browser.open_page(page, url, spec, timeout_ms=TIMEOUT_MS)
    dimensions = list(queries.DIMENSIONS)
    samples = []
    for i in range(repeat):
        choice = dimensions[(i + 1) % len(dimensions)]
        page.locator('[data-testid="stSelectbox"]').first.click()
        option = page.get_by_role("option", name=choice, exact=True)
        option.wait_for()
        samples.append(_timed_change(page, _CAPTION, "Segments by", option.click))
    context.close()
    return samples


FLOOR_APP = Path(__file__).resolve().parent / "streamlit_floor_app.py"
FLOOR_TITLE = "Streamlit floor"
FLOOR_METRIC = "Grades picked"
FLOOR_PICK = "?pick=1"  # the floor page with its multiselect


def measure(url: str, repeat: int, floor_url: str | None = None) -> dict[str, Any]:
    from capstone.dashboard_project import browser

    result: dict[str, Any] = {
        "floor": [],
        "floor_interaction": [],
        "cold": {},
        "title": {},
        "first_render": {},
        "returning": {},
        "interaction": {},
    }
    with browser.chromium() as chrome:
        if floor_url is not None:
            floor = browser.PageSpec("", FLOOR_TITLE, 0, "floor.png")
            first_renders(chrome, floor_url, floor, 1)  # warm, as the dashboard's pages are
            result["floor"] = first_renders(chrome, floor_url, floor, repeat)[1]
            picking = browser.PageSpec(FLOOR_PICK, FLOOR_TITLE, 0, "floor.png")
            result["floor_interaction"] = grade_picks(
                chrome, floor_url, picking, FLOOR_METRIC, repeat
            )
        for spec in browser.PAGES:  # warm: each page's first visit after the start
            result["cold"][spec.title] = first_renders(chrome, url, spec, 1)[1][0]
        for spec in browser.PAGES:
            titles, renders = first_renders(chrome, url, spec, repeat)
            result["title"][spec.title], result["first_render"][spec.title] = titles, renders
            result["returning"][spec.title] = first_renders(chrome, url, spec, repeat, True)[1]
        result["interaction"]["Portfolio: add a grade"] = portfolio_grade_picks(chrome, url, repeat)
        result["interaction"]["Segments: switch dimension"] = segment_switches(
            chrome, url, max(repeat, 8)
        )
    return result


def bench(loans: int, repeat: int, keep: Path | None) -> dict[str, Any]:
    from capstone.dashboard_project import sample_snapshot, server
    from Module_1_Foundations.common import services
    from Module_1_Foundations.common.settings import load_settings

    root = keep or Path(tempfile.mkdtemp(prefix="bench-dashboard-"))
    settings = load_settings(state_dir=root / "state")
    try:
        if not (Path(settings.serving_dir) / "current").exists():
            started = time.perf_counter()
            sample_snapshot.build_and_publish(loans, settings=settings)
            took = time.perf_counter() - started
            print(f"sample snapshot of {loans:,} loans built in {took:.0f} s")
        rows = json.loads((Path(settings.serving_dir) / "current" / "manifest.json").read_text())
        booked = int(rows["tables"]["loans"]["rows"])
        if booked != loans:
            print(f"note: the kept snapshot holds {booked:,} loans (not {loans:,}): measuring it")
        spec = server.dashboard_spec(settings, services.free_port())
        floor_spec = server.dashboard_spec(
            settings, services.free_port(), app=FLOOR_APP, name="streamlit-floor"
        )
        info = services.start(spec)
        try:
            floor_info = services.start(floor_spec)
            print(f"dashboard ready in {info['ready_seconds']} s at {info['url']} (not timed)")
            load_before = os.getloadavg()
            result = measure(info["url"], repeat, floor_info["url"])
            result["load"] = (load_before, os.getloadavg())
        finally:
            services.stop(floor_spec)
            services.stop(spec)
    finally:
        if keep is None:
            shutil.rmtree(root, ignore_errors=True)
    result["loans"] = booked
    return result


def _load(values: tuple[float, float, float]) -> str:
    return "/".join(f"{v:.1f}" for v in values)


def report(result: dict[str, Any]) -> None:
    before, after = result["load"]
    print(
        f"\ndashboard on {result['loans']:,} loans, seconds (ratio = median / target); "
        f"load average (1/5/15 min) {_load(before)} before, {_load(after)} after, "
        f"{os.cpu_count()} cores"
    )
    print(
        "first render: fresh browser session, median; title: until the page title shows; "
        "return: a new tab of a browser that visited before (HTTP cache warm), median"
    )
    floor = statistics.median(result["floor"]) if result.get("floor") else None
    if floor is not None:
        print(
            f"floor: a bare Streamlit page (title + one metric), same server settings, same "
            f"browser: median {floor:.3f} s of {len(result['floor'])} "
            f"(min {min(result['floor']):.3f}, max {max(result['floor']):.3f}); "
            "'above' = a page's median less the floor"
        )
    picks = result.get("floor_interaction") or []
    pick_floor = statistics.median(picks) if picks else None
    if pick_floor is not None:
        print(
            f"interaction floor: one pick in the bare page's multiselect until its metric "
            f"changes: median {pick_floor:.3f} s of {len(picks)} "
            f"(min {min(picks):.3f}, max {max(picks):.3f}); an interaction's 'above' is its "
            "median less this"
        )
    head = f"{'page / interaction':30} {'cold':>6} {'n':>2} {'title':>6} {'median':>6}"
    print(f"{head} {'min':>6} {'max':>6} {'return':>6} {'above':>6} {'target':>6} {'ratio':>5}")
    for name, samples in [*result["first_render"].items(), *result["interaction"].items()]:
        interaction = name in result["interaction"]
        target = TARGET_INTERACTION if interaction else TARGET_FIRST_RENDER
        median = statistics.median(samples)
        cold, title, back = (
            ("", "", "")
            if interaction
            else (
                f"{result['cold'][name]:.3f}",
                f"{statistics.median(result['title'][name]):.3f}",
                f"{statistics.median(result['returning'][name]):.3f}",
            )
        )
        base = pick_floor if interaction else floor
        above = "" if base is None else f"{median - base:.3f}"
        print(
            f"{name:30} {cold:>6} {len(samples):>2} {title:>6} {median:6.3f} "
            f"{min(samples):6.3f} {max(samples):6.3f} {back:>6} {above:>6} {target:6.2f} "
            f"{median / target:5.2f}"
        )
    for name, samples in result["interaction"].items():
        print(f"samples, {name}: {[round(v, 3) for v in samples]}")


def main(argv: list[str] | None = None) -> int:
    def _main() -> int:
        parser = ArgumentParser(
            prog="python capstone/benchmarks/bench_dashboard.py",
            description="First render and interaction latency of the dashboard in Chromium.",
        )
        parser.add_argument("--loans", type=int, default=1_000_000, help="loans in the book")
        parser.add_argument("--repeat", type=int, default=5, help="samples per measure (>= 5)")
        parser.add_argument("--keep", type=Path, help="reuse/keep the snapshot in this folder")
        parser.add_argument("--json", type=Path, help="also write the samples to this file")
        args = parser.parse_args(argv)
        result = bench(args.loans, max(args.repeat, 5), args.keep)
        report(result)
        if args.json:
            args.json.write_text(json.dumps(result, indent=2, default=str), encoding="utf-8")
        return 0

    return run_cli(_main)


if __name__ == "__main__":
    raise SystemExit(main())
