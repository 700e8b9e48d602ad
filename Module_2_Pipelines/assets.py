"""The Airflow Assets the pipelines hand over to each other: defined once, imported by every DAG.

:data:`LOANBOOK_DAILY` is the lake's daily dataset. The ETL DAG's publish task names it as its
outlet, so each successful day emits an asset event once the day's partitions and run manifest
are in place; a downstream DAG (the capstone's risk model) is scheduled on it with
``schedule=[LOANBOOK_DAILY]``. Its URI comes from the lake layout and the settings, so every
process that shares the settings (scheduler, workers, DAG processor) names the same asset.
"""

from __future__ import annotations

from airflow.sdk import Asset

from Module_1_Foundations.common.lake import DATASET, LakeLayout

LOANBOOK_DAILY = Asset(
    name="loanbook_daily",
    uri=LakeLayout.from_settings().daily_asset_uri(),
    group=DATASET,
    extra={"layout": "<prefix>/<table>/<day>/, run manifest in <prefix>/daily/_manifests"},
)
