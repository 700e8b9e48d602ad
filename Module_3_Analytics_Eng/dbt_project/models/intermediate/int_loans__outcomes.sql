{{
    config(
        materialized='incremental',
        unique_key='loan_id',
        on_schema_change='fail',
        incremental_strategy='merge',
        cluster_by=cluster_columns(['loan_id']),
    )
}}

-- A loan's outcome to the export date, from its instalments in fct_repayments: one row per
-- loan with at least one instalment. A table, not a view like the rest of this layer: it is
-- the bookkeeping that keeps fct_loans incremental. Driven by the lake's load partitions: a run
-- takes the instalments loaded after the newest load stored (last_loaded_date). A loan whose
-- new instalments only extend a complete stored history (instalments 1..installments_due, every
-- new one after them) gets their aggregates added to its stored outcome; any other loan with a
-- new instalment (a new loan, a replaced or late instalment) is recomputed from its full history.
{%- if is_incremental() %}
    {%- set high_water = load_high_water('last_loaded_date') %}
{%- endif %}

with

{% if is_incremental() %}
new_repayments as (

    select * from {{ ref('fct_repayments') }}
    where source_loaded_date > {{ high_water }}

),

new_outcomes as (

    select
        loan_id,
        {{ repayment_outcome_aggregates() }},
        min(installment_number) as first_installment_number,
        max(installment_number) as last_installment_number,
        max(source_loaded_date) as last_loaded_date
    from new_repayments
    group by loan_id

),

added_outcomes as (

    select
        stored.loan_id,
        stored.installments_due + added.installments_due as installments_due,
        stored.installments_paid + added.installments_paid as installments_paid,
        stored.installments_paid_late + added.installments_paid_late
            as installments_paid_late,
        {{ max_of('stored.max_days_past_due', 'added.max_days_past_due') }}
            as max_days_past_due,
        {{ sum_of('stored.total_amount_paid', 'added.total_amount_paid') }}
            as total_amount_paid,
        {{ sum_of('stored.total_principal_paid', 'added.total_principal_paid') }}
            as total_principal_paid,
        {{ sum_of('stored.total_interest_paid', 'added.total_interest_paid') }}
            as total_interest_paid,
        {{ max_of('stored.last_due_date', 'added.last_due_date') }} as last_due_date,
        {{ max_of('stored.last_payment_date', 'added.last_payment_date') }}
            as last_payment_date,
        {{ max_of('stored.default_date', 'added.default_date') }} as default_date,
        {{ max_of('stored.default_installment', 'added.default_installment') }}
            as default_installment,
        {{ max_of('stored.prepaid_date', 'added.prepaid_date') }} as prepaid_date,
        added.outstanding_balance,
        stored.installments_due + added.installments_due = added.last_installment_number
            as is_history_complete,
        added.last_loaded_date
    from {{ this }} as stored
    inner join new_outcomes as added
        on stored.loan_id = added.loan_id
    where
        stored.is_history_complete
        and added.first_installment_number > stored.installments_due

),
{% endif %}

repayments as (

    select * from {{ ref('fct_repayments') }}
    {% if is_incremental() %}
        where
            loan_id in (select loan_id from new_outcomes)
            and loan_id not in (select loan_id from added_outcomes)
    {% endif %}

),

recomputed_outcomes as (

    select
        loan_id,
        {{ repayment_outcome_aggregates() }},
        count(*) = max(installment_number) as is_history_complete,
        max(source_loaded_date) as last_loaded_date
    from repayments
    group by loan_id

)

select * from recomputed_outcomes

{% if is_incremental() %}
    union all

    select * from added_outcomes
{% endif %}
