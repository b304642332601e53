-- name: results_by_sponsor_class
-- question: What share of finished trials posted results, by lead sponsor class?
-- notes: finished means overall status COMPLETED or TERMINATED (the statuses after which results are
--   due); withdrawn trials never enrolled and are left out. A NULL class means the source named no
--   sponsor class (classic study pages name no sponsor at all). share_with_results is a fraction (0-1);
--   trials whose source does not say whether results are posted count as without.
SELECT
    lead_sponsor_class,
    count(*) AS finished_trials,
    count(*) FILTER (WHERE has_results) AS with_results,
    round(count(*) FILTER (WHERE has_results) / count(*), 2) AS share_with_results
FROM dim_study
WHERE overall_status IN ('COMPLETED', 'TERMINATED')
GROUP BY lead_sponsor_class
ORDER BY finished_trials DESC, lead_sponsor_class NULLS LAST;
