{% macro date_spine_days(start_date, end_date) -%}
    {#- One row per calendar day from start_date to end_date (inclusive), column date_day.
        Unlike dbt.date_spine it runs no query at compile time, so the BigQuery target
        compiles offline. -#}
    {%- if target.type == 'bigquery' -%}
        select date_day
        from unnest(generate_date_array({{ start_date }}, {{ end_date }})) as date_day
    {%- else -%}
        select cast(generated.range as date) as date_day
        from range(
            cast({{ start_date }} as timestamp),
            cast({{ end_date }} as timestamp) + interval 1 day,
            interval 1 day
        ) as generated (range)
    {%- endif -%}
{%- endmacro %}


{% macro month_start(date_expression) -%}
    cast({{ dbt.date_trunc('month', date_expression) }} as date)
{%- endmacro %}


{% macro incremental_cutoff(date_column, relation=none, where=none) -%}
    {#- The first date an incremental run reprocesses: the high-water mark of date_column in
        the existing table minus the lookback window (var incremental_lookback_days).
        Looked up once at compile time and inlined as a date literal, so the filter is a
        constant: DuckDB pushes it below the staging views' deduplication window and into the
        Parquet scan, BigQuery prunes partitions at plan time. Without a connection
        (compile --no-introspect) it stays a subquery. -#}
    {%- set relation = relation if relation is not none else this -%}
    {%- set lookback = var('incremental_lookback_days') | int -%}
    {#- (a unit test's `this` is a fixture CTE: no table to look up) -#}
    {%- if execute and flags.INTROSPECT and '__dbt__cte__' not in (relation | string) -%}
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


{% macro safe_ratio(numerator, denominator, scale=6) -%}
    cast(
        round(
            case
                when {{ denominator }} = 0 then null
                else cast({{ numerator }} as numeric) / cast({{ denominator }} as numeric)
            end,
            {{ scale }}
        ) as numeric(18, {{ scale }})
    )
{%- endmacro %}


{% macro value_at_max(value_column, order_column) -%}
    {#- The value of value_column on the row with the largest order_column, as an aggregate
        (no window, no self-join): DuckDB arg_max, BigQuery array_agg ... limit 1. -#}
    {%- if target.type == 'bigquery' -%}
        array_agg({{ value_column }} order by {{ order_column }} desc limit 1)[offset(0)]
    {%- else -%}
        arg_max({{ value_column }}, {{ order_column }})
    {%- endif -%}
{%- endmacro %}
