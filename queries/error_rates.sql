-- Error rates per model and error code, against each model's request count
WITH per_model AS (
  SELECT model, count(*) AS requests
  FROM invocations
  WHERE month BETWEEN $from_month AND $to_month
  GROUP BY model
)
SELECT
  i.model,
  i.error_code,
  count(*) AS failed_requests,
  p.requests,
  round(100 * CAST(count(*) AS DOUBLE) / p.requests, 2) AS error_rate_pct
FROM invocations i
JOIN per_model p ON i.model IS NOT DISTINCT FROM p.model
WHERE i.month BETWEEN $from_month AND $to_month AND i.error_code IS NOT NULL
GROUP BY i.model, i.error_code, p.requests
ORDER BY failed_requests DESC NULLS LAST, i.model NULLS LAST, i.error_code
