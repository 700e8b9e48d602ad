{% macro is_incremental() %}
    {#- dbt's own is_incremental, plus one case: `dbt compile --no-introspect` (the offline
        BigQuery check) has no connection, so the relation cannot be looked up. There the
        answer comes from var offline_compile_incremental (default false = the full build's SQL;
        true = the incremental branch). -#}
    {% if not execute %}
        {{ return(False) }}
    {% elif not flags.INTROSPECT %}
        {{ return(var('offline_compile_incremental', false)
                  and model.config.materialized == 'incremental') }}
    {% else %}
        {% set relation = adapter.get_relation(this.database, this.schema, this.table) %}
        {{ return(relation is not none
                  and relation.type == 'table'
                  and model.config.materialized == 'incremental'
                  and not should_full_refresh()) }}
    {% endif %}
{% endmacro %}
