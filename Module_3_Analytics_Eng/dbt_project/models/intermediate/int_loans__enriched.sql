-- Loans with the borrower attributes known at application: the base of fct_loans and of
-- the ML features. Missing loan-level values fall back to the borrower master.
with

loans as (

    select * from {{ ref('int_loans__master') }}

),

borrowers as (

    select * from {{ ref('int_borrowers__master') }}

),

enriched as (

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
        coalesce(loans.annual_income, borrowers.annual_income) as annual_income,
        loans.employment_years,
        loans.debt_to_income_pct,
        loans.credit_history_months,
        loans.delinquencies_2y,
        coalesce(loans.region, borrowers.region, 'unknown') as region,
        coalesce(borrowers.home_ownership, 'unknown') as home_ownership,
        borrowers.credit_score,
        borrowers.credit_score_band,
        extract(year from loans.issue_date) - borrowers.birth_year as borrower_age_at_issue,
        -- the newest load of the two rows: a late borrower row changes the enrichment
        {{ max_of('loans.source_loaded_date', 'borrowers.source_loaded_date') }}
            as source_loaded_date
    from loans
    left join borrowers
        on loans.borrower_id = borrowers.borrower_id

)

select * from enriched
