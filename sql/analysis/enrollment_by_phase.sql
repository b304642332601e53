-- name: enrollment_by_phase
-- question: How many participants do trials enrol, by phase, with ACTUAL and ESTIMATED counts kept apart?
-- notes: one row per phase and enrollment_type: ACTUAL counts are what a finished trial enrolled,
--   ESTIMATED ones what an ongoing trial plans, so mixing them would blur both. Quartiles are
--   interpolated (quantile_cont). Trials without an enrollment count are left out. Withdrawn trials
--   report an ACTUAL enrollment of 0, which pulls the minimum and lower quartile down.
SELECT
    phase,
    enrollment_type,
    count(*) AS trials,
    min(enrollment_count) AS min_enrollment,
    quantile_cont(enrollment_count, 0.25) AS q1_enrollment,
    quantile_cont(enrollment_count, 0.5) AS median_enrollment,
    quantile_cont(enrollment_count, 0.75) AS q3_enrollment,
    max(enrollment_count) AS max_enrollment
FROM dim_study
WHERE enrollment_count IS NOT NULL
GROUP BY phase, enrollment_type
ORDER BY phase IS NULL, phase = 'NA', phase, enrollment_type NULLS LAST;
