{#- Incremental runs driven by the lake's load partitions: what a model has merged so far is
    the newest load date it stores (its high-water mark); a run takes the source rows of newer
    loads and the business dates (due dates, issue dates) they carry. Descriptions:
    _macros.yml. -#}

{% macro load_high_water(column='source_loaded_date', relation=none) -%}
    {%- set relation = relation if relation is not none else this -%}
    {%- if can_look_up(relation) -%}
        {%- set high_water = run_query(
            'select max(' ~ column ~ ') from ' ~ relation
        ).columns[0].values()[0] -%}
        {%- if high_water is none -%}
            cast('1899-12-31' as date)
        {%- else -%}
            cast('{{ high_water.isoformat()[:10] }}' as date)
        {%- endif -%}
    {%- else -%}
        (select coalesce(max({{ column }}), cast('1899-12-31' as date)) from {{ relation }})
    {%- endif -%}
{%- endmacro %}


{% macro is_load_high_water_known(high_water) -%}
    {{ return(execute and flags.INTROSPECT and (high_water | trim).startswith("cast('")) }}
{%- endmacro %}


{% macro in_new_load_dates(source_relation, date_column, high_water, relation, source_column=none) -%}
    {#- the dates come from the source itself, filtered on the file name only, so DuckDB
        reads just the new partition files (BigQuery: _FILE_NAME) -#}
    {%- set query -%}
        select distinct cast({{ source_column or date_column }} as date)
        from {{ source_relation }}
        where {{ lake_partition_date(lake_file_name()) }} > {{ high_water }}
    {%- endset -%}
    {%- set fallback -%}
        {{ date_column }} in (
            select {{ date_column }} from {{ relation }} where source_loaded_date > {{ high_water }}
        )
    {%- endset -%}
    {{ in_looked_up_dates(date_column, query, is_load_high_water_known(high_water), fallback) }}
{%- endmacro %}


{% macro in_looked_up_dates(date_column, query, look_up, fallback=none) -%}
    {#- literals, not a subquery: a constant filter on a column the staging dedupe window is
        partitioned by goes below the window and into the Parquet scan -#}
    {%- if look_up -%}
        {%- set dates = run_query(query ~ ' order by 1').columns[0].values()
            | reject('none') | list -%}
        {%- if dates | length == 0 -%}
            false
        {%- elif dates | length > 62 -%}
            {{ date_column }} >= cast('{{ dates[0].isoformat()[:10] }}' as date)
        {%- else -%}
            {{ date_column }} in (
                {%- for day in dates -%}
                    cast('{{ day.isoformat()[:10] }}' as date){{ ', ' if not loop.last }}
                {%- endfor -%}
            )
        {%- endif -%}
    {%- elif fallback is not none -%}
        {{ fallback }}
    {%- else -%}
        {{ date_column }} in ({{ query }})
    {%- endif -%}
{%- endmacro %}


{% macro can_look_up(relation) -%}
    {#- a unit test's `this` is a fixture CTE: nothing to look up -#}
    {{ return(execute and flags.INTROSPECT and '__dbt__cte__' not in (relation | string)) }}
{%- endmacro %}
