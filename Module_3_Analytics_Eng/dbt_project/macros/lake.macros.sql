{#- Where a source row came from, for deduplication and lineage. -#}

{% macro lake_file_name() -%}
    {#- DuckDB: the column read_parquet(..., filename=true) adds; BigQuery: the external
        table's pseudo-column. -#}
    {%- if target.type == 'bigquery' -%} _FILE_NAME {%- else -%} filename {%- endif -%}
{%- endmacro %}


{% macro lake_partition_date(file_column) -%}
    {#- The load date of a Hive partition folder (.../dt=YYYY-MM-DD/...), or 1900-01-01 for
        files written outside a dated partition (the initial full load). -#}
    {%- if target.type == 'bigquery' -%}
        coalesce(
            safe_cast(regexp_extract({{ file_column }}, r'dt=([0-9]{4}-[0-9]{2}-[0-9]{2})') as date),
            date '1900-01-01'
        )
    {%- else -%}
        coalesce(
            try_cast(
                nullif(regexp_extract({{ file_column }}, 'dt=([0-9]{4}-[0-9]{2}-[0-9]{2})', 1), '')
                as date
            ),
            date '1900-01-01'
        )
    {%- endif -%}
{%- endmacro %}


{% macro latest_row_first(key_columns, stable_columns=[]) -%}
    {#- Window that ranks the copies of one key: the newest load first, then the file name,
        so a late correction in a newer partition wins and exact duplicates collapse.
        stable_columns are functionally determined by the key (an instalment's due date):
        partitioning by them too changes nothing for consistent data, and lets a filter on
        them (the incremental window) run before the window instead of after it. A copy that
        changed a stable column would survive as a second row: the unique tests catch it. -#}
    row_number() over (
        partition by {{ (key_columns + stable_columns) | join(', ') }}
        order by source_loaded_date desc, source_file_name desc
    )
{%- endmacro %}
