"""The daily ETL's identity and defaults: one definition for the DAG, the CLI and their tools.

The DAG file reads this at parse time, so it imports nothing (Airflow parses DAG files every
30 s): ``airflow_local``, the benchmark and the tests import :data:`DAG_ID` from here too.
"""

from __future__ import annotations

#: The DAG's id, also the ``pipeline`` field of every run manifest.
DAG_ID = "loanbook_daily_etl"
#: Loans in a newly landed daily drop (the DAG's ``loans`` param, the CLI's ``--loans``).
DEFAULT_LOANS = 2_000
#: Share of a table's rows allowed to be rejected before the contract gate stops the day.
DEFAULT_MAX_REJECT_RATE = 0.05
