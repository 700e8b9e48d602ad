{% macro ml_scores_relation() -%}
    {{ return(api.Relation.create(
        database=target.database,
        schema=target.schema ~ '_scores',
        identifier='ml_loan_scores'
    )) }}
{%- endmacro %}


{% macro ml_scores_columns() -%}
    {#- [(name, portable type)] of the scores table, from its source definition
        (models/marts/risk/_ml_scores__sources.yml: the one definition; Python reads the
        same file). Empty while parsing, when the graph is not built yet. -#}
    {%- set columns = [] -%}
    {%- if execute -%}
        {%- for node in graph.sources.values()
              if node.source_name == 'ml_scores' and node.name == 'ml_loan_scores' -%}
            {%- for column in node.columns.values() -%}
                {%- do columns.append((column.name, column.data_type)) -%}
            {%- endfor -%}
        {%- endfor -%}
    {%- endif -%}
    {{ return(columns) }}
{%- endmacro %}


{% macro ml_scores_type(portable) -%}
    {%- set types = {
        'string': dbt.type_string(),
        'date': 'date',
        'timestamp': dbt.type_timestamp(),
        'float': type_double(),
    } -%}
    {{ return(types[portable]) }}
{%- endmacro %}


{% macro create_ml_scores_schema() -%}
    {%- set relation = ml_scores_relation() -%}
    create schema if not exists {{ relation.include(identifier=false) }}
{%- endmacro %}


{% macro create_ml_scores_table() -%}
    {#- on-run-start: the table the capstone writes model scores into. Created empty when
        missing; never dropped or rebuilt by dbt (it is declared as a source). Columns added to
        the definition later are added to an existing table. Plain DDL, no adapter call, so
        `dbt compile` stays side-effect free (and offline on BigQuery). -#}
    {%- set columns = ml_scores_columns() -%}
    {%- if columns -%}
    create table if not exists {{ ml_scores_relation() }} (
        {%- for name, portable in columns %}
        {{ name }} {{ ml_scores_type(portable) }}{{ "," if not loop.last }}
        {%- endfor %}
    );
    {%- for name, portable in columns %}
    alter table {{ ml_scores_relation() }} add column if not exists
        {{ name }} {{ ml_scores_type(portable) }};
    {%- endfor %}
    {%- else -%}
    select 1
    {%- endif %}
{%- endmacro %}


{% macro replace_ml_scores(scores) -%}
    {#- post-hook of rsk_loan_scores: replace this run's (model version, as-of date) rows in the
        scores table with the model's rows, so a rerun never leaves two rows for one
        (loan, model version, as-of date). -#}
    {%- set columns = ml_scores_columns() | map(attribute=0) | join(', ') -%}
    {%- set run = var('risk_scoring', {}) -%}
    {%- if run and columns -%}
    delete from {{ ml_scores_relation() }}
    where model_version = '{{ run["model_version"] }}'
        and as_of_date = cast('{{ run["as_of_date"] }}' as date);
    insert into {{ ml_scores_relation() }} ({{ columns }})
    select {{ columns }} from {{ scores }}
    {%- else -%}
    select 1
    {%- endif %}
{%- endmacro %}
