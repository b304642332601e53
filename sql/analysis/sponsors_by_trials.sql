-- name: sponsors_by_trials
-- question: Which sponsors (name and class) lead the most trials, and how many do they support as collaborators?
-- notes: a sponsor is its name as written plus its class (INDUSTRY, NIH, FED, OTHER, ...), so spelling
--   variants of one organisation ("Medtronic", "Medtronic Cardiac Rhythm and Heart Failure") stay
--   apart. Classic study pages name no sponsor: those trials are absent here (dim_study.lead_sponsor_name
--   is NULL for them). lead_trials_with_results counts led trials that posted results.
SELECT
    f.sponsor_name,
    f.sponsor_class,
    count(DISTINCT f.nct_id) FILTER (WHERE f.sponsor_role = 'LEAD') AS lead_trials,
    count(DISTINCT f.nct_id) FILTER (WHERE f.sponsor_role = 'COLLABORATOR') AS collaborator_trials,
    count(DISTINCT f.nct_id) FILTER (WHERE f.sponsor_role = 'LEAD' AND d.has_results)
        AS lead_trials_with_results
FROM fact_sponsor AS f
LEFT JOIN dim_study AS d USING (nct_id)
GROUP BY f.sponsor_name, f.sponsor_class
ORDER BY lead_trials DESC, collaborator_trials DESC, f.sponsor_name, f.sponsor_class NULLS LAST;
