-- For every loan with a complete instalment history: principal repaid + the balance after the
-- last instalment = the amount funded (to the cent). Fails with the loans that do not
-- reconcile. (Loans with a missing instalment are flagged by fct_loans.is_history_complete.)
with

repayments as (

    select
        loan_id,
        sum(principal_paid) as total_principal_paid,
        max(installment_number) as last_installment_number
    from {{ ref('fct_repayments') }}
    group by loan_id

),

last_balance as (

    select
        fct_repayments.loan_id,
        fct_repayments.balance_after
    from {{ ref('fct_repayments') }} as fct_repayments
    inner join repayments
        on
            fct_repayments.loan_id = repayments.loan_id
            and fct_repayments.installment_number = repayments.last_installment_number

)

select
    loans.loan_id,
    loans.loan_amount,
    repayments.total_principal_paid,
    last_balance.balance_after
from {{ ref('fct_loans') }} as loans
inner join repayments
    on loans.loan_id = repayments.loan_id
inner join last_balance
    on loans.loan_id = last_balance.loan_id
where
    loans.is_history_complete
    and abs(
        repayments.total_principal_paid + last_balance.balance_after - loans.loan_amount
    ) > 0.005
