with

source as (

    -- the lake file of each row: a real column on DuckDB (read_parquet filename=true), a
    -- pseudo-column on BigQuery external tables that select * would not carry
    select
        *,
        {{ lake_file_name() }} as lake_file_name
    from {{ source('loanbook', 'repayments') }}

),

renamed as (

    select
        -- ids
        concat(
            cast(loan_id as string), '-', cast(cast(installment_number as int64) as string)
        ) as repayment_id,
        cast(loan_id as string) as loan_id,
        cast(installment_number as int64) as installment_number,

        -- dates
        cast(due_date as date) as due_date,
        cast(payment_date as date) as payment_date,

        -- amounts
        cast(amount_due as numeric(18, 2)) as amount_due,
        cast(amount_paid as numeric(18, 2)) as amount_paid,
        cast(principal_paid as numeric(18, 2)) as principal_paid,
        cast(interest_paid as numeric(18, 2)) as interest_paid,
        cast(balance_after as numeric(18, 2)) as balance_after,

        -- status and its categories
        lower(trim(cast(status as string))) as repayment_status,
        lower(trim(cast(status as string))) = 'default' as is_default_event,
        lower(trim(cast(status as string))) = 'prepaid' as is_prepayment,
        case
            when payment_date is null then null
            when cast(payment_date as date) <= cast(due_date as date) then 0
            else {{ dbt.datediff('cast(due_date as date)', 'cast(payment_date as date)', 'day') }}
        end as days_past_due,

        -- lineage
        cast(lake_file_name as string) as source_file_name,
        {{ lake_partition_date('lake_file_name') }} as source_loaded_date

    from source

),

deduplicated as (

    select
        *,
        {{ latest_row_first(['loan_id', 'installment_number'], ['due_date']) }} as copy_rank
    from renamed

)

select
    repayment_id,
    loan_id,
    installment_number,
    due_date,
    payment_date,
    amount_due,
    amount_paid,
    principal_paid,
    interest_paid,
    balance_after,
    repayment_status,
    is_default_event,
    is_prepayment,
    days_past_due,
    source_file_name,
    source_loaded_date
from deduplicated
where copy_rank = 1
