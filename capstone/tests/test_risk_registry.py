"""The MLflow registry: lineage on every version, champion/challenger promotion and its reason."""

from __future__ import annotations

import pytest

from capstone.risk_model_pipeline import evaluation, registry
from Module_1_Foundations.common.settings import get_settings, load_settings

LINEAGE = {"lake_snapshot_id": "lake-1", "dbt_manifest_sha256": "abc", "git_commit": "c0ffee"}


@pytest.fixture
def settings(tmp_path, monkeypatch):
    monkeypatch.setenv("HDP_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.setenv("HDP_MLFLOW_ARTIFACT_LOCATION", str(tmp_path / "artifacts"))
    monkeypatch.setenv("HDP_MODEL_NAME", "test_pd")
    get_settings.cache_clear()
    yield load_settings()
    get_settings.cache_clear()


def _spec(auc: float) -> dict:
    return {"spec_version": 1, "candidate": f"model_{auc}", "algorithm": "logistic", "auc": auc}


def _register(settings, auc: float, ece: float) -> dict:
    metrics = {"auc": auc, "ece": ece}

    def decide(champion):
        if champion is None:
            return evaluation.champion_decision(metrics, None)
        return evaluation.champion_decision(metrics, champion.metrics, champion.version)

    return registry.register(
        _spec(auc),
        metrics=metrics,
        params={"C": 1.0},
        lineage=LINEAGE,
        decide=decide,
        settings=settings,
    )


def test_first_model_is_champion_a_better_one_is_promoted_a_worse_one_is_not(settings):
    first = _register(settings, 0.70, 0.02)
    assert first["promoted"] and first["version"] == 1
    assert registry.current_champion(settings).version == 1

    worse = _register(settings, 0.69, 0.02)
    assert not worse["promoted"] and "below the margin" in worse["reason"]
    assert registry.current_champion(settings).version == 1

    better = _register(settings, 0.75, 0.02)
    assert better["promoted"] and "promoted over champion v1" in better["reason"]
    champion = registry.current_champion(settings)
    assert champion.version == 3 and champion.spec["candidate"] == "model_0.75"

    rows = {r["version"]: r for r in registry.versions(settings)}
    assert [v for v in rows] == [3, 2, 1]
    assert rows[3]["aliases"] == "champion" and rows[2]["aliases"] == "challenger"
    assert rows[2]["promoted"] is False and rows[2]["decision_reason"] == worse["reason"]
    assert {rows[1][k] for k in LINEAGE} == set(LINEAGE.values())
    assert rows[3]["auc"] == pytest.approx(0.75)
    assert rows[3]["mlflow_run_id"]
