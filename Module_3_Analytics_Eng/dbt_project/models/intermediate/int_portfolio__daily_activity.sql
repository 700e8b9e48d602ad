-- The portfolio's flows by day: one row per date on which something happened (a loan issued
-- or closed, an instalment due or paid), with what happened that day. A view over the core
-- facts: rpt_portfolio_risk_daily reads only the days it rebuilds, and its date filter goes
-- through the view into each fact's scan (each branch is aggregated before the union, so a
-- fact is never read whole twice).
with

issued as (

    select
        issue_date as activity_date,
        count(*) as loans_issued,
        sum(loan_amount) as amount_issued
    from {{ ref('fct_loans') }}
    group by issue_date

),

closed as (

    select
        closed_date as activity_date,
        count(*) as loans_closed,
        sum(case when is_default then 1 else 0 end) as loans_defaulted,
        sum(defaulted_balance) as defaulted_balance
    from {{ ref('fct_loans') }}
    where closed_date is not null
    group by closed_date

),

due as (

    select
        due_date as activity_date,
        count(*) as instalments_due,
        -- an instalment paid late is past due from its due date until its payment date
        sum(case when days_past_due > 0 then 1 else 0 end) as became_past_due
    from {{ ref('fct_repayments') }}
    group by due_date

),

paid as (

    select
        payment_date as activity_date,
        sum(principal_paid) as principal_repaid,
        sum(case when days_past_due > 0 then 1 else 0 end) as past_due_settled
    from {{ ref('fct_repayments') }}
    where payment_date is not null
    group by payment_date

),

activity as (

    -- each branch names every column: a day's row sums them
    select
        activity_date,
        loans_issued,
        amount_issued,
        0 as loans_closed,
        0 as loans_defaulted,
        cast(0 as numeric(18, 2)) as defaulted_balance,
        0 as instalments_due,
        0 as became_past_due,
        cast(0 as numeric(18, 2)) as principal_repaid,
        0 as past_due_settled
    from issued

    union all

    select
        activity_date,
        0 as loans_issued,
        cast(0 as numeric(18, 2)) as amount_issued,
        loans_closed,
        loans_defaulted,
        defaulted_balance,
        0 as instalments_due,
        0 as became_past_due,
        cast(0 as numeric(18, 2)) as principal_repaid,
        0 as past_due_settled
    from closed

    union all

    select
        activity_date,
        0 as loans_issued,
        cast(0 as numeric(18, 2)) as amount_issued,
        0 as loans_closed,
        0 as loans_defaulted,
        cast(0 as numeric(18, 2)) as defaulted_balance,
        instalments_due,
        became_past_due,
        cast(0 as numeric(18, 2)) as principal_repaid,
        0 as past_due_settled
    from due

    union all

    select
        activity_date,
        0 as loans_issued,
        cast(0 as numeric(18, 2)) as amount_issued,
        0 as loans_closed,
        0 as loans_defaulted,
        cast(0 as numeric(18, 2)) as defaulted_balance,
        0 as instalments_due,
        0 as became_past_due,
        principal_repaid,
        past_due_settled
    from paid

)

select
    activity_date,
    sum(loans_issued) as loans_issued,
    sum(amount_issued) as amount_issued,
    sum(loans_closed) as loans_closed,
    sum(loans_defaulted) as loans_defaulted,
    sum(defaulted_balance) as defaulted_balance,
    sum(instalments_due) as instalments_due,
    sum(became_past_due) as became_past_due,
    sum(principal_repaid) as principal_repaid,
    sum(past_due_settled) as past_due_settled
from activity
group by activity_date
