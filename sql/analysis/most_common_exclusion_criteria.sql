-- name: most_common_exclusion_criteria
-- question: Which exclusion criteria do the most trials share?
-- notes: criterion texts are normalised lightly: lower-cased, runs of white space folded to one space,
--   trimmed, and trailing punctuation (. ; , : -) dropped, so "Pregnancy." and "pregnancy" meet; wording
--   differences beyond that are not merged. trials counts distinct studies, items counts criterion items
--   (a study may repeat one, e.g. under two sub-studies). Nested items count like top-level ones.
WITH normalised AS (
    SELECT
        nct_id,
        rtrim(trim(regexp_replace(lower(criterion_text), '\s+', ' ', 'g')), ' .;,:-') AS criterion
    FROM fact_eligibility
    WHERE criterion_type = 'EXCLUSION'
)
SELECT
    criterion,
    count(DISTINCT nct_id) AS trials,
    count(*) AS items
FROM normalised
GROUP BY criterion
ORDER BY trials DESC, items DESC, criterion;
