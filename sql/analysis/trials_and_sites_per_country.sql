-- name: trials_and_sites_per_country
-- question: How many trials, distinct sites and site listings does each country have?
-- notes: countries are grouped by ISO 3166-1 alpha-2 code (dim_site.country_code), so two spellings
--   of one country count once; names without a recognised code (e.g. "Former Serbia and Montenegro")
--   keep a row of their own with a NULL code. A trial with sites in several countries counts in each.
--   site_listings counts bridge_study_site rows (a site two trials list counts twice); one very large
--   trial can dominate a country, so compare trials as well as sites.
SELECT
    s.country_code,
    string_agg(DISTINCT s.country, ' / ' ORDER BY s.country) AS country,
    count(DISTINCT b.nct_id) AS trials,
    count(DISTINCT b.site_id) AS sites,
    count(*) AS site_listings
FROM bridge_study_site AS b
JOIN dim_site AS s USING (site_id)
GROUP BY s.country_code, if(s.country_code IS NULL, s.country, NULL)
ORDER BY trials DESC, sites DESC, country_code NULLS LAST, country;
