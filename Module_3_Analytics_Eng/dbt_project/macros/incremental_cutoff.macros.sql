{% macro incremental_cutoff(date_column, relation=none, where=none) -%}
    {#- a literal, not a subquery: DuckDB pushes the constant filter into the scans, BigQuery
        prunes partitions at plan time. Description: _macros.yml. -#}
    {%- set relation = relation if relation is not none else this -%}
    {%- set lookback = var('incremental_lookback_days') | int -%}
    {%- if can_look_up(relation) -%}
        {%- set result = run_query(
            'select max(' ~ date_column ~ ') from ' ~ relation
            ~ (' where ' ~ where if where else '')
        ) -%}
        {%- set high_water = result.columns[0].values()[0] -%}
        {%- if high_water is none -%}
            cast('1900-01-01' as date)
        {%- else -%}
            cast('{{ (high_water - modules.datetime.timedelta(days=lookback)).isoformat() }}' as date)
        {%- endif -%}
    {%- else -%}
        (
            select cast(
                {{ dbt.dateadd('day', -1 * lookback, 'max(' ~ date_column ~ ')') }}
                as date
            )
            from {{ relation }}
            {%- if where %} where {{ where }}{% endif %}
        )
    {%- endif -%}
{%- endmacro %}
