{% macro date_spine_days(start_date, end_date) -%}
    {{ return(adapter.dispatch('date_spine_days', 'loanbook')(start_date, end_date)) }}
{%- endmacro %}

{% macro default__date_spine_days(start_date, end_date) -%}
    select cast(generated.range as date) as date_day
    from range(
        cast({{ start_date }} as timestamp),
        cast({{ end_date }} as timestamp) + interval 1 day,
        interval 1 day
    ) as generated (range)
{%- endmacro %}

{% macro bigquery__date_spine_days(start_date, end_date) -%}
    select date_day
    from unnest(generate_date_array({{ start_date }}, {{ end_date }})) as date_day
{%- endmacro %}


{% macro month_start(date_expression) -%}
    cast({{ dbt.date_trunc('month', date_expression) }} as date)
{%- endmacro %}
