{{
    config(
        materialized='incremental',
        unique_key='loan_id',
        on_schema_change='fail',
        incremental_strategy='merge',
        partition_by=(
            {'field': 'issue_month', 'data_type': 'date', 'granularity': 'month'}
            if target.type == 'bigquery' else none
        ),
        cluster_by=(['grade', 'loan_id'] if target.type == 'bigquery' else none),
    )
}}

-- One row per loan: the terms and the borrower as underwritten, and the outcome to the
-- export date.
-- Incremental, driven by the lake's load partitions: a run recomputes only the loans with a
-- row (the loan itself or an instalment) loaded after the newest load already stored
-- (last_loaded_date). A loan whose new instalments only extend a complete stored history
-- adds their aggregates to its stored outcome; any other changed loan is recomputed from its
-- full history in fct_repayments. A loan row in a new load (a new loan, or a re-delivered
-- correction) takes its terms from the lake, and so does a stored loan whose borrower's master
-- row is in a new load (enriched again); any other changed loan keeps the terms stored.
{%- set loan_columns = [
    'loan_id', 'borrower_id', 'application_date', 'issue_date', 'issue_month', 'loan_amount',
    'term_months', 'interest_rate_pct', 'installment_amount', 'grade', 'purpose', 'region',
    'annual_income', 'employment_years', 'debt_to_income_pct', 'credit_history_months',
    'delinquencies_2y', 'home_ownership', 'credit_score', 'credit_score_band',
    'borrower_age_at_issue'
] %}
{%- set lake_loans = source('loanbook', 'loans') %}
{%- set borrower_master = ref('int_borrowers__master') %}
{%- if is_incremental() %}
    {%- set high_water = load_high_water('last_loaded_date') %}
    {%- set borrowers_with_new_master_row -%}
        select borrower_id
        from {{ borrower_master }}
        where source_loaded_date > {{ high_water }}
    {%- endset %}
    {%- set their_stored_issue_dates -%}
        select issue_date from {{ this }}
        where borrower_id in ({{ borrowers_with_new_master_row }})
    {%- endset %}
{%- endif %}

with

{% if is_incremental() %}
-- loan rows taken from the lake: the loans in a new load, and the stored loans of a borrower
-- whose master row is in a new load (late or re-delivered: the loans are enriched again)
new_loans as (

    select
        {{ loan_columns | join(', ') }},
        source_loaded_date as loaded_date
    from {{ ref('int_loans__enriched') }}
    where
        (
            {{ in_new_load_dates(
                lake_loans, 'issue_date', high_water, ref('int_loans__enriched')
            ) }}
            and source_loaded_date > {{ high_water }}
        )
        or (
            {{ in_looked_up_dates(
                'issue_date', their_stored_issue_dates, is_load_high_water_known(high_water)
            ) }}
            and borrower_id in ({{ borrowers_with_new_master_row }})
        )

),

new_repayments as (

    select *
    from {{ ref('fct_repayments') }}
    where source_loaded_date > {{ high_water }}

),

changed_loans as (

    select loan_id from new_loans

    union all

    select loan_id from new_repayments

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

-- Loans whose new instalments are pure additions: the stored history is complete (its
-- instalments are exactly 1..installments_due) and every new instalment comes after it, so no
-- stored row was replaced. Their outcome is the stored outcome plus the new rows' aggregates.
-- Every other changed loan (a new or re-delivered loan row, a replaced or late instalment) is
-- recomputed from its full history.
added_outcomes as (

    select
        stored.loan_id,
        stored.installments_due + added.installments_due as installments_due,
        stored.installments_paid + added.installments_paid as installments_paid,
        stored.installments_paid_late + added.installments_paid_late
            as installments_paid_late,
        {{ max_of('stored.max_days_past_due', 'added.max_days_past_due') }}
            as max_days_past_due,
        stored.total_amount_paid + coalesce(added.total_amount_paid, 0) as total_amount_paid,
        stored.total_principal_paid + coalesce(added.total_principal_paid, 0)
            as total_principal_paid,
        stored.total_interest_paid + coalesce(added.total_interest_paid, 0)
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
        and stored.loan_id not in (select loan_id from new_loans)

),

recomputed_loans as (

    select loan_id from changed_loans
    where loan_id not in (select loan_id from added_outcomes)

),
{% endif %}

loans as (

    {% if is_incremental() %}
        select * from new_loans

        union all

        -- (an older loan's last_loaded_date already covers its own row's load)
        select
            {{ loan_columns | join(', ') }},
            last_loaded_date as loaded_date
        from {{ this }}
        where
            loan_id in (select loan_id from changed_loans)
            and loan_id not in (select loan_id from new_loans)
    {% else %}
        select
            {{ loan_columns | join(', ') }},
            source_loaded_date as loaded_date
        from {{ ref('int_loans__enriched') }}
    {% endif %}

),

repayments as (

    select * from {{ ref('fct_repayments') }}
    {% if is_incremental() %}
        where loan_id in (select loan_id from recomputed_loans)
    {% endif %}

),

outcomes as (

    select
        loan_id,
        {{ repayment_outcome_aggregates() }},
        count(*) = max(installment_number) as is_history_complete,
        max(source_loaded_date) as last_loaded_date
    from repayments
    group by loan_id

    {% if is_incremental() %}
        union all

        select
            loan_id,
            installments_due,
            installments_paid,
            installments_paid_late,
            max_days_past_due,
            total_amount_paid,
            total_principal_paid,
            total_interest_paid,
            last_due_date,
            last_payment_date,
            default_date,
            default_installment,
            prepaid_date,
            outstanding_balance,
            is_history_complete,
            last_loaded_date
        from added_outcomes
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
        case
            when outcomes.last_loaded_date > loans.loaded_date then outcomes.last_loaded_date
            else loans.loaded_date
        end as last_loaded_date
    from loans
    left join outcomes
        on loans.loan_id = outcomes.loan_id

)

select * from final
