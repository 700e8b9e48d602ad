-- Loan balances and delinquency status by month: one row per loan and instalment month.
-- Every column is computed from the row itself and its loan (no window over the loan's
-- history), so an incremental fact can rebuild any slice of months on its own.
with

repayments as (

    select * from {{ ref('stg_loanbook__repayments') }}

),

loans as (

    select
        loan_id,
        borrower_id,
        issue_month,
        loan_amount
    from {{ ref('int_loans__master') }}

),

joined as (

    select
        repayments.repayment_id,
        repayments.loan_id,
        loans.borrower_id,
        repayments.installment_number,
        repayments.installment_number as months_on_book,
        loans.issue_month,
        {{ month_start('repayments.due_date') }} as balance_month,
        repayments.due_date,
        repayments.payment_date,
        repayments.amount_due,
        repayments.amount_paid,
        repayments.principal_paid,
        repayments.interest_paid,
        repayments.balance_after,
        -- the annuity keeps principal paid to date = funded amount - balance (tested in
        -- assert_repayments_reconcile_with_loan_amount); a default leaves the balance unpaid
        loans.loan_amount - repayments.balance_after as principal_paid_to_date,
        repayments.repayment_status,
        repayments.is_default_event,
        repayments.is_prepayment,
        repayments.days_past_due,
        case
            when repayments.is_default_event then 'default'
            when repayments.days_past_due > 30 then 'dpd_31_plus'
            when repayments.days_past_due > 15 then 'dpd_16_30'
            when repayments.days_past_due > 0 then 'dpd_1_15'
            else 'current'
        end as delinquency_status,
        repayments.source_loaded_date
    from repayments
    inner join loans
        on repayments.loan_id = loans.loan_id

)

select * from joined
