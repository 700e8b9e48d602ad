"""The Airflow Assets the pipelines hand off through: defined once, imported by every DAG.

The daily ETL (``loanbook_daily_etl``) names ``LOANBOOK_DAILY`` as the outlet of its publish task:
each successful publish emits an asset event, and the capstone's ``loanbook_risk_model`` DAG is
scheduled on it. The URI is the lake's daily dataset in the object store (from the settings), so
the lineage Airflow shows points at the data itself.
"""

from __future__ import annotations

from airflow.sdk import Asset

from Module_1_Foundations.common.lake import DAILY, LakeLayout


def loanbook_daily_asset() -> Asset:
    """The lake's daily loan-book dataset: ``s3://<bucket>/<prefix>/daily``."""
    lake = LakeLayout.from_settings()
    return Asset(name="loanbook_daily", uri=f"{lake.s3_root()}/{DAILY}", group="loanbook")


LOANBOOK_DAILY = loanbook_daily_asset()
