-- name: trials_by_phase_and_status
-- question: How many trials are there per phase and overall status?
-- notes: phase NULL means the source gave none (mostly observational and expanded-access studies);
--   NA means "not applicable" as registered (device, behavioural and other non-drug trials).
--   Combined phases (PHASE1/PHASE2) are their own row. Phases sort early to late, then NA, then NULL.
SELECT
    phase,
    overall_status,
    count(*) AS trials,
    count(*) FILTER (WHERE has_results) AS trials_with_results
FROM dim_study
GROUP BY phase, overall_status
ORDER BY phase IS NULL, phase = 'NA', phase, trials DESC, overall_status;
