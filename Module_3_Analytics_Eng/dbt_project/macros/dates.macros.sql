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


{% macro load_high_water(column='source_loaded_date', relation=none) -%}
    {#- The newest lake load date (the `dt=` partition) already merged into relation: the
        max of its load-date column, looked up at compile time and inlined as a literal
        (1899-12-31 on an empty table). Without a connection (compile --no-introspect, unit
        tests) it stays a subquery. -#}
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


{% macro in_new_load_dates(source_relation, date_column, high_water, relation, source_column=none) -%}
    {#- A predicate: date_column is one of the business dates (due date, issue date) carried by
        the source rows in lake partitions loaded after high_water (source_column: the date's
        name in the source, when the model renamed it). The dates come from the source itself,
        filtered on the file name only, so DuckDB reads just the new `dt=` files (BigQuery:
        _FILE_NAME). Whole days are selected (a day partition on BigQuery is overwritten
        whole). relation is what the model filters (a staging or intermediate view): without a
        connection the predicate asks it for the dates of its rows loaded after high_water. -#}
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
    {#- A predicate: date_column is one of the dates the query returns, looked up at compile
        time and inlined as literals: a constant filter on a column the staging dedupe window
        is partitioned by goes below the window and into the Parquet scan (BigQuery: prunes
        partitions). No date: `false`. Without look_up (no connection: compile
        --no-introspect, unit tests): the fallback predicate, a subquery with the same
        meaning (by default `date_column in (query)`). -#}
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


{% macro is_load_high_water_known(high_water) -%}
    {#- True when load_high_water looked the mark up (a date literal), so compile-time queries
        can run; false offline and in unit tests (a subquery). -#}
    {{ return(execute and flags.INTROSPECT and (high_water | trim).startswith("cast('")) }}
{%- endmacro %}


{% macro max_of(left, right) -%}
    {#- The larger of two values, ignoring a null (DuckDB's greatest skips nulls, BigQuery's
        returns null): null only when both are null. -#}
    case
        when {{ left }} is null then {{ right }}
        when {{ right }} is null or {{ left }} >= {{ right }} then {{ left }}
        else {{ right }}
    end
{%- endmacro %}


{% macro repayment_outcome_aggregates() -%}
    {#- A loan's outcome from its fct_repayments rows, as aggregates over one group by loan_id.
        One definition for the full-history and the new-instalments branches of fct_loans, so
        an incremental run and a full refresh can never compute an outcome differently. -#}
    count(*) as installments_due,
    sum(case when repayment_status = 'default' then 0 else 1 end) as installments_paid,
    sum(case when days_past_due > 15 then 1 else 0 end) as installments_paid_late,
    max(days_past_due) as max_days_past_due,
    sum(amount_paid) as total_amount_paid,
    sum(principal_paid) as total_principal_paid,
    sum(interest_paid) as total_interest_paid,
    max(due_date) as last_due_date,
    max(payment_date) as last_payment_date,
    max(case when is_default_event then due_date end) as default_date,
    max(case when is_default_event then installment_number end) as default_installment,
    max(case when is_prepayment then payment_date end) as prepaid_date,
    {{ value_at_max('balance_after', 'installment_number') }} as outstanding_balance
{%- endmacro %}


{% macro can_look_up(relation) -%}
    {#- True when a compile-time query on relation can run: dbt is executing with a connection
        (not compile --no-introspect) and relation is a table (a unit test's `this` is a
        fixture CTE: nothing to look up). -#}
    {{ return(execute and flags.INTROSPECT and '__dbt__cte__' not in (relation | string)) }}
{%- endmacro %}
