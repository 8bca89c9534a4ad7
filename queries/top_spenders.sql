-- Top 10 identities by cost, with their share of the period's priced spend
WITH spend AS (
  SELECT identity, principal_type, sum(requests) AS requests, sum(cost_usd) AS cost
  FROM daily_usage
  WHERE month BETWEEN $from_month AND $to_month
  GROUP BY identity, principal_type
)
SELECT
  identity,
  principal_type,
  requests,
  CAST(cost AS DECIMAL(38, 6)) AS cost_usd,
  round(100 * CAST(cost AS DOUBLE) / CAST(sum(cost) OVER () AS DOUBLE), 2) AS share_pct
FROM spend
ORDER BY cost DESC NULLS LAST, identity
LIMIT 10
