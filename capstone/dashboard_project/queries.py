"""The dashboard's query layer: every number a page shows, read from the serving snapshot only.

Free of Streamlit on purpose: Module 5's terminal report calls the same functions. Queries run
in an in-memory DuckDB over the snapshot's Parquet files (one per snapshot folder, made on first
use: see ``_Views``), so no reader ever holds a lock on anything the pipeline writes (DuckDB
allows one writer, and the pipeline's warehouse is never opened here at all). The snapshot
folder is immutable once published, so anything keyed on that folder can be kept for as long as
one likes. Every aggregation happens in SQL: only small results leave DuckDB.

Every function takes the :class:`~capstone.serving_snapshot.Snapshot` (or its folder) and
returns a pandas DataFrame or plain values; filters are passed as parameters, never pasted
into SQL.
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from capstone import serving_snapshot
from capstone.risk_model_pipeline.scoring import ScoringSpec
from capstone.serving_snapshot import MANIFEST, Snapshot, SnapshotError
from Module_1_Foundations.common.settings import Settings

#: The Segments page's drill-down dimensions: label -> SQL expression over ``loan_cells``.
DIMENSIONS: dict[str, str] = {
    "grade": "grade",
    "purpose": "purpose",
    "region": "region",
    "vintage": "strftime(issue_month, '%Y-%m')",
}
BANDS: tuple[str, ...] = ("approve", "review", "decline")
PSI_WATCH, PSI_SHIFT = 0.1, 0.25


# ---------------------------------------------------------------------------------------------
# Which snapshot, and in which state
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ServingState:
    """What a reader finds: a usable snapshot or the reason there is none, and a running run."""

    snapshot: Snapshot | None
    problem: str | None
    run_in_progress: dict[str, Any] | None


def serving_state(settings: Settings) -> ServingState:
    """Resolve ``current`` once (cheap: a symlink and a manifest) and the in-progress marker."""
    running = serving_snapshot.run_in_progress(settings)
    try:
        return ServingState(serving_snapshot.open_current(settings), None, running)
    except SnapshotError as exc:
        return ServingState(None, str(exc), running)


def open_folder(folder: str | Path) -> Snapshot:
    """A snapshot by its folder: what cached queries key on (a published folder never changes)."""
    path = Path(folder)
    return Snapshot(path, json.loads((path / MANIFEST).read_text(encoding="utf-8")))


def _snapshot(snapshot: Snapshot | str | Path) -> Snapshot:
    return snapshot if isinstance(snapshot, Snapshot) else open_folder(snapshot)


class _Views:
    """One in-memory DuckDB per snapshot folder: a view per table, and two small loan tables.

    Opening DuckDB and reading a file's Parquet footer on every query cost more than most
    queries here, and every page aggregated the whole ``loans`` table again. A published folder
    never changes, so its views are made once and reused, and ``loans`` is reduced once, on
    first use, to what the pages read (see ``_LOAN_TABLES``): a million-loan book becomes some
    80 000 cells and one column of live PDs. Each query runs on its own cursor (a DuckDB
    connection is not shared across threads, and Streamlit runs each session in a thread).
    Nothing here opens the pipeline's warehouse and nothing holds a file lock: the database is
    in memory and reads the immutable Parquet files.
    """

    #: the few folders served at once (current and, for a moment, the one it replaced)
    KEEP = 2

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._open: OrderedDict[str, duckdb.DuckDBPyConnection] = OrderedDict()

    def cursor(self, folder: Path) -> duckdb.DuckDBPyConnection:
        key = str(folder.resolve())
        with self._lock:
            con = self._open.get(key)
            if con is None:
                con = self._connect(folder)
                self._open[key] = con
                while len(self._open) > self.KEEP:
                    self._open.popitem(last=False)[1].close()
            self._open.move_to_end(key)
            return con.cursor()

    def _connect(self, folder: Path) -> duckdb.DuckDBPyConnection:
        snap = open_folder(folder)
        con = duckdb.connect(":memory:")
        for name in serving_snapshot.TABLES:
            path = "'" + str(snap.table_path(name)).replace("'", "''") + "'"
            # B608 is safe: the names are the snapshot contract's, the path a quoted literal
            con.execute(f"CREATE VIEW {name} AS SELECT * FROM read_parquet({path})")  # nosec B608
        for name, sql in _LOAN_TABLES.items():
            con.execute(f"CREATE TABLE {name} AS {sql}")  # nosec B608: fixed SQL
        return con


#: Built once per snapshot from ``loans``: every loan-level figure a page shows is a sum over
#: these (same numbers, a fraction of the rows). ``loan_cells`` is the book by issue month,
#: grade, region, purpose and band; ``live_pd`` the PD of every live loan (the histogram's
#: bins are chosen by the reader, so it needs the PDs themselves).
_LOAN_TABLES = {
    "loan_cells": """
        SELECT issue_month, grade, region, purpose, band,
               count(*) AS loans,
               count(*) FILTER (is_live) AS live_loans,
               count(*) FILTER (is_default) AS defaults,
               coalesce(sum(outstanding_balance) FILTER (is_live), 0) AS exposure,
               coalesce(sum(expected_loss) FILTER (is_live), 0) AS expected_loss,
               coalesce(sum(pd * outstanding_balance) FILTER (is_live), 0) AS pd_exposure,
               coalesce(sum(pd), 0) AS pd_sum, count(pd) AS pd_loans,
               coalesce(sum(pd) FILTER (is_live), 0) AS live_pd_sum,
               count(pd) FILTER (is_live) AS live_pd_loans,
               coalesce(sum(true_pd), 0) AS true_pd_sum, count(true_pd) AS true_pd_loans
        FROM loans GROUP BY ALL
    """,
    "live_pd": "SELECT pd FROM loans WHERE is_live",
}
_TABLE_NAMES = {name: name for name in [*serving_snapshot.TABLES, *_LOAN_TABLES]}


_VIEWS = _Views()


def _sql(snapshot: Snapshot | str | Path, sql: str, params: Sequence[Any] = ()) -> pd.DataFrame:
    """Run ``sql`` over the snapshot's tables, each ``{table}`` naming one of them."""
    folder = snapshot.folder if isinstance(snapshot, Snapshot) else Path(snapshot)
    with _VIEWS.cursor(folder) as cur:
        return cur.execute(sql.format(**_TABLE_NAMES), list(params)).df()


def _filters(
    grades: Sequence[str] | None,
    regions: Sequence[str] | None,
    start: date | None = None,
    end: date | None = None,
    *,
    date_column: str = "issue_month",
) -> tuple[str, list[Any]]:
    """A ``WHERE`` clause and its parameters; an empty selection means "all"."""
    clauses, params = ["true"], []
    if grades:
        clauses.append("grade IN (SELECT unnest(?::VARCHAR[]))")
        params.append(list(grades))
    if regions:
        clauses.append("region IN (SELECT unnest(?::VARCHAR[]))")
        params.append(list(regions))
    if start is not None:
        clauses.append(f"{date_column} >= ?")
        params.append(start)
    if end is not None:
        clauses.append(f"{date_column} <= ?")
        params.append(end)
    return " AND ".join(clauses), params


# ---------------------------------------------------------------------------------------------
# Portfolio
# ---------------------------------------------------------------------------------------------


def filter_options(snapshot: Snapshot | str | Path) -> dict[str, Any]:
    """Grades, regions and the month range the Portfolio filters offer (all of the book)."""
    row = _sql(
        snapshot,
        "SELECT list(DISTINCT grade ORDER BY grade) AS grades, "
        "list(DISTINCT region ORDER BY region) AS regions, "
        # the span covers every loan's issue month too: loans a daily drop added after the
        # last month end would otherwise fall outside the default ("everything") selection
        "least(min(month), (SELECT min(issue_month) FROM {loan_cells})) AS first_month, "
        "greatest(max(month), (SELECT max(issue_month) FROM {loan_cells})) AS last_month "
        "FROM {portfolio_monthly}",
    ).iloc[0]
    return {
        "grades": list(row["grades"] if row["grades"] is not None else []),
        "regions": list(row["regions"] if row["regions"] is not None else []),
        "first_month": pd.Timestamp(row["first_month"]).date(),
        "last_month": pd.Timestamp(row["last_month"]).date(),
    }


def portfolio_kpis(
    snapshot: Snapshot | str | Path,
    grades: Sequence[str] | None = None,
    regions: Sequence[str] | None = None,
    start: date | None = None,
    end: date | None = None,
) -> dict[str, float]:
    """The book now: exposure (live EAD), live loans, observed default rate, expected loss.

    ``start``/``end`` select loans by issue month (vintage).
    """
    where, params = _filters(grades, regions, start, end)
    row = _sql(
        snapshot,
        f"""
        SELECT coalesce(sum(loans), 0) AS loans,
               coalesce(sum(live_loans), 0) AS live_loans,
               coalesce(sum(exposure), 0) AS exposure,
               coalesce(sum(defaults) / nullif(sum(loans), 0), 0) AS default_rate,
               coalesce(sum(expected_loss), 0) AS expected_loss,
               coalesce(sum(pd_exposure) / nullif(sum(exposure), 0), 0) AS mean_pd
        FROM {{loan_cells}} WHERE {where}
        """,  # nosec B608: fixed SQL and code-built clauses; user values are bound ? parameters
        params,
    ).iloc[0]
    return {key: float(row[key]) for key in row.index}


def portfolio_trend(
    snapshot: Snapshot | str | Path,
    grades: Sequence[str] | None = None,
    regions: Sequence[str] | None = None,
    start: date | None = None,
    end: date | None = None,
) -> pd.DataFrame:
    """Month-end exposure, live loans, cumulative default rate and EL, summed over segments."""
    where, params = _filters(grades, regions, start, end, date_column="month")
    return _sql(
        snapshot,
        f"""
        SELECT month, sum(live_loans) AS live_loans, sum(exposure) AS exposure,
               sum(defaults) / nullif(sum(loans), 0) AS default_rate,
               sum(expected_loss) AS expected_loss
        FROM {{portfolio_monthly}} WHERE {where}
        GROUP BY month ORDER BY month
        """,  # nosec B608: fixed SQL and code-built clauses; user values are bound ? parameters
        params,
    )


# ---------------------------------------------------------------------------------------------
# Risk distribution
# ---------------------------------------------------------------------------------------------


def band_summary(snapshot: Snapshot | str | Path) -> pd.DataFrame:
    """Live loans, exposure and EL per PD band (approve / review / decline), in band order."""
    frame = _sql(
        snapshot,
        """
        SELECT band, sum(live_loans) AS loans, sum(exposure) AS exposure,
               sum(expected_loss) AS expected_loss,
               sum(live_pd_sum) / nullif(sum(live_pd_loans), 0) AS mean_pd
        FROM {loan_cells} GROUP BY band HAVING sum(live_loans) > 0
        """,
    )
    order = {band: i for i, band in enumerate(BANDS)}
    frame["order"] = frame["band"].map(order).fillna(len(BANDS))
    return frame.sort_values("order").drop(columns="order").reset_index(drop=True)


def score_histogram(
    snapshot: Snapshot | str | Path, review_from: float, decline_from: float, bins: int = 50
) -> pd.DataFrame:
    """Live loans per PD bin of width ``1 / bins`` on [0, 1], each bin's band by its lower edge.

    Binned in DuckDB: a million-loan book becomes ``bins`` rows, not a million chart points.
    """
    frame = _sql(
        snapshot,
        """
        SELECT least(floor(pd * ?)::INT, ? - 1) AS bin, count(*) AS loans
        FROM {live_pd} GROUP BY bin ORDER BY bin
        """,
        [bins, bins],
    )
    frame["pd_from"] = frame["bin"] / bins
    frame["pd_to"] = (frame["bin"] + 1) / bins
    frame["band"] = [band_of(p, review_from, decline_from) for p in frame["pd_from"]]
    return frame.drop(columns="bin")


def band_of(pd_value: float, review_from: float, decline_from: float) -> str:
    """The decision band of one PD under the settings' thresholds."""
    if pd_value >= decline_from:
        return "decline"
    return "review" if pd_value >= review_from else "approve"


def band_migration(snapshot: Snapshot | str | Path) -> pd.DataFrame:
    """From-band x to-band loan counts between the last two scoring runs, with row shares."""
    frame = _sql(snapshot, "SELECT from_band, to_band, loans FROM {score_migration}")
    totals = frame.groupby("from_band")["loans"].transform("sum")
    frame["share_of_from_band"] = frame["loans"] / totals.where(totals > 0)
    return frame


# ---------------------------------------------------------------------------------------------
# Segments
# ---------------------------------------------------------------------------------------------


def segment_table(snapshot: Snapshot | str | Path, dimension: str) -> pd.DataFrame:
    """Per segment: loans, observed default rate, mean predicted PD, EL and exposure."""
    if dimension not in DIMENSIONS:
        raise ValueError(f"dimension {dimension!r} is not one of {sorted(DIMENSIONS)}")
    expr = DIMENSIONS[dimension]
    return _sql(
        snapshot,
        f"""
        SELECT {expr} AS segment, sum(loans) AS loans,
               sum(defaults) / sum(loans) AS default_rate,
               sum(pd_sum) / nullif(sum(pd_loans), 0) AS mean_pd,
               sum(true_pd_sum) / nullif(sum(true_pd_loans), 0) AS mean_true_pd,
               sum(expected_loss) AS expected_loss, sum(exposure) AS exposure
        FROM {{loan_cells}} GROUP BY segment ORDER BY segment
        """,  # nosec B608: fixed SQL and code-built clauses; user values are bound ? parameters
    )


def vintage_curves(snapshot: Snapshot | str | Path, by: str = "quarter") -> pd.DataFrame:
    """Cumulative default rate by months on book, per issue quarter (or ``"month"``).

    Quarters weight each month's rate by its loans, so the curves stay readable for a long book.
    """
    group = "issue_month" if by == "month" else "date_trunc('quarter', issue_month)"
    frame = _sql(
        snapshot,
        f"""
        SELECT strftime({group}, '%Y-%m') AS vintage, months_on_book, sum(loans) AS loans,
               sum(cumulative_default_rate * loans) / nullif(sum(loans), 0)
                   AS cumulative_default_rate
        FROM {{vintage_curves}} GROUP BY ALL ORDER BY vintage, months_on_book
        """,  # nosec B608: fixed SQL and code-built clauses; user values are bound ? parameters
    )
    if by == "quarter":
        stamps = pd.to_datetime(frame["vintage"])
        frame["vintage"] = stamps.dt.year.astype(str) + "-Q" + stamps.dt.quarter.astype(str)
    return frame


# ---------------------------------------------------------------------------------------------
# Model
# ---------------------------------------------------------------------------------------------


def model_metrics(snapshot: Snapshot | str | Path) -> pd.DataFrame:
    """Holdout metrics, one row per candidate and one column per metric (scratch vs sklearn)."""
    frame = _sql(
        snapshot, "SELECT model, algorithm, implementation, metric, value FROM {model_metrics}"
    )
    wide = frame.pivot_table(
        index=["model", "algorithm", "implementation"], columns="metric", values="value"
    )
    return wide.reset_index().rename_axis(columns=None)


def candidate_models(snapshot: Snapshot | str | Path) -> list[str]:
    """The models that have holdout predictions, champion first."""
    models = list(
        _sql(snapshot, "SELECT DISTINCT model FROM {holdout_predictions} ORDER BY model")["model"]
    )
    champion = champion_lineage(snapshot).get("model")
    return sorted(models, key=lambda m: (m != champion, m))


def roc_points(snapshot: Snapshot | str | Path, model: str, points: int = 200) -> pd.DataFrame:
    """The holdout ROC curve (false and true positive rates), thinned to about ``points``."""
    frame = _sql(
        snapshot,
        """
        WITH ranked AS (
            SELECT pd,
                   sum(y_true) OVER w AS tp,
                   sum(1 - y_true) OVER w AS fp,
                   sum(y_true) OVER () AS p,
                   sum(1 - y_true) OVER () AS n,
                   row_number() OVER w AS k, count(*) OVER () AS total
            FROM {holdout_predictions} WHERE model = ?
            WINDOW w AS (ORDER BY pd DESC ROWS UNBOUNDED PRECEDING)
        )
        SELECT fp / nullif(n, 0) AS fpr, tp / nullif(p, 0) AS tpr, pd AS threshold
        FROM ranked WHERE k % greatest(total // ?, 1) = 0 OR k = total
        ORDER BY k
        """,
        [model, points],
    )
    start = pd.DataFrame({"fpr": [0.0], "tpr": [0.0], "threshold": [1.0]})
    return pd.concat([start, frame], ignore_index=True)


def calibration(snapshot: Snapshot | str | Path, model: str) -> pd.DataFrame:
    """Per decile of predicted PD: mean PD, observed default rate, mean true PD (generator)."""
    return _sql(
        snapshot,
        "SELECT decile, loans, mean_pd, observed_rate, mean_true_pd FROM {calibration} "
        "WHERE model = ? ORDER BY decile",
        [model],
    )


def confusion(snapshot: Snapshot | str | Path, model: str, threshold: float) -> dict[str, int]:
    """Holdout confusion counts when a PD at or above ``threshold`` predicts a default."""
    row = _sql(
        snapshot,
        """
        SELECT count(*) FILTER (pd >= ? AND y_true = 1) AS tp,
               count(*) FILTER (pd >= ? AND y_true = 0) AS fp,
               count(*) FILTER (pd < ? AND y_true = 1) AS fn,
               count(*) FILTER (pd < ? AND y_true = 0) AS tn
        FROM {holdout_predictions} WHERE model = ?
        """,
        [threshold] * 4 + [model],
    ).iloc[0]
    return {key: int(row[key]) for key in ("tp", "fp", "fn", "tn")}


def model_versions(snapshot: Snapshot | str | Path) -> pd.DataFrame:
    """Every registered version, newest first."""
    return _sql(snapshot, "SELECT * FROM {model_versions} ORDER BY version DESC")


def champion_lineage(snapshot: Snapshot | str | Path) -> dict[str, Any]:
    """The champion's version row (alias ``champion``, else the manifest's version), or ``{}``."""
    snap = _snapshot(snapshot)
    frame = _sql(
        snap,
        """
        SELECT * FROM {model_versions}
        ORDER BY list_contains(string_split(replace(coalesce(aliases, ''), ' ', ''), ','),
                               'champion') DESC,
                 version = ? DESC, version DESC
        LIMIT 1
        """,
        [int(snap.manifest["model_version"])],
    )
    return {} if frame.empty else frame.iloc[0].to_dict()


# ---------------------------------------------------------------------------------------------
# Applicant what-if: through the pipeline's scoring spec, never a formula of our own
# ---------------------------------------------------------------------------------------------


def champion_spec(snapshot: Snapshot | str | Path) -> ScoringSpec:
    """The champion's scoring spec, as the pipeline published it."""
    return ScoringSpec.from_dict(_snapshot(snapshot).document("champion_model"))


#: Inputs the feature mart computes from other inputs, and the inputs each one is made of. The
#: form shows them read-only: an applicant states an amount, a term, a rate and an income, and
#: the ratios follow from those (typed in freely they would describe no possible applicant).
DERIVED_INPUTS: dict[str, tuple[str, ...]] = {
    "installment_amount": ("loan_amount", "term_months", "interest_rate_pct"),
    "loan_to_income": ("loan_amount", "annual_income"),
    "installment_to_income": ("loan_amount", "term_months", "interest_rate_pct", "annual_income"),
}


def derive_inputs(record: dict[str, Any]) -> dict[str, float | None]:
    """The derived inputs of one applicant; ``None`` where a source is missing (then imputed).

    The same definitions as the book: the instalment is the annuity payment the loan book's
    generator schedules (``P r / (1 - (1 + r)^-n)``, ``r`` the monthly rate, rounded to cents),
    the ratios are ``ml_loan_features``' ``safe_ratio`` (4 decimals, none for a zero income).
    """
    amount, term = record.get("loan_amount"), record.get("term_months")
    rate, income = record.get("interest_rate_pct"), record.get("annual_income")
    installment = None
    if amount is not None and term and rate is not None:
        monthly = rate / 1200
        installment = round(
            amount * monthly / (1 - (1 + monthly) ** -term) if monthly else amount / term, 2
        )

    def ratio(numerator: float | None) -> float | None:
        return None if numerator is None or not income else round(numerator / income, 4)

    return {
        "installment_amount": installment,
        "loan_to_income": ratio(amount),
        "installment_to_income": ratio(None if installment is None else installment * 12),
    }


def whatif_fields(snapshot: Snapshot | str | Path) -> list[dict[str, Any]]:
    """The form's fields: the spec's inputs, each with a ``default`` (numeric: the median).

    A derived input (``DERIVED_INPUTS``) is marked ``derived`` and its default follows from
    the defaults of its sources, as its value follows from theirs in the form.
    """
    fields = []
    for item in champion_spec(snapshot).inputs:
        field = dict(item)
        if field["type"] == "number":
            field.setdefault("integer", False)
            field["default"] = field.get("median")
        else:
            field["default"] = field["categories"][0] if field["categories"] else None
        field["derived"] = field["name"] in DERIVED_INPUTS
        fields.append(field)
    derived = derive_inputs({f["name"]: f["default"] for f in fields})
    for field in fields:
        if field["derived"]:
            field["default"] = derived[field["name"]]
    return fields


def format_number(value: float | None, integer: bool) -> str:
    """A field's value as the form shows it (blank for none)."""
    if value is None:
        return ""
    return str(round(value)) if integer else f"{value:g}"


def parse_applicant(
    fields: Sequence[dict[str, Any]], raw: dict[str, Any]
) -> tuple[dict[str, Any], dict[str, str]]:
    """The form's text as a record, and one message per field that is not valid.

    Blank numbers stay ``None`` (the spec imputes its median); text that is not a number, a
    fraction where a whole number is needed, a value outside the training range or an unknown
    category is refused with a message naming the valid values. Derived inputs are computed
    from their sources (``raw`` is not read for them) and refused when they fall outside the
    training range, naming the inputs to change.
    """
    record: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for field in fields:
        if field.get("derived"):
            continue  # computed below from the fields it is made of, never typed in
        name, value = field["name"], raw.get(field["name"])
        if field["type"] == "category":
            if value not in field["categories"]:
                errors[name] = f"choose one of {', '.join(field['categories'])}"
            record[name] = value
            continue
        text = "" if value is None else str(value).strip().replace(",", "")
        if not text:
            record[name] = None
            continue
        try:
            number = float(text)
        except ValueError:
            errors[name] = f"{value!r} is not a number"
            continue
        if number != number or number in (float("inf"), float("-inf")):
            errors[name] = f"{value!r} is not a finite number"
            continue
        if field.get("integer") and not number.is_integer():
            errors[name] = f"{value!r} must be a whole number"
            continue
        low, high = field["min"], field["max"]
        if not low <= number <= high:
            shown_low = format_number(low, bool(field.get("integer")))
            shown_high = format_number(high, bool(field.get("integer")))
            errors[name] = f"{text} is outside the valid range {shown_low} to {shown_high}"
            continue
        record[name] = int(number) if field.get("integer") else number
    derived = derive_inputs(record)
    for field in fields:
        name = field["name"]
        if not field.get("derived"):
            continue
        sources = DERIVED_INPUTS[name]
        if any(source in errors for source in sources):
            continue  # the source's own message says what to fix
        value = record[name] = derived[name]
        if value is not None and not field["min"] <= value <= field["max"]:
            made_of = ", ".join(source.replace("_", " ") for source in sources)
            errors[name] = (
                f"{format_number(value, False)} (from {made_of}) is outside the valid range "
                f"{format_number(field['min'], False)} to {format_number(field['max'], False)}: "
                "change the inputs it is made of"
            )
    return record, errors


def score_applicant(
    snapshot: Snapshot | str | Path,
    record: dict[str, Any] | Sequence[tuple[str, Any]],
    lgd: float,
    review_from: float,
    decline_from: float,
) -> dict[str, Any]:
    """The champion's PD, band and EL (EAD = the loan amount) for one applicant, and why.

    Raises:
        ValueError: the record does not pass the spec's own validation (message per field).
    """
    spec = champion_spec(snapshot)
    record = dict(record)
    problems = spec.validate(record)
    if problems:
        raise ValueError("; ".join(problems))
    pd_value = float(spec.predict_proba([record])[0])
    ead = float(record.get("loan_amount") or 0.0)
    return {
        "pd": pd_value,
        "band": band_of(pd_value, review_from, decline_from),
        "expected_loss": pd_value * lgd * ead,
        "ead": ead,
        "algorithm": spec.algorithm,
        "reasons": [dict(r) for r in spec.explain(record)],
    }


# ---------------------------------------------------------------------------------------------
# Monitoring
# ---------------------------------------------------------------------------------------------


def psi_table(snapshot: Snapshot | str | Path) -> pd.DataFrame:
    """PSI of the score and each feature against the previous run, the score first."""
    frame = _sql(snapshot, "SELECT variable, psi, status FROM {psi}")
    frame["band"] = [psi_band(v) for v in frame["psi"]]
    return frame.sort_values(
        ["variable"], key=lambda s: s.map(lambda v: (v != "score", v))
    ).reset_index(drop=True)


def psi_band(value: float) -> str:
    """The usual reading of a PSI: stable below 0.1, watch below 0.25, shift from there."""
    if value < PSI_WATCH:
        return "stable"
    return "watch" if value < PSI_SHIFT else "shift"


def predicted_vs_observed(snapshot: Snapshot | str | Path) -> pd.DataFrame:
    """Per issue month: loans, mean predicted PD, observed default rate, mean true PD."""
    return _sql(
        snapshot,
        """
        SELECT issue_month AS vintage, sum(loans) AS loans,
               sum(pd_sum) / nullif(sum(pd_loans), 0) AS mean_pd,
               sum(defaults) / sum(loans) AS observed_rate,
               sum(true_pd_sum) / nullif(sum(true_pd_loans), 0) AS mean_true_pd
        FROM {loan_cells} GROUP BY issue_month ORDER BY issue_month
        """,
    )


# ---------------------------------------------------------------------------------------------
# Data quality and freshness
# ---------------------------------------------------------------------------------------------


def dag_runs(snapshot: Snapshot | str | Path, per_dag: int = 5) -> pd.DataFrame:
    """The last ``per_dag`` runs of each DAG, newest first."""
    return _sql(
        snapshot,
        """
        SELECT dag_id, run_id, state, logical_date, start_date, end_date,
               epoch(end_date) - epoch(start_date) AS seconds
        FROM {dag_runs}
        QUALIFY row_number() OVER (PARTITION BY dag_id ORDER BY start_date DESC NULLS LAST) <= ?
        ORDER BY dag_id, start_date DESC NULLS LAST
        """,
        [per_dag],
    )


def reconciliation(snapshot: Snapshot | str | Path) -> pd.DataFrame:
    """Rows from raw CSV to Parquet to marts per table, and whether the counts reconcile.

    ``raw = parquet + rejected + duplicates removed`` must hold for every table.
    """
    frame = _sql(snapshot, "SELECT * FROM {reconciliation} ORDER BY table_name")
    frame["reconciles"] = frame["raw_rows"] == (
        frame["parquet_rows"] + frame["rejected_rows"] + frame["duplicates_removed"]
    )
    return frame


def dbt_tests(snapshot: Snapshot | str | Path) -> pd.DataFrame:
    """The last dbt run's tests, failures first."""
    return _sql(
        snapshot,
        "SELECT test, model, status, failures FROM {dbt_tests} "
        "ORDER BY status = 'pass', failures DESC, test",
    )


def dbt_test_counts(snapshot: Snapshot | str | Path) -> dict[str, int]:
    """Number of dbt tests per status (pass, warn, fail, error, ...)."""
    frame = _sql(snapshot, "SELECT status, count(*) AS n FROM {dbt_tests} GROUP BY status")
    return {str(s): int(n) for s, n in zip(frame["status"], frame["n"], strict=True)}


def snapshot_facts(snapshot: Snapshot | str | Path, now: datetime | None = None) -> dict[str, Any]:
    """The manifest's headline facts and the snapshot's age in seconds at ``now``."""
    snap = _snapshot(snapshot)
    now = now or datetime.now(UTC)
    manifest = snap.manifest
    return {
        "snapshot_id": manifest["snapshot_id"],
        "run_id": manifest["run_id"],
        "logical_date": manifest["logical_date"],
        "model_name": manifest["model_name"],
        "model_version": int(manifest["model_version"]),
        "created_at": snap.created_at,
        "age_seconds": max((now - snap.created_at).total_seconds(), 0.0),
        "rows": {name: int(t["rows"]) for name, t in manifest["tables"].items()},
    }


def describe_age(seconds: float) -> str:
    """A human age: "42 s", "5 min", "3 h 20 min", "2 d 4 h"."""
    seconds = int(seconds)
    if seconds < 60:
        return f"{seconds} s"
    minutes, _ = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours} h {minutes} min"
    days, hours = divmod(hours, 24)
    return f"{days} d {hours} h"
