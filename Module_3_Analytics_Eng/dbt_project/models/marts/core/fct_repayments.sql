{{
    config(
        materialized='incremental',
        unique_key='due_date',
        on_schema_change='fail',
        incremental_strategy=replace_strategy('partition'),
        partition_by=date_partition('due_date', 'day'),
        cluster_by=cluster_columns(['loan_id']),
    )
}}

-- One row per loan and instalment. Incremental, driven by the lake's load partitions: a run
-- rebuilds the whole days (due dates) that the source rows loaded after the newest load
-- already merged (source_loaded_date) carry: one new daily load = one or a few days, however
-- late its rows are. The unit replaced is a whole day, so the incremental key is due_date, not
-- repayment_id (whose uniqueness is a test): DuckDB's delete+insert deletes the stored rows of
-- those days, a filter on a date column (a repayment_id key would be joined against every
-- stored instalment: 0.5 s of a 1 s run at 1 M loans); BigQuery overwrites the day partitions
-- (day granularity on purpose: whole days are selected, so an overwritten partition loses
-- nothing).
{%- set lake_repayments = source('loanbook', 'repayments') %}
{%- if is_incremental() %}
    {%- set high_water = load_high_water('source_loaded_date') %}
{%- endif %}

with

balances as (

    select * from {{ ref('int_loans__balances_by_month') }}
    {% if is_incremental() %}
        where {{ in_new_load_dates(
            lake_repayments, 'due_date', high_water, ref('int_loans__balances_by_month')
        ) }}
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
    delinquency_status,
    source_loaded_date
from balances
