"""The credit-risk report in a terminal: the dashboard's numbers as tables, or JSON for scripts.

    python -m Module_5_Deployment.report                 # rich tables
    python -m Module_5_Deployment.report --format json   # one JSON document on stdout

It reads the same serving snapshot through the same query layer as the Streamlit app
(``capstone.dashboard_project.queries``), so the two never disagree: the portfolio now, the
PD bands, every candidate model's holdout metrics (scratch versus scikit-learn) and the
champion's lineage. With no snapshot yet it says which command makes one and exits 2.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from datetime import UTC, datetime
from typing import Any

from Module_1_Foundations.common.cli import ArgumentParser, run_cli
from Module_1_Foundations.common.errors import UserError
from Module_1_Foundations.common.settings import Settings, get_settings

#: Holdout metrics shown, in this order, when the snapshot has them.
METRICS: tuple[str, ...] = ("auc", "gini", "ks", "brier", "log_loss", "best_possible_auc")
LINEAGE: tuple[str, ...] = (
    "version",
    "model",
    "aliases",
    "auc",
    "decision_reason",
    "lake_snapshot_id",
    "dbt_manifest_sha256",
    "git_commit",
    "mlflow_run_id",
    "created_at",
)


def _plain(value: Any) -> Any:
    """A JSON-able version of a query result cell (NaN -> None, timestamps -> ISO)."""
    if value is None:
        return None
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if hasattr(value, "item"):  # numpy scalars
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def build_report(settings: Settings, now: datetime | None = None) -> dict[str, Any]:
    """Every section of the report as plain values, from the current serving snapshot.

    Raises:
        UserError: no usable snapshot (none yet, or one of another schema version).
    """
    from capstone.dashboard_project import queries

    state = queries.serving_state(settings)
    if state.snapshot is None:
        raise UserError(state.problem or "no serving snapshot")
    snap = state.snapshot
    facts = queries.snapshot_facts(snap, now=now or datetime.now(UTC))
    bands = queries.band_summary(snap)
    metrics = queries.model_metrics(snap)
    lineage = queries.champion_lineage(snap)
    return {
        "snapshot": {
            "snapshot_id": facts["snapshot_id"],
            "run_id": facts["run_id"],
            "logical_date": facts["logical_date"],
            "model": f"{facts['model_name']} v{facts['model_version']}",
            "created_at": facts["created_at"].isoformat(),
            "age": queries.describe_age(facts["age_seconds"]),
            "run_in_progress": (state.run_in_progress or {}).get("run_id"),
        },
        "portfolio": {k: _plain(v) for k, v in queries.portfolio_kpis(snap).items()},
        "bands": [{k: _plain(v) for k, v in row.items()} for row in bands.to_dict("records")],
        "models": [
            {
                "model": row["model"],
                "algorithm": row["algorithm"],
                "implementation": row["implementation"],
                **{m: _plain(row[m]) for m in METRICS if m in row},
            }
            for row in metrics.to_dict("records")
        ],
        "champion": {k: _plain(lineage.get(k)) for k in LINEAGE if k in lineage},
        "thresholds": {
            "pd_review_from": settings.pd_review_from,
            "pd_decline_from": settings.pd_decline_from,
            "lgd": settings.lgd,
        },
    }


def _money(value: float | None) -> str:
    return "-" if value is None else f"{value:,.0f}"


def _ratio(value: float | None, digits: int = 4) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def render(report: dict[str, Any], console: Any) -> None:
    """Print the report as rich tables on ``console``."""
    from rich.table import Table

    snap = report["snapshot"]
    console.print(
        f"[bold]Credit-risk report[/bold]  snapshot {snap['snapshot_id']}  "
        f"(run {snap['run_id']}, logical date {snap['logical_date']}, {snap['model']}, "
        f"published {snap['age']} ago)"
    )
    if snap["run_in_progress"]:
        console.print(
            f"[yellow]a pipeline run is in progress ({snap['run_in_progress']}): "
            "these are the last good snapshot's numbers[/yellow]"
        )

    book = report["portfolio"]
    table = Table(title="Portfolio now", title_justify="left")
    for column in ("loans", "live loans", "exposure (EAD)", "default rate", "expected loss"):
        table.add_column(column, justify="right")
    table.add_row(
        f"{book['loans']:,.0f}",
        f"{book['live_loans']:,.0f}",
        _money(book["exposure"]),
        f"{book['default_rate']:.2%}",
        _money(book["expected_loss"]),
    )
    console.print(table)

    limits = report["thresholds"]
    table = Table(
        title=(
            f"PD bands (review from {limits['pd_review_from']:.0%}, decline from "
            f"{limits['pd_decline_from']:.0%}; LGD {limits['lgd']:.0%})"
        ),
        title_justify="left",
    )
    for column in ("band", "live loans", "exposure", "expected loss", "mean PD"):
        table.add_column(column, justify="left" if column == "band" else "right")
    for row in report["bands"]:
        table.add_row(
            row["band"],
            f"{row['loans']:,}",
            _money(row["exposure"]),
            _money(row["expected_loss"]),
            f"{row['mean_pd']:.2%}",
        )
    console.print(table)

    shown = [m for m in METRICS if any(m in row for row in report["models"])]
    table = Table(title="Holdout metrics: scratch versus scikit-learn", title_justify="left")
    for column in ("model", "algorithm", "implementation", *shown):
        table.add_column(column, justify="right" if column in shown else "left")
    for row in report["models"]:
        table.add_row(
            row["model"],
            row["algorithm"],
            row["implementation"],
            *(_ratio(row.get(m)) for m in shown),
        )
    console.print(table)

    table = Table(title="Champion lineage", title_justify="left", show_header=False)
    table.add_column("field")
    table.add_column("value", overflow="fold")
    for key, value in report["champion"].items():
        table.add_row(key, "-" if value is None else str(value))
    console.print(table)


def build_parser() -> argparse.ArgumentParser:
    parser = ArgumentParser(
        prog="python -m Module_5_Deployment.report",
        description=(
            "Print the credit-risk report (portfolio, PD bands, model metrics, champion "
            "lineage) from the current serving snapshot, as terminal tables or JSON."
        ),
    )
    parser.add_argument(
        "--format", choices=("table", "json"), default="table", help="output format"
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    def _main() -> int:
        args = build_parser().parse_args(argv)
        report = build_report(get_settings())
        if args.format == "json":
            json.dump(report, sys.stdout, indent=2, default=str)
            sys.stdout.write("\n")
        else:
            from rich.console import Console

            render(report, Console())
        return 0

    return run_cli(_main)


if __name__ == "__main__":
    raise SystemExit(main())
