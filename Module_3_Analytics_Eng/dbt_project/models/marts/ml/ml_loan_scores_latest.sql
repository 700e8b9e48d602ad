{{ config(materialized="view") }}

-- The latest score of each loan per model, next to the observed outcome: the scores the
-- capstone writes back (source ml_scores.ml_loan_scores), ready for monitoring.
with

scores as (

    select
        *,
        row_number() over (
            partition by loan_id, model_name order by scored_at desc, model_version desc
        ) as recency
    from {{ source('ml_scores', 'ml_loan_scores') }}

),

loans as (

    select * from {{ ref('fct_loans') }}

)

select
    scores.loan_id,
    scores.model_name,
    scores.model_version,
    scores.scored_at,
    cast(scores.predicted_pd as numeric(18, 6)) as predicted_pd,
    loans.grade,
    loans.is_default,
    loans.loan_status
from scores
inner join loans
    on scores.loan_id = loans.loan_id
where scores.recency = 1
