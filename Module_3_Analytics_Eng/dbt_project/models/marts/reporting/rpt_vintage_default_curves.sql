-- Vintage default curves: for each issue month (vintage) and month on book, the share of the
-- vintage's loans that have defaulted by then. Points past what the vintage has been
-- observed for (its oldest loan's months on book at the export) are left out.
with

-- only the columns used: the CTE is read twice, so it is materialized
loans as (

    select
        issue_month,
        loan_amount,
        installments_due,
        is_default,
        default_installment,
        defaulted_balance
    from {{ ref('fct_loans') }}

),

vintages as (

    select
        issue_month,
        count(*) as loans_in_vintage,
        sum(loan_amount) as funded_amount,
        max(installments_due) as months_observed
    from loans
    group by issue_month

),

defaults_by_month_on_book as (

    select
        issue_month,
        default_installment as months_on_book,
        count(*) as new_defaults,
        sum(defaulted_balance) as new_defaulted_balance
    from loans
    where is_default
    group by issue_month, default_installment

),

months_on_book as (

    select cast(generated_number as int64) as months_on_book
    from ({{ dbt.generate_series(60) }}) as series

),

curve as (

    select
        vintages.issue_month,
        months_on_book.months_on_book,
        vintages.loans_in_vintage,
        vintages.funded_amount,
        coalesce(defaults_by_month_on_book.new_defaults, 0) as new_defaults,
        coalesce(defaults_by_month_on_book.new_defaulted_balance, 0) as new_defaulted_balance
    from vintages
    inner join months_on_book
        on vintages.months_observed >= months_on_book.months_on_book
    left join defaults_by_month_on_book
        on
            vintages.issue_month = defaults_by_month_on_book.issue_month
            and months_on_book.months_on_book = defaults_by_month_on_book.months_on_book

),

cumulative as (

    select
        issue_month,
        months_on_book,
        loans_in_vintage,
        funded_amount,
        sum(new_defaults) over (
            partition by issue_month order by months_on_book
            rows between unbounded preceding and current row
        ) as cumulative_defaults,
        sum(new_defaulted_balance) over (
            partition by issue_month order by months_on_book
            rows between unbounded preceding and current row
        ) as cumulative_defaulted_balance
    from curve

)

select
    issue_month,
    months_on_book,
    cast(loans_in_vintage as int64) as loans_in_vintage,
    cast(funded_amount as numeric(18, 2)) as funded_amount,
    cast(cumulative_defaults as int64) as cumulative_defaults,
    {{ safe_ratio('cumulative_defaults', 'loans_in_vintage') }} as cumulative_default_rate,
    cast(cumulative_defaulted_balance as numeric(18, 2)) as cumulative_defaulted_balance,
    {{ safe_ratio('cumulative_defaulted_balance', 'funded_amount') }} as cumulative_loss_rate
from cumulative
