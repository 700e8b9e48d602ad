with

source as (

    -- the lake file of each row: a real column on DuckDB (read_parquet filename=true), a
    -- pseudo-column on BigQuery external tables that select * would not carry
    select
        *,
        {{ lake_file_name() }} as lake_file_name
    from {{ source('loanbook', 'loan_truth') }}

),

renamed as (

    select
        cast(loan_id as string) as loan_id,
        cast(true_pd as numeric(18, 6)) as true_pd,
        cast(true_pd_by_as_of as numeric(18, 6)) as true_pd_by_as_of,
        cast(will_default as int64) = 1 as will_default,
        cast(default_installment as int64) as default_installment,
        cast(observed_default as int64) = 1 as is_default_observed,
        cast(lake_file_name as string) as source_file_name,
        {{ lake_partition_date('lake_file_name') }} as source_loaded_date
    from source

),

deduplicated as (

    select
        *,
        {{ latest_row_first(['loan_id']) }} as copy_rank
    from renamed

)

select
    loan_id,
    true_pd,
    true_pd_by_as_of,
    will_default,
    default_installment,
    is_default_observed,
    source_file_name,
    source_loaded_date
from deduplicated
where copy_rank = 1
