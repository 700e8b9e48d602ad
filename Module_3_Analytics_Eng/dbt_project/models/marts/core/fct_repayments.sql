{{
    config(
        materialized='incremental',
        unique_key='repayment_id',
        on_schema_change='fail',
        incremental_strategy=('insert_overwrite' if target.type == 'bigquery' else 'delete+insert'),
        partition_by=(
            {'field': 'due_date', 'data_type': 'date', 'granularity': 'day'}
            if target.type == 'bigquery' else none
        ),
        cluster_by=(['loan_id'] if target.type == 'bigquery' else none),
    )
}}

-- One row per loan and instalment. Incremental: a run rebuilds the instalments due from
-- (newest due date already loaded - incremental_lookback_days) on. DuckDB deletes and
-- re-inserts those keys; BigQuery overwrites the whole day partitions (day granularity on
-- purpose: a month partition would be replaced by the part of the month after the cutoff).

with

balances as (

    select * from {{ ref('int_loans__balances_by_month') }}
    {% if is_incremental() %}
        where due_date >= {{ incremental_cutoff('due_date') }}
    {% endif %}

)

select
    repayment_id,
    loan_id,
    borrower_id,
    installment_number,
    months_on_book,
    issue_month,
    balance_month,
    due_date,
    payment_date,
    amount_due,
    amount_paid,
    principal_paid,
    interest_paid,
    balance_after,
    principal_paid_to_date,
    repayment_status,
    is_default_event,
    is_prepayment,
    days_past_due,
    delinquency_status
from balances
