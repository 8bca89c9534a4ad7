-- Rejected records in the objects the month's invocations came from
SELECT count(*)
FROM rejects
WHERE source IN (SELECT DISTINCT source FROM invocations WHERE month = $month)
