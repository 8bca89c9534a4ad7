-- The objects the month's requests came from, and the rejected records in them (read from the
-- request table: the rollup keeps no sources)
WITH sources AS (
  SELECT DISTINCT source FROM invocations WHERE month = $month
)
SELECT
  (SELECT count(*) FROM sources) AS objects,
  (SELECT count(*) FROM rejects WHERE source IN (SELECT source FROM sources)) AS rejects
