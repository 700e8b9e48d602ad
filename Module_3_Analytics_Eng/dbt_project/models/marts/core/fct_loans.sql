{{
    config(
        materialized='incremental',
        unique_key='loan_id',
        on_schema_change='fail',
        incremental_strategy='merge',
        partition_by=date_partition('issue_month', 'month'),
        cluster_by=cluster_columns(['grade', 'loan_id']),
    )
}}

-- One row per loan: the terms and the borrower as underwritten (int_loans__enriched), and the
-- outcome to the export date (int_loans__outcomes).
-- Incremental, driven by the lake's load partitions: a run merges the loans with a row loaded
-- after the newest load stored (last_loaded_date): a loan row (a new loan, or a re-delivered
-- correction: its terms come from the lake), a borrower master row (the borrower's stored loans
-- are enriched again), or an instalment (a new outcome; the loan keeps its stored terms).
{%- set loan_columns = [
    'loan_id', 'borrower_id', 'application_date', 'issue_date', 'issue_month', 'loan_amount',
    'term_months', 'interest_rate_pct', 'installment_amount', 'grade', 'purpose', 'region',
    'annual_income', 'employment_years', 'debt_to_income_pct', 'credit_history_months',
    'delinquencies_2y', 'home_ownership', 'credit_score', 'credit_score_band',
    'borrower_age_at_issue'
] %}
{%- set lake_loans = source('loanbook', 'loans') %}
{%- set enriched_loans = ref('int_loans__enriched') %}
{%- set borrower_master = ref('int_borrowers__master') %}
{%- if is_incremental() %}
    {%- set high_water = load_high_water('last_loaded_date') %}
    {%- set borrowers_with_new_master_row -%}
        select borrower_id from {{ borrower_master }}
        where source_loaded_date > {{ high_water }}
    {%- endset %}
    {%- set their_stored_issue_dates -%}
        select issue_date from {{ this }}
        where borrower_id in ({{ borrowers_with_new_master_row }})
    {%- endset %}
{%- endif %}

with

{% if is_incremental() %}
new_loan_rows as (

    select
        {{ loan_columns | join(', ') }},
        source_loaded_date as loaded_date
    from {{ enriched_loans }}
    where
        (
            {{ in_new_load_dates(lake_loans, 'issue_date', high_water, enriched_loans) }}
            and source_loaded_date > {{ high_water }}
        )
        or (
            {{ in_looked_up_dates(
                'issue_date', their_stored_issue_dates, is_load_high_water_known(high_water)
            ) }}
            and borrower_id in ({{ borrowers_with_new_master_row }})
        )

),
{% endif %}

outcomes as (

    select * from {{ ref('int_loans__outcomes') }}
    {% if is_incremental() %}
        where
            last_loaded_date > {{ high_water }}
            or loan_id in (select loan_id from new_loan_rows)
    {% endif %}

),

loans as (

    {% if is_incremental() %}
        select * from new_loan_rows

        union all

        -- a stored loan with a new outcome only: its terms as stored
        select
            {{ loan_columns | join(', ') }},
            last_loaded_date as loaded_date
        from {{ this }}
        where
            loan_id in (select loan_id from outcomes)
            and loan_id not in (select loan_id from new_loan_rows)
    {% else %}
        select
            {{ loan_columns | join(', ') }},
            source_loaded_date as loaded_date
        from {{ enriched_loans }}
    {% endif %}

),

final as (

    select
        loans.loan_id,
        loans.borrower_id,
        loans.application_date,
        loans.issue_date,
        loans.issue_month,
        loans.loan_amount,
        loans.term_months,
        loans.interest_rate_pct,
        loans.installment_amount,
        loans.grade,
        loans.purpose,
        loans.region,
        -- the borrower as underwritten (application-time values: the ML features)
        loans.annual_income,
        loans.employment_years,
        loans.debt_to_income_pct,
        loans.credit_history_months,
        loans.delinquencies_2y,
        loans.home_ownership,
        loans.credit_score,
        loans.credit_score_band,
        cast(loans.borrower_age_at_issue as int64) as borrower_age_at_issue,
        -- outcome to the export date
        cast(coalesce(outcomes.installments_due, 0) as int64) as installments_due,
        cast(coalesce(outcomes.installments_paid, 0) as int64) as installments_paid,
        cast(coalesce(outcomes.installments_paid_late, 0) as int64) as installments_paid_late,
        cast(outcomes.max_days_past_due as int64) as max_days_past_due,
        cast(coalesce(outcomes.total_amount_paid, 0) as numeric(18, 2)) as total_amount_paid,
        cast(coalesce(outcomes.total_principal_paid, 0) as numeric(18, 2))
            as total_principal_paid,
        cast(coalesce(outcomes.total_interest_paid, 0) as numeric(18, 2)) as total_interest_paid,
        cast(coalesce(outcomes.outstanding_balance, loans.loan_amount) as numeric(18, 2))
            as outstanding_balance,
        outcomes.last_due_date,
        outcomes.last_payment_date,
        outcomes.default_date,
        cast(outcomes.default_installment as int64) as default_installment,
        outcomes.prepaid_date,
        outcomes.default_date is not null as is_default,
        cast(
            case when outcomes.default_date is not null then outcomes.outstanding_balance
                else 0
            end as numeric(18, 2)
        ) as defaulted_balance,
        case
            when outcomes.default_date is not null then 'defaulted'
            when outcomes.prepaid_date is not null then 'prepaid'
            when outcomes.loan_id is null then 'issued'
            when outcomes.outstanding_balance = 0 then 'paid_off'
            else 'current'
        end as loan_status,
        case
            when outcomes.default_date is not null then outcomes.default_date
            when outcomes.prepaid_date is not null then outcomes.prepaid_date
            when outcomes.outstanding_balance = 0 then outcomes.last_payment_date
        end as closed_date,
        -- false when an instalment is missing (Module 1 rejected the row): sums are partial
        coalesce(outcomes.is_history_complete, true) as is_history_complete,
        {{ max_of('outcomes.last_loaded_date', 'loans.loaded_date') }} as last_loaded_date
    from loans
    left join outcomes
        on loans.loan_id = outcomes.loan_id

)

select * from final
