{#- Where a source row came from (file, load date, which copy is newest), for deduplication
    and lineage. Descriptions: _macros.yml. -#}

{% macro lake_file_name() -%}
    {{ return(adapter.dispatch('lake_file_name', 'loanbook')()) }}
{%- endmacro %}

{% macro default__lake_file_name() -%}
    filename
{%- endmacro %}

{% macro bigquery__lake_file_name() -%}
    _FILE_NAME
{%- endmacro %}


{% macro lake_partition_date(file_column) -%}
    {{ return(adapter.dispatch('lake_partition_date', 'loanbook')(file_column)) }}
{%- endmacro %}

{% macro lake_partition_pattern() -%}
    {#- the runner passes the lake layout's partition key (Module_1_Foundations/common/lake.py) -#}
    {{ return(env_var('HDP_LAKE_PARTITION_KEY', 'dt') ~ '=([0-9]{4}-[0-9]{2}-[0-9]{2})') }}
{%- endmacro %}

{% macro default__lake_partition_date(file_column) -%}
    coalesce(
        try_cast(
            nullif(regexp_extract({{ file_column }}, '{{ lake_partition_pattern() }}', 1), '')
            as date
        ),
        date '1900-01-01'
    )
{%- endmacro %}

{% macro bigquery__lake_partition_date(file_column) -%}
    coalesce(
        safe_cast(regexp_extract({{ file_column }}, r'{{ lake_partition_pattern() }}') as date),
        date '1900-01-01'
    )
{%- endmacro %}


{% macro latest_row_first(key_columns, stable_columns=[]) -%}
    {#- partitioning by the stable columns too changes nothing for consistent data, and lets
        a filter on them (the incremental window) run before the window instead of after it -#}
    row_number() over (
        partition by {{ (key_columns + stable_columns) | join(', ') }}
        order by source_loaded_date desc, source_file_name desc
    )
{%- endmacro %}
