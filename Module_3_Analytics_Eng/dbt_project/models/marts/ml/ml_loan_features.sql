-- The ML feature mart: one row per loan with the features known at application and the
-- observed default label. Read by Module 4 and the capstone's training job.
-- No feature may come from after the issue date (no repayment behaviour): that would leak
-- the label. is_label_final marks loans whose outcome can no longer change.
-- A view: every feature is a fct_loans column or a ratio of two, so a table would copy the
-- 1 M rows fct_loans already holds on every build, and an incremental one would repeat
-- fct_loans' change detection; the view is never stale.
{{ config(materialized='view') }}

with

loans as (

    select * from {{ ref('fct_loans') }}

)

select
    -- keys and time (for time-based train/test splits)
    loans.loan_id,
    loans.issue_date,
    loans.issue_month,

    -- loan terms
    loans.loan_amount,
    loans.term_months,
    loans.interest_rate_pct,
    loans.installment_amount,
    loans.grade,
    loans.purpose,

    -- borrower at application
    loans.annual_income,
    loans.employment_years,
    loans.debt_to_income_pct,
    loans.credit_history_months,
    loans.delinquencies_2y,
    loans.region,
    loans.home_ownership,
    loans.credit_score,
    loans.credit_score_band,
    cast(loans.borrower_age_at_issue as int64) as borrower_age_at_issue,
    {{ safe_ratio('loans.loan_amount', 'loans.annual_income', 4) }} as loan_to_income,
    {{ safe_ratio('loans.installment_amount * 12', 'loans.annual_income', 4) }}
        as installment_to_income,

    -- label
    cast(case when loans.is_default then 1 else 0 end as int64) as default_label,
    loans.installments_due as months_observed,
    loans.loan_status in ('defaulted', 'prepaid', 'paid_off') as is_label_final,
    -- lineage, not features (known only after issue)
    loans.last_due_date,
    loans.last_loaded_date
from loans
