{% macro ml_scores_relation() -%}
    {{ return(api.Relation.create(
        database=target.database,
        schema=target.schema ~ '_scores',
        identifier='ml_loan_scores'
    )) }}
{%- endmacro %}


{% macro create_ml_scores_schema() -%}
    {%- set relation = ml_scores_relation() -%}
    create schema if not exists {{ relation.include(identifier=false) }}
{%- endmacro %}


{% macro create_ml_scores_table() -%}
    {#- on-run-start: the table the capstone / Module 4 write model scores into. Created empty
        when missing; never dropped or rebuilt by dbt (it is declared as a source). Plain DDL,
        no adapter call, so `dbt compile` stays side-effect free (and offline on BigQuery). -#}
    create table if not exists {{ ml_scores_relation() }} (
        loan_id string not null,
        model_name string not null,
        model_version string not null,
        scored_at timestamp not null,
        predicted_pd numeric(18, 6) not null
    )
{%- endmacro %}
