{% test non_negative(model, column_name) %}
{#- Rows where a balance, amount or count is negative (nulls pass). -#}

select {{ column_name }} as negative_value
from {{ model }}
where {{ column_name }} < 0

{% endtest %}
