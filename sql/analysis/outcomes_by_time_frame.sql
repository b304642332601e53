-- name: outcomes_by_time_frame
-- question: How far out are outcomes measured, bucketed by each outcome's latest time point?
-- notes: an outcome's latest time point is the largest day (day_high of a window, else day_low) that
--   fact_outcome_timepoint parsed from its time frame, e.g. "Day 1 to Day 21" -> 21 days. Bucket limits
--   are 7, 31, 92 and 366 days, so "1 month", "3 months" and "12 months" fall in their own bucket however
--   many days a month is reckoned. "unparsed": a time frame was given but no time point could be read
--   ("Baseline", "end of study"); "no time frame": the source gave none. Every outcome counts exactly
--   once; trials counts studies with at least one outcome in the bucket.
WITH latest AS (
    SELECT nct_id, outcome_ordinal, max(coalesce(day_high, day_low)) AS latest_day
    FROM fact_outcome_timepoint
    GROUP BY nct_id, outcome_ordinal
),
bucketed AS (
    SELECT
        o.nct_id,
        o.outcome_type,
        CASE
            WHEN o.time_frame_status IS NULL THEN 6
            WHEN l.latest_day IS NULL THEN 5
            WHEN l.latest_day <= 7 THEN 0
            WHEN l.latest_day <= 31 THEN 1
            WHEN l.latest_day <= 92 THEN 2
            WHEN l.latest_day <= 366 THEN 3
            ELSE 4
        END AS bucket_order
    FROM fact_outcome AS o
    LEFT JOIN latest AS l ON l.nct_id = o.nct_id AND l.outcome_ordinal = o.ordinal
)
SELECT
    ['<= 7 days', '<= 1 month', '<= 3 months', '<= 1 year', '> 1 year', 'unparsed', 'no time frame'][
        bucket_order + 1
    ] AS time_frame_bucket,
    count(*) AS outcomes,
    count(*) FILTER (WHERE outcome_type = 'PRIMARY') AS primary_outcomes,
    count(DISTINCT nct_id) AS trials
FROM bucketed
GROUP BY bucket_order
ORDER BY bucket_order;
