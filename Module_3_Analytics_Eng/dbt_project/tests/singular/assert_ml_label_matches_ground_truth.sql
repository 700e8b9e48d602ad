{{ config(severity='warn') }}

-- The ML label (a default instalment observed in the export) must agree with the
-- generator's ground truth observed_default for every loan that has a truth row.
-- A warning, not an error: the truth describes the complete export, so while a day's load is
-- partly delivered (repayments before loan_truth) the two can briefly disagree. The pytest
-- suite requires it to pass on a complete book.
select
    features.loan_id,
    features.default_label,
    truth.is_default_observed
from {{ ref('ml_loan_features') }} as features
inner join {{ ref('stg_loanbook__loan_truth') }} as truth
    on features.loan_id = truth.loan_id
where (features.default_label = 1) != truth.is_default_observed
