-- name: results_overdue
-- question: Which studies passed their primary completion date over a year ago without posting results?
-- notes: relative to current_date, so the list grows as time passes. A primary completion date that is
--   still ESTIMATED but lies in the past is kept (primary_completion_date_type says which): such a record
--   has not been updated since, which is itself worth chasing. Left out: withdrawn studies (no
--   participants, nothing to report), expanded-access programmes (they post no results), studies
--   without a primary completion date, and studies whose source does not say whether results are posted
--   (has_results NULL). Posting results is required only for some trials (e.g. US FDAAA applicable
--   trials), so read this as a follow-up list, not a list of violations. Partial dates are stored at the
--   first day of their month or year.
SELECT
    nct_id,
    brief_title,
    overall_status,
    phase,
    lead_sponsor_name,
    lead_sponsor_class,
    primary_completion_date,
    primary_completion_date_type,
    current_date - primary_completion_date AS days_since_primary_completion
FROM dim_study
WHERE NOT has_results
    AND overall_status IS DISTINCT FROM 'WITHDRAWN'
    AND study_type IS DISTINCT FROM 'EXPANDED_ACCESS'
    AND primary_completion_date < current_date - INTERVAL 1 YEAR
ORDER BY primary_completion_date, nct_id;
