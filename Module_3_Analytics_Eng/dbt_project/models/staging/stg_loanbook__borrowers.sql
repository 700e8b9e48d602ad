with

source as (

    -- the lake file of each row: a real column on DuckDB (read_parquet filename=true), a
    -- pseudo-column on BigQuery external tables that select * would not carry
    select
        *,
        {{ lake_file_name() }} as lake_file_name
    from {{ source('loanbook', 'borrowers') }}

),

renamed as (

    select
        -- ids
        cast(borrower_id as string) as borrower_id,

        -- dates
        cast(created_date as date) as customer_since_date,
        cast(earliest_credit_line as date) as earliest_credit_line_date,

        -- attributes
        cast(birth_year as int64) as birth_year,
        coalesce(cast(region as string), 'unknown') as region,
        cast(home_ownership as string) as home_ownership,
        cast(annual_income as numeric(18, 2)) as annual_income,
        cast(credit_score as int64) as credit_score,

        -- categories
        case
            when credit_score < 580 then 'poor'
            when credit_score < 670 then 'fair'
            when credit_score < 740 then 'good'
            when credit_score < 800 then 'very_good'
            else 'exceptional'
        end as credit_score_band,

        -- lineage
        cast(lake_file_name as string) as source_file_name,
        {{ lake_partition_date('lake_file_name') }} as source_loaded_date

    from source

),

deduplicated as (

    select
        *,
        {{ latest_row_first(['borrower_id'], ['customer_since_date']) }} as copy_rank
    from renamed

)

select
    borrower_id,
    customer_since_date,
    earliest_credit_line_date,
    birth_year,
    region,
    home_ownership,
    annual_income,
    credit_score,
    credit_score_band,
    source_file_name,
    source_loaded_date
from deduplicated
where copy_rank = 1
