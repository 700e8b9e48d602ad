-- Default and loss rates by segment: one row per segment type (grade, purpose, region,
-- term) and value. Rates are over loans issued; loss rate = balance at default / funded.
{% set segments = ['grade', 'purpose', 'region', 'term_months'] %}

with

-- only the columns used: the CTE is read once per segment, so it is materialized
loans as (

    select
        {{ segments | join(',\n        ') }},
        is_default,
        loan_amount,
        defaulted_balance,
        interest_rate_pct
    from {{ ref('fct_loans') }}

),

by_segment as (

    {% for segment in segments %}
        select
            '{{ segment }}' as segment_type,
            cast({{ segment }} as string) as segment_value,
            count(*) as loans_issued,
            sum(case when is_default then 1 else 0 end) as loans_defaulted,
            sum(loan_amount) as funded_amount,
            sum(defaulted_balance) as defaulted_balance,
            avg(interest_rate_pct) as avg_interest_rate_pct
        from loans
        group by {{ segment }}
        {% if not loop.last %}union all{% endif %}
    {% endfor %}

)

select
    segment_type,
    segment_value,
    cast(loans_issued as int64) as loans_issued,
    cast(loans_defaulted as int64) as loans_defaulted,
    {{ safe_ratio('loans_defaulted', 'loans_issued') }} as default_rate,
    cast(funded_amount as numeric(18, 2)) as funded_amount,
    cast(defaulted_balance as numeric(18, 2)) as defaulted_balance,
    {{ safe_ratio('defaulted_balance', 'funded_amount') }} as loss_rate,
    cast(round(avg_interest_rate_pct, 2) as numeric(18, 2)) as avg_interest_rate_pct
from by_segment
