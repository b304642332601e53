-- name: eligibility_age_ranges
-- question: Which age ranges do trials admit (minimum and maximum age in years)?
-- notes: NULL means no limit on that side ("N/A", "and older") or an age the source does not state;
--   minimum_age_raw / maximum_age_raw in dim_study keep the wording. Ages given in months, weeks or days
--   are converted to (fractional) years, so "3 Months" shows as 0.25. admits_children: the minimum age is
--   below 18 years (NULL when there is no minimum).
SELECT
    minimum_age_years,
    maximum_age_years,
    minimum_age_years < 18 AS admits_children,
    count(*) AS trials
FROM dim_study
GROUP BY minimum_age_years, maximum_age_years
ORDER BY trials DESC, minimum_age_years NULLS LAST, maximum_age_years NULLS LAST;
