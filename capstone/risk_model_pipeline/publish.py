"""Publish the serving snapshot: the warehouse's marts, the run's metrics and the registry.

Reads the warehouse once (read-only, then closed), builds every table of
``capstone.serving_snapshot.TABLES`` with its exact schema and hands them to
``serving_snapshot.publish``, which swaps the snapshot in atomically. The dashboard never opens
the warehouse.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa

from capstone import serving_snapshot
from Module_1_Foundations.common.lake import MANIFESTS, PARTITION_KEY, TABLE_MANIFEST, LakeLayout
from Module_1_Foundations.common.settings import Settings, get_settings

LOANS_SQL = """
with scores as (
    select * from loanbook_scores.ml_loan_scores
    where model_version = ? and as_of_date = cast(? as date)
)
select
    l.loan_id, l.issue_date, l.issue_month, l.grade, l.purpose, l.region,
    cast(l.loan_amount as double) as loan_amount,
    cast(l.outstanding_balance as double) as outstanding_balance,
    l.loan_status = 'current' as is_live,
    l.is_default,
    s.predicted_pd as pd,
    case when s.predicted_pd >= ? then 'decline' when s.predicted_pd >= ? then 'review'
        else 'approve' end as band,
    case when l.loan_status = 'current'
        then s.predicted_pd * ? * cast(l.outstanding_balance as double) else 0 end
        as expected_loss,
    t.true_pd,
    s.reason_1, s.reason_2, s.reason_3
from loanbook_core.fct_loans as l
left join scores as s on l.loan_id = s.loan_id
left join loanbook_staging.stg_loanbook__loan_truth as t on l.loan_id = t.loan_id
order by l.loan_id
"""

PORTFOLIO_SQL = """
with months as (
    select distinct balance_month as month
    from loanbook_intermediate.int_loans__balances_by_month
),
loans as (
    select l.loan_id, l.grade, l.region, l.issue_month,
        date_trunc('month', l.default_date) as default_month, s.predicted_pd
    from loanbook_core.fct_loans as l
    left join loanbook_scores.ml_loan_scores as s
        on l.loan_id = s.loan_id and s.model_version = ? and s.as_of_date = cast(? as date)
),
balances as (
    select b.balance_month as month, b.loan_id, min(cast(b.balance_after as double)) as balance
    from loanbook_intermediate.int_loans__balances_by_month as b
    group by 1, 2
),
grid as (
    select m.month, l.*
    from months as m
    inner join loans as l on l.issue_month <= m.month
)
select
    g.month, g.grade, g.region,
    count(*) filter (where b.balance > 0 and (g.default_month is null or g.default_month > g.month))
        as live_loans,
    coalesce(sum(b.balance) filter (
        where b.balance > 0 and (g.default_month is null or g.default_month > g.month)), 0)
        as exposure,
    count(*) filter (where g.default_month <= g.month) as defaults,
    count(*) as loans,
    coalesce(sum(g.predicted_pd * ? * b.balance) filter (
        where b.balance > 0 and (g.default_month is null or g.default_month > g.month)), 0)
        as expected_loss
from grid as g
left join balances as b on g.loan_id = b.loan_id and g.month = b.month
group by 1, 2, 3
order by 1, 2, 3
"""

VINTAGE_SQL = """
select issue_month, months_on_book, loans_in_vintage as loans,
    cast(cumulative_default_rate as double) as cumulative_default_rate
from loanbook_reporting.rpt_vintage_default_curves
order by 1, 2
"""

MIGRATION_SQL = """
with runs as (
    select distinct as_of_date from loanbook_scores.ml_loan_scores
    where model_name = ? order by as_of_date desc limit 2
),
banded as (
    select s.loan_id, s.as_of_date,
        case when s.predicted_pd >= ? then 'decline' when s.predicted_pd >= ? then 'review'
            else 'approve' end as band,
        row_number() over (partition by s.loan_id, s.as_of_date
            order by s.scored_at desc, s.model_version desc) as pick
    from loanbook_scores.ml_loan_scores as s
    inner join runs using (as_of_date)
),
latest as (select * from banded where pick = 1)
select old.band as from_band, new.band as to_band, count(*) as loans
from latest as new
inner join latest as old
    on new.loan_id = old.loan_id and new.as_of_date > old.as_of_date
group by 1, 2
order by 1, 2
"""

PREVIOUS_SCORES_SQL = """
select predicted_pd from loanbook_scores.ml_loan_scores
where model_name = ? and as_of_date < cast(? as date)
    and as_of_date = (select max(as_of_date) from loanbook_scores.ml_loan_scores
                      where model_name = ? and as_of_date < cast(? as date))
"""

#: The counts of a run manifest (Module 1's conversion, Module 2's daily load):
#: ``rows_in = rows_out + rows_rejected + duplicates_removed``.
MANIFEST_COUNTS = ("rows_in", "rows_out", "rows_rejected", "duplicates_removed")
RECONCILIATION = (
    ("loans", "loanbook_core.fct_loans"),
    ("borrowers", "loanbook_core.dim_borrowers"),
    ("repayments", "loanbook_core.fct_repayments"),
)


def _arrow(con: Any, sql: str, params: list[Any] | None = None) -> pa.Table:
    return con.execute(sql, params or []).fetch_arrow_table()


def manifest_counts(layout: LakeLayout, table: str) -> dict[str, int] | None:
    """The rows every load of ``table`` read, refused and dropped as duplicates, from the
    lake's run manifests: Module 1's conversion manifest of the snapshot
    (``<table>/_manifest.json``) plus Module 2's manifest of each daily load
    (``daily/_manifests/dt=*.json``). ``None`` when the snapshot has no manifest (a lake not
    written by the converter): the counts are then unknown, not zero.
    """
    snapshot = layout.snapshot_table(table) / TABLE_MANIFEST
    if not snapshot.is_file():
        return None
    counts = json.loads(snapshot.read_text())["counts"]
    total = {key: int(counts[key]) for key in MANIFEST_COUNTS}
    for path in sorted((layout.daily_root() / MANIFESTS).glob(f"{PARTITION_KEY}=*.json")):
        day = json.loads(path.read_text()).get("tables", {}).get(table)
        if day is not None:
            for key in MANIFEST_COUNTS:
                total[key] += int(day[key])
    return total


def _reconciliation(con: Any, lake_root: str, layout: LakeLayout) -> pa.Table:
    """Rows per table from raw CSV to Parquet to mart: ``raw_rows = parquet_rows +
    rejected_rows + duplicates_removed`` when the lake holds what its manifests say."""
    rows = []
    for table, mart in RECONCILIATION:
        parquet = con.execute(
            # B608 is safe: the lake root comes from the settings, the names from RECONCILIATION
            f"select count(*) from read_parquet('{lake_root}/{table}/**/*.parquet')"  # nosec B608
        ).fetchone()[0]
        # B608 is safe: the relation names come from RECONCILIATION in this file
        mart_rows = con.execute(f"select count(*) from {mart}").fetchone()[0]  # nosec B608
        counts = manifest_counts(layout, table)
        rows.append(
            {
                "table_name": table,
                "raw_rows": None if counts is None else counts["rows_in"],
                "parquet_rows": parquet,
                "rejected_rows": None if counts is None else counts["rows_rejected"],
                "duplicates_removed": None if counts is None else counts["duplicates_removed"],
                "mart": mart,
                "mart_rows": mart_rows,
            }
        )
    return pa.Table.from_pylist(rows, schema=serving_snapshot.TABLES["reconciliation"])


def _psi_table(con: Any, settings: Settings, logical_date: str, folder: Any, loans: Any) -> Any:
    import numpy as np
    import pandas as pd

    from capstone.risk_model_pipeline import evaluation, training

    rows = []
    current = loans.column("pd").to_numpy(zero_copy_only=False).astype(float)
    current = current[~np.isnan(current)]
    previous = np.array(
        [
            r[0]
            for r in con.execute(
                PREVIOUS_SCORES_SQL,
                [settings.model_name, logical_date, settings.model_name, logical_date],
            ).fetchall()
        ],
        dtype=float,
    )
    if len(previous) and len(current):
        value = evaluation.psi(previous, current)
        rows.append({"variable": "score", "psi": value, "status": evaluation.psi_status(value)})
    train = pd.read_parquet(folder / "train.parquet")
    book = con.execute("select * from loanbook_ml.ml_loan_features").df()
    for name in training.NUMERIC_INPUTS:
        expected = pd.to_numeric(train[name], errors="coerce").dropna().to_numpy(float)
        actual = pd.to_numeric(book[name], errors="coerce").dropna().to_numpy(float)
        if len(expected) and len(actual):
            value = evaluation.psi(expected, actual)
            rows.append({"variable": name, "psi": value, "status": evaluation.psi_status(value)})
    return pa.Table.from_pylist(rows, schema=serving_snapshot.TABLES["psi"])


def dbt_tests(folder: Path) -> list[dict[str, Any]]:
    """Every test the run's dbt builds ran, with its status: the cosmos tasks' (recorded by
    ``pipeline.record_dbt_tests``) and the risk builds' (``dbt_tests_<model>.json``)."""
    tests: list[dict[str, Any]] = []
    for path in [
        *sorted(folder.glob("dbt_tests/*.json")),
        *sorted(folder.glob("dbt_tests_*.json")),
    ]:
        tests.extend(json.loads(path.read_text()))
    return tests


def build_tables(
    logical_date: str, settings: Settings, dag_runs: list[dict[str, Any]]
) -> tuple[dict[str, pa.Table], dict[str, Any], dict[str, Any]]:
    import pandas as pd

    from capstone.risk_model_pipeline import pipeline, registry

    folder = pipeline.run_dir(logical_date, settings)
    champion = registry.current_champion(settings)
    if champion is None:
        raise RuntimeError("no champion in the registry: nothing to publish")
    version = str(champion.version)
    env = pipeline.warehouse_env(settings)
    bands = [settings.pd_decline_from, settings.pd_review_from]
    con = pipeline.open_warehouse(settings)
    try:
        loans = _arrow(con, LOANS_SQL, [version, logical_date, *bands, settings.lgd])
        tables = {
            "loans": loans,
            "portfolio_monthly": _arrow(con, PORTFOLIO_SQL, [version, logical_date, settings.lgd]),
            "vintage_curves": _arrow(con, VINTAGE_SQL),
            "score_migration": _arrow(con, MIGRATION_SQL, [settings.model_name, *bands]),
            "reconciliation": _reconciliation(
                con, env["HDP_LAKE_ROOT"], LakeLayout.from_settings(settings)
            ),
            "psi": _psi_table(con, settings, logical_date, folder, loans),
        }
    finally:
        con.close()
    evaluated = json.loads((folder / "evaluation.json").read_text())
    trained = json.loads((folder / "candidates.json").read_text())
    kinds = {c["name"]: c["spec"] for c in trained["candidates"]}
    metric_rows, calibration_rows = [], []
    for name, result in evaluated["candidates"].items():
        spec = kinds[name]
        for metric, value in result["metrics"].items():
            metric_rows.append(
                {
                    "model": name,
                    "algorithm": spec["algorithm"],
                    "implementation": spec["implementation"],
                    "metric": metric,
                    "value": float(value),
                }
            )
        for row in result["calibration"]:
            calibration_rows.append({"model": name, **row})
        metric_rows.append(
            {
                "model": name,
                "algorithm": spec["algorithm"],
                "implementation": spec["implementation"],
                "metric": "train_seconds",
                "value": float(
                    next(c["train_seconds"] for c in trained["candidates"] if c["name"] == name)
                ),
            }
        )
    for key, value in trained["split"].items():
        if isinstance(value, (int, float)):  # train_sampled is a bool: 1.0 when sampled
            metric_rows.append(
                {
                    "model": "split",
                    "algorithm": "",
                    "implementation": "",
                    "metric": key,
                    "value": float(value),
                }
            )
    tables["model_metrics"] = pa.Table.from_pylist(
        metric_rows, schema=serving_snapshot.TABLES["model_metrics"]
    )
    tables["calibration"] = pa.Table.from_pylist(
        calibration_rows, schema=serving_snapshot.TABLES["calibration"]
    )
    tables["holdout_predictions"] = pa.Table.from_pandas(
        pd.read_parquet(folder / "holdout_predictions.parquet"), preserve_index=False
    )
    version_rows = []
    for v in registry.versions(settings):
        created = datetime.fromtimestamp(v.pop("created_at_ms") / 1000, tz=UTC)
        version_rows.append({**v, "created_at": created})
    tables["model_versions"] = pa.Table.from_pylist(
        version_rows, schema=serving_snapshot.TABLES["model_versions"]
    )
    tables["dbt_tests"] = pa.Table.from_pylist(
        dbt_tests(folder), schema=serving_snapshot.TABLES["dbt_tests"]
    )
    tables["dag_runs"] = pa.Table.from_pylist(dag_runs, schema=serving_snapshot.TABLES["dag_runs"])
    documents = {"champion_model": {**champion.spec, "model_version": champion.version}}
    extra = {"lgd": settings.lgd, "champion_version": champion.version}
    return tables, documents, extra


def publish(
    logical_date: str,
    run_id: str,
    settings: Settings | None = None,
    dag_runs: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    settings = settings or get_settings()
    tables, documents, extra = build_tables(logical_date, settings, dag_runs or [])
    snapshot = serving_snapshot.publish(
        tables,
        documents,
        run_id=run_id,
        logical_date=logical_date,
        model_name=settings.model_name,
        model_version=int(documents["champion_model"]["model_version"]),
        extra=extra,
        settings=settings,
    )
    return {
        "snapshot": str(snapshot.folder),
        "rows": {k: v["rows"] for k, v in snapshot.manifest["tables"].items()},
    }
