{{
    config(
        materialized='incremental',
        unique_key='borrower_id',
        on_schema_change='fail',
        incremental_strategy='merge',
        cluster_by=cluster_columns(['borrower_id']),
    )
}}

-- One row per borrower: the customer master with a summary of their loans.
-- Incremental, driven by the lake's load partitions like fct_loans: a run recomputes the
-- borrowers with a master row, or a loan that changed, in a lake load newer than the newest
-- one stored here (last_loaded_date), from all their loans. A master row in a new load (a new
-- customer, a late or re-delivered row) takes its attributes from the lake, the newest copy
-- winning as in a full build; any other changed borrower keeps the master data stored.
{%- set borrower_columns = [
    'borrower_id', 'customer_since_date', 'birth_year', 'region', 'home_ownership',
    'annual_income', 'credit_score', 'credit_score_band', 'earliest_credit_line_date'
] %}
{%- if is_incremental() %}
    {%- set high_water = load_high_water('last_loaded_date') %}
{%- endif %}

with

{% if is_incremental() %}
new_borrowers as (

    select {{ borrower_columns | join(', ') }}
    from {{ ref('int_borrowers__master') }}
    where source_loaded_date > {{ high_water }}

),

changed_borrowers as (

    select borrower_id from new_borrowers

    union all

    select borrower_id
    from {{ ref('fct_loans') }}
    where last_loaded_date > {{ high_water }}

),
{% endif %}

borrowers as (

    {% if is_incremental() %}
        select * from new_borrowers

        union all

        -- (an inferred borrower without a new master row is inferred again below)
        select {{ borrower_columns | join(', ') }}
        from {{ this }}
        where
            not is_inferred
            and borrower_id in (select borrower_id from changed_borrowers)
            and borrower_id not in (select borrower_id from new_borrowers)
    {% else %}
        select {{ borrower_columns | join(', ') }}
        from {{ ref('int_borrowers__master') }}
    {% endif %}

),

loans as (

    select * from {{ ref('fct_loans') }}
    {% if is_incremental() %}
        where borrower_id in (select borrower_id from changed_borrowers)
    {% endif %}

),

-- inferred members: borrowers the loans reference but the master data lacks (Module 1 rejected
-- the row, or it has not arrived yet); attributes unknown until it does
all_borrowers as (

    select
        *,
        false as is_inferred
    from borrowers

    union all

    select distinct
        loans.borrower_id,
        cast(null as date) as customer_since_date,
        cast(null as int64) as birth_year,
        'unknown' as region,
        'unknown' as home_ownership,
        cast(null as numeric(18, 2)) as annual_income,
        cast(null as int64) as credit_score,
        cast(null as string) as credit_score_band,
        cast(null as date) as earliest_credit_line_date,
        true as is_inferred
    from loans
    left join borrowers
        on loans.borrower_id = borrowers.borrower_id
    where borrowers.borrower_id is null

),

loans_by_borrower as (

    select
        borrower_id,
        count(*) as number_of_loans,
        min(issue_date) as first_issue_date,
        max(issue_date) as last_issue_date,
        max(last_due_date) as last_due_date,
        sum(loan_amount) as total_funded_amount,
        sum(outstanding_balance) as total_outstanding_balance,
        sum(case when is_default then 1 else 0 end) as defaulted_loans,
        max(last_loaded_date) as last_loaded_date
    from loans
    group by borrower_id

)

select
    borrowers.borrower_id,
    borrowers.customer_since_date,
    borrowers.birth_year,
    borrowers.region,
    coalesce(borrowers.home_ownership, 'unknown') as home_ownership,
    borrowers.annual_income,
    borrowers.credit_score,
    borrowers.credit_score_band,
    borrowers.earliest_credit_line_date,
    cast(coalesce(loans_by_borrower.number_of_loans, 0) as int64) as number_of_loans,
    loans_by_borrower.first_issue_date,
    loans_by_borrower.last_issue_date,
    loans_by_borrower.last_due_date,
    cast(coalesce(loans_by_borrower.total_funded_amount, 0) as numeric(18, 2))
        as total_funded_amount,
    cast(coalesce(loans_by_borrower.total_outstanding_balance, 0) as numeric(18, 2))
        as total_outstanding_balance,
    cast(coalesce(loans_by_borrower.defaulted_loans, 0) as int64) as defaulted_loans,
    coalesce(loans_by_borrower.defaulted_loans, 0) > 0 as has_defaulted,
    borrowers.is_inferred,
    loans_by_borrower.last_loaded_date
from all_borrowers as borrowers
left join loans_by_borrower
    on borrowers.borrower_id = loans_by_borrower.borrower_id
