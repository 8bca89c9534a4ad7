-- Error rates per model and error code, against each model's request count
WITH per_model AS (
  SELECT model, sum(requests) AS requests
  FROM daily_usage
  WHERE month BETWEEN $from_month AND $to_month
  GROUP BY model
)
SELECT
  i.model,
  i.error_code,
  sum(i.failed_requests) AS failed_requests,
  p.requests,
  round(100 * CAST(sum(i.failed_requests) AS DOUBLE) / p.requests, 2) AS error_rate_pct
FROM daily_usage i
JOIN per_model p ON i.model IS NOT DISTINCT FROM p.model
WHERE i.month BETWEEN $from_month AND $to_month AND i.error_code IS NOT NULL
GROUP BY i.model, i.error_code, p.requests
ORDER BY failed_requests DESC NULLS LAST, i.model NULLS LAST, i.error_code
