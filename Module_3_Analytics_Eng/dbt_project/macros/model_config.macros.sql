{#- Model configuration that differs by warehouse, for config() blocks. Descriptions:
    _macros.yml. -#}

{% macro cluster_columns(columns) -%}
    {{ return(adapter.dispatch('cluster_columns', 'loanbook')(columns)) }}
{%- endmacro %}

{% macro default__cluster_columns(columns) -%}
    {{ return(none) }}
{%- endmacro %}

{% macro bigquery__cluster_columns(columns) -%}
    {{ return(columns) }}
{%- endmacro %}


{% macro date_partition(field, granularity) -%}
    {{ return(adapter.dispatch('date_partition', 'loanbook')(field, granularity)) }}
{%- endmacro %}

{% macro default__date_partition(field, granularity) -%}
    {{ return(none) }}
{%- endmacro %}

{% macro bigquery__date_partition(field, granularity) -%}
    {{ return({'field': field, 'data_type': 'date', 'granularity': granularity}) }}
{%- endmacro %}


{% macro replace_strategy(unit) -%}
    {{ return(adapter.dispatch('replace_strategy', 'loanbook')(unit)) }}
{%- endmacro %}

{% macro default__replace_strategy(unit) -%}
    {#- a filter on the key column deletes the stored rows: no join against every row -#}
    {{ return('delete+insert') }}
{%- endmacro %}

{% macro bigquery__replace_strategy(unit) -%}
    {{ return({'partition': 'insert_overwrite', 'key': 'merge'}[unit]) }}
{%- endmacro %}
