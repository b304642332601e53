-- name: conditions_by_mesh_term
-- question: Which conditions (as MeSH headings) do the most trials study?
-- notes: from the MeSH terms the registry derived for each trial's conditions (fact_mesh_term), which,
--   unlike the conditions as written, are one vocabulary across sponsors. direct_trials counts trials
--   matched to the heading itself, ancestor_trials those reaching it only as a broader ancestor of their
--   own term (e.g. "Neoplasms" above "Lung Neoplasms"), so direct_trials + ancestor_trials = trials.
--   mesh_id is NULL where no source gave the id (legacy XML gives headings only). Classic study pages
--   have no MeSH terms and so no row here.
WITH per_trial AS (
    SELECT mesh_term, nct_id, bool_or(NOT is_ancestor) AS is_direct, max(mesh_id) AS mesh_id
    FROM fact_mesh_term
    WHERE mesh_kind = 'CONDITION'
    GROUP BY mesh_term, nct_id
)
SELECT
    mesh_term,
    max(mesh_id) AS mesh_id,
    count(*) AS trials,
    count(*) FILTER (WHERE is_direct) AS direct_trials,
    count(*) FILTER (WHERE NOT is_direct) AS ancestor_trials
FROM per_trial
GROUP BY mesh_term
ORDER BY trials DESC, direct_trials DESC, mesh_term;
