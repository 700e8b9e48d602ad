{% macro ml_scores_schema() -%}
    {{ target.schema }}_scores
{%- endmacro %}


{% macro create_ml_scores_table() -%}
    {#- on-run-start: the table the capstone / Module 4 write model scores into. Created empty
        when missing; never dropped or rebuilt by dbt (it is declared as a source). -#}
    {%- set relation = api.Relation.create(
        database=target.database,
        schema=ml_scores_schema(),
        identifier='ml_loan_scores'
    ) -%}
    {%- do adapter.create_schema(relation) -%}
    create table if not exists {{ relation }} (
        loan_id string not null,
        model_name string not null,
        model_version string not null,
        scored_at timestamp not null,
        predicted_pd numeric(18, 6) not null
    )
{%- endmacro %}
