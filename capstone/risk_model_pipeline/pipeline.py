"""The pipeline's stages, callable without Airflow (the DAG's tasks and the benchmark call them).

Every stage is keyed on the run's logical date: its files live in
``<state_dir>/risk_model/runs/<date>/`` and are overwritten by a rerun, the scores replace the
rows of their (model version, as-of date), so running a date twice gives the same result.

    train     warehouse (ml_loan_features + true PDs) -> candidates.json, holdout.parquet
    evaluate  candidates + current champion on the same holdout -> evaluation.json
    register  best candidate -> MLflow version, champion/challenger decision
    score     champion spec -> SQL -> dbt model rsk_loan_scores -> ml_loan_scores
    el_mart   dbt model rpt_expected_loss (EL = PD x LGD x EAD)
    publish   warehouse + run files + registry -> serving snapshot (capstone/serving_snapshot)
"""

from __future__ import annotations

import hashlib
import json
import math
import subprocess
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from Module_1_Foundations.common.errors import UserError
from Module_1_Foundations.common.io import sha256_file, write_json_atomic
from Module_1_Foundations.common.paths import REPO_ROOT
from Module_1_Foundations.common.settings import Settings, get_settings

DAG_ID = "loanbook_risk_model"
#: One slot: DuckDB allows one writer process (the dbt tasks, score and el_mart share it).
WAREHOUSE_POOL = "duckdb_warehouse"
RUNS = "risk_model/runs"
RISK_MODELS = ("rsk_loan_scores", "rpt_expected_loss")
#: The feature mart, the default date (for the fixed-horizon label, training.horizon_labels)
#: and the generator's true lifetime PD (evaluation only): none of the last two is an input.
FEATURES_SQL = """
select features.*, loans.default_date, truth.true_pd
from loanbook_ml.ml_loan_features as features
inner join loanbook_core.fct_loans as loans
    on features.loan_id = loans.loan_id
left join loanbook_staging.stg_loanbook__loan_truth as truth
    on features.loan_id = truth.loan_id
"""


class DbtTestError(UserError):
    """A dbt test failed: publication stops; the message names the test."""


def run_dir(logical_date: str, settings: Settings | None = None) -> Path:
    settings = settings or get_settings()
    folder = settings.state_dir / RUNS / logical_date
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def warehouse_env(settings: Settings, lake: str = "local") -> dict[str, str]:
    from Module_3_Analytics_Eng.dbt_runner import dbt_env

    return dbt_env(settings, lake=lake)


# --- lineage ----------------------------------------------------------------------------
def git_commit() -> str:
    try:
        out = subprocess.run(  # nosec B607: git from PATH, read-only, for the lineage tag
            ["git", "rev-parse", "HEAD"], cwd=REPO_ROOT, capture_output=True, text=True, check=True
        )
        return out.stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def lake_snapshot_id(lake_root: str) -> str:
    """sha256 of the lake's file manifest (relative path and size of every Parquet file)."""
    root = Path(lake_root)
    entries = (
        sorted((str(p.relative_to(root)), p.stat().st_size) for p in root.rglob("*.parquet"))
        if root.exists()
        else []
    )
    return hashlib.sha256(json.dumps(entries).encode()).hexdigest()


def lineage(settings: Settings, manifest: Path | None) -> dict[str, str]:
    env = warehouse_env(settings)
    return {
        "lake_snapshot_id": lake_snapshot_id(env["HDP_LAKE_ROOT"]),
        "dbt_manifest_sha256": sha256_file(manifest) if manifest and manifest.exists() else "",
        "git_commit": git_commit(),
    }


# --- train / evaluate -------------------------------------------------------------------
def open_warehouse(settings: Settings) -> Any:
    """A read-only connection, after closing the handle in-process dbt keeps open.

    dbt-duckdb holds a read-write connection after a run in this process (cosmos' DBT_RUNNER
    tasks under ``dag.test()`` share one process), and DuckDB refuses a read-only one next to
    it ("different configuration").
    """
    from Module_3_Analytics_Eng.dbt_runner import release_duckdb
    from Module_3_Analytics_Eng.warehouse import connect_warehouse

    release_duckdb()
    return connect_warehouse(warehouse_env(settings), read_only=True)


def load_features(settings: Settings) -> Any:
    con = open_warehouse(settings)
    try:
        return con.execute(FEATURES_SQL).df()
    finally:
        con.close()


def train(
    logical_date: str, settings: Settings | None = None, *, max_train_rows: int | None = None
) -> dict[str, Any]:
    from capstone.risk_model_pipeline import training

    settings = settings or get_settings()
    features = load_features(settings)
    split = training.out_of_time_split(
        features, max_train_rows=max_train_rows or training.MAX_TRAIN_ROWS
    )
    _, candidates = training.train_candidates(split)
    folder = run_dir(logical_date, settings)
    split.holdout.to_parquet(folder / "holdout.parquet", index=False)
    split.train.to_parquet(folder / "train.parquet", index=False)
    payload = {
        "split": split.summary(),
        "candidates": [
            {"name": c.name, "spec": c.spec, "params": c.params, "train_seconds": c.train_seconds}
            for c in candidates
        ],
    }
    write_json_atomic(folder / "candidates.json", payload)
    return {
        "split": split.summary(),
        "train_seconds": {c.name: round(c.train_seconds, 3) for c in candidates},
    }


def evaluate(logical_date: str, settings: Settings | None = None) -> dict[str, Any]:
    import pandas as pd

    from capstone.risk_model_pipeline import evaluation, registry, training

    settings = settings or get_settings()
    folder = run_dir(logical_date, settings)
    trained = json.loads((folder / "candidates.json").read_text())
    holdout = pd.read_parquet(folder / "holdout.parquet")
    y = holdout["default_label"].to_numpy(dtype=int)
    truth = holdout["true_pd"].to_numpy(dtype=float)
    champion = registry.current_champion(settings)
    champion_p = training.predict_frame(champion.spec, holdout) if champion else None
    results, predictions = {}, []
    for cand in trained["candidates"]:
        p = training.predict_frame(cand["spec"], holdout)
        results[cand["name"]] = evaluation.evaluate(y, p, truth, champion_p)
        predictions.append(
            pd.DataFrame(
                {
                    "model": cand["name"],
                    "loan_id": holdout["loan_id"],
                    "y_true": y.astype("int8"),
                    "pd": p,
                    "true_pd": truth,
                }
            )
        )
    champion_eval = (
        {"version": champion.version, **evaluation.evaluate(y, champion_p, truth, None)}
        if champion is not None
        else None
    )
    best = max(results, key=lambda name: (results[name]["metrics"]["auc"], name))
    pd.concat(predictions).to_parquet(folder / "holdout_predictions.parquet", index=False)
    payload = {"candidates": results, "best": best, "champion": champion_eval}
    write_json_atomic(folder / "evaluation.json", payload)
    # the task's return value travels as JSON through Airflow's API server, which refuses NaN
    # ("Out of range float values are not JSON compliant"): an unknown number is None
    return {
        "best": best,
        "auc": {n: _rounded(r["metrics"]["auc"]) for n, r in results.items()},
        "best_possible_auc": _rounded(results[best]["metrics"].get("best_possible_auc")),
        "champion_version": champion.version if champion else None,
    }


def _rounded(value: float | None, digits: int = 4) -> float | None:
    """``value`` rounded, or ``None`` when it is unknown (missing, NaN or infinite)."""
    if value is None or not math.isfinite(value):
        return None
    return round(float(value), digits)


def register(
    logical_date: str, settings: Settings | None = None, *, manifest: Path | None = None
) -> dict[str, Any]:
    from capstone.risk_model_pipeline import evaluation, registry

    settings = settings or get_settings()
    folder = run_dir(logical_date, settings)
    trained = json.loads((folder / "candidates.json").read_text())
    evaluated = json.loads((folder / "evaluation.json").read_text())
    best = evaluated["best"]
    cand = next(c for c in trained["candidates"] if c["name"] == best)
    metrics = {
        k: v for k, v in evaluated["candidates"][best]["metrics"].items() if isinstance(v, float)
    }
    metrics["train_seconds"] = cand["train_seconds"]
    split = trained["split"]
    params = {
        **cand["params"],
        **{f"split_{k}": v for k, v in split.items()},
        "auc_margin": evaluation.AUC_MARGIN,
        "ece_tolerance": evaluation.ECE_TOLERANCE,
        "logical_date": logical_date,
    }
    spec = {**cand["spec"], "model_name": settings.model_name}
    champion_eval = evaluated["champion"]

    def decide(champion: Any) -> evaluation.Decision:
        if champion is None:
            return evaluation.champion_decision(metrics, None)
        if champion_eval and champion_eval["version"] == champion.version:
            same_holdout = champion_eval["metrics"]
        else:  # the champion changed since evaluate ran: score it on this holdout now
            same_holdout = _evaluate_spec(champion.spec, folder)
        return evaluation.champion_decision(metrics, same_holdout, champion.version)

    result = registry.register(
        spec,
        metrics=metrics,
        params=params,
        lineage=lineage(settings, manifest),
        decide=decide,
        settings=settings,
    )
    write_json_atomic(folder / "registered.json", result)
    return result


def _evaluate_spec(spec: dict[str, Any], folder: Path) -> dict[str, Any]:
    import pandas as pd

    from capstone.risk_model_pipeline import evaluation, training

    holdout = pd.read_parquet(folder / "holdout.parquet")
    p = training.predict_frame(spec, holdout)
    return evaluation.evaluate(
        holdout["default_label"].to_numpy(dtype=int), p, holdout["true_pd"].to_numpy(), None
    )["metrics"]


# --- scoring in the warehouse -----------------------------------------------------------
def dbt_failures(result: Any) -> list[str]:
    """One line per failed dbt node: ``<name>: <status> (<message>)``."""
    lines = []
    for res in getattr(result.result, "results", None) or []:
        status = str(res.status)
        if status not in ("success", "pass", "skipped"):
            lines.append(f"{res.node.name}: {status} ({(res.message or '').strip()[:200]})")
    if result.exception is not None:
        lines.append(f"dbt: {result.exception}")
    return lines


def risk_vars(logical_date: str, settings: Settings) -> dict[str, Any]:
    from capstone.risk_model_pipeline import registry
    from capstone.risk_model_pipeline.scoring import ScoringSpec

    champion = registry.current_champion(settings)
    if champion is None:
        raise UserError("no champion model in the registry yet: run the train and register tasks")
    scoring = {
        "model_name": settings.model_name,
        "model_version": str(champion.version),
        "as_of_date": logical_date,
        "scored_at": datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S"),
        "sql": ScoringSpec.from_dict(champion.spec).compile_sql(),
    }
    return {"risk_scoring": scoring, "lgd": settings.lgd}


def run_risk_model(
    model: str, logical_date: str, settings: Settings | None = None, *, work: Path | None = None
) -> dict[str, Any]:
    """``dbt build`` one risk model (and its tests) with the champion's scoring SQL."""
    from Module_3_Analytics_Eng.dbt_runner import run_dbt

    settings = settings or get_settings()
    folder = run_dir(logical_date, settings)
    variables = risk_vars(logical_date, settings)
    work = work or folder / "dbt"
    result = run_dbt(
        ["build", "--select", model, "--vars", json.dumps(variables)],
        warehouse_env(settings),
        target_path=work / model / "target",
        log_path=work / model / "logs",
    )
    tests = [
        {
            "test": r.node.name,
            "model": model,
            "status": str(r.status),
            "failures": int(r.failures or 0),
        }
        for r in getattr(result.result, "results", None) or []
        if r.node.resource_type == "test"
    ]
    write_json_atomic(folder / f"dbt_tests_{model}.json", tests)
    failed = dbt_failures(result)
    if failed:
        raise DbtTestError(f"dbt build of {model} failed: " + "; ".join(failed))
    return {"model": model, "model_version": variables["risk_scoring"]["model_version"]}


def record_dbt_tests(
    project_dir: str,
    *,
    context: Any,
    logical_date: str | None = None,
    settings: Settings | None = None,
) -> Path | None:
    """cosmos' callback after each dbt task: keep the tests it ran for the serving snapshot.

    cosmos runs every task in a temporary copy of the project and deletes it afterwards, so the
    task's ``target/run_results.json`` (with the manifest naming each test's model) is read
    here and written to ``<run dir>/dbt_tests/<task id>.json``: one file a task, replaced by a
    retry. cosmos calls this only after a successful build (a failed test fails the task and
    stops publication anyway).
    """
    target = Path(project_dir) / "target"
    results_path = target / "run_results.json"
    if not results_path.is_file():
        return None
    if logical_date is None:
        when = context.get("logical_date") or context["dag_run"].run_after
        logical_date = when.date().isoformat()
    results = json.loads(results_path.read_text())["results"]
    manifest = json.loads((target / "manifest.json").read_text())
    tests = []
    for res in results:
        uid = res["unique_id"]
        if uid.startswith("test."):
            node = manifest["nodes"].get(uid, {})
            attached = node.get("attached_node") or ""
            model = attached.rsplit(".", 1)[-1] if attached else ""
        elif uid.startswith("unit_test."):
            node = manifest.get("unit_tests", {}).get(uid, {})
            model = node.get("model", "")
        else:
            continue
        name = node.get("name") or uid.split(".")[2]
        failures = int(res.get("failures") or 0)
        tests.append({"test": name, "model": model, "status": res["status"], "failures": failures})
    folder = run_dir(logical_date, settings) / "dbt_tests"
    folder.mkdir(exist_ok=True)
    path = folder / f"{context['ti'].task_id}.json"
    write_json_atomic(path, sorted(tests, key=lambda t: (t["model"], t["test"])))
    return path


def score(logical_date: str, settings: Settings | None = None) -> dict[str, Any]:
    return run_risk_model("rsk_loan_scores", logical_date, settings)


def el_mart(logical_date: str, settings: Settings | None = None) -> dict[str, Any]:
    return run_risk_model("rpt_expected_loss", logical_date, settings)


def as_date(text: str) -> date:
    return date.fromisoformat(text[:10])
