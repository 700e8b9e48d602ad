-- Portfolio risk by day: for every calendar day from the first issue to the last activity,
-- the day's flows (issued, repaid, defaulted) and the book at the end of the day
-- (active loans, outstanding principal, instalments past due, default rate to date).
with

loans as (

    select * from {{ ref('fct_loans') }}

),

repayments as (

    select * from {{ ref('fct_repayments') }}

),

calendar as (

    {#- from the first issue to the last day anything happened (issue, due date, payment) -#}
    {{ date_spine_days(
        '(select min(issue_date) from ' ~ ref('fct_loans') ~ ')',
        '(select max(greatest(issue_date, coalesce(last_due_date, issue_date), '
        ~ 'coalesce(last_payment_date, issue_date))) from ' ~ ref('fct_loans') ~ ')'
    ) }}

),

issued as (

    select
        issue_date as activity_date,
        count(*) as loans_issued,
        sum(loan_amount) as amount_issued
    from loans
    group by issue_date

),

closed as (

    select
        closed_date as activity_date,
        count(*) as loans_closed,
        sum(case when is_default then 1 else 0 end) as loans_defaulted,
        sum(defaulted_balance) as defaulted_balance
    from loans
    where closed_date is not null
    group by closed_date

),

repaid as (

    select
        payment_date as activity_date,
        sum(principal_paid) as principal_repaid
    from repayments
    where payment_date is not null
    group by payment_date

),

-- an instalment paid late is past due from its due date until its payment date
past_due_flows as (

    select
        due_date as activity_date,
        1 as change_in_past_due
    from repayments
    where days_past_due > 0

    union all

    select
        payment_date as activity_date,
        -1 as change_in_past_due
    from repayments
    where days_past_due > 0

),

past_due as (

    select
        activity_date,
        sum(change_in_past_due) as change_in_past_due
    from past_due_flows
    group by activity_date

),

daily as (

    select
        calendar.date_day,
        coalesce(issued.loans_issued, 0) as loans_issued,
        coalesce(issued.amount_issued, 0) as amount_issued,
        coalesce(repaid.principal_repaid, 0) as principal_repaid,
        coalesce(closed.loans_closed, 0) as loans_closed,
        coalesce(closed.loans_defaulted, 0) as loans_defaulted,
        coalesce(closed.defaulted_balance, 0) as defaulted_balance,
        coalesce(past_due.change_in_past_due, 0) as change_in_past_due
    from calendar
    left join issued on calendar.date_day = issued.activity_date
    left join repaid on calendar.date_day = repaid.activity_date
    left join closed on calendar.date_day = closed.activity_date
    left join past_due on calendar.date_day = past_due.activity_date

),

running as (

    select
        date_day,
        loans_issued,
        amount_issued,
        principal_repaid,
        loans_defaulted,
        defaulted_balance,
        sum(loans_issued - loans_closed) over (
            order by date_day rows between unbounded preceding and current row
        ) as active_loans,
        sum(amount_issued - principal_repaid - defaulted_balance) over (
            order by date_day rows between unbounded preceding and current row
        ) as outstanding_principal,
        sum(change_in_past_due) over (
            order by date_day rows between unbounded preceding and current row
        ) as instalments_past_due,
        sum(loans_issued) over (
            order by date_day rows between unbounded preceding and current row
        ) as loans_issued_to_date,
        sum(loans_defaulted) over (
            order by date_day rows between unbounded preceding and current row
        ) as loans_defaulted_to_date
    from daily

)

select
    date_day,
    cast(loans_issued as int64) as loans_issued,
    cast(amount_issued as numeric(18, 2)) as amount_issued,
    cast(principal_repaid as numeric(18, 2)) as principal_repaid,
    cast(loans_defaulted as int64) as loans_defaulted,
    cast(defaulted_balance as numeric(18, 2)) as defaulted_balance,
    cast(active_loans as int64) as active_loans,
    cast(outstanding_principal as numeric(18, 2)) as outstanding_principal,
    cast(instalments_past_due as int64) as instalments_past_due,
    cast(loans_defaulted_to_date as int64) as loans_defaulted_to_date,
    {{ safe_ratio('loans_defaulted_to_date', 'loans_issued_to_date') }} as default_rate_to_date
from running
