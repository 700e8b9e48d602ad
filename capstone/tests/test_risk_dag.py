"""The risk DAG end to end under ``dag.test()`` on a small book.

Two scenarios (each DAG run costs many minutes on a shared machine): a run builds the marts,
scores, the registry entry and the snapshot; scoring the same logical date again changes
nothing and never leaves two score rows per (loan, version, as-of); then a bad row in the
lake fails a dbt test, which stops publication, names the test's task in one log line, and
leaves the previous snapshot serving.
"""

from __future__ import annotations

import shutil
from datetime import date

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from capstone import serving_snapshot
from capstone.risk_model_pipeline import pipeline, registry
from capstone.tests.conftest import logical_day

pytestmark = pytest.mark.slow
DAY = date(2025, 1, 6)
CONF = {"max_train_rows": 2000}
SCORES = (
    "select model_version, as_of_date, count(*), count(distinct loan_id) "
    "from loanbook_scores.ml_loan_scores group by all order by all"
)


def _states(run) -> dict[str, str | None]:
    return {ti.task_id: ti.state for ti in run.get_task_instances()}


def _break_the_lake(risk_book, book_lake) -> None:
    """A loan with a term the contract does not allow (36 or 60): stg_loanbook__loans fails."""
    lake = risk_book.root / "processed" / "loanbook"
    lake.unlink()
    shutil.copytree(book_lake, lake)
    loans = pq.read_table(next((lake / "loans").rglob("*.parquet")))
    bad = loans.slice(0, 1).to_pylist()[0]
    bad.update(loan_id="LBAD000001", term_months=48)
    pq.write_table(pa.Table.from_pylist([bad], schema=loans.schema), lake / "loans" / "bad.parquet")


def test_a_run_publishes_and_scoring_the_date_again_changes_nothing(risk_dag, risk_book):
    first = risk_dag.test(logical_date=logical_day(DAY), run_conf=CONF)
    states = _states(first)
    assert first.state == "success", states
    assert sum(t.startswith("dbt.") for t in states) >= 10  # one task per model

    (loans,) = risk_book.query("select count(*) from loanbook_core.fct_loans")[0]
    scores = risk_book.query(SCORES)
    assert scores == [("1", DAY, loans, loans)]
    (el,) = risk_book.query("select sum(expected_loss) from loanbook_risk.rpt_expected_loss")[0]
    assert el > 0
    champion = registry.current_champion(risk_book.settings)
    assert champion.version == 1
    version = registry.versions(risk_book.settings)[0]
    assert version["lake_snapshot_id"] and version["dbt_manifest_sha256"] and version["git_commit"]
    snap = serving_snapshot.open_current(risk_book.settings)
    assert snap.manifest["model_version"] == 1 and snap.manifest["logical_date"] == str(DAY)
    assert snap.read_table("loans").num_rows == loans
    assert snap.document("champion_model")["candidate"] == champion.spec["candidate"]
    assert serving_snapshot.run_in_progress(risk_book.settings) is None
    # every dbt build's tests: the cosmos tasks' (staging to features) and the risk builds'
    tests = snap.read_table("dbt_tests").to_pylist()
    tested = {t["model"] for t in tests}
    assert {"stg_loanbook__loans", "fct_loans", "ml_loan_features", "rsk_loan_scores"} <= tested
    assert len(tests) >= 80 and all(t["status"] == "pass" for t in tests)
    # counts from the converter's manifests: raw = loaded + rejected + duplicates
    for row in snap.read_table("reconciliation").to_pylist():
        assert row["raw_rows"] == (
            row["parquet_rows"] + row["rejected_rows"] + row["duplicates_removed"]
        ), row

    # the DAG's score task again for the same date (a retry or a rerun of the logical date)
    pipeline.score(str(DAY))
    assert risk_book.query(SCORES) == scores  # same (version, as-of): replaced, not appended
    (dupes,) = risk_book.query(
        "select count(*) from (select loan_id, model_version, as_of_date "
        "from loanbook_scores.ml_loan_scores group by all having count(*) > 1)"
    )[0]
    assert dupes == 0


def test_a_failing_dbt_test_stops_publication_and_the_last_snapshot_keeps_serving(
    risk_dag, risk_book, book_lake, capfd
):
    serving = serving_snapshot.publish(
        {name: schema.empty_table() for name, schema in serving_snapshot.TABLES.items()},
        {"champion_model": {}},
        run_id="previous-good-run",
        logical_date="2025-01-05",
        model_name="loanbook_pd",
        model_version=1,
        settings=risk_book.settings,
    )
    _break_the_lake(risk_book, book_lake)
    failed = risk_dag.test(logical_date=logical_day(date(2025, 1, 7)), run_conf=CONF)
    states = _states(failed)
    assert failed.state == "failed"
    assert states["dbt.stg_loanbook__loans_model_build"] == "failed", states
    assert states["train"] == states["publish"] == "upstream_failed"
    assert serving_snapshot.open_current(risk_book.settings).folder == serving.folder
    assert serving_snapshot.run_in_progress(risk_book.settings) is None
    out = capfd.readouterr()
    stop = "publication stopped: dbt.stg_loanbook__loans_model_build failed"
    assert any(stop in line for line in (out.out + out.err).splitlines())
