-- name: recruitment_status_changes
-- question: When did each study's overall status change, from what to what?
-- notes: read from dim_study_history (one version per change of a study's status attributes); versions
--   that changed other attributes but kept the status are merged into one stretch of that status.
--   changed_on is the valid_from of the first version with the new status (the registry's
--   last-update-posted date of the record that brought it, or the load date when the record has none),
--   from_status_since when the previous status began. The history only knows versions the warehouse
--   loaded: a status held between two loads is never seen, and a study loaded once has no transitions.
WITH marked AS (
    SELECT
        nct_id,
        valid_from,
        overall_status,
        lag(overall_status) OVER (PARTITION BY nct_id ORDER BY valid_from) AS previous_status,
        row_number() OVER (PARTITION BY nct_id ORDER BY valid_from) AS version
    FROM dim_study_history
),
stretches AS (
    SELECT
        nct_id,
        valid_from,
        overall_status,
        lag(overall_status) OVER (PARTITION BY nct_id ORDER BY valid_from) AS from_status,
        lag(valid_from) OVER (PARTITION BY nct_id ORDER BY valid_from) AS from_status_since
    FROM marked
    WHERE version = 1 OR overall_status IS DISTINCT FROM previous_status
)
SELECT
    nct_id,
    from_status,
    overall_status AS to_status,
    from_status_since,
    valid_from AS changed_on,
    valid_from - from_status_since AS days_in_from_status
FROM stretches
WHERE from_status_since IS NOT NULL
ORDER BY changed_on, nct_id;
