"""Drive the running dashboard in headless Chromium (Playwright): for the browser test,
``make screenshots`` and the latency benchmark, which all open pages the same way.

Uses Debian's ``/usr/bin/chromium`` (``make system-deps``), never ``playwright install``. A page
counts as rendered when its title is the one expected, Streamlit shows no skeleton and no
"running" status, and the page's charts have drawn (Vega renders to a canvas or an SVG).
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from Module_1_Foundations.common.errors import UserError

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    # no update checks, sync, or component downloads: nothing leaves the machine
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-default-apps",
    "--no-first-run",
    "--metrics-recording-only",
)
#: Streamlit scrolls inside its own container, so a full-page shot needs a tall viewport
VIEWPORT = {"width": 1400, "height": 1700}


@dataclass(frozen=True)
class PageSpec:
    """One page: URL path, title, charts drawn before any interaction, an element it must show."""

    path: str
    title: str
    charts: int
    screenshot: str
    ready: str = '[data-testid="stMetric"]'


PAGES = (
    PageSpec("", "Portfolio", 4, "portfolio.png"),
    PageSpec("risk_distribution", "Risk distribution", 2, "risk_distribution.png"),
    PageSpec("segments", "Segments", 3, "segments.png", '[data-testid="stDataFrame"]'),
    PageSpec("model", "Model", 2, "model.png"),
    PageSpec("whatif", "Applicant what-if", 0, "whatif.png", '[data-testid="stFormSubmitButton"]'),
    PageSpec("monitoring", "Monitoring", 2, "monitoring.png"),
    PageSpec("data_quality", "Data quality and freshness", 0, "data_quality.png"),
)

_RENDERED = """([title, charts, ready]) => {
    const h1 = document.querySelector('[data-testid="stMain"] h1');
    if (!h1 || h1.innerText.trim() !== title) return false;
    if (document.querySelector('[data-testid="stSkeleton"]')) return false;
    if (ready && !document.querySelector(ready)) return false;
    if (document.querySelector('[data-testid="stStatusWidget"]')) return false;
    const drawn = document.querySelectorAll(
        '[data-testid="stVegaLiteChart"] canvas, [data-testid="stVegaLiteChart"] svg.marks');
    return drawn.length >= charts;
}"""


@contextlib.contextmanager
def chromium() -> Iterator[Any]:
    """A headless Chromium browser for the block."""
    from playwright.sync_api import sync_playwright  # imported only when a browser is needed

    if not CHROMIUM.exists():
        raise UserError(f"{CHROMIUM} is missing: run 'make system-deps' (apt-get install chromium)")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=list(CHROMIUM_ARGS))
        try:
            yield browser
        finally:
            browser.close()


def wait_rendered(
    page: Any, title: str, charts: int, ready: str = "", timeout_ms: float = 60_000
) -> None:
    """Wait until the page shows ``title`` and ``ready``, has finished running, drew ``charts``."""
    page.wait_for_function(_RENDERED, arg=[title, charts, ready], timeout=timeout_ms, polling=50)


def open_page(page: Any, base_url: str, spec: PageSpec, timeout_ms: float = 60_000) -> None:
    page.goto(base_url.rstrip("/") + "/" + spec.path)
    wait_rendered(page, spec.title, spec.charts, spec.ready, timeout_ms)


def metric_value(page: Any, label: str) -> str:
    """The shown value of the ``st.metric`` whose label starts with ``label`` (case matters)."""
    starts = re.compile("^" + re.escape(label))
    metric = page.locator('[data-testid="stMetric"]').filter(
        has=page.locator('[data-testid="stMetricLabel"]', has_text=starts)
    )
    return metric.first.locator('[data-testid="stMetricValue"]').inner_text().strip()


def screenshot(page: Any, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    page.wait_for_timeout(300)  # let the last chart transition settle
    page.screenshot(path=str(path))
    return path
