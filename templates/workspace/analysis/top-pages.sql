-- Run with: usagelab sql analysis/top-pages.sql
SELECT page_path, count(*) AS views, count(DISTINCT person_id) AS people
FROM events
WHERE event_kind = 'page_view'
GROUP BY page_path
ORDER BY views DESC
LIMIT 20;
