with

source as (

    -- the lake file of each row: a real column on DuckDB (read_parquet filename=true), a
    -- pseudo-column on BigQuery external tables that select * would not carry
    select
        *,
        {{ lake_file_name() }} as lake_file_name
    from {{ source('loanbook', 'loans') }}

),

renamed as (

    select
        -- ids
        cast(loan_id as string) as loan_id,
        cast(borrower_id as string) as borrower_id,

        -- dates
        cast(application_date as date) as application_date,
        cast(issue_date as date) as issue_date,
        {{ month_start('cast(issue_date as date)') }} as issue_month,

        -- terms (money and percentages as exact decimals: sums never drift)
        cast(loan_amount as numeric(18, 2)) as loan_amount,
        cast(term_months as int64) as term_months,
        cast(interest_rate as numeric(18, 2)) as interest_rate_pct,
        cast(installment as numeric(18, 2)) as installment_amount,

        -- underwriting attributes
        cast(grade as string) as grade,
        coalesce(cast(purpose as string), 'unknown') as purpose,
        cast(annual_income as numeric(18, 2)) as annual_income,
        cast(employment_length as string) as employment_length,
        cast(debt_to_income as numeric(18, 2)) as debt_to_income_pct,
        cast(credit_history_months as int64) as credit_history_months,
        cast(delinquencies_2y as int64) as delinquencies_2y,
        cast(region as string) as region,

        -- categories
        case cast(employment_length as string)
            when '< 1 year' then 0
            when '10+ years' then 10
            -- 'N years' -> N; null stays null
            else cast({{ dbt.split_part('employment_length', "' '", 1) }} as int64)
        end as employment_years,
        cast(term_months as int64) = 60 as is_long_term,

        -- lineage
        cast(lake_file_name as string) as source_file_name,
        {{ lake_partition_date('lake_file_name') }} as source_loaded_date

    from source

),

deduplicated as (

    select
        *,
        {{ latest_row_first(['loan_id'], ['issue_date']) }} as copy_rank
    from renamed

)

select
    loan_id,
    borrower_id,
    application_date,
    issue_date,
    issue_month,
    loan_amount,
    term_months,
    interest_rate_pct,
    installment_amount,
    grade,
    purpose,
    annual_income,
    employment_length,
    debt_to_income_pct,
    credit_history_months,
    delinquencies_2y,
    region,
    employment_years,
    is_long_term,
    source_file_name,
    source_loaded_date
from deduplicated
where copy_rank = 1
