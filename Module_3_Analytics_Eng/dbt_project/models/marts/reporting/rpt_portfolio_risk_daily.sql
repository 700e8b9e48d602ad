{{
    config(
        materialized='incremental',
        unique_key='date_day',
        on_schema_change='fail',
        incremental_strategy=replace_strategy('key'),
    )
}}

-- Portfolio risk by day: for every calendar day from the first issue to the last activity,
-- the day's flows (int_portfolio__daily_activity) and the book at the end of the day (active
-- loans, outstanding principal, instalments past due, default rate to date).
-- Incremental by a date window (var incremental_lookback_days): the days from the earliest
-- date a reprocessed row can touch are rebuilt, and the running totals continue from the
-- stored day before.

{#- a payment can arrive this many days before its due date (the generator: 3) -#}
{%- set early_payment_days = 5 -%}
{%- set loans = ref('fct_loans') -%}

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
    {%- set first_day = "(select min(issue_date) from " ~ loans ~ ")" -%}
{%- endif %}

with

calendar as (

    {#- to the last day anything happened (issue, due date, payment) -#}
    {{ date_spine_days(
        'greatest(' ~ first_day ~ ', (select min(issue_date) from ' ~ loans ~ '))',
        '(select max(greatest(issue_date, coalesce(last_due_date, issue_date), '
        ~ 'coalesce(last_payment_date, issue_date))) from ' ~ loans ~ ')'
    ) }}

),

activity as (

    select * from {{ ref('int_portfolio__daily_activity') }}
    where activity_date >= {{ first_day }}

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
        coalesce(activity.loans_issued, 0) as loans_issued,
        coalesce(activity.amount_issued, 0) as amount_issued,
        coalesce(activity.instalments_due, 0) as instalments_due,
        coalesce(activity.principal_repaid, 0) as principal_repaid,
        coalesce(activity.loans_closed, 0) as loans_closed,
        coalesce(activity.loans_defaulted, 0) as loans_defaulted,
        coalesce(activity.defaulted_balance, 0) as defaulted_balance,
        coalesce(activity.became_past_due, 0) - coalesce(activity.past_due_settled, 0)
            as change_in_past_due
    from calendar
    left join activity
        on calendar.date_day = activity.activity_date

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

),

final as (

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
        {{ safe_ratio('loans_defaulted_to_date', 'loans_issued_to_date') }}
            as default_rate_to_date
    from running

)

select * from final
