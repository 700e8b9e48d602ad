{% macro repayment_outcome_aggregates() -%}
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
