{#- Portable SQL expressions: one spelling in the models, the warehouse's own in the SQL. -#}

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


{% macro max_of(left, right) -%}
    {#- not greatest(): DuckDB's skips nulls, BigQuery's returns null -#}
    case
        when {{ left }} is null then {{ right }}
        when {{ right }} is null or {{ left }} >= {{ right }} then {{ left }}
        else {{ right }}
    end
{%- endmacro %}


{% macro sum_of(left, right) -%}
    {#- what sum() gives over the union of two groups: null only when both are null -#}
    coalesce({{ left }} + {{ right }}, {{ left }}, {{ right }})
{%- endmacro %}


{% macro value_at_max(value_column, order_column) -%}
    {{ return(adapter.dispatch('value_at_max', 'loanbook')(value_column, order_column)) }}
{%- endmacro %}

{% macro default__value_at_max(value_column, order_column) -%}
    arg_max({{ value_column }}, {{ order_column }})
{%- endmacro %}

{% macro bigquery__value_at_max(value_column, order_column) -%}
    array_agg({{ value_column }} order by {{ order_column }} desc limit 1)[offset(0)]
{%- endmacro %}
