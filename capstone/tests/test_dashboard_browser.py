"""The dashboard in a real browser: every page renders, its numbers are the snapshot's, and the
what-if form scores through the champion. Saves one screenshot per page: ``make screenshots``
runs this test with ``DASHBOARD_SCREENSHOTS`` pointing at the README's folder.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from capstone.dashboard_project import browser, queries, server, ui
from capstone.risk_model_pipeline.scoring import ScoringSpec
from capstone.tests.dashboard_snapshot import champion_document, shared_serving_dir, table
from Module_1_Foundations.common import services
from Module_1_Foundations.common.settings import load_settings

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def serving() -> Path:
    return shared_serving_dir()


@pytest.fixture(scope="module")
def dashboard(serving, tmp_path_factory):
    settings = load_settings(state_dir=tmp_path_factory.mktemp("state"), serving_dir=serving)
    spec = server.dashboard_spec(settings, services.free_port())
    info = services.start(spec)
    try:
        yield info["url"]
    finally:
        services.stop(spec)
        assert services.group_members(info["pgid"]) == []


@pytest.fixture(scope="module")
def page(dashboard):
    with browser.chromium() as chrome:
        tab = chrome.new_page(viewport=browser.VIEWPORT)
        yield tab
        tab.close()


@pytest.fixture(scope="module")
def shots(tmp_path_factory) -> Path:
    wanted = os.environ.get("DASHBOARD_SCREENSHOTS")
    return Path(wanted) if wanted else tmp_path_factory.mktemp("screenshots")


def test_a_page_url_as_the_first_request_renders_that_page(serving, tmp_path):
    # a bookmarked page opened before anyone opened the app's root
    settings = load_settings(state_dir=tmp_path / "state", serving_dir=serving)
    spec = server.dashboard_spec(settings, services.free_port())
    info = services.start(spec)
    try:
        with browser.chromium() as chrome:
            tab = chrome.new_page(viewport=browser.VIEWPORT)
            monitoring = next(p for p in browser.PAGES if p.path == "monitoring")
            browser.open_page(tab, info["url"], monitoring)
            assert not tab.locator('[data-testid="stAlert"]').count()
    finally:
        services.stop(spec)


def visit(page, dashboard, shots, path: str) -> browser.PageSpec:
    spec = next(p for p in browser.PAGES if p.path == path)
    browser.open_page(page, dashboard, spec)
    assert not page.locator('[data-testid="stException"]').count()
    return spec


def test_portfolio(page, dashboard, shots, serving):
    spec = visit(page, dashboard, shots, "")
    loans = table(serving, "loans")
    live = loans[loans["is_live"]]
    assert browser.metric_value(page, "Live loans") == ui.count(len(live))
    assert browser.metric_value(page, "Exposure (EAD") == ui.money(
        live["outstanding_balance"].sum()
    )
    assert browser.metric_value(page, "Expected loss") == ui.money(live["expected_loss"].sum())
    assert browser.metric_value(page, "Default rate") == ui.pct(loans["is_default"].mean())
    browser.screenshot(page, shots / spec.screenshot)


def test_risk_distribution(page, dashboard, shots, serving):
    spec = visit(page, dashboard, shots, "risk_distribution")
    live = table(serving, "loans").query("is_live")
    for band, n in live["band"].value_counts().items():
        assert browser.metric_value(page, f"{band.capitalize()} band") == ui.count(n)
    browser.screenshot(page, shots / spec.screenshot)


def test_segments(page, dashboard, shots):
    spec = visit(page, dashboard, shots, "segments")
    assert page.get_by_text("Vintage default curves").is_visible()
    browser.screenshot(page, shots / spec.screenshot)


def test_model(page, dashboard, shots, serving):
    spec = visit(page, dashboard, shots, "model")
    holdout = table(serving, "holdout_predictions")
    champion = queries.champion_lineage(serving / "current")["model"]
    mine = holdout[holdout["model"] == champion]
    threshold = load_settings().pd_decline_from
    tp = ((mine["pd"] >= threshold) & (mine["y_true"] == 1)).sum()
    assert browser.metric_value(page, "True positives") == ui.count(tp)
    browser.screenshot(page, shots / spec.screenshot)


def test_whatif_form(page, dashboard, shots, serving):
    spec = visit(page, dashboard, shots, "whatif")
    fields = queries.whatif_fields(serving / "current")
    amount = next(f for f in fields if f["name"] == "loan_amount")
    value = round((amount["min"] + amount["max"]) / 2)
    page.get_by_role("textbox", name="loan amount", exact=True).fill(str(value))
    page.get_by_role("button", name="Score applicant").click()
    browser.wait_rendered(page, spec.title, 1, '[data-testid="stMetric"]')
    record, errors = queries.parse_applicant(
        fields,
        {
            f["name"]: queries.format_number(f["default"], f["integer"])
            if f["type"] == "number"
            else f["categories"][0]
            for f in fields
        }
        | {"loan_amount": str(value)},
    )
    assert errors == {}
    pd_value = ScoringSpec.from_dict(champion_document(serving)).predict_proba([record])[0]
    settings = load_settings()
    assert browser.metric_value(page, "Probability of default") == ui.pct(pd_value)
    assert browser.metric_value(page, "Expected loss") == ui.money(pd_value * settings.lgd * value)
    browser.screenshot(page, shots / spec.screenshot)


def test_whatif_refuses_invalid_input_in_the_browser(page, dashboard, shots):
    visit(page, dashboard, shots, "whatif")
    page.get_by_role("textbox", name="loan amount", exact=True).fill("lots")
    page.get_by_role("button", name="Score applicant").click()
    page.get_by_text("'lots' is not a number").wait_for(timeout=30_000)
    assert not page.locator('[data-testid="stMetric"]').count()
    browser.screenshot(page, shots / "whatif_invalid.png")


def test_monitoring(page, dashboard, shots, serving):
    spec = visit(page, dashboard, shots, "monitoring")
    psi = table(serving, "psi")
    assert (
        browser.metric_value(page, "PSI of the score")
        == f"{psi.set_index('variable')['psi']['score']:.4f}"
    )
    browser.screenshot(page, shots / spec.screenshot)


def test_data_quality(page, dashboard, shots, serving):
    spec = visit(page, dashboard, shots, "data_quality")
    assert browser.metric_value(page, "Loans in the snapshot") == ui.count(
        len(table(serving, "loans"))
    )
    browser.screenshot(page, shots / spec.screenshot)
