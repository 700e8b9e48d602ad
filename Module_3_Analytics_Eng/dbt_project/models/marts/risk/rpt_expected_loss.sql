-- Expected loss of the live book, EL = PD x LGD x EAD, by vintage (issue month), grade and
-- segment (purpose), from the scores of the run's model version and as-of date. EAD is the
-- outstanding balance of loans still on the book (current); LGD is var lgd (settings.lgd,
-- default 0.45: the Basel foundation-IRB value for senior unsecured claims). Rebuilt after
-- every scoring run; rows of coarser grains are sums of these.
{{ config(materialized='table', schema='risk') }}

with

scores as (

    select * from {{ ref('rsk_loan_scores') }}

),

loans as (

    select * from {{ ref('fct_loans') }}
    where loan_status = 'current'

),

scored_loans as (

    select
        loans.issue_month,
        loans.grade,
        coalesce(loans.purpose, 'unknown') as segment,
        cast(loans.outstanding_balance as {{ type_double() }}) as ead,
        scores.predicted_pd,
        scores.model_version,
        scores.as_of_date
    from loans
    inner join scores
        on loans.loan_id = scores.loan_id

)

select
    issue_month,
    grade,
    segment,
    max(model_version) as model_version,
    max(as_of_date) as as_of_date,
    cast(count(*) as {{ dbt.type_bigint() }}) as live_loans,
    sum(ead) as exposure,
    avg(predicted_pd) as mean_pd,
    cast({{ var('lgd', 0.45) }} as {{ type_double() }}) as lgd,
    sum(predicted_pd * {{ var('lgd', 0.45) }} * ead) as expected_loss
from scored_loans
group by issue_month, grade, segment
