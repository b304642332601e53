-- trials-warehouse: the star schema. Applied idempotently before every load.
-- Dimensions and bookkeeping tables declare PRIMARY KEYs. The fact and bridge tables (millions of
-- rows at registry scale) state their key in a comment instead: a DuckDB index must fit in memory
-- and a load's new index entries are merged at COMMIT, which ran out of memory at 100,000 studies.
-- Their keys are unique by construction (one version of a study is written, whole), checked per
-- batch by the pandera models and, for the studies each load wrote, by the warehouse_invariants
-- check. Relationships are documented here and checked by the pandera models and tests (DuckDB
-- foreign keys would block the per-study delete + insert).
-- Enumerated values are the ClinicalTrials.gov API v2 spellings (COMPLETED, PHASE2, ...).
-- Partial dates: a *_date column holds the first day of the month or year the source gave,
-- and *_date_precision says how much was given (day | month | year).

CREATE TABLE IF NOT EXISTS dim_study (
    nct_id VARCHAR PRIMARY KEY,
    brief_title VARCHAR,
    official_title VARCHAR,
    acronym VARCHAR,
    org_study_id VARCHAR,
    organization_name VARCHAR,
    overall_status VARCHAR,
    last_known_status VARCHAR,
    why_stopped VARCHAR,
    study_type VARCHAR,
    is_patient_registry BOOLEAN,
    phase VARCHAR,
    enrollment_count BIGINT,
    enrollment_type VARCHAR,
    allocation VARCHAR,
    intervention_model VARCHAR,
    intervention_model_description VARCHAR,
    observational_model VARCHAR,
    time_perspective VARCHAR,
    masking VARCHAR,
    who_masked VARCHAR,
    masking_description VARCHAR,
    primary_purpose VARCHAR,
    start_date DATE,
    start_date_precision VARCHAR,
    start_date_type VARCHAR,
    primary_completion_date DATE,
    primary_completion_date_precision VARCHAR,
    primary_completion_date_type VARCHAR,
    completion_date DATE,
    completion_date_precision VARCHAR,
    completion_date_type VARCHAR,
    first_submitted_date DATE,
    first_posted_date DATE,
    first_posted_date_precision VARCHAR,
    first_posted_date_type VARCHAR,
    last_update_submitted_date DATE,
    last_update_posted_date DATE,
    last_update_posted_date_precision VARCHAR,
    last_update_posted_date_type VARCHAR,
    results_first_posted_date DATE,
    results_first_posted_date_precision VARCHAR,
    results_first_posted_date_type VARCHAR,
    status_verified_date DATE,
    status_verified_date_precision VARCHAR,
    minimum_age_years DOUBLE,
    maximum_age_years DOUBLE,
    minimum_age_raw VARCHAR,
    maximum_age_raw VARCHAR,
    sex VARCHAR,
    std_ages VARCHAR,
    accepts_healthy_volunteers BOOLEAN,
    lead_sponsor_name VARCHAR,
    lead_sponsor_class VARCHAR,
    responsible_party_type VARCHAR,
    responsible_party_name VARCHAR,
    has_dmc BOOLEAN,
    is_fda_regulated_drug BOOLEAN,
    is_fda_regulated_device BOOLEAN,
    has_results BOOLEAN,
    title_line_raw VARCHAR,
    is_criteria_nesting_inferred BOOLEAN,
    source_format VARCHAR,
    source_uri VARCHAR,
    record_hash VARCHAR,
    loaded_at TIMESTAMP WITH TIME ZONE,
    pipeline_version VARCHAR
);
COMMENT ON TABLE dim_study IS 'One row per study (the version with the latest last-update-posted date seen).';
COMMENT ON COLUMN dim_study.nct_id IS 'ClinicalTrials.gov identifier, e.g. NCT04361942. Key.';
COMMENT ON COLUMN dim_study.brief_title IS 'Brief (public) title.';
COMMENT ON COLUMN dim_study.official_title IS 'Official scientific title.';
COMMENT ON COLUMN dim_study.acronym IS 'Study acronym; NULL when the source does not distinguish one.';
COMMENT ON COLUMN dim_study.org_study_id IS 'The sponsor''s own study identifier (first "Other Study ID").';
COMMENT ON COLUMN dim_study.organization_name IS 'Organization that registered the study (API v2 identificationModule.organization).';
COMMENT ON COLUMN dim_study.overall_status IS 'Recruitment status: RECRUITING, COMPLETED, ACTIVE_NOT_RECRUITING, UNKNOWN, WITHDRAWN, ...';
COMMENT ON COLUMN dim_study.last_known_status IS 'Status before it became UNKNOWN, when given.';
COMMENT ON COLUMN dim_study.why_stopped IS 'Reason a study was stopped, suspended or withdrawn, as written.';
COMMENT ON COLUMN dim_study.study_type IS 'INTERVENTIONAL, OBSERVATIONAL or EXPANDED_ACCESS.';
COMMENT ON COLUMN dim_study.is_patient_registry IS 'Observational study that is a patient registry; NULL when not stated.';
COMMENT ON COLUMN dim_study.phase IS 'Phases joined by "/", e.g. PHASE2 or PHASE1/PHASE2; NA when not applicable.';
COMMENT ON COLUMN dim_study.enrollment_count IS 'Number of participants (actual or estimated, see enrollment_type).';
COMMENT ON COLUMN dim_study.enrollment_type IS 'ACTUAL or ESTIMATED; NULL when the source does not say.';
COMMENT ON COLUMN dim_study.allocation IS 'RANDOMIZED, NON_RANDOMIZED or NA.';
COMMENT ON COLUMN dim_study.intervention_model IS 'PARALLEL, SINGLE_GROUP, CROSSOVER, FACTORIAL or SEQUENTIAL.';
COMMENT ON COLUMN dim_study.intervention_model_description IS 'Free-text description of the intervention model.';
COMMENT ON COLUMN dim_study.observational_model IS 'Observational studies: COHORT, CASE_CONTROL, CASE_ONLY, ...';
COMMENT ON COLUMN dim_study.time_perspective IS 'Observational studies: PROSPECTIVE, RETROSPECTIVE, CROSS_SECTIONAL, OTHER.';
COMMENT ON COLUMN dim_study.masking IS 'NONE, SINGLE, DOUBLE, TRIPLE or QUADRUPLE.';
COMMENT ON COLUMN dim_study.who_masked IS 'Masked roles joined by "/", e.g. PARTICIPANT/CARE_PROVIDER/INVESTIGATOR.';
COMMENT ON COLUMN dim_study.masking_description IS 'Free-text description of the masking.';
COMMENT ON COLUMN dim_study.primary_purpose IS 'TREATMENT, PREVENTION, DIAGNOSTIC, SUPPORTIVE_CARE, ...';
COMMENT ON COLUMN dim_study.start_date IS 'Study start date (partial dates at the first day of their month/year).';
COMMENT ON COLUMN dim_study.start_date_precision IS 'day, month or year: how much of start_date the source gave.';
COMMENT ON COLUMN dim_study.start_date_type IS 'ACTUAL or ESTIMATED; NULL when the source gives no type.';
COMMENT ON COLUMN dim_study.primary_completion_date IS 'Primary completion date (partial dates at the first day).';
COMMENT ON COLUMN dim_study.primary_completion_date_precision IS 'day, month or year.';
COMMENT ON COLUMN dim_study.primary_completion_date_type IS 'ACTUAL or ESTIMATED; NULL when not given.';
COMMENT ON COLUMN dim_study.completion_date IS 'Study completion date (partial dates at the first day).';
COMMENT ON COLUMN dim_study.completion_date_precision IS 'day, month or year.';
COMMENT ON COLUMN dim_study.completion_date_type IS 'ACTUAL or ESTIMATED; NULL when not given.';
COMMENT ON COLUMN dim_study.first_submitted_date IS 'Date first submitted to the registry.';
COMMENT ON COLUMN dim_study.first_posted_date IS 'Date first posted on ClinicalTrials.gov.';
COMMENT ON COLUMN dim_study.first_posted_date_precision IS 'day, month or year.';
COMMENT ON COLUMN dim_study.first_posted_date_type IS 'ACTUAL or ESTIMATED; NULL when the source gives no type (classic pages).';
COMMENT ON COLUMN dim_study.last_update_submitted_date IS 'Date the last update was submitted.';
COMMENT ON COLUMN dim_study.last_update_posted_date IS 'Date the last update was posted; decides which version of a study wins.';
COMMENT ON COLUMN dim_study.last_update_posted_date_precision IS 'day, month or year.';
COMMENT ON COLUMN dim_study.last_update_posted_date_type IS 'ACTUAL or ESTIMATED; NULL when not given.';
COMMENT ON COLUMN dim_study.results_first_posted_date IS 'Date results were first posted; NULL without results.';
COMMENT ON COLUMN dim_study.results_first_posted_date_precision IS 'day, month or year.';
COMMENT ON COLUMN dim_study.results_first_posted_date_type IS 'ACTUAL or ESTIMATED; NULL when not given.';
COMMENT ON COLUMN dim_study.status_verified_date IS 'Month the record was last verified (first day of that month).';
COMMENT ON COLUMN dim_study.status_verified_date_precision IS 'day, month or year (usually month).';
COMMENT ON COLUMN dim_study.minimum_age_years IS 'Minimum age in years (months / 12, weeks and days / 365.25); NULL when no limit.';
COMMENT ON COLUMN dim_study.maximum_age_years IS 'Maximum age in years; NULL when no limit ("and older", N/A).';
COMMENT ON COLUMN dim_study.minimum_age_raw IS 'Minimum age as written, e.g. "18 Years".';
COMMENT ON COLUMN dim_study.maximum_age_raw IS 'Maximum age as written, e.g. "70 Years".';
COMMENT ON COLUMN dim_study.sex IS 'Sexes eligible: ALL, FEMALE or MALE.';
COMMENT ON COLUMN dim_study.std_ages IS 'Age groups joined by "/": CHILD, ADULT, OLDER_ADULT.';
COMMENT ON COLUMN dim_study.accepts_healthy_volunteers IS 'Whether healthy volunteers are accepted; NULL when not stated.';
COMMENT ON COLUMN dim_study.lead_sponsor_name IS 'Lead sponsor; NULL when the source does not name it (classic page text).';
COMMENT ON COLUMN dim_study.lead_sponsor_class IS 'Lead sponsor class: INDUSTRY, NIH, FED, OTHER, ...';
COMMENT ON COLUMN dim_study.responsible_party_type IS 'SPONSOR, PRINCIPAL_INVESTIGATOR or SPONSOR_INVESTIGATOR; NULL when not stated.';
COMMENT ON COLUMN dim_study.responsible_party_name IS 'Responsible investigator''s name, or the responsible party as a classic page displays it.';
COMMENT ON COLUMN dim_study.has_dmc IS 'Whether a data monitoring committee oversees the study.';
COMMENT ON COLUMN dim_study.is_fda_regulated_drug IS 'Studies a U.S. FDA-regulated drug product.';
COMMENT ON COLUMN dim_study.is_fda_regulated_device IS 'Studies a U.S. FDA-regulated device product.';
COMMENT ON COLUMN dim_study.has_results IS 'Whether results are posted; NULL when the source does not say.';
COMMENT ON COLUMN dim_study.title_line_raw IS 'Classic pages: the heading line as written (title and acronym run together).';
COMMENT ON COLUMN dim_study.is_criteria_nesting_inferred IS 'True when fact_eligibility nesting was reconstructed from flattened page text.';
COMMENT ON COLUMN dim_study.source_format IS 'Format of the record loaded: classic_page, api_v2_json or legacy_xml.';
COMMENT ON COLUMN dim_study.source_uri IS 'Where the record came from: path, path!zip-member, path#L<line> or path#studies[i].';
COMMENT ON COLUMN dim_study.record_hash IS 'BLAKE2b-128 of the canonical record (sorted-key JSON); changes when any field changes.';
COMMENT ON COLUMN dim_study.loaded_at IS 'When this version of the study was loaded.';
COMMENT ON COLUMN dim_study.pipeline_version IS 'Fingerprint of the transformation code that built this study''s rows; a study is rebuilt when it changes.';

CREATE TABLE IF NOT EXISTS dim_study_description (
    nct_id VARCHAR PRIMARY KEY,
    brief_summary VARCHAR,
    detailed_description VARCHAR,
    eligibility_criteria VARCHAR
);
COMMENT ON TABLE dim_study_description IS 'Long texts of a study, one row per study (kept apart so dim_study stays light).';
COMMENT ON COLUMN dim_study_description.nct_id IS 'Study (dim_study.nct_id). Key.';
COMMENT ON COLUMN dim_study_description.brief_summary IS 'Brief summary; paragraphs separated by blank lines.';
COMMENT ON COLUMN dim_study_description.detailed_description IS 'Detailed description; paragraphs separated by blank lines.';
COMMENT ON COLUMN dim_study_description.eligibility_criteria IS 'Eligibility criteria as Markdown (API v2 style); fact_eligibility holds its items.';

CREATE TABLE IF NOT EXISTS dim_site (
    site_id VARCHAR PRIMARY KEY,
    facility_name VARCHAR,
    city VARCHAR,
    state VARCHAR,
    zip VARCHAR,
    country VARCHAR,
    country_code VARCHAR,
    latitude DOUBLE,
    longitude DOUBLE
);
COMMENT ON TABLE dim_site IS 'One row per distinct site (facility + address). Sites hidden by their sponsor (no facility) share a row per city.';
COMMENT ON COLUMN dim_site.site_id IS 'Stable key: first 16 hex digits of BLAKE2b over the lower-cased, space-folded facility|city|state|zip|country.';
COMMENT ON COLUMN dim_site.facility_name IS 'Facility name as written; NULL when the sponsor hides it.';
COMMENT ON COLUMN dim_site.city IS 'City.';
COMMENT ON COLUMN dim_site.state IS 'State, province or region.';
COMMENT ON COLUMN dim_site.zip IS 'Postal code.';
COMMENT ON COLUMN dim_site.country IS 'Country as the registry names it.';
COMMENT ON COLUMN dim_site.country_code IS 'ISO 3166-1 alpha-2 code (pycountry); NULL when the name is not recognised.';
COMMENT ON COLUMN dim_site.latitude IS 'Latitude of the registry''s geoPoint (a city centroid); NULL when unknown.';
COMMENT ON COLUMN dim_site.longitude IS 'Longitude of the registry''s geoPoint; NULL when unknown.';

CREATE TABLE IF NOT EXISTS bridge_study_site (
    nct_id VARCHAR,
    site_ordinal INTEGER,
    site_id VARCHAR,
    site_status VARCHAR
    -- key (nct_id, site_ordinal): unique, checked after each load, not indexed (see the header)
);
COMMENT ON TABLE bridge_study_site IS 'Which sites a study lists, in source order (a study may list one site twice).';
COMMENT ON COLUMN bridge_study_site.nct_id IS 'Study (dim_study.nct_id).';
COMMENT ON COLUMN bridge_study_site.site_ordinal IS 'Position of the location in the source, from 1.';
COMMENT ON COLUMN bridge_study_site.site_id IS 'Site (dim_site.site_id).';
COMMENT ON COLUMN bridge_study_site.site_status IS 'Recruitment status at this site (RECRUITING, COMPLETED, ...); NULL when not given.';

CREATE TABLE IF NOT EXISTS fact_outcome (
    nct_id VARCHAR,
    outcome_type VARCHAR,
    ordinal INTEGER,
    measure VARCHAR,
    time_frame VARCHAR,
    description VARCHAR,
    time_frame_status VARCHAR
    -- key (nct_id, ordinal): unique, checked after each load, not indexed (see the header)
);
COMMENT ON TABLE fact_outcome IS 'One row per outcome measure a study registers.';
COMMENT ON COLUMN fact_outcome.nct_id IS 'Study (dim_study.nct_id).';
COMMENT ON COLUMN fact_outcome.outcome_type IS 'PRIMARY, SECONDARY, OTHER, or UNSPECIFIED when the source does not say (classic page text).';
COMMENT ON COLUMN fact_outcome.ordinal IS 'Order in the source, from 1, across primary, secondary, other and unspecified measures.';
COMMENT ON COLUMN fact_outcome.measure IS 'Outcome measure title.';
COMMENT ON COLUMN fact_outcome.time_frame IS 'Time frame as written.';
COMMENT ON COLUMN fact_outcome.description IS 'Outcome description.';
COMMENT ON COLUMN fact_outcome.time_frame_status IS 'PARSED when fact_outcome_timepoint holds the time frame''s points, UNPARSED when the text names no time the reader understands (never guessed), NULL when there is no time frame.';

CREATE TABLE IF NOT EXISTS fact_eligibility (
    nct_id VARCHAR,
    criterion_type VARCHAR,
    ordinal INTEGER,
    parent_ordinal INTEGER,
    depth INTEGER,
    criterion_text VARCHAR,
    has_pregnancy_clause BOOLEAN,
    has_consent_clause BOOLEAN,
    has_trial_participation_clause BOOLEAN,
    has_age_limit BOOLEAN
    -- key (nct_id, ordinal): unique, checked after each load, not indexed (see the header)
);
COMMENT ON TABLE fact_eligibility IS 'One row per eligibility criterion item, split from the criteria Markdown.';
COMMENT ON COLUMN fact_eligibility.nct_id IS 'Study (dim_study.nct_id).';
COMMENT ON COLUMN fact_eligibility.criterion_type IS 'INCLUSION, EXCLUSION, or UNSPECIFIED before/without such a heading.';
COMMENT ON COLUMN fact_eligibility.ordinal IS 'Order in the criteria text, from 1.';
COMMENT ON COLUMN fact_eligibility.parent_ordinal IS 'Ordinal of the item this one is nested under; NULL at the top level.';
COMMENT ON COLUMN fact_eligibility.depth IS 'Nesting depth, 0 at the top level.';
COMMENT ON COLUMN fact_eligibility.criterion_text IS 'Item text, Markdown escapes removed; never empty.';
COMMENT ON COLUMN fact_eligibility.has_pregnancy_clause IS 'Does the item speak of pregnancy, breast-feeding, childbearing potential or contraception? (pattern match on the text)';
COMMENT ON COLUMN fact_eligibility.has_consent_clause IS 'Does the item speak of informed consent?';
COMMENT ON COLUMN fact_eligibility.has_trial_participation_clause IS 'Does the item speak of prior or concurrent participation in another trial or investigational product?';
COMMENT ON COLUMN fact_eligibility.has_age_limit IS 'Does the item state an age bound (a fact_eligibility_threshold row with parameter_normalised = ''age'')? Compare with dim_study.minimum_age_years/maximum_age_years.';

CREATE TABLE IF NOT EXISTS fact_eligibility_threshold (
    nct_id VARCHAR,
    criterion_ordinal INTEGER,
    threshold_ordinal INTEGER,
    criterion_type VARCHAR,
    parameter VARCHAR,
    parameter_normalised VARCHAR,
    operator VARCHAR,
    value_low DOUBLE,
    value_high DOUBLE,
    unit VARCHAR,
    unit_normalised VARCHAR,
    value_low_normalised DOUBLE,
    value_high_normalised DOUBLE,
    is_negated BOOLEAN,
    matched_text VARCHAR
    -- key (nct_id, criterion_ordinal, threshold_ordinal): unique, checked after each load, not indexed (see the header)
);
COMMENT ON TABLE fact_eligibility_threshold IS 'Each numeric condition a criterion item states ("Respiratory rate ≥ 30 rpm", "aged 18-75 years"), read from its text by pipelines/extract/thresholds.py; precision and recall are measured on hand-annotated items in tests/fixtures/annotations.';
COMMENT ON COLUMN fact_eligibility_threshold.nct_id IS 'Study (dim_study.nct_id).';
COMMENT ON COLUMN fact_eligibility_threshold.criterion_ordinal IS 'The item (fact_eligibility.ordinal of the same study).';
COMMENT ON COLUMN fact_eligibility_threshold.threshold_ordinal IS 'Order of the condition within the item, from 1.';
COMMENT ON COLUMN fact_eligibility_threshold.criterion_type IS 'INCLUSION, EXCLUSION or UNSPECIFIED, as the item.';
COMMENT ON COLUMN fact_eligibility_threshold.parameter IS 'What is measured, as written ("Respiratory rate (FR)", "PaO2/FiO2", "age").';
COMMENT ON COLUMN fact_eligibility_threshold.parameter_normalised IS 'A curated name for common parameters (age, respiratory_rate, oxygen_saturation, pao2_fio2, bmi, ecog, creatinine_clearance, ...); NULL when not in the vocabulary.';
COMMENT ON COLUMN fact_eligibility_threshold.operator IS '>=, >, <=, <, = or between.';
COMMENT ON COLUMN fact_eligibility_threshold.value_low IS 'Lower bound as written: the value for > and >=, both bounds for =, the low end for between; NULL for < and <=.';
COMMENT ON COLUMN fact_eligibility_threshold.value_high IS 'Upper bound as written: the value for < and <=, both bounds for =, the high end for between; NULL for > and >=.';
COMMENT ON COLUMN fact_eligibility_threshold.unit IS 'Unit as written (rpm, mmHg, years, %); NULL when none is stated.';
COMMENT ON COLUMN fact_eligibility_threshold.unit_normalised IS 'The parameter''s canonical unit after conversion with pint (years for ages, breaths/min, ...); NULL when the unit is not convertible.';
COMMENT ON COLUMN fact_eligibility_threshold.value_low_normalised IS 'value_low in unit_normalised.';
COMMENT ON COLUMN fact_eligibility_threshold.value_high_normalised IS 'value_high in unit_normalised.';
COMMENT ON COLUMN fact_eligibility_threshold.is_negated IS 'Does meeting this condition make a patient ineligible? (an exclusion item, or an inclusion item that negates it: "no", "not", "without")';
COMMENT ON COLUMN fact_eligibility_threshold.matched_text IS 'The span of the item the condition was read from.';

CREATE TABLE IF NOT EXISTS fact_outcome_timepoint (
    nct_id VARCHAR,
    outcome_ordinal INTEGER,
    timepoint_ordinal INTEGER,
    day_low DOUBLE,
    day_high DOUBLE,
    is_window BOOLEAN,
    is_approximate BOOLEAN,
    label VARCHAR
    -- key (nct_id, outcome_ordinal, timepoint_ordinal): unique, checked after each load, not indexed (see the header)
);
COMMENT ON TABLE fact_outcome_timepoint IS 'An outcome''s time frame as time points or windows in days ("Baseline, Week 12" → 0 and 84), read by pipelines/extract/time_frames.py. A year is 365.25 days, a month a twelfth of that (30.4375), a week 7; "Baseline" is day 0. Outcomes whose text names no time have no rows (fact_outcome.time_frame_status = UNPARSED).';
COMMENT ON COLUMN fact_outcome_timepoint.nct_id IS 'Study (dim_study.nct_id).';
COMMENT ON COLUMN fact_outcome_timepoint.outcome_ordinal IS 'The outcome (fact_outcome.ordinal of the same study).';
COMMENT ON COLUMN fact_outcome_timepoint.timepoint_ordinal IS 'Order of the point within the time frame, from 1.';
COMMENT ON COLUMN fact_outcome_timepoint.day_low IS 'Start of the window, or the point itself, in days.';
COMMENT ON COLUMN fact_outcome_timepoint.day_high IS 'End of the window, or the point itself, in days ("up to 5 years" → 0 to 1826.25).';
COMMENT ON COLUMN fact_outcome_timepoint.is_window IS 'Is this a span ("0-7 days", "up to 5 years") rather than a point?';
COMMENT ON COLUMN fact_outcome_timepoint.is_approximate IS 'Does the text qualify it ("an average of", "approximately", "about")?';
COMMENT ON COLUMN fact_outcome_timepoint.label IS 'The span of the time frame text this point was read from.';

CREATE TABLE IF NOT EXISTS fact_condition (
    nct_id VARCHAR,
    ordinal INTEGER,
    condition_name VARCHAR
    -- key (nct_id, ordinal): unique, checked after each load, not indexed (see the header)
);
COMMENT ON TABLE fact_condition IS 'Conditions or diseases a study lists, as written.';
COMMENT ON COLUMN fact_condition.nct_id IS 'Study (dim_study.nct_id).';
COMMENT ON COLUMN fact_condition.ordinal IS 'Order in the source, from 1.';
COMMENT ON COLUMN fact_condition.condition_name IS 'Condition as written by the sponsor.';

CREATE TABLE IF NOT EXISTS fact_keyword (
    nct_id VARCHAR,
    ordinal INTEGER,
    keyword VARCHAR
    -- key (nct_id, ordinal): unique, checked after each load, not indexed (see the header)
);
COMMENT ON TABLE fact_keyword IS 'Keywords a study lists (labelled sources only; see fact_unlabelled_term for classic pages).';
COMMENT ON COLUMN fact_keyword.nct_id IS 'Study (dim_study.nct_id).';
COMMENT ON COLUMN fact_keyword.ordinal IS 'Order in the source, from 1.';
COMMENT ON COLUMN fact_keyword.keyword IS 'Keyword as written.';

CREATE TABLE IF NOT EXISTS fact_arm (
    nct_id VARCHAR,
    arm_ordinal INTEGER,
    arm_label VARCHAR,
    arm_type VARCHAR,
    description VARCHAR
    -- key (nct_id, arm_ordinal): unique, checked after each load, not indexed (see the header)
);
COMMENT ON TABLE fact_arm IS 'Arms (groups/cohorts) of a study.';
COMMENT ON COLUMN fact_arm.nct_id IS 'Study (dim_study.nct_id).';
COMMENT ON COLUMN fact_arm.arm_ordinal IS 'Order in the source, from 1.';
COMMENT ON COLUMN fact_arm.arm_label IS 'Arm label as written.';
COMMENT ON COLUMN fact_arm.arm_type IS 'EXPERIMENTAL, ACTIVE_COMPARATOR, PLACEBO_COMPARATOR, SHAM_COMPARATOR, NO_INTERVENTION or OTHER.';
COMMENT ON COLUMN fact_arm.description IS 'Arm description.';

CREATE TABLE IF NOT EXISTS fact_intervention (
    nct_id VARCHAR,
    intervention_ordinal INTEGER,
    intervention_type VARCHAR,
    intervention_name VARCHAR,
    description VARCHAR,
    other_names VARCHAR[]
    -- key (nct_id, intervention_ordinal): unique, checked after each load, not indexed (see the header)
);
COMMENT ON TABLE fact_intervention IS 'Interventions of a study.';
COMMENT ON COLUMN fact_intervention.nct_id IS 'Study (dim_study.nct_id).';
COMMENT ON COLUMN fact_intervention.intervention_ordinal IS 'Order in the source, from 1.';
COMMENT ON COLUMN fact_intervention.intervention_type IS 'DRUG, DEVICE, BIOLOGICAL, PROCEDURE, RADIATION, BEHAVIORAL, GENETIC, DIETARY_SUPPLEMENT, COMBINATION_PRODUCT, DIAGNOSTIC_TEST or OTHER.';
COMMENT ON COLUMN fact_intervention.intervention_name IS 'Intervention name as written.';
COMMENT ON COLUMN fact_intervention.description IS 'Intervention description.';
COMMENT ON COLUMN fact_intervention.other_names IS 'Other names (synonyms, codes) as a list; NULL when none.';

CREATE TABLE IF NOT EXISTS fact_dose (
    nct_id VARCHAR,
    dose_ordinal INTEGER,
    dose_source VARCHAR,
    intervention_ordinal INTEGER,
    arm_ordinal INTEGER,
    dose_value DOUBLE,
    dose_unit VARCHAR,
    is_per_weight BOOLEAN,
    is_exponent_inferred BOOLEAN,
    raw_text VARCHAR
    -- key (nct_id, dose_ordinal): unique, checked after each load, not indexed (see the header)
);
COMMENT ON TABLE fact_dose IS 'Doses stated in interventions'' names and descriptions and in arms'' descriptions ("1 million cells/kg", "100 mg"), read by pipelines/extract/doses.py; a bare number is never taken for a dose.';
COMMENT ON COLUMN fact_dose.nct_id IS 'Study (dim_study.nct_id).';
COMMENT ON COLUMN fact_dose.dose_ordinal IS 'Order within the study, from 1: intervention names, then intervention descriptions, then arm descriptions.';
COMMENT ON COLUMN fact_dose.dose_source IS 'intervention_name, intervention_description or arm_description: the text the dose was read from.';
COMMENT ON COLUMN fact_dose.intervention_ordinal IS 'The intervention (fact_intervention.intervention_ordinal) for intervention texts; NULL for arms.';
COMMENT ON COLUMN fact_dose.arm_ordinal IS 'The arm (fact_arm.arm_ordinal) for arm descriptions; NULL for interventions.';
COMMENT ON COLUMN fact_dose.dose_value IS 'The amount, multipliers applied (1 million → 1000000, 10^6 → 1000000).';
COMMENT ON COLUMN fact_dose.dose_unit IS 'Normalised unit text (cells/kg, mg, mg/kg, mL).';
COMMENT ON COLUMN fact_dose.is_per_weight IS 'Is the dose per kg of body weight?';
COMMENT ON COLUMN fact_dose.is_exponent_inferred IS 'Was a lost superscript restored ("106/Kg" of cells read as 10^6/kg, only where the text is about cells per kg)? raw_text keeps what was written.';
COMMENT ON COLUMN fact_dose.raw_text IS 'The dose as written.';

CREATE TABLE IF NOT EXISTS bridge_arm_intervention (
    nct_id VARCHAR,
    arm_ordinal INTEGER,
    intervention_ordinal INTEGER
    -- key (nct_id, arm_ordinal, intervention_ordinal): unique, checked after each load, not indexed (see the header)
);
COMMENT ON TABLE bridge_arm_intervention IS 'Which interventions each arm receives (from the interventions'' arm group labels).';
COMMENT ON COLUMN bridge_arm_intervention.nct_id IS 'Study (dim_study.nct_id).';
COMMENT ON COLUMN bridge_arm_intervention.arm_ordinal IS 'Arm (fact_arm.arm_ordinal of the same study).';
COMMENT ON COLUMN bridge_arm_intervention.intervention_ordinal IS 'Intervention (fact_intervention.intervention_ordinal of the same study).';

CREATE TABLE IF NOT EXISTS fact_official (
    nct_id VARCHAR,
    ordinal INTEGER,
    role VARCHAR,
    full_name VARCHAR,
    official_name VARCHAR,
    degrees VARCHAR,
    affiliation VARCHAR
    -- key (nct_id, ordinal): unique, checked after each load, not indexed (see the header)
);
COMMENT ON TABLE fact_official IS 'Overall officials (investigators) of a study.';
COMMENT ON COLUMN fact_official.nct_id IS 'Study (dim_study.nct_id).';
COMMENT ON COLUMN fact_official.ordinal IS 'Order in the source, from 1.';
COMMENT ON COLUMN fact_official.role IS 'PRINCIPAL_INVESTIGATOR, STUDY_CHAIR, STUDY_DIRECTOR or STUDY_PRINCIPAL_INVESTIGATOR.';
COMMENT ON COLUMN fact_official.full_name IS 'Name with degrees, as written ("Julia Barbado, MD, PhD").';
COMMENT ON COLUMN fact_official.official_name IS 'Name: full_name up to its first comma.';
COMMENT ON COLUMN fact_official.degrees IS 'Degrees: full_name after its first comma; NULL when none.';
COMMENT ON COLUMN fact_official.affiliation IS 'Affiliation as written.';

CREATE TABLE IF NOT EXISTS fact_secondary_id (
    nct_id VARCHAR,
    ordinal INTEGER,
    secondary_id VARCHAR,
    id_type VARCHAR,
    domain VARCHAR,
    link VARCHAR
    -- key (nct_id, ordinal): unique, checked after each load, not indexed (see the header)
);
COMMENT ON TABLE fact_secondary_id IS 'Other identifiers of a study (EudraCT numbers, grants, registry ids).';
COMMENT ON COLUMN fact_secondary_id.nct_id IS 'Study (dim_study.nct_id).';
COMMENT ON COLUMN fact_secondary_id.ordinal IS 'Order in the source, from 1.';
COMMENT ON COLUMN fact_secondary_id.secondary_id IS 'The identifier as written.';
COMMENT ON COLUMN fact_secondary_id.id_type IS 'EUDRACT_NUMBER, NIH, FDA, OTHER_GRANT, REGISTRY, OTHER, ...; NULL when not stated.';
COMMENT ON COLUMN fact_secondary_id.domain IS 'Issuing organisation or registry, when given.';
COMMENT ON COLUMN fact_secondary_id.link IS 'Link to the identifier, when given.';

CREATE TABLE IF NOT EXISTS fact_unlabelled_term (
    nct_id VARCHAR,
    ordinal INTEGER,
    term_line VARCHAR
    -- key (nct_id, ordinal): unique, checked after each load, not indexed (see the header)
);
COMMENT ON TABLE fact_unlabelled_term IS 'Classic pages: keyword and MeSH term lines whose headings the page text lost, kept as written.';
COMMENT ON COLUMN fact_unlabelled_term.nct_id IS 'Study (dim_study.nct_id).';
COMMENT ON COLUMN fact_unlabelled_term.ordinal IS 'Order of the line on the page, from 1.';
COMMENT ON COLUMN fact_unlabelled_term.term_line IS 'The line, terms run together with spaces (their boundaries are lost).';

CREATE TABLE IF NOT EXISTS fact_other_field (
    nct_id VARCHAR,
    ordinal INTEGER,
    label VARCHAR,
    value VARCHAR
    -- key (nct_id, ordinal): unique, checked after each load, not indexed (see the header)
);
COMMENT ON TABLE fact_other_field IS 'Labelled fields a source gave that have no column of their own, so nothing is lost.';
COMMENT ON COLUMN fact_other_field.nct_id IS 'Study (dim_study.nct_id).';
COMMENT ON COLUMN fact_other_field.ordinal IS 'Order in the source, from 1.';
COMMENT ON COLUMN fact_other_field.label IS 'Field label as written.';
COMMENT ON COLUMN fact_other_field.value IS 'Field value as written.';

CREATE TABLE IF NOT EXISTS fact_sponsor (
    nct_id VARCHAR,
    ordinal INTEGER,
    sponsor_role VARCHAR,
    sponsor_name VARCHAR,
    sponsor_class VARCHAR
    -- key (nct_id, ordinal): unique, checked after each load, not indexed (see the header)
);
COMMENT ON TABLE fact_sponsor IS 'The lead sponsor (ordinal 1) and the collaborators of a study.';
COMMENT ON COLUMN fact_sponsor.nct_id IS 'Study (dim_study.nct_id).';
COMMENT ON COLUMN fact_sponsor.ordinal IS 'Lead sponsor first, then collaborators in source order, from 1.';
COMMENT ON COLUMN fact_sponsor.sponsor_role IS 'LEAD or COLLABORATOR.';
COMMENT ON COLUMN fact_sponsor.sponsor_name IS 'Organisation (or person) as written.';
COMMENT ON COLUMN fact_sponsor.sponsor_class IS 'INDUSTRY, NIH, FED, OTHER_GOV, NETWORK, INDIV, OTHER, ...; NULL when not given.';

CREATE TABLE IF NOT EXISTS fact_contact (
    nct_id VARCHAR,
    ordinal INTEGER,
    site_ordinal INTEGER,
    contact_name VARCHAR,
    contact_role VARCHAR,
    phone VARCHAR,
    phone_ext VARCHAR,
    email VARCHAR
    -- key (nct_id, ordinal): unique, checked after each load, not indexed (see the header)
);
COMMENT ON TABLE fact_contact IS 'Central contacts (site_ordinal NULL) and site contacts. Phone and e-mail are personal data: NULL unless the run opted in (keep_contact_details).';
COMMENT ON COLUMN fact_contact.nct_id IS 'Study (dim_study.nct_id).';
COMMENT ON COLUMN fact_contact.ordinal IS 'Central contacts first, then site contacts by site, from 1.';
COMMENT ON COLUMN fact_contact.site_ordinal IS 'Site (bridge_study_site.site_ordinal of the same study); NULL for a central contact.';
COMMENT ON COLUMN fact_contact.contact_name IS 'Name as written.';
COMMENT ON COLUMN fact_contact.contact_role IS 'CONTACT, PRINCIPAL_INVESTIGATOR, SUB_INVESTIGATOR, ...';
COMMENT ON COLUMN fact_contact.phone IS 'Phone number; NULL unless the run kept contact details.';
COMMENT ON COLUMN fact_contact.phone_ext IS 'Phone extension; NULL unless the run kept contact details.';
COMMENT ON COLUMN fact_contact.email IS 'E-mail address; NULL unless the run kept contact details.';

CREATE TABLE IF NOT EXISTS fact_mesh_term (
    nct_id VARCHAR,
    ordinal INTEGER,
    mesh_kind VARCHAR,
    is_ancestor BOOLEAN,
    mesh_id VARCHAR,
    mesh_term VARCHAR
    -- key (nct_id, ordinal): unique, checked after each load, not indexed (see the header)
);
COMMENT ON TABLE fact_mesh_term IS 'MeSH terms the registry derived for a study''s conditions and interventions (API v2 derivedSection; legacy XML gives terms without ids).';
COMMENT ON COLUMN fact_mesh_term.nct_id IS 'Study (dim_study.nct_id).';
COMMENT ON COLUMN fact_mesh_term.ordinal IS 'Order: condition terms, condition ancestors, intervention terms, intervention ancestors, from 1.';
COMMENT ON COLUMN fact_mesh_term.mesh_kind IS 'CONDITION or INTERVENTION.';
COMMENT ON COLUMN fact_mesh_term.is_ancestor IS 'True for a broader ancestor term, false for a term matched to the record.';
COMMENT ON COLUMN fact_mesh_term.mesh_id IS 'MeSH descriptor id (D000003550); NULL when the source gives none.';
COMMENT ON COLUMN fact_mesh_term.mesh_term IS 'MeSH heading.';

CREATE TABLE IF NOT EXISTS fact_reference (
    nct_id VARCHAR,
    ordinal INTEGER,
    pmid VARCHAR,
    reference_type VARCHAR,
    citation VARCHAR
    -- key (nct_id, ordinal): unique, checked after each load, not indexed (see the header)
);
COMMENT ON TABLE fact_reference IS 'Publications a study cites or that report its results.';
COMMENT ON COLUMN fact_reference.nct_id IS 'Study (dim_study.nct_id).';
COMMENT ON COLUMN fact_reference.ordinal IS 'Order in the source, from 1.';
COMMENT ON COLUMN fact_reference.pmid IS 'PubMed id; NULL when the reference has none.';
COMMENT ON COLUMN fact_reference.reference_type IS 'BACKGROUND, RESULT or DERIVED.';
COMMENT ON COLUMN fact_reference.citation IS 'Citation as written.';

CREATE TABLE IF NOT EXISTS fact_result_outcome (
    nct_id VARCHAR,
    result_ordinal INTEGER,
    outcome_type VARCHAR,
    title VARCHAR,
    description VARCHAR,
    time_frame VARCHAR,
    population VARCHAR,
    reporting_status VARCHAR,
    anticipated_posting_date_raw VARCHAR,
    param_type VARCHAR,
    dispersion_type VARCHAR,
    units VARCHAR
    -- key (nct_id, result_ordinal): unique, checked after each load, not indexed (see the header)
);
COMMENT ON TABLE fact_result_outcome IS 'Outcome measures with posted results (API v2 resultsSection), one row per measure.';
COMMENT ON COLUMN fact_result_outcome.nct_id IS 'Study (dim_study.nct_id).';
COMMENT ON COLUMN fact_result_outcome.result_ordinal IS 'Order of the measure in the results, from 1.';
COMMENT ON COLUMN fact_result_outcome.outcome_type IS 'PRIMARY, SECONDARY, OTHER_PRE_SPECIFIED or POST_HOC.';
COMMENT ON COLUMN fact_result_outcome.title IS 'Measure title.';
COMMENT ON COLUMN fact_result_outcome.description IS 'Measure description.';
COMMENT ON COLUMN fact_result_outcome.time_frame IS 'Time frame as written.';
COMMENT ON COLUMN fact_result_outcome.population IS 'Analysis population description.';
COMMENT ON COLUMN fact_result_outcome.reporting_status IS 'POSTED or NOT_POSTED.';
COMMENT ON COLUMN fact_result_outcome.anticipated_posting_date_raw IS 'When results not yet posted are expected, as written.';
COMMENT ON COLUMN fact_result_outcome.param_type IS 'MEAN, MEDIAN, COUNT_OF_PARTICIPANTS, NUMBER, ...';
COMMENT ON COLUMN fact_result_outcome.dispersion_type IS 'Dispersion as written, e.g. "Standard Deviation", "95% Confidence Interval".';
COMMENT ON COLUMN fact_result_outcome.units IS 'Unit of measure as written.';

CREATE TABLE IF NOT EXISTS fact_result_group (
    nct_id VARCHAR,
    result_ordinal INTEGER,
    group_id VARCHAR,
    group_title VARCHAR,
    group_description VARCHAR
    -- key (nct_id, result_ordinal, group_id): unique, checked after each load, not indexed (see the header)
);
COMMENT ON TABLE fact_result_group IS 'Groups (arms) an outcome measure reports on.';
COMMENT ON COLUMN fact_result_group.nct_id IS 'Study (dim_study.nct_id).';
COMMENT ON COLUMN fact_result_group.result_ordinal IS 'Measure (fact_result_outcome.result_ordinal of the same study).';
COMMENT ON COLUMN fact_result_group.group_id IS 'Group id within the measure, e.g. OG000.';
COMMENT ON COLUMN fact_result_group.group_title IS 'Group title.';
COMMENT ON COLUMN fact_result_group.group_description IS 'Group description.';

CREATE TABLE IF NOT EXISTS fact_result_denom (
    nct_id VARCHAR,
    result_ordinal INTEGER,
    denom_ordinal INTEGER,
    group_id VARCHAR,
    units VARCHAR,
    count_raw VARCHAR,
    count_value DOUBLE
    -- key (nct_id, result_ordinal, denom_ordinal, group_id): unique, checked after each load, not indexed (see the header)
);
COMMENT ON TABLE fact_result_denom IS 'How many units (usually participants) each group of a measure analysed.';
COMMENT ON COLUMN fact_result_denom.nct_id IS 'Study (dim_study.nct_id).';
COMMENT ON COLUMN fact_result_denom.result_ordinal IS 'Measure (fact_result_outcome.result_ordinal).';
COMMENT ON COLUMN fact_result_denom.denom_ordinal IS 'Which denominator of the measure, from 1 (participants first, then e.g. eyes).';
COMMENT ON COLUMN fact_result_denom.group_id IS 'Group (fact_result_group.group_id).';
COMMENT ON COLUMN fact_result_denom.units IS 'What is counted, e.g. Participants.';
COMMENT ON COLUMN fact_result_denom.count_raw IS 'The count as posted.';
COMMENT ON COLUMN fact_result_denom.count_value IS 'The count as a number; NULL when the posted text is not one.';

CREATE TABLE IF NOT EXISTS fact_result_measurement (
    nct_id VARCHAR,
    result_ordinal INTEGER,
    class_ordinal INTEGER,
    class_title VARCHAR,
    category_ordinal INTEGER,
    category_title VARCHAR,
    group_id VARCHAR,
    value_raw VARCHAR,
    spread_raw VARCHAR,
    lower_limit_raw VARCHAR,
    upper_limit_raw VARCHAR,
    value DOUBLE,
    spread DOUBLE,
    lower_limit DOUBLE,
    upper_limit DOUBLE,
    comment VARCHAR
    -- key (nct_id, result_ordinal, class_ordinal, category_ordinal, group_id): unique, checked after each load, not indexed (see the header)
);
COMMENT ON TABLE fact_result_measurement IS 'Posted values of an outcome measure: one row per class, category and group.';
COMMENT ON COLUMN fact_result_measurement.nct_id IS 'Study (dim_study.nct_id).';
COMMENT ON COLUMN fact_result_measurement.result_ordinal IS 'Measure (fact_result_outcome.result_ordinal).';
COMMENT ON COLUMN fact_result_measurement.class_ordinal IS 'Class (row block) within the measure, from 1.';
COMMENT ON COLUMN fact_result_measurement.class_title IS 'Class title, e.g. a subgroup; NULL when the measure has one unnamed class.';
COMMENT ON COLUMN fact_result_measurement.category_ordinal IS 'Category within the class, from 1.';
COMMENT ON COLUMN fact_result_measurement.category_title IS 'Category title, e.g. Yes/No; NULL when unnamed.';
COMMENT ON COLUMN fact_result_measurement.group_id IS 'Group (fact_result_group.group_id).';
COMMENT ON COLUMN fact_result_measurement.value_raw IS 'Value as posted.';
COMMENT ON COLUMN fact_result_measurement.spread_raw IS 'Spread (e.g. standard deviation) as posted.';
COMMENT ON COLUMN fact_result_measurement.lower_limit_raw IS 'Lower limit (of a range or interval) as posted.';
COMMENT ON COLUMN fact_result_measurement.upper_limit_raw IS 'Upper limit as posted.';
COMMENT ON COLUMN fact_result_measurement.value IS 'value_raw as a number; NULL when it is not one (e.g. NA).';
COMMENT ON COLUMN fact_result_measurement.spread IS 'spread_raw as a number.';
COMMENT ON COLUMN fact_result_measurement.lower_limit IS 'lower_limit_raw as a number.';
COMMENT ON COLUMN fact_result_measurement.upper_limit IS 'upper_limit_raw as a number.';
COMMENT ON COLUMN fact_result_measurement.comment IS 'Comment posted with the value (e.g. why it is NA).';

CREATE TABLE IF NOT EXISTS dim_study_history (
    nct_id VARCHAR,
    valid_from DATE,
    valid_to DATE,
    is_current BOOLEAN,
    overall_status VARCHAR,
    enrollment_count BIGINT,
    enrollment_type VARCHAR,
    phase VARCHAR,
    start_date DATE,
    start_date_type VARCHAR,
    primary_completion_date DATE,
    primary_completion_date_type VARCHAR,
    completion_date DATE,
    completion_date_type VARCHAR,
    why_stopped VARCHAR,
    last_update_posted_date DATE,
    record_hash VARCHAR,
    loaded_at TIMESTAMP WITH TIME ZONE,
    PRIMARY KEY (nct_id, valid_from)
);
COMMENT ON TABLE dim_study_history IS 'Type-2 slowly changing dimension of the study attributes that change over a trial''s life: one row per version in which any of them changed. Only moves forward: an older record loaded after a newer one is superseded, never written into the past.';
-- Enrollment counts were INTEGER before a real count could exceed it.
ALTER TABLE dim_study ALTER COLUMN enrollment_count SET DATA TYPE BIGINT;
ALTER TABLE dim_study_history ALTER COLUMN enrollment_count SET DATA TYPE BIGINT;
COMMENT ON COLUMN dim_study_history.nct_id IS 'Study (dim_study.nct_id).';
COMMENT ON COLUMN dim_study_history.valid_from IS 'First day this version holds: the registry''s last-update-posted date of the record that brought it (the load date when the record has none), never before the previous version''s valid_from. Key with nct_id.';
COMMENT ON COLUMN dim_study_history.valid_to IS 'valid_from of the next version (exclusive); NULL while current.';
COMMENT ON COLUMN dim_study_history.is_current IS 'Is this the version dim_study holds now? Exactly one per study.';
COMMENT ON COLUMN dim_study_history.overall_status IS 'Overall recruitment status in this version (dim_study.overall_status).';
COMMENT ON COLUMN dim_study_history.enrollment_count IS 'Enrollment in this version.';
COMMENT ON COLUMN dim_study_history.enrollment_type IS 'ACTUAL or ESTIMATED in this version.';
COMMENT ON COLUMN dim_study_history.phase IS 'Phase(s) in this version.';
COMMENT ON COLUMN dim_study_history.start_date IS 'Start date in this version (precision as dim_study).';
COMMENT ON COLUMN dim_study_history.start_date_type IS 'ACTUAL or ESTIMATED.';
COMMENT ON COLUMN dim_study_history.primary_completion_date IS 'Primary completion date in this version.';
COMMENT ON COLUMN dim_study_history.primary_completion_date_type IS 'ACTUAL or ESTIMATED.';
COMMENT ON COLUMN dim_study_history.completion_date IS 'Completion date in this version.';
COMMENT ON COLUMN dim_study_history.completion_date_type IS 'ACTUAL or ESTIMATED.';
COMMENT ON COLUMN dim_study_history.why_stopped IS 'Why the study stopped, in this version.';
COMMENT ON COLUMN dim_study_history.last_update_posted_date IS 'Last-update-posted date of the record that brought (or last corrected) this version.';
COMMENT ON COLUMN dim_study_history.record_hash IS 'record_hash of that record.';
COMMENT ON COLUMN dim_study_history.loaded_at IS 'When the load that wrote this version ran.';

CREATE TABLE IF NOT EXISTS raw_study_record (
    nct_id VARCHAR PRIMARY KEY,
    source_format VARCHAR,
    source_uri VARCHAR,
    record_hash VARCHAR,
    raw_hash VARCHAR,
    record_json VARCHAR
);
COMMENT ON TABLE raw_study_record IS 'The canonical record (API v2 structure) of each loaded study, whole: every field a source gave, queryable with JSON functions.';
COMMENT ON COLUMN raw_study_record.nct_id IS 'Study (dim_study.nct_id). Key.';
COMMENT ON COLUMN raw_study_record.source_format IS 'classic_page, api_v2_json or legacy_xml.';
COMMENT ON COLUMN raw_study_record.source_uri IS 'Where the record came from.';
COMMENT ON COLUMN raw_study_record.record_hash IS 'BLAKE2b-128 of record_json.';
COMMENT ON COLUMN raw_study_record.raw_hash IS 'BLAKE2b-128 of the source bytes (keyed by the contact-details setting): a later run that reads the same bytes skips parsing them. NULL when not recorded.';
COMMENT ON COLUMN raw_study_record.record_json IS 'Canonical record as JSON text (written by the pipeline, so valid by construction; VARCHAR because casting to JSON re-parses every record); keys as API v2 (protocolSection...), plus "extras" for facts API v2 has no field for. Query it with ->> and json_extract.';

CREATE TABLE IF NOT EXISTS meta_load_run (
    run_id VARCHAR PRIMARY KEY,
    started_at TIMESTAMP WITH TIME ZONE,
    finished_at TIMESTAMP WITH TIME ZONE,
    records_read INTEGER,
    records_loaded INTEGER,
    records_new INTEGER,
    records_changed INTEGER,
    records_unchanged INTEGER,
    records_rejected INTEGER,
    records_superseded INTEGER,
    source_paths VARCHAR,
    pipeline_version VARCHAR
);
COMMENT ON TABLE meta_load_run IS 'One row per load: records_read = records_new + records_changed + records_unchanged + records_rejected + records_superseded.';
COMMENT ON COLUMN meta_load_run.run_id IS 'Dagster run id of the load.';
COMMENT ON COLUMN meta_load_run.started_at IS 'When the load transaction started.';
COMMENT ON COLUMN meta_load_run.finished_at IS 'When the load committed.';
COMMENT ON COLUMN meta_load_run.records_read IS 'Raw records read (files, zip members, NDJSON lines, page entries).';
COMMENT ON COLUMN meta_load_run.records_loaded IS 'Studies written: records_new + records_changed.';
COMMENT ON COLUMN meta_load_run.records_new IS 'Studies the warehouse did not hold before.';
COMMENT ON COLUMN meta_load_run.records_changed IS 'Studies whose record (or the code deriving their rows) changed, rewritten.';
COMMENT ON COLUMN meta_load_run.records_unchanged IS 'Studies identical to the warehouse''s version, skipped.';
COMMENT ON COLUMN meta_load_run.records_rejected IS 'Records rejected (see meta_rejection).';
COMMENT ON COLUMN meta_load_run.records_superseded IS 'Records not loaded because a newer version of the study was read in the same run or is already in the warehouse.';
COMMENT ON COLUMN meta_load_run.source_paths IS 'Landing paths read, separated by newlines.';
COMMENT ON COLUMN meta_load_run.pipeline_version IS 'Fingerprint of the transformation code of this run.';

CREATE TABLE IF NOT EXISTS meta_landing_file (
    path VARCHAR,
    keeps_contact_details BOOLEAN,
    size_bytes BIGINT,
    modified_ns BIGINT,
    records INTEGER,
    pipeline_version VARCHAR,
    run_id VARCHAR,
    PRIMARY KEY (path, keeps_contact_details)
);
COMMENT ON TABLE meta_landing_file IS 'Each landing file a successful load read, as it was then: a later run skips a file whose size and modification time are unchanged (made by the same code), without opening it.';
COMMENT ON COLUMN meta_landing_file.path IS 'Absolute path of the file.';
COMMENT ON COLUMN meta_landing_file.keeps_contact_details IS 'Whether that run kept contacts'' phone numbers and e-mails (a different setting reads the file again).';
COMMENT ON COLUMN meta_landing_file.size_bytes IS 'File size when it was read.';
COMMENT ON COLUMN meta_landing_file.modified_ns IS 'Modification time (ns since the epoch) when it was read.';
COMMENT ON COLUMN meta_landing_file.records IS 'Raw records the file held.';
COMMENT ON COLUMN meta_landing_file.pipeline_version IS 'Fingerprint of the code that read it.';
COMMENT ON COLUMN meta_landing_file.run_id IS 'The load that read it last (meta_load_run.run_id).';

CREATE TABLE IF NOT EXISTS meta_rejection (
    run_id VARCHAR,
    source_uri VARCHAR,
    source_format VARCHAR,
    reason VARCHAR,
    excerpt VARCHAR,
    table_name VARCHAR,
    column_name VARCHAR,
    check_name VARCHAR,
    failing_value VARCHAR,
    PRIMARY KEY (run_id, source_uri)
);
-- Warehouses made before contract quarantine gain its columns.
ALTER TABLE meta_rejection ADD COLUMN IF NOT EXISTS table_name VARCHAR;
ALTER TABLE meta_rejection ADD COLUMN IF NOT EXISTS column_name VARCHAR;
ALTER TABLE meta_rejection ADD COLUMN IF NOT EXISTS check_name VARCHAR;
ALTER TABLE meta_rejection ADD COLUMN IF NOT EXISTS failing_value VARCHAR;
COMMENT ON TABLE meta_rejection IS 'Records a run did not load, with the reason: records that could not be read as studies, and studies quarantined because a value breaks a table''s contract (all their rows kept out; the warehouse keeps its earlier version of the study, if any).';
COMMENT ON COLUMN meta_rejection.run_id IS 'Run (meta_load_run.run_id).';
COMMENT ON COLUMN meta_rejection.source_uri IS 'Where the record came from.';
COMMENT ON COLUMN meta_rejection.source_format IS 'Format detected, NULL when none was recognised.';
COMMENT ON COLUMN meta_rejection.reason IS 'Why it was rejected.';
COMMENT ON COLUMN meta_rejection.excerpt IS 'The record''s first 200 characters, unprintable bytes replaced.';
COMMENT ON COLUMN meta_rejection.table_name IS 'For a quarantined study: the table of its first failing row (reason lists every failure).';
COMMENT ON COLUMN meta_rejection.column_name IS 'For a quarantined study: the failing column; NULL for a row-level check or a transform error.';
COMMENT ON COLUMN meta_rejection.check_name IS 'For a quarantined study: the check that failed (pandera''s name, a foreign key, or "transform raised").';
COMMENT ON COLUMN meta_rejection.failing_value IS 'For a quarantined study: the offending value as text (or the exception).';

CREATE TABLE IF NOT EXISTS meta_data_issue (
    nct_id VARCHAR,
    table_name VARCHAR,
    column_name VARCHAR,
    issue VARCHAR,
    value VARCHAR,
    run_id VARCHAR
);
COMMENT ON TABLE meta_data_issue IS 'What is odd about a loaded study''s values without being a reason to reject it: a value outside the registry vocabulary known to this code (loaded as written), a registry date that is no date (the date column is NULL). Replaced with the study.';
COMMENT ON COLUMN meta_data_issue.nct_id IS 'Study (dim_study.nct_id).';
COMMENT ON COLUMN meta_data_issue.table_name IS 'Table of the value.';
COMMENT ON COLUMN meta_data_issue.column_name IS 'Column of the value.';
COMMENT ON COLUMN meta_data_issue.issue IS '"value outside the known vocabulary" or "not a date".';
COMMENT ON COLUMN meta_data_issue.value IS 'The value as the source wrote it.';
COMMENT ON COLUMN meta_data_issue.run_id IS 'The load that wrote the study (meta_load_run.run_id).';

CREATE TABLE IF NOT EXISTS meta_schema (
    ddl_digest VARCHAR PRIMARY KEY,
    applied_at TIMESTAMPTZ
);
COMMENT ON TABLE meta_schema IS 'Each version of this DDL and the views applied to the warehouse: a load skips applying a version the warehouse already has.';
COMMENT ON COLUMN meta_schema.ddl_digest IS 'BLAKE2b digest of sql/ddl/warehouse.sql and sql/ddl/views.sql as applied.';
COMMENT ON COLUMN meta_schema.applied_at IS 'When that version was first applied.';
