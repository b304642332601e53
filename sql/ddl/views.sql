-- Views for the most common joins, so ad-hoc SQL needs no knowledge of the star's keys.
-- Applied after warehouse.sql on every load (CREATE OR REPLACE): they always match the tables.
-- Each view keeps exactly the rows of the table it extends (LEFT JOINs on full keys, never fan-out),
-- so counting a view's rows counts the base table's. Study columns repeat dim_study's names.

CREATE OR REPLACE VIEW v_study_site AS
SELECT
    b.nct_id,
    b.site_ordinal,
    b.site_id,
    b.site_status,
    s.facility_name,
    s.city,
    s.state,
    s.zip,
    s.country,
    s.country_code,
    s.latitude,
    s.longitude,
    d.brief_title,
    d.phase,
    d.overall_status
FROM bridge_study_site AS b
LEFT JOIN dim_site AS s ON s.site_id = b.site_id
LEFT JOIN dim_study AS d ON d.nct_id = b.nct_id;
COMMENT ON VIEW v_study_site IS 'One row per bridge_study_site row: a study''s listing of a site with the site''s address and the study''s title, phase and status.';
COMMENT ON COLUMN v_study_site.nct_id IS 'Study (dim_study.nct_id).';
COMMENT ON COLUMN v_study_site.site_ordinal IS 'Position of the location in the study''s source, from 1.';
COMMENT ON COLUMN v_study_site.site_id IS 'Site (dim_site.site_id); shared by every study listing the same facility and address.';
COMMENT ON COLUMN v_study_site.site_status IS 'Recruitment status at this site; NULL when not given.';
COMMENT ON COLUMN v_study_site.facility_name IS 'Facility name as written; NULL when the sponsor hides it.';
COMMENT ON COLUMN v_study_site.city IS 'City.';
COMMENT ON COLUMN v_study_site.state IS 'State, province or region.';
COMMENT ON COLUMN v_study_site.zip IS 'Postal code.';
COMMENT ON COLUMN v_study_site.country IS 'Country as the registry names it.';
COMMENT ON COLUMN v_study_site.country_code IS 'ISO 3166-1 alpha-2 code; NULL when the name is not recognised.';
COMMENT ON COLUMN v_study_site.latitude IS 'Latitude of the registry''s geoPoint (a city centroid); NULL when unknown.';
COMMENT ON COLUMN v_study_site.longitude IS 'Longitude of the registry''s geoPoint; NULL when unknown.';
COMMENT ON COLUMN v_study_site.brief_title IS 'Study brief title (dim_study.brief_title).';
COMMENT ON COLUMN v_study_site.phase IS 'Study phase(s) joined by "/"; NA when not applicable, NULL when not given.';
COMMENT ON COLUMN v_study_site.overall_status IS 'Study overall recruitment status (dim_study.overall_status).';

CREATE OR REPLACE VIEW v_study_outcome AS
SELECT
    o.nct_id,
    o.outcome_type,
    o.ordinal,
    o.measure,
    o.time_frame,
    o.time_frame_status,
    o.description,
    d.brief_title,
    d.phase,
    d.overall_status
FROM fact_outcome AS o
LEFT JOIN dim_study AS d ON d.nct_id = o.nct_id;
COMMENT ON VIEW v_study_outcome IS 'One row per fact_outcome row: a registered outcome measure with the study''s title, phase and status.';
COMMENT ON COLUMN v_study_outcome.nct_id IS 'Study (dim_study.nct_id).';
COMMENT ON COLUMN v_study_outcome.outcome_type IS 'PRIMARY, SECONDARY, OTHER, or UNSPECIFIED when the source does not say.';
COMMENT ON COLUMN v_study_outcome.ordinal IS 'Order in the source, from 1 (fact_outcome.ordinal).';
COMMENT ON COLUMN v_study_outcome.measure IS 'Outcome measure title.';
COMMENT ON COLUMN v_study_outcome.time_frame IS 'Time frame as written.';
COMMENT ON COLUMN v_study_outcome.time_frame_status IS 'PARSED (points in fact_outcome_timepoint), UNPARSED, or NULL without a time frame.';
COMMENT ON COLUMN v_study_outcome.description IS 'Outcome description.';
COMMENT ON COLUMN v_study_outcome.brief_title IS 'Study brief title (dim_study.brief_title).';
COMMENT ON COLUMN v_study_outcome.phase IS 'Study phase(s) joined by "/"; NA when not applicable, NULL when not given.';
COMMENT ON COLUMN v_study_outcome.overall_status IS 'Study overall recruitment status (dim_study.overall_status).';

CREATE OR REPLACE VIEW v_study_eligibility AS
SELECT
    e.nct_id,
    e.criterion_type,
    e.ordinal,
    e.parent_ordinal,
    e.depth,
    e.criterion_text,
    e.has_pregnancy_clause,
    e.has_consent_clause,
    e.has_trial_participation_clause,
    e.has_age_limit,
    d.minimum_age_years,
    d.maximum_age_years,
    d.sex,
    d.accepts_healthy_volunteers,
    d.brief_title,
    d.phase,
    d.overall_status
FROM fact_eligibility AS e
LEFT JOIN dim_study AS d ON d.nct_id = e.nct_id;
COMMENT ON VIEW v_study_eligibility IS 'One row per fact_eligibility row: a criterion item with the study''s age limits, sex, healthy-volunteer flag, title, phase and status.';
COMMENT ON COLUMN v_study_eligibility.nct_id IS 'Study (dim_study.nct_id).';
COMMENT ON COLUMN v_study_eligibility.criterion_type IS 'INCLUSION, EXCLUSION, or UNSPECIFIED before/without such a heading.';
COMMENT ON COLUMN v_study_eligibility.ordinal IS 'Order in the criteria text, from 1 (fact_eligibility.ordinal).';
COMMENT ON COLUMN v_study_eligibility.has_pregnancy_clause IS 'Does the item speak of pregnancy, breast-feeding, childbearing potential or contraception?';
COMMENT ON COLUMN v_study_eligibility.has_consent_clause IS 'Does the item speak of informed consent?';
COMMENT ON COLUMN v_study_eligibility.has_trial_participation_clause IS 'Does the item speak of prior or concurrent participation in another trial?';
COMMENT ON COLUMN v_study_eligibility.has_age_limit IS 'Does the item state an age bound (see fact_eligibility_threshold)?';
COMMENT ON COLUMN v_study_eligibility.parent_ordinal IS 'Ordinal of the item this one is nested under; NULL at the top level.';
COMMENT ON COLUMN v_study_eligibility.depth IS 'Nesting depth, 0 at the top level.';
COMMENT ON COLUMN v_study_eligibility.criterion_text IS 'Item text, Markdown escapes removed.';
COMMENT ON COLUMN v_study_eligibility.minimum_age_years IS 'Study minimum age in years; NULL when no limit.';
COMMENT ON COLUMN v_study_eligibility.maximum_age_years IS 'Study maximum age in years; NULL when no limit.';
COMMENT ON COLUMN v_study_eligibility.sex IS 'Sexes eligible: ALL, FEMALE or MALE.';
COMMENT ON COLUMN v_study_eligibility.accepts_healthy_volunteers IS 'Whether healthy volunteers are accepted; NULL when not stated.';
COMMENT ON COLUMN v_study_eligibility.brief_title IS 'Study brief title (dim_study.brief_title).';
COMMENT ON COLUMN v_study_eligibility.phase IS 'Study phase(s) joined by "/"; NA when not applicable, NULL when not given.';
COMMENT ON COLUMN v_study_eligibility.overall_status IS 'Study overall recruitment status (dim_study.overall_status).';

CREATE OR REPLACE VIEW v_study_intervention AS
SELECT
    i.nct_id,
    i.intervention_ordinal,
    i.intervention_type,
    i.intervention_name,
    i.description AS intervention_description,
    i.other_names,
    b.arm_ordinal,
    a.arm_label,
    a.arm_type,
    a.description AS arm_description,
    d.brief_title,
    d.phase,
    d.overall_status
FROM fact_intervention AS i
LEFT JOIN bridge_arm_intervention AS b
    ON b.nct_id = i.nct_id AND b.intervention_ordinal = i.intervention_ordinal
LEFT JOIN fact_arm AS a ON a.nct_id = b.nct_id AND a.arm_ordinal = b.arm_ordinal
LEFT JOIN dim_study AS d ON d.nct_id = i.nct_id;
COMMENT ON VIEW v_study_intervention IS 'Interventions with the arms that receive them: one row per bridge_arm_intervention row, plus one row (arm columns NULL) per intervention no arm names, e.g. in expanded-access studies, which have no arms. Arms receiving no intervention are only in fact_arm.';
COMMENT ON COLUMN v_study_intervention.nct_id IS 'Study (dim_study.nct_id).';
COMMENT ON COLUMN v_study_intervention.intervention_ordinal IS 'Intervention (fact_intervention.intervention_ordinal of the same study).';
COMMENT ON COLUMN v_study_intervention.intervention_type IS 'DRUG, DEVICE, BIOLOGICAL, PROCEDURE, RADIATION, BEHAVIORAL, ... or OTHER.';
COMMENT ON COLUMN v_study_intervention.intervention_name IS 'Intervention name as written.';
COMMENT ON COLUMN v_study_intervention.intervention_description IS 'Intervention description (fact_intervention.description).';
COMMENT ON COLUMN v_study_intervention.other_names IS 'Other names (synonyms, codes) as a list; NULL when none.';
COMMENT ON COLUMN v_study_intervention.arm_ordinal IS 'Arm (fact_arm.arm_ordinal of the same study); NULL when no arm names this intervention.';
COMMENT ON COLUMN v_study_intervention.arm_label IS 'Arm label as written.';
COMMENT ON COLUMN v_study_intervention.arm_type IS 'EXPERIMENTAL, ACTIVE_COMPARATOR, PLACEBO_COMPARATOR, SHAM_COMPARATOR, NO_INTERVENTION or OTHER.';
COMMENT ON COLUMN v_study_intervention.arm_description IS 'Arm description (fact_arm.description).';
COMMENT ON COLUMN v_study_intervention.brief_title IS 'Study brief title (dim_study.brief_title).';
COMMENT ON COLUMN v_study_intervention.phase IS 'Study phase(s) joined by "/"; NA when not applicable, NULL when not given.';
COMMENT ON COLUMN v_study_intervention.overall_status IS 'Study overall recruitment status (dim_study.overall_status).';

CREATE OR REPLACE VIEW v_study_condition AS
WITH condition_mesh AS (
    SELECT
        nct_id,
        lower(mesh_term) AS term_key,
        min(mesh_term) AS mesh_term,
        min(mesh_id) AS mesh_id
    FROM fact_mesh_term
    WHERE mesh_kind = 'CONDITION' AND NOT is_ancestor
    GROUP BY nct_id, lower(mesh_term)
),
study_mesh AS (
    SELECT nct_id, list(mesh_term ORDER BY ordinal) AS mesh_terms
    FROM fact_mesh_term
    WHERE mesh_kind = 'CONDITION' AND NOT is_ancestor
    GROUP BY nct_id
)
SELECT
    c.nct_id,
    c.ordinal,
    c.condition_name,
    m.mesh_term,
    m.mesh_id,
    t.mesh_terms AS study_mesh_terms,
    d.brief_title,
    d.phase,
    d.overall_status
FROM fact_condition AS c
LEFT JOIN condition_mesh AS m ON m.nct_id = c.nct_id AND m.term_key = lower(c.condition_name)
LEFT JOIN study_mesh AS t ON t.nct_id = c.nct_id
LEFT JOIN dim_study AS d ON d.nct_id = c.nct_id;
COMMENT ON VIEW v_study_condition IS 'One row per fact_condition row: a condition as written, the MeSH heading it is when the registry matched that very heading to the study, the study''s condition MeSH terms, and the study''s title, phase and status.';
COMMENT ON COLUMN v_study_condition.nct_id IS 'Study (dim_study.nct_id).';
COMMENT ON COLUMN v_study_condition.ordinal IS 'Order in the source, from 1 (fact_condition.ordinal).';
COMMENT ON COLUMN v_study_condition.condition_name IS 'Condition as written by the sponsor.';
COMMENT ON COLUMN v_study_condition.mesh_term IS 'The study''s condition MeSH heading equal to condition_name (case aside); NULL when the name is not one (the registry links terms to the study, not to each condition).';
COMMENT ON COLUMN v_study_condition.mesh_id IS 'MeSH descriptor id of mesh_term; NULL when no source gave it (legacy XML).';
COMMENT ON COLUMN v_study_condition.study_mesh_terms IS 'All condition MeSH headings the registry matched to the study (not their ancestors), in source order; NULL when none.';
COMMENT ON COLUMN v_study_condition.brief_title IS 'Study brief title (dim_study.brief_title).';
COMMENT ON COLUMN v_study_condition.phase IS 'Study phase(s) joined by "/"; NA when not applicable, NULL when not given.';
COMMENT ON COLUMN v_study_condition.overall_status IS 'Study overall recruitment status (dim_study.overall_status).';

CREATE OR REPLACE VIEW v_study_sponsor AS
SELECT
    f.nct_id,
    f.ordinal,
    f.sponsor_role,
    f.sponsor_name,
    f.sponsor_class,
    d.has_results,
    d.brief_title,
    d.phase,
    d.overall_status
FROM fact_sponsor AS f
LEFT JOIN dim_study AS d ON d.nct_id = f.nct_id;
COMMENT ON VIEW v_study_sponsor IS 'One row per fact_sponsor row: the lead sponsor and collaborators of a study with its results flag, title, phase and status. Classic study pages name no sponsor and have no rows.';
COMMENT ON COLUMN v_study_sponsor.nct_id IS 'Study (dim_study.nct_id).';
COMMENT ON COLUMN v_study_sponsor.ordinal IS 'Lead sponsor first (1), then collaborators in source order.';
COMMENT ON COLUMN v_study_sponsor.sponsor_role IS 'LEAD or COLLABORATOR.';
COMMENT ON COLUMN v_study_sponsor.sponsor_name IS 'Organisation (or person) as written.';
COMMENT ON COLUMN v_study_sponsor.sponsor_class IS 'INDUSTRY, NIH, FED, OTHER_GOV, NETWORK, INDIV, OTHER, ...; NULL when not given.';
COMMENT ON COLUMN v_study_sponsor.has_results IS 'Whether the study has posted results; NULL when the source does not say.';
COMMENT ON COLUMN v_study_sponsor.brief_title IS 'Study brief title (dim_study.brief_title).';
COMMENT ON COLUMN v_study_sponsor.phase IS 'Study phase(s) joined by "/"; NA when not applicable, NULL when not given.';
COMMENT ON COLUMN v_study_sponsor.overall_status IS 'Study overall recruitment status (dim_study.overall_status).';
