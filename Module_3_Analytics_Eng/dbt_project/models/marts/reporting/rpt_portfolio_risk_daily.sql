{{
    config(
        materialized='incremental',
        unique_key='date_day',
        on_schema_change='fail',
        incremental_strategy=('merge' if target.type == 'bigquery' else 'delete+insert'),
    )
}}

-- Portfolio risk by day: for every calendar day from the first issue to the last activity,
-- the day's flows (issued, due, repaid, defaulted) and the book at the end of the day
-- (active loans, outstanding principal, instalments past due, default rate to date).
-- Incremental: the days from the earliest date a reprocessed row can touch are rebuilt, and
-- the running totals continue from the stored day before.

{#- a payment can arrive this many days before its due date (the generator: 3) -#}
{%- set early_payment_days = 5 -%}

{%- if is_incremental() -%}
    {%- set first_day -%}
        least(
            cast({{ dbt.dateadd(
                'day',
                -1 * early_payment_days,
                incremental_cutoff('date_day', where='instalments_due > 0')
            ) }} as date),
            {{ incremental_cutoff('date_day', where='loans_issued > 0') }}
        )
    {%- endset -%}
{%- else -%}
    {%- set first_day = "(select min(issue_date) from " ~ ref('fct_loans') ~ ")" -%}
{%- endif %}

with

-- each read of a mart is its own CTE with its own date filter: a CTE read twice is
-- materialized whole (19 M instalments at 1 M loans) before either filter applies
issued_loans as (

    select
        issue_date,
        loan_amount
    from {{ ref('fct_loans') }}
    where issue_date >= {{ first_day }}

),

closed_loans as (

    select
        closed_date,
        is_default,
        defaulted_balance
    from {{ ref('fct_loans') }}
    where closed_date >= {{ first_day }}

),

due_repayments as (

    select
        due_date,
        days_past_due
    from {{ ref('fct_repayments') }}
    where due_date >= {{ first_day }}

),

paid_repayments as (

    select
        payment_date,
        principal_paid,
        days_past_due
    from {{ ref('fct_repayments') }}
    where payment_date >= {{ first_day }}

),

calendar as (

    {#- to the last day anything happened (issue, due date, payment) -#}
    {{ date_spine_days(
        'greatest(' ~ first_day ~ ', (select min(issue_date) from ' ~ ref('fct_loans') ~ '))',
        '(select max(greatest(issue_date, coalesce(last_due_date, issue_date), '
        ~ 'coalesce(last_payment_date, issue_date))) from ' ~ ref('fct_loans') ~ ')'
    ) }}

),

issued as (

    select
        issue_date as activity_date,
        count(*) as loans_issued,
        sum(loan_amount) as amount_issued
    from issued_loans
    group by issue_date

),

closed as (

    select
        closed_date as activity_date,
        count(*) as loans_closed,
        sum(case when is_default then 1 else 0 end) as loans_defaulted,
        sum(defaulted_balance) as defaulted_balance
    from closed_loans
    group by closed_date

),

due as (

    select
        due_date as activity_date,
        count(*) as instalments_due,
        -- an instalment paid late is past due from its due date until its payment date
        sum(case when days_past_due > 0 then 1 else 0 end) as became_past_due
    from due_repayments
    group by due_date

),

paid as (

    select
        payment_date as activity_date,
        sum(principal_paid) as principal_repaid,
        sum(case when days_past_due > 0 then 1 else 0 end) as past_due_settled
    from paid_repayments
    group by payment_date

),

carried as (

    {#- the running totals at the end of the day before the first rebuilt day -#}
    {% if is_incremental() %}
        select
            coalesce(max(active_loans), 0) as active_loans,
            coalesce(max(outstanding_principal), 0) as outstanding_principal,
            coalesce(max(instalments_past_due), 0) as instalments_past_due,
            coalesce(max(loans_issued_to_date), 0) as loans_issued_to_date,
            coalesce(max(loans_defaulted_to_date), 0) as loans_defaulted_to_date
        from {{ this }}
        where date_day = cast({{ dbt.dateadd('day', -1, first_day) }} as date)
    {% else %}
        select
            0 as active_loans,
            0 as outstanding_principal,
            0 as instalments_past_due,
            0 as loans_issued_to_date,
            0 as loans_defaulted_to_date
    {% endif %}

),

daily as (

    select
        calendar.date_day,
        coalesce(issued.loans_issued, 0) as loans_issued,
        coalesce(issued.amount_issued, 0) as amount_issued,
        coalesce(due.instalments_due, 0) as instalments_due,
        coalesce(paid.principal_repaid, 0) as principal_repaid,
        coalesce(closed.loans_closed, 0) as loans_closed,
        coalesce(closed.loans_defaulted, 0) as loans_defaulted,
        coalesce(closed.defaulted_balance, 0) as defaulted_balance,
        coalesce(due.became_past_due, 0) - coalesce(paid.past_due_settled, 0)
            as change_in_past_due
    from calendar
    left join issued on calendar.date_day = issued.activity_date
    left join due on calendar.date_day = due.activity_date
    left join paid on calendar.date_day = paid.activity_date
    left join closed on calendar.date_day = closed.activity_date

),

running as (

    select
        daily.date_day,
        daily.loans_issued,
        daily.amount_issued,
        daily.instalments_due,
        daily.principal_repaid,
        daily.loans_defaulted,
        daily.defaulted_balance,
        carried.active_loans + sum(daily.loans_issued - daily.loans_closed) over (
            order by daily.date_day rows between unbounded preceding and current row
        ) as active_loans,
        carried.outstanding_principal + sum(
            daily.amount_issued - daily.principal_repaid - daily.defaulted_balance
        ) over (
            order by daily.date_day rows between unbounded preceding and current row
        ) as outstanding_principal,
        carried.instalments_past_due + sum(daily.change_in_past_due) over (
            order by daily.date_day rows between unbounded preceding and current row
        ) as instalments_past_due,
        carried.loans_issued_to_date + sum(daily.loans_issued) over (
            order by daily.date_day rows between unbounded preceding and current row
        ) as loans_issued_to_date,
        carried.loans_defaulted_to_date + sum(daily.loans_defaulted) over (
            order by daily.date_day rows between unbounded preceding and current row
        ) as loans_defaulted_to_date
    from daily
    cross join carried

)

select
    date_day,
    cast(loans_issued as int64) as loans_issued,
    cast(amount_issued as numeric(18, 2)) as amount_issued,
    cast(instalments_due as int64) as instalments_due,
    cast(principal_repaid as numeric(18, 2)) as principal_repaid,
    cast(loans_defaulted as int64) as loans_defaulted,
    cast(defaulted_balance as numeric(18, 2)) as defaulted_balance,
    cast(active_loans as int64) as active_loans,
    cast(outstanding_principal as numeric(18, 2)) as outstanding_principal,
    cast(instalments_past_due as int64) as instalments_past_due,
    cast(loans_issued_to_date as int64) as loans_issued_to_date,
    cast(loans_defaulted_to_date as int64) as loans_defaulted_to_date,
    {{ safe_ratio('loans_defaulted_to_date', 'loans_issued_to_date') }} as default_rate_to_date
from running
