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


{% macro incremental_cutoff(date_column, relation=none) -%}
    {#- The first date an incremental run reprocesses: the high-water mark of date_column in
        the existing table minus the lookback window (var incremental_lookback_days). -#}
    (
        select cast(
            {{ dbt.dateadd('day', -1 * var('incremental_lookback_days'), 'max(' ~ date_column ~ ')') }}
            as date
        )
        from {{ relation if relation is not none else this }}
    )
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
