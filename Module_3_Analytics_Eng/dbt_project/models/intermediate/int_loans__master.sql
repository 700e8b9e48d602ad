{{
    config(
        materialized='incremental',
        unique_key='loan_id',
        on_schema_change='fail',
        incremental_strategy='merge',
        cluster_by=cluster_columns(['loan_id']),
    )
}}

-- The loan master, persisted: one row per loan, its newest row in the lake. A table, not a
-- view like the rest of this layer, for the same reason as int_borrowers__master: every
-- incremental run joins the day's instalments to their loans, and a view would deduplicate
-- the whole loan source for that (0.25 s at 1 M loans). Incremental, driven by the lake's
-- load partitions: a run merges the loan rows of loads newer than the newest one stored
-- (source_loaded_date); the newest copy wins, as in a full build.
{%- set lake_loans = source('loanbook', 'loans') %}
{%- if is_incremental() %}
    {%- set high_water = load_high_water('source_loaded_date') %}
{%- endif %}

with

loans as (

    select * from {{ ref('stg_loanbook__loans') }}
    {% if is_incremental() %}
        where
            {{ in_new_load_dates(
                lake_loans, 'issue_date', high_water, ref('stg_loanbook__loans')
            ) }}
            and source_loaded_date > {{ high_water }}
    {% endif %}

)

-- the staging view's columns, unchanged (on_schema_change=fail guards a change)
select * from loans
