-- The champion's scores of the whole book as of the run's date, computed in the warehouse.
-- The scoring SQL is compiled from the registered model's scoring spec by the capstone's
-- pipeline (capstone/risk_model_pipeline/scoring.py: logistic = linear predictor and sigmoid,
-- tree = nested CASE) and passed in var risk_scoring; this model fills in the feature mart's
-- relation and the target's float type, so the same scoring runs unchanged on BigQuery. The
-- post-hook replaces this (model version, as-of date) in the scores table (idempotent reruns).
-- Without the var (a plain `dbt build`) the model is empty.
{{ config(
    materialized='table',
    schema='risk',
    post_hook="{{ replace_ml_scores(this) }}",
) }}

{%- set run = var('risk_scoring', {}) %}
{%- set model_name = run.get('model_name', '') %}
{%- set model_version = run.get('model_version', '') %}
{%- set as_of_date = run.get('as_of_date', '1970-01-01') %}
{%- set scored_at = run.get('scored_at', '1970-01-01 00:00:00') %}

with

scored as (

    {% if run -%}
    {{ run['sql']
        | replace('__FEATURES__', ref('ml_loan_features') | string)
        | replace('__FLOAT__', type_double()) }}
    {%- else -%}
        select
            loan_id,
            cast(null as {{ type_double() }}) as pd,
            cast(null as {{ dbt.type_string() }}) as reason_1,
            cast(null as {{ dbt.type_string() }}) as reason_2,
            cast(null as {{ dbt.type_string() }}) as reason_3
        from {{ ref('ml_loan_features') }}
        where 1 = 0
    {%- endif %}

),

final as (

    select
        cast(loan_id as {{ dbt.type_string() }}) as loan_id,
        cast('{{ model_name }}' as {{ dbt.type_string() }}) as model_name,
        cast('{{ model_version }}' as {{ dbt.type_string() }}) as model_version,
        cast('{{ as_of_date }}' as date) as as_of_date,
        cast('{{ scored_at }}' as {{ dbt.type_timestamp() }}) as scored_at,
        cast(pd as {{ type_double() }}) as predicted_pd,
        cast(reason_1 as {{ dbt.type_string() }}) as reason_1,
        cast(reason_2 as {{ dbt.type_string() }}) as reason_2,
        cast(reason_3 as {{ dbt.type_string() }}) as reason_3
    from scored

)

select * from final
